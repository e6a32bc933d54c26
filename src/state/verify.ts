// Pure: do the versions a state lists still exist, with the same size and ETag? Checks many states
// against one version listing in a single pass (every stream is sorted by key), so the cost is one
// listing however many states there are, and memory is one key's versions plus one entry per state.
import type { VersionRecord } from '../s3/bucket.js';
import { compareKeys, isRwmKey } from '../s3/names.js';
import type { StateEntry } from './format.js';

export interface StateCheck {
  readonly checked: number;
  readonly missing: number;
  /** The first few keys whose version is gone or differs. */
  readonly examples: string[];
}

export async function verifyStates(states: readonly AsyncIterable<StateEntry>[], listing: AsyncIterable<VersionRecord>, prefix: string): Promise<StateCheck[]> {
  const its = states.map((s) => s[Symbol.asyncIterator]());
  const heads = await Promise.all(its.map((it) => it.next()));
  const out = states.map(() => ({ checked: 0, missing: 0, examples: [] as string[] }));
  const miss = (i: number, key: string): void => {
    const o = out[i] as { missing: number; examples: string[] };
    o.missing += 1;
    if (o.examples.length < 5) o.examples.push(key);
  };
  /** Advances state i past every key before `key` (those versions are gone), then checks `key`. */
  const settle = async (key: string | undefined, versions: Map<string, VersionRecord>): Promise<void> => {
    for (let i = 0; i < its.length; i++) {
      for (;;) {
        const h = heads[i] as IteratorResult<StateEntry>;
        if (h.done === true) break;
        const c = key === undefined ? -1 : compareKeys(h.value.key, key);
        if (c > 0) break;
        (out[i] as { checked: number }).checked += 1;
        const v = c === 0 ? versions.get(h.value.versionId) : undefined;
        if (v === undefined || v.deleteMarker !== h.value.deleteMarker || (!v.deleteMarker && (v.size !== h.value.size || v.etag !== h.value.etag))) miss(i, h.value.key);
        heads[i] = await (its[i] as AsyncIterator<StateEntry>).next();
      }
    }
  };
  let key: string | undefined;
  let versions = new Map<string, VersionRecord>();
  for await (const r of listing) {
    if (isRwmKey(r.key.slice(prefix.length))) continue;
    if (r.key !== key) {
      if (key !== undefined) await settle(key, versions);
      key = r.key;
      versions = new Map();
    }
    versions.set(r.versionId, r);
  }
  if (key !== undefined) await settle(key, versions);
  await settle(undefined, new Map());
  return out;
}
