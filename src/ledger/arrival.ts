// The server's side of the snapshot ledger: one arrival record per snapshot file `rwm serve` stores,
// written where its clients cannot reach (a `.rwm/` segment, which no repository path may use). The
// arrival time is the server's clock (on S3: the record object's LastModified, set by S3), which a
// backup host cannot forge the way it forges restic's own `time` with `restic backup --time`.
import { open, mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { VersionedBuckets } from '../s3/bucket.js';

export const arrivalSchema = z.strictObject({
  v: z.literal(1),
  /** The repository's path in the store ('' for the store's root), segments joined by '/'. */
  repo: z.string(),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  /** ISO time on the server's clock when the snapshot file was stored. */
  arrived: z.string(),
  user: z.string().optional(),
  addr: z.string().optional(),
});

export type ArrivalRecord = z.infer<typeof arrivalSchema>;

/** Where `rwm serve` appends arrival records. */
export interface ArrivalLedger {
  /**
   * Records that a snapshot file was stored (or found already there, for a retried upload). MUST be
   * durable when it resolves; a rejection means the client must not be told its upload succeeded.
   */
  append(r: Omit<ArrivalRecord, 'v' | 'arrived'>): Promise<void>;
}

/** `<root>/.rwm/ledger/<repo path>/snapshots.jsonl`: one JSON line per record, appended, fsync'd. */
export function localLedgerFile(root: string, repo: string): string {
  return join(root, '.rwm', 'ledger', ...(repo === '' ? [] : repo.split('/')), 'snapshots.jsonl');
}

/**
 * A ledger under `root` (the served directory). `base`: the store's own path below root, when the
 * store is one repository (stdio mode serves `--path/<name>`), so records name repositories from root.
 */
export function createLocalLedger(root: string, base: readonly string[] = [], now: () => Date = () => new Date()): ArrivalLedger {
  return {
    async append(rec) {
      const r = { ...rec, repo: [...base, ...(rec.repo === '' ? [] : [rec.repo])].join('/') };
      const file = localLedgerFile(root, r.repo);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const line = `${JSON.stringify({ v: 1, ...r, arrived: now().toISOString() } satisfies ArrivalRecord)}\n`;
      // One write(2) with O_APPEND: concurrent servers (one per SSH session) never interleave lines.
      const fh = await open(file, 'a', 0o600);
      try {
        await fh.write(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
  };
}

/** Records in a local ledger file, oldest first; unparsable lines are counted, not thrown. */
export async function readLocalLedger(file: string): Promise<{ records: ArrivalRecord[]; bad: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], bad: 0 };
    throw err;
  }
  const records: ArrivalRecord[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const p = arrivalSchema.safeParse(JSON.parse(line));
      if (p.success) records.push(p.data);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { records, bad };
}

/** The key prefix of a repository's ledger objects: `<repository root>.rwm/ledger/`. */
export const s3LedgerPrefix = (repoRoot: string): string => `${repoRoot}.rwm/ledger/`;

/** A unique key per record: `<UTC time>-<snapshot id>-<random>.json`, sorted by arrival. */
export function s3LedgerKey(repoRoot: string, id: string, at: Date): string {
  const t = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${s3LedgerPrefix(repoRoot)}${t}-${id}-${randomBytes(4).toString('hex')}.json`;
}

export function createS3Ledger(buckets: VersionedBuckets, bucket: string, rootOf: (repo: string) => string, now: () => Date = () => new Date()): ArrivalLedger {
  return {
    async append(r) {
      const at = now();
      const body = Buffer.from(`${JSON.stringify({ v: 1, ...r, arrived: at.toISOString() } satisfies ArrivalRecord)}\n`);
      await buckets.putNew(bucket, s3LedgerKey(rootOf(r.repo), r.id, at), body, body.length);
    },
  };
}
