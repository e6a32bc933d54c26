// What a scrub reads: the versions of a bucket prefix, or the files of a local directory (a
// `rwm serve --path` tree or a restic local repository). A local file's "version" is its size, mtime
// and inode: a rewritten file has a new one, so an incremental scrub reads it again.
import { createReadStream } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { VersionedBuckets, VersionRecord } from '../s3/bucket.js';
import { compareKeys } from '../s3/names.js';
import { groupBy } from '../util/ordered.js';
import type { HashPool } from './hash-pool.js';
import type { ScrubSource } from './scrub.js';

export function bucketSource(buckets: VersionedBuckets, bucket: string, prefix: string, concurrency?: number): ScrubSource {
  return {
    prefix,
    groups: () => groupBy(buckets.listVersions(bucket, prefix, concurrency !== undefined ? { concurrency } : {}), (r) => r.key),
    read: (rec, signal) => buckets.read({ bucket, key: rec.key, versionId: rec.versionId }, signal ? { signal } : {}),
  };
}

const NOT_A_FILE = 'not-a-file';

/** Files that belong to rwm serve or restic's machinery, not to a repository: never reported. */
const IGNORED = new Set(['.htpasswd', 'public_key', 'private_key', '.rwm-tmp', '.rwm']);

async function* walk(root: string, rel: string): AsyncGenerator<VersionRecord> {
  const dir = await opendir(join(root, rel));
  const entries: { name: string; sortKey: string; isDir: boolean }[] = [];
  for await (const d of dir) {
    if (IGNORED.has(d.name)) continue;
    // Sorted as the keys would be: a directory's files all start with "name/".
    entries.push({ name: d.name, sortKey: d.isDirectory() ? `${d.name}/` : d.name, isDir: d.isDirectory() });
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDir) {
      yield* walk(root, path);
      continue;
    }
    const st = await lstat(join(root, path));
    // A symlink is not a restic file (and is never followed): it is reported as foreign.
    yield {
      key: path,
      versionId: st.isFile() ? `${st.size}-${Math.round(st.mtimeMs)}-${st.ino}` : NOT_A_FILE,
      deleteMarker: false,
      isLatest: true,
      size: st.isFile() ? st.size : 0,
      etag: '',
      lastModified: st.mtimeMs,
      owner: '',
    };
  }
}

export function localSource(root: string, pool?: HashPool): ScrubSource {
  return {
    prefix: '',
    groups: () => groupBy(walk(root, ''), (r) => r.key),
    read: async (rec): Promise<Readable> => {
      if (rec.versionId === NOT_A_FILE) throw new Error('not a regular file');
      return createReadStream(join(root, rec.key), { highWaterMark: 1 << 20 });
    },
    ...(pool !== undefined
      ? {
          hash: async (rec: VersionRecord, keep: number) => {
            if (rec.versionId === NOT_A_FILE) throw new Error('not a regular file');
            return pool.hash(join(root, rec.key), keep);
          },
        }
      : {}),
    // Else a symlink named like a restic file would pass the name check and fail as unreadable.
    isForeign: (rec) => rec.versionId === NOT_A_FILE,
  };
}
