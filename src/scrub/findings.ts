// What a scrub can find, with stable codes (scripts and the maintenance report rely on them).

export const FINDING_CODES = {
  /** The bytes do not hash to the file's name. */
  corrupt: 'the bytes do not hash to the name',
  /** A zero-length file (restic never writes one). */
  empty: 'zero-length file',
  /** A pack under a data/<2 hex>/ shard that is not its own: restic cannot load it by name. */
  misplaced: 'pack under the wrong data/ shard',
  /** A key that is not one of restic's files. */
  foreign: 'not a restic file',
  /** Hash-named garbage that bricks restic (a keys/ file that is not a restic key). */
  junk: 'hashes to its name but is not a restic file of its type',
  /** The current version is a delete marker (e.g. a prune): reported, not a failure; `rwm restore` undeletes. */
  deleted: 'deleted (a delete marker is on top)',
  /** Could not be read. */
  unreadable: 'could not be read',
} as const;

export type FindingCode = keyof typeof FINDING_CODES;

/** Codes that make a scrub fail (exit 1). */
export const FAILING: ReadonlySet<FindingCode> = new Set<FindingCode>(['corrupt', 'empty', 'misplaced', 'foreign', 'junk', 'unreadable']);

export interface Finding {
  readonly code: FindingCode;
  readonly key: string;
  readonly versionId?: string;
  readonly message: string;
  /** corrupt/empty on a versioned bucket: the newest older version whose bytes hash to the name. */
  readonly goodVersion?: string;
  /** What --repair did: 'restored' (good version copied on top), 'hidden' (delete marker), or why not. */
  readonly repair?: 'restored' | 'hidden' | 'no good version' | 'failed';
}
