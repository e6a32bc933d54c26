// `state save`: records what is current under BUCKET/PREFIX right now, into the bucket (under the
// reserved `.rwm/state/` prefix, a new key each time, never overwritten) and into a local directory.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VersionedBuckets } from '../s3/bucket.js';
import { isRwmKey, keyPrefix } from '../s3/names.js';
import { filterKeys, stateAt } from './at-time.js';
import { stateName, writeStateFile, type StateHeader } from './format.js';
import { localStateDir, stateKey } from './catalog.js';

export interface SaveStateOptions {
  readonly buckets: VersionedBuckets;
  readonly bucket: string;
  /** Normalised prefix: '' or without leading/trailing '/'. */
  readonly prefix: string;
  readonly writer: StateHeader['writer'];
  /** Keep a copy under this directory (the trusted host's state directory); undefined for none. */
  readonly stateDir?: string | undefined;
  /** Store the state in the bucket too (default true). */
  readonly upload?: boolean;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Called every 1000 keys. */
  readonly onProgress?: (keys: number) => void;
}

export interface SavedState {
  readonly name: string;
  /** The object key in the bucket, when uploaded. */
  readonly key?: string;
  readonly file?: string;
  readonly header: StateHeader;
  readonly size: number;
}

export async function saveState(o: SaveStateOptions): Promise<SavedState> {
  const created = (o.now ?? (() => new Date()))();
  const name = stateName(created, randomBytes(8).toString('hex'));
  const kp = keyPrefix(o.prefix);
  const dir = o.stateDir === undefined ? await mkdtemp(join(tmpdir(), 'rwm-state-')) : localStateDir(o.stateDir, o.bucket, o.prefix);
  if (o.stateDir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}.jsonl.gz`);
  try {
    let n = 0;
    const listing = o.buckets.listVersions(o.bucket, kp, { ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    const entries = filterKeys(stateAt(listing, Infinity), (k) => {
      if ((++n) % 1000 === 0) o.onProgress?.(n);
      return !isRwmKey(k.slice(kp.length));
    });
    const written = await writeStateFile(file, { bucket: o.bucket, prefix: o.prefix, created: created.toISOString(), writer: o.writer }, entries);
    let key: string | undefined;
    if (o.upload !== false) {
      key = stateKey(o.prefix, name);
      await o.buckets.putNew(o.bucket, key, () => createReadStream(file), written.size, o.signal ? { signal: o.signal } : {});
    }
    return { name, ...(key !== undefined ? { key } : {}), ...(o.stateDir !== undefined ? { file } : {}), header: written.header, size: written.size };
  } finally {
    if (o.stateDir === undefined) await rm(dir, { recursive: true, force: true });
  }
}
