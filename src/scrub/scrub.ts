// The scrub: every current file whose name is its SHA-256 is hashed and compared with its name, with
// bounded parallel reads, in key order, so its result is a *verified state* (the state format plus
// when each version was hashed) written as it goes. The next scrub merge-joins the current listing
// with the last verified state and reads only versions it has not verified (a version's bytes never
// change). For a bad file on a versioned bucket, older versions are hashed newest-first to name the
// newest good one, which --repair copies back on top (through versions/apply.ts). With the
// repository password, the index and snapshot files it hashes are also decrypted and parsed: one that
// hashes to its name but is not restic's (junk, which makes restic fail) is hidden by --repair, like
// a junk key file.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { junkProblem, openMasterKey, type MasterKey } from '../restic/crypto.js';
import type { VersionRecord } from '../s3/bucket.js';
import { compareKeys, isLockKey, isRwmKey, parseResticKey } from '../s3/names.js';
import type { StateEntry } from '../state/format.js';
import { orderedMap } from '../util/ordered.js';
import type { Action } from '../versions/plan.js';
import { FINDING_CODES, type Finding, type FindingCode } from './findings.js';
import { keyFileProblem, MAX_KEY_FILE } from './key-file.js';

export interface ScrubSource {
  /** The listed key prefix: '' or ending in '/'. */
  readonly prefix: string;
  /** Every key's records, newest (current) first, keys in S3's order. */
  groups(): AsyncIterable<VersionRecord[]>;
  read(rec: VersionRecord, signal?: AbortSignal): Promise<Readable>;
  /** Where the source can hash a record faster than by reading it here (local files: on worker threads). */
  hash?(rec: VersionRecord, keep: number, signal?: AbortSignal): Promise<Hashed>;
  /** True for a record that is no restic file whatever its name (a symlink or other non-regular file in a directory). */
  isForeign?(rec: VersionRecord): boolean;
}

export type ScrubMode = { readonly kind: 'incremental' } | { readonly kind: 'full' } | { readonly kind: 'sample'; readonly slots: number; readonly cycle: number };

export interface ScrubOptions {
  readonly source: ScrubSource;
  /** The last verified state's entries (sorted), for incremental and sampled runs. */
  readonly previous?: AsyncIterable<StateEntry> | undefined;
  readonly mode: ScrubMode;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly onProgress?: (r: ScrubReport) => void;
  /**
   * With the repository password: the master key of the repository at `repo` (relative to the
   * prefix: '' or ending in '/'), or undefined when it cannot be opened (its index and snapshot
   * files are then only hashed). Called once per file: it MUST cache, and MUST NOT reject.
   */
  readonly opener?: ((repo: string) => Promise<MasterKey | undefined>) | undefined;
}

export interface ScrubReport {
  keys: number;
  /** Files whose bytes were read and hashed in this run, and their bytes. */
  hashed: number;
  hashedBytes: number;
  /** Verified by an earlier run (same version): not read again. */
  carried: number;
  /** Not in this run's sample. */
  notSampled: number;
  /** config and locks: not content-addressed. */
  notHashable: number;
  readonly findings: Finding[];
  /** What --repair would do: copy the good version on top, or hide junk. */
  readonly repairs: { readonly action: Action; readonly finding: number }[];
}

export function newReport(): ScrubReport {
  return { keys: 0, hashed: 0, hashedBytes: 0, carried: 0, notSampled: 0, notHashable: 0, findings: [], repairs: [] };
}

/** Which of `slots` sample slots a key is in (stable across runs). */
export function slotOf(key: string, slots: number): number {
  return parseInt(createHash('sha256').update(key).digest('hex').slice(0, 8), 16) % slots;
}

/** Index and snapshot files bigger than this are not opened (restic keeps index files below 8 MiB). */
export const MAX_UNPACKED_FILE = 64 * 1024 * 1024;

export interface Hashed {
  readonly sha256: string;
  readonly bytes: number;
  /** At least the first `keep` bytes (all of them when `bytes` <= `keep`). */
  readonly head: Buffer;
}

async function hashOf(stream: Readable, keep: number): Promise<Hashed> {
  const h = createHash('sha256');
  let bytes = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    h.update(b);
    bytes += b.length;
    if (headBytes < keep) {
      head.push(b);
      headBytes += b.length;
    }
  }
  return { sha256: h.digest('hex'), bytes, head: Buffer.concat(head) };
}

const entryOf = (r: VersionRecord, verified?: number, opened?: number): StateEntry => ({
  key: r.key,
  versionId: r.versionId,
  deleteMarker: r.deleteMarker,
  size: r.size,
  etag: r.etag,
  lastModified: r.lastModified,
  owner: r.owner,
  ...(verified !== undefined ? { verified } : {}),
  ...(opened !== undefined ? { opened } : {}),
});

interface KeyResult {
  readonly entry: StateEntry | undefined;
  readonly findings: Finding[];
  readonly repair?: Action;
  readonly counted: 'hashed' | 'carried' | 'notSampled' | 'notHashable' | 'none';
  readonly bytes: number;
}

/**
 * Scrubs the source, yielding the verified state's entries in key order (write them with
 * writeStateFile) and filling `report`. Reads no bytes for versions `previous` verified already.
 */
export async function* scrub(o: ScrubOptions, report: ScrubReport): AsyncGenerator<StateEntry> {
  const now = o.now ?? Date.now;
  const kp = o.source.prefix;
  const prevIt = o.previous?.[Symbol.asyncIterator]();
  let prev = prevIt === undefined ? undefined : await prevIt.next();
  /** The previous verified entry of `key`, if any (both streams are sorted). */
  const previousOf = async (key: string): Promise<StateEntry | undefined> => {
    while (prevIt !== undefined && prev !== undefined && prev.done !== true && compareKeys(prev.value.key, key) < 0) prev = await prevIt.next();
    return prev !== undefined && prev.done !== true && prev.value.key === key ? prev.value : undefined;
  };
  const finding = (code: FindingCode, r: VersionRecord, extra: Partial<Finding> = {}): Finding => ({ code, key: r.key, versionId: r.versionId, message: FINDING_CODES[code], ...extra });

  async function one(group: VersionRecord[], before: StateEntry | undefined): Promise<KeyResult> {
    const top = group[0] as VersionRecord;
    const rel = top.key.slice(kp.length);
    if (o.source.isForeign?.(top) === true) return { entry: entryOf(top), findings: [finding('foreign', top)], counted: 'none', bytes: 0 };
    // Locks come and go with every restic run; a deleted one is normal.
    if (isLockKey(rel)) return { entry: entryOf(top), findings: [], counted: top.deleteMarker ? 'none' : 'notHashable', bytes: 0 };
    if (top.deleteMarker) return { entry: entryOf(top), findings: [finding('deleted', top)], counted: 'none', bytes: 0 };
    const name = parseResticKey(rel);
    if (name === undefined) return { entry: entryOf(top), findings: [finding('foreign', top)], counted: 'none', bytes: 0 };
    const findings: Finding[] = [];
    if (name.misplaced) findings.push(finding('misplaced', top));
    if (name.kind === 'config') {
      if (top.size === 0) findings.push(finding('empty', top));
      return { entry: entryOf(top), findings, counted: 'notHashable', bytes: 0 };
    }
    const id = name.id as string;
    const unpacked = o.opener !== undefined && (name.kind === 'index' || name.kind === 'snapshots');
    // With the password, a file an earlier scrub only hashed (it had no password) is read again, to be opened.
    if (o.mode.kind !== 'full' && before !== undefined && before.versionId === top.versionId && before.verified !== undefined && (!unpacked || before.opened !== undefined)) {
      return { entry: entryOf(top, before.verified, before.opened), findings, counted: 'carried', bytes: 0 };
    }
    if (o.mode.kind === 'sample' && slotOf(top.key, o.mode.slots) !== o.mode.cycle % o.mode.slots) return { entry: entryOf(top), findings, counted: 'notSampled', bytes: 0 };
    let h: Hashed;
    try {
      const keep = name.kind === 'keys' ? MAX_KEY_FILE : unpacked ? MAX_UNPACKED_FILE : 0;
      h = o.source.hash !== undefined ? await o.source.hash(top, keep, o.signal) : await hashOf(await o.source.read(top, o.signal), keep);
    } catch (err) {
      return { entry: entryOf(top), findings: [...findings, finding('unreadable', top, { message: `could not be read: ${(err as Error).message}` })], counted: 'none', bytes: 0 };
    }
    if (h.sha256 === id && h.bytes > 0) {
      let junk: string | undefined;
      if (name.kind === 'keys') junk = h.bytes > MAX_KEY_FILE ? 'larger than any restic key file' : keyFileProblem(h.head);
      else if (unpacked && o.opener !== undefined) {
        // Not marked verified: the next scrub with the password tries again.
        if (h.bytes > MAX_UNPACKED_FILE) return { entry: entryOf(top), findings: [...findings, finding('unreadable', top, { message: `larger than ${MAX_UNPACKED_FILE / 1024 / 1024} MiB: not opened with the password` })], counted: 'hashed', bytes: h.bytes };
        const key = await o.opener(name.repo);
        // Not verified either: a scrub with the right password must still open it.
        if (key === undefined) return { entry: entryOf(top), findings, counted: 'hashed', bytes: h.bytes };
        junk = junkProblem(name.kind, key, h.head);
      }
      if (junk !== undefined) {
        return { entry: entryOf(top), findings: [...findings, finding('junk', top, { message: `${FINDING_CODES.junk}: ${junk}` })], repair: { kind: 'hide', target: top.key }, counted: 'hashed', bytes: h.bytes };
      }
      const t = now();
      return { entry: entryOf(top, t, unpacked ? t : undefined), findings, counted: 'hashed', bytes: h.bytes };
    }
    // Bad bytes: the newest older version whose bytes hash to the name, if any.
    let good: VersionRecord | undefined;
    let bytes = h.bytes;
    for (const v of group.slice(1)) {
      if (v.deleteMarker || v.size === 0) continue;
      try {
        const older = await hashOf(await o.source.read(v, o.signal), 0);
        bytes += older.bytes;
        if (older.sha256 === id) {
          good = v;
          break;
        }
      } catch {
        // an unreadable older version is just not a candidate
      }
    }
    const f = finding(h.bytes === 0 ? 'empty' : 'corrupt', top, good !== undefined ? { goodVersion: good.versionId } : {});
    return {
      entry: entryOf(top),
      findings: [...findings, f],
      ...(good !== undefined ? { repair: { kind: 'copy', key: top.key, versionId: good.versionId, size: good.size, target: top.key } as Action } : {}),
      counted: 'hashed',
      bytes,
    };
  }

  async function* paired(): AsyncGenerator<{ group: VersionRecord[]; before: StateEntry | undefined }> {
    for await (const group of o.source.groups()) {
      const top = group[0];
      if (top === undefined || isRwmKey(top.key.slice(kp.length))) continue;
      yield { group, before: await previousOf(top.key) };
    }
  }

  for await (const r of orderedMap(paired(), o.concurrency ?? 8, ({ group, before }) => one(group, before))) {
    report.keys += 1;
    if (r.counted !== 'none') report[r.counted] += 1;
    if (r.counted === 'hashed') report.hashedBytes += r.bytes;
    for (const f of r.findings) report.findings.push(f);
    if (r.repair !== undefined) report.repairs.push({ action: r.repair, finding: report.findings.length - 1 });
    o.onProgress?.(report);
    if (r.entry !== undefined) yield r.entry;
  }
  if (prevIt !== undefined && prev?.done !== true) await prevIt.return?.();
}

/** Whether the password opened a repository's master key, and why not. */
export interface KeyOpening {
  /** Relative to the scrubbed prefix: '' or ending in '/'. */
  readonly repo: string;
  readonly opened: boolean;
  readonly reason?: string;
}

const KEY_NAME = /^[0-9a-f]{64}$/;

/** The current files of a repository's keys/ (listed by `keys`), each at most MAX_KEY_FILE bytes; larger ones are not key files. */
async function keyFilesOf(keys: ScrubSource, signal?: AbortSignal): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const group of keys.groups()) {
    const top = group[0];
    if (top === undefined || top.deleteMarker || top.size > MAX_KEY_FILE || !KEY_NAME.test(top.key.slice(keys.prefix.length))) continue;
    const h = await hashOf(await keys.read(top, signal), MAX_KEY_FILE + 1);
    if (h.bytes <= MAX_KEY_FILE) out.push(h.head);
  }
  return out;
}

/**
 * An opener for ScrubOptions: each repository's master key, opened once with the password from the
 * current files of its keys/ (`keysOf(repo)` lists them: the same kind of source as the scrub's,
 * narrowed to that directory). `openings()` says, per repository asked for, whether it opened.
 */
export function createKeyOpener(keysOf: (repo: string) => ScrubSource, password: string, signal?: AbortSignal): { opener: (repo: string) => Promise<MasterKey | undefined>; openings: () => KeyOpening[] } {
  const keys = new Map<string, Promise<MasterKey | undefined>>();
  const openings = new Map<string, KeyOpening>();
  const open = async (repo: string): Promise<MasterKey | undefined> => {
    try {
      const key = await openMasterKey(await keyFilesOf(keysOf(repo), signal), password);
      openings.set(repo, { repo, opened: true });
      return key;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      openings.set(repo, { repo, opened: false, reason: e.code === 'ENOENT' ? 'no keys/ directory' : e.message });
      return undefined;
    }
  };
  return {
    opener: (repo) => {
      let k = keys.get(repo);
      if (k === undefined) keys.set(repo, (k = open(repo)));
      return k;
    },
    openings: () => [...openings.values()].sort((a, b) => compareKeys(a.repo, b.repo)),
  };
}
