// Pure: which current versions `storage extend-retention` keeps locked longer. Plain default
// retention lets a 30-day lock lapse on packs that every snapshot still uses; extending the current
// versions' retain-until keeps live data locked for as long as it is live.
import type { VersionLock } from '../s3/bucket.js';
import type { StateEntry } from '../state/format.js';
import type { Action } from './plan.js';

/**
 * A retain action when the version's retain-until falls within `days` (or it has none): extended to
 * now + days, in the version's own mode (else `defaultMode`; none at all: nothing to do).
 */
export function planRetention(e: StateEntry, lock: VersionLock, now: number, days: number, defaultMode: 'GOVERNANCE' | 'COMPLIANCE' | undefined): Action | undefined {
  const until = now + days * 86_400_000;
  if (lock.retainUntil !== undefined && lock.retainUntil >= until) return undefined;
  const mode = lock.mode ?? defaultMode;
  if (mode === undefined) return undefined;
  return { kind: 'retain', target: e.key, versionId: e.versionId, mode, until };
}
