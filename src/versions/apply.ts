// THE ONLY CODE THAT CHANGES VERSIONS: carries out a plan (versions/plan.ts, versions/drop.ts) with
// bounded concurrency — server-side copies of a version to the top of a key, delete markers, longer
// retention, and (only for `drop` actions, which only storage drop-versions plans) deleting an old
// version for good, never one under object-lock retention or legal hold. With `dryRun` it changes
// nothing and only reports what it would do.
import { isLocked, MAX_SINGLE_COPY, type VersionedBuckets } from '../s3/bucket.js';
import type { Action } from './plan.js';

export interface ApplyOptions {
  readonly buckets: VersionedBuckets;
  /** Where `copy` actions read from. */
  readonly sourceBucket: string;
  /** Where copies and delete markers go. */
  readonly targetBucket: string;
  readonly dryRun: boolean;
  /** Before a drop, read the version's lock and keep it when locked (object-lock buckets). */
  readonly checkLocks?: boolean;
  readonly now?: () => number;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Every action, after it was done (or, in a dry run, planned); `error` when it failed. */
  readonly onAction?: (a: Action, error?: Error) => void;
}

export interface ApplyReport {
  copied: number;
  copiedBytes: number;
  hidden: number;
  same: number;
  sameBytes: number;
  skipped: number;
  dropped: number;
  droppedBytes: number;
  /** Drops refused because the version is under retention or legal hold. */
  locked: number;
  retained: number;
  failed: number;
  /** The first failures, "key: reason". */
  readonly failures: string[];
}

export const DEFAULT_APPLY_CONCURRENCY = 16;
const MAX_REPORTED_FAILURES = 50;

export async function applyPlan(plan: AsyncIterable<Action>, o: ApplyOptions): Promise<ApplyReport> {
  const r: ApplyReport = { copied: 0, copiedBytes: 0, hidden: 0, same: 0, sameBytes: 0, skipped: 0, dropped: 0, droppedBytes: 0, locked: 0, retained: 0, failed: 0, failures: [] };
  const limit = Math.max(1, o.concurrency ?? DEFAULT_APPLY_CONCURRENCY);
  const inFlight = new Set<Promise<void>>();
  const call = o.signal ? { signal: o.signal } : {};

  async function run(a: Action): Promise<void> {
    try {
      switch (a.kind) {
        case 'copy':
          if (a.size > MAX_SINGLE_COPY) throw new Error(`${a.size} bytes is more than a single S3 copy can take (5 GiB); restic never writes files that large`);
          if (!o.dryRun) await o.buckets.copy({ bucket: o.sourceBucket, key: a.key, versionId: a.versionId }, { bucket: o.targetBucket, key: a.target }, call);
          r.copied += 1;
          r.copiedBytes += a.size;
          break;
        case 'hide':
          if (!o.dryRun) await o.buckets.hide(o.targetBucket, a.target, call);
          r.hidden += 1;
          break;
        case 'same':
          r.same += 1;
          r.sameBytes += a.size;
          break;
        case 'skip':
          r.skipped += 1;
          break;
        case 'drop': {
          const ref = { bucket: o.targetBucket, key: a.target, versionId: a.versionId };
          if (o.checkLocks === true && isLocked(await o.buckets.lockOf(ref, call), (o.now ?? Date.now)())) {
            r.locked += 1;
            break;
          }
          if (!o.dryRun) await o.buckets.deleteVersion(ref, call);
          r.dropped += 1;
          r.droppedBytes += a.size;
          break;
        }
        case 'retain':
          if (!o.dryRun) await o.buckets.putRetention({ bucket: o.targetBucket, key: a.target, versionId: a.versionId }, a.mode, a.until, call);
          r.retained += 1;
          break;
      }
      o.onAction?.(a);
    } catch (err) {
      r.failed += 1;
      if (r.failures.length < MAX_REPORTED_FAILURES) r.failures.push(`${a.target}: ${(err as Error).message}`);
      o.onAction?.(a, err as Error);
    }
  }

  for await (const a of plan) {
    if (o.signal?.aborted === true) break;
    if (a.kind === 'same' || a.kind === 'skip') {
      await run(a);
      continue;
    }
    const p: Promise<void> = run(a).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (o.signal?.aborted === true) throw new Error('interrupted: run the same restore again to finish it (it does only what is left)');
  return r;
}
