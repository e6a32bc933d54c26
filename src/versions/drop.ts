// Pure: which old versions `storage drop-versions` may delete for good. A noncurrent version or
// delete marker is dropped only when every one of these holds, and each key that keeps some says why:
// - the key's current version is the one the last scrub hashed and found good (its verified state),
//   so a key overwritten after that scrub — by an attacker, say — keeps its old versions: this
//   closes the race between scrub and drop without a lock;
// - it became noncurrent (its successor's LastModified) more than `keepWithinMs` ago, so
//   point-in-time restore keeps working inside that window;
// - no state inside the window references it;
// - never a current version, never anything under `.rwm/`.
// A key whose newest entry is a delete marker (a trusted prune) loses its versions after the
// window, and then the marker too: that is the space being reclaimed. Object-lock retention and
// legal holds are checked when the plan is carried out (versions/apply.ts), where S3 says.
import type { VersionRecord } from '../s3/bucket.js';
import { compareKeys, isRwmKey } from '../s3/names.js';
import type { StateEntry } from '../state/format.js';

export type KeepReason = 'not-verified' | 'in-window' | 'in-state';

export type DropDecision =
  | { readonly kind: 'drop'; readonly key: string; readonly versionId: string; readonly size: number; readonly deleteMarker: boolean }
  | { readonly kind: 'keep'; readonly key: string; readonly versions: number; readonly bytes: number; readonly reasons: readonly KeepReason[] };

export interface DropInputs {
  /** The listing, grouped by key, newest first within a key. */
  readonly groups: AsyncIterable<VersionRecord[]>;
  /** The last verified state (from `rwm scrub`), sorted by key. */
  readonly verified: AsyncIterable<StateEntry>;
  /** Every state created inside the window, each sorted by key. */
  readonly recentStates: readonly AsyncIterable<StateEntry>[];
  /** Key prefix of the listing: '' or ending in '/'. */
  readonly prefix: string;
  readonly now: number;
  readonly keepWithinMs: number;
}

/** A cursor over a sorted entry stream: the entry of a key, if any (keys asked in increasing order). */
function cursor(entries: AsyncIterable<StateEntry>): { at(key: string): Promise<StateEntry | undefined>; close(): Promise<void> } {
  const it = entries[Symbol.asyncIterator]();
  let head: IteratorResult<StateEntry> | undefined;
  return {
    async at(key) {
      head ??= await it.next();
      while (head.done !== true && compareKeys(head.value.key, key) < 0) head = await it.next();
      return head.done !== true && head.value.key === key ? head.value : undefined;
    },
    async close() {
      if (head?.done !== true) await it.return?.();
    },
  };
}

export async function* planDrop(o: DropInputs): AsyncGenerator<DropDecision> {
  const verified = cursor(o.verified);
  const states = o.recentStates.map(cursor);
  try {
    for await (const group of o.groups) {
      const top = group[0];
      if (top === undefined || isRwmKey(top.key.slice(o.prefix.length))) continue;
      if (group.length === 1 && !top.deleteMarker) continue;
      const inStates = new Set<string>();
      for (const s of states) {
        const e = await s.at(top.key);
        if (e !== undefined) inStates.add(e.versionId);
      }
      const keep = (reasons: Set<KeepReason>, recs: readonly VersionRecord[]): DropDecision => ({
        kind: 'keep',
        key: top.key,
        versions: recs.length,
        bytes: recs.reduce((n, r) => n + r.size, 0),
        reasons: [...reasons],
      });
      if (!top.deleteMarker) {
        const v = await verified.at(top.key);
        if (v === undefined || v.versionId !== top.versionId || v.verified === undefined) {
          yield keep(new Set(['not-verified']), group.slice(1));
          continue;
        }
      }
      const reasons = new Set<KeepReason>();
      const kept: VersionRecord[] = [];
      const drops: DropDecision[] = [];
      for (let i = 1; i < group.length; i++) {
        const r = group[i] as VersionRecord;
        const noncurrentSince = (group[i - 1] as VersionRecord).lastModified;
        const why: KeepReason | undefined = o.now - noncurrentSince < o.keepWithinMs ? 'in-window' : inStates.has(r.versionId) ? 'in-state' : undefined;
        if (why === undefined) drops.push({ kind: 'drop', key: r.key, versionId: r.versionId, size: r.size, deleteMarker: r.deleteMarker });
        else {
          reasons.add(why);
          kept.push(r);
        }
      }
      // A delete marker on top with nothing left below it hides nothing: it goes too, after the window.
      if (top.deleteMarker && kept.length === 0) {
        const why: KeepReason | undefined = o.now - top.lastModified < o.keepWithinMs ? 'in-window' : inStates.has(top.versionId) ? 'in-state' : undefined;
        if (why === undefined) drops.push({ kind: 'drop', key: top.key, versionId: top.versionId, size: 0, deleteMarker: true });
        else reasons.add(why);
      }
      yield* drops;
      if (kept.length > 0 || reasons.size > 0) yield keep(reasons, kept);
    }
  } finally {
    await verified.close();
    for (const s of states) await s.close();
  }
}
