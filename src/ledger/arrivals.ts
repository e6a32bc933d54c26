// Where the trusted arrival time of each snapshot comes from: rwm serve's ledger records (local
// directory or bucket), else the first version's LastModified in a bucket (set by S3; on a policed
// bucket never deleted), else a local file's mtime (the weakest: whoever writes the directory sets it).
import { stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { VersionedBuckets } from '../s3/bucket.js';
import { arrivalSchema, localLedgerFile, readLocalLedger, s3LedgerPrefix } from './arrival.js';
import type { BookEntry } from './book.js';

export interface Arrival {
  readonly at: number;
  readonly source: BookEntry['arrivalSource'];
  readonly recorded: boolean;
  readonly user?: string;
  readonly addr?: string;
}

/** Finds the arrival of the snapshots a repository holds (ids), and whether a server ledger exists. */
export interface ArrivalSource {
  readonly label: string;
  arrivals(ids: readonly string[]): Promise<Map<string, Arrival>>;
}

const LEDGER_NAME = /^(\d{8}T\d{6}Z)-([0-9a-f]{64})-[0-9a-f]+\.json$/;

/** A repository in a bucket (kp: its key prefix, '' or ending in '/'). */
export function bucketArrivals(buckets: VersionedBuckets, bucket: string, kp: string): ArrivalSource {
  return {
    label: `${bucket}/${kp}`,
    async arrivals(ids) {
      const wanted = new Set(ids);
      const out = new Map<string, Arrival>();
      const dir = `${kp}snapshots/`;
      for await (const v of buckets.listVersions(bucket, dir)) {
        const id = v.key.slice(dir.length);
        if (v.deleteMarker || !wanted.has(id)) continue;
        const prev = out.get(id);
        if (prev === undefined || v.lastModified < prev.at) out.set(id, { at: v.lastModified, source: 'bucket', recorded: false });
      }
      const ldir = s3LedgerPrefix(kp);
      const first = new Map<string, { versionId: string; key: string; at: number }>();
      for await (const v of buckets.listVersions(bucket, ldir)) {
        const m = LEDGER_NAME.exec(v.key.slice(ldir.length));
        if (m === null || v.deleteMarker || !wanted.has(m[2] as string)) continue;
        const id = m[2] as string;
        const f = first.get(id);
        if (f === undefined || v.lastModified < f.at) first.set(id, { versionId: v.versionId, key: v.key, at: v.lastModified });
      }
      for (const [id, f] of first) {
        const a = out.get(id);
        if (a === undefined) continue;
        const who = await readRecord(buckets, bucket, f.key, f.versionId);
        out.set(id, { ...a, recorded: true, ...who });
      }
      return out;
    },
  };
}

async function readRecord(buckets: VersionedBuckets, bucket: string, key: string, versionId: string): Promise<{ user?: string; addr?: string }> {
  try {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of await buckets.read({ bucket, key, versionId }, { range: { offset: 0, length: 4096 } })) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n > 4096) break;
    }
    const p = arrivalSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!p.success) return {};
    return { ...(p.data.user !== undefined ? { user: p.data.user } : {}), ...(p.data.addr !== undefined ? { addr: p.data.addr } : {}) };
  } catch {
    return {};
  }
}

/**
 * The served directory whose `.rwm/ledger/` covers a local repository: the nearest ancestor (or the
 * repository itself, in stdio mode's layout) that has a ledger file for it.
 */
export async function findLocalLedger(repoDir: string): Promise<{ root: string; repo: string; file: string } | undefined> {
  let dir = repoDir;
  for (;;) {
    const rel = relative(dir, repoDir).split(sep).filter((s) => s !== '').join('/');
    const file = localLedgerFile(dir, rel);
    if (await stat(file).then(() => true, () => false)) return { root: dir, repo: rel, file };
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** A local repository: rwm serve's ledger if there is one, else each snapshot file's mtime. */
export function localArrivals(repoDir: string): ArrivalSource {
  return {
    label: repoDir,
    async arrivals(ids) {
      const out = new Map<string, Arrival>();
      const ledger = await findLocalLedger(repoDir);
      if (ledger !== undefined) {
        const { records } = await readLocalLedger(ledger.file);
        for (const r of records) {
          if (r.repo !== ledger.repo) continue;
          const at = Date.parse(r.arrived);
          const prev = out.get(r.id);
          if (prev !== undefined && prev.at <= at) continue;
          out.set(r.id, { at, source: 'server', recorded: true, ...(r.user !== undefined ? { user: r.user } : {}), ...(r.addr !== undefined ? { addr: r.addr } : {}) });
        }
      }
      for (const id of ids) {
        if (out.has(id)) continue;
        const st = await stat(join(repoDir, 'snapshots', id)).catch(() => undefined);
        if (st !== undefined) out.set(id, { at: st.mtimeMs, source: 'file', recorded: false });
      }
      return out;
    },
  };
}
