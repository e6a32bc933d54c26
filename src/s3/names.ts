// What an object key means to restic: the repository it belongs to and the file it is, or that it is
// rwm's own (under a `.rwm/` segment) or nobody's. Key order is S3's: by UTF-8 bytes.

export type ResticFileKind = 'config' | 'data' | 'keys' | 'index' | 'snapshots' | 'locks';

export interface ResticName {
  /** The repository's key prefix relative to the listed prefix: '' or ending in '/'. */
  readonly repo: string;
  readonly kind: ResticFileKind;
  /** The file's id (its SHA-256); undefined for `config`. */
  readonly id?: string;
  /** A pack under a `data/<2 hex>/` shard that is not its own. */
  readonly misplaced: boolean;
}

const RESTIC_KEY = /^((?:[^/]+\/)*?)(?:(config)|data\/([0-9a-f]{2})\/([0-9a-f]{64})|(keys|index|snapshots|locks)\/([0-9a-f]{64}))$/;

/** Parses a key relative to a listed prefix; undefined for keys that are not restic's. */
export function parseResticKey(rel: string): ResticName | undefined {
  const m = RESTIC_KEY.exec(rel);
  if (m === null) return undefined;
  const repo = m[1] ?? '';
  if (isRwmKey(repo)) return undefined;
  if (m[2] !== undefined) return { repo, kind: 'config', misplaced: false };
  if (m[4] !== undefined) return { repo, kind: 'data', id: m[4], misplaced: m[3] !== m[4].slice(0, 2) };
  return { repo, kind: m[5] as ResticFileKind, id: m[6] ?? '', misplaced: false };
}

/** Keys under a `.rwm/` segment are rwm's own (states, ledgers): never restored, hidden or served. */
export function isRwmKey(rel: string): boolean {
  return rel.startsWith('.rwm/') || rel.includes('/.rwm/');
}

/** Lock files belong to running restic processes: restores never touch them. */
export function isLockKey(rel: string): boolean {
  return parseResticKey(rel)?.kind === 'locks';
}

/** The key prefix of BUCKET[/PREFIX]: '' or ending in '/'. */
export function keyPrefix(prefix: string): string {
  return prefix === '' ? '' : `${prefix}/`;
}

/** S3's key order (UTF-8 bytes), which equals JS string order for the ASCII keys restic writes. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
