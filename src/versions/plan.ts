// Pure planners: from key-sorted streams of "what should be" and "what is", the actions that make
// one into the other. They never call S3; versions/apply.ts carries the actions out (or, with
// --dry-run, only prints them). A rerun after an interruption plans only what is left, because a
// key whose top already holds the wanted bytes is left alone.
import { isLockKey, isRwmKey } from '../s3/names.js';
import type { StateEntry } from '../state/format.js';
import { mergeJoin, sameContent, type Pair } from '../state/merge.js';

export type Action =
  /** Copy version `versionId` of `key` (in the source bucket) to the top of `target`. */
  | { readonly kind: 'copy'; readonly key: string; readonly versionId: string; readonly size: number; readonly target: string }
  /** Add a delete marker on top of `target`. */
  | { readonly kind: 'hide'; readonly target: string }
  /** Nothing to do: `target` already holds the wanted bytes (or is absent as wanted). */
  | { readonly kind: 'same'; readonly target: string; readonly size: number }
  /** Left alone on purpose (a lock of a running restic, rwm's own keys). */
  | { readonly kind: 'skip'; readonly target: string; readonly why: 'lock' | 'rwm' }
  /** Delete one old version or delete marker of `target` for good (storage drop-versions; never a current version). */
  | { readonly kind: 'drop'; readonly target: string; readonly versionId: string; readonly size: number }
  /** Keep a version locked until `until` (storage extend-retention). */
  | { readonly kind: 'retain'; readonly target: string; readonly versionId: string; readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly until: number };

const live = (e: StateEntry | undefined): StateEntry | undefined => (e === undefined || e.deleteMarker ? undefined : e);

/**
 * In place: each pair is a key under `prefix` as wanted (`a`, the point to go back to) and as it is
 * now (`b`) — from mergeJoin(state, current) or, for a time, pairsAt(listing, T). Keys that differ
 * get the wanted version copied on top; keys that did not exist then get a delete marker. Nothing is
 * ever deleted for good.
 */
export async function* planInPlace(pairs: AsyncIterable<Pair>, prefix: string): AsyncGenerator<Action> {
  for await (const p of pairs) {
    const rel = p.key.slice(prefix.length);
    if (isRwmKey(rel)) continue;
    const w = live(p.a);
    const c = live(p.b);
    if (isLockKey(rel)) {
      if (w !== undefined || c !== undefined) yield { kind: 'skip', target: p.key, why: 'lock' };
      continue;
    }
    if (w === undefined && c === undefined) continue;
    if (w === undefined) yield { kind: 'hide', target: p.key };
    else if (c !== undefined && sameContent(w, c)) yield { kind: 'same', target: p.key, size: w.size };
    else yield { kind: 'copy', key: p.key, versionId: w.versionId, size: w.size, target: p.key };
  }
}

/**
 * To another bucket or prefix: every wanted version is copied to `mapKey(key)`; `existing` is what
 * the target holds already (empty unless the user allowed a non-empty target), where identical
 * bytes are left alone. Keys only in the target are not touched.
 */
export async function* planCopy(wanted: AsyncIterable<StateEntry>, existing: AsyncIterable<StateEntry>, prefix: string, mapKey: (key: string) => string, unmapKey: (target: string) => string): AsyncGenerator<Action> {
  async function* mapped(): AsyncGenerator<StateEntry> {
    for await (const e of existing) yield { ...e, key: unmapKey(e.key) };
  }
  for await (const p of mergeJoin(wanted, mapped())) {
    const rel = p.key.slice(prefix.length);
    const w = live(p.a);
    if (w === undefined || isRwmKey(rel)) continue;
    if (isLockKey(rel)) {
      yield { kind: 'skip', target: mapKey(p.key), why: 'lock' };
      continue;
    }
    const e = live(p.b);
    if (e !== undefined && sameContent(w, e)) yield { kind: 'same', target: mapKey(p.key), size: w.size };
    else yield { kind: 'copy', key: p.key, versionId: w.versionId, size: w.size, target: mapKey(p.key) };
  }
}
