// Pure: what every key was at a point in time, from a version listing (sorted by key, newest first
// within a key): the newest version or delete marker with LastModified <= T. LastModified is set by
// S3, so a client cannot place a version in the past. T = Infinity gives the current state.
import type { VersionRecord } from '../s3/bucket.js';
import type { StateEntry } from './format.js';
import type { Pair } from './merge.js';

export async function* stateAt(records: AsyncIterable<VersionRecord>, t: number): AsyncGenerator<StateEntry> {
  let key: string | undefined;
  let found = false;
  for await (const r of records) {
    if (r.key !== key) {
      key = r.key;
      found = false;
    }
    if (found || r.lastModified > t) continue;
    found = true;
    yield entryOf(r);
  }
}

const entryOf = (r: VersionRecord): StateEntry => ({ key: r.key, versionId: r.versionId, deleteMarker: r.deleteMarker, size: r.size, etag: r.etag, lastModified: r.lastModified, owner: r.owner });

/** From one listing, each key as it was at T (`a`) and as it is now (`b`): what mergeJoin of the two would give, in one pass. */
export async function* pairsAt(records: AsyncIterable<VersionRecord>, t: number): AsyncGenerator<Pair> {
  let key: string | undefined;
  let now: StateEntry | undefined;
  let then: StateEntry | undefined;
  for await (const r of records) {
    if (r.key !== key) {
      if (key !== undefined) yield { key, a: then, b: now };
      key = r.key;
      now = entryOf(r);
      then = undefined;
    }
    if (then === undefined && r.lastModified <= t) then = entryOf(r);
  }
  if (key !== undefined) yield { key, a: then, b: now };
}

/** Only the entries that are objects (a delete marker on top means "absent"). */
export async function* present(entries: AsyncIterable<StateEntry>): AsyncGenerator<StateEntry> {
  for await (const e of entries) if (!e.deleteMarker) yield e;
}

/** Entries whose key passes `keep` (e.g. not locks/, not .rwm/). */
export async function* filterKeys(entries: AsyncIterable<StateEntry>, keep: (key: string) => boolean): AsyncGenerator<StateEntry> {
  for await (const e of entries) if (keep(e.key)) yield e;
}
