// A bucket as it was at one point, for reading key by key (`rwm serve --as-of`): by time, each
// lookup lists that key's versions (memory stays flat; a small cache absorbs restic's repeated reads
// of one pack); by state, the state's entries under the served prefix are held in a map.
import type { VersionedBuckets } from '../s3/bucket.js';
import { compareKeys } from '../s3/names.js';
import { stateAt } from './at-time.js';
import type { StateEntry } from './format.js';

export interface PointView {
  /** The key's live entry at the point, or undefined when it did not exist (or was deleted). */
  lookup(key: string, signal?: AbortSignal): Promise<StateEntry | undefined>;
  /** The live entries under a key prefix at the point, sorted by key. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<StateEntry>;
}

const CACHE = 4096;

export function viewAtTime(buckets: VersionedBuckets, bucket: string, t: number): PointView {
  const cache = new Map<string, StateEntry | undefined>();
  return {
    async lookup(key, signal) {
      if (cache.has(key)) return cache.get(key);
      let found: StateEntry | undefined;
      for await (const e of stateAt(buckets.listVersions(bucket, key, signal ? { signal } : {}), t)) {
        if (e.key === key) {
          found = e.deleteMarker ? undefined : e;
          break;
        }
      }
      if (cache.size >= CACHE) cache.delete(cache.keys().next().value as string);
      cache.set(key, found);
      return found;
    },
    async *list(prefix, signal) {
      for await (const e of stateAt(buckets.listVersions(bucket, prefix, signal ? { signal } : {}), t)) if (!e.deleteMarker) yield e;
    },
  };
}

/** Holds the live entries under `prefix` (one map entry per key: ~200 bytes each). */
export async function viewOfState(entries: AsyncIterable<StateEntry>, prefix: string): Promise<PointView> {
  const byKey = new Map<string, StateEntry>();
  for await (const e of entries) if (!e.deleteMarker && e.key.startsWith(prefix)) byKey.set(e.key, e);
  const keys = [...byKey.keys()].sort(compareKeys);
  return {
    async lookup(key) {
      return byKey.get(key);
    },
    async *list(p) {
      for (const k of keys) if (k.startsWith(p)) yield byKey.get(k) as StateEntry;
    },
  };
}
