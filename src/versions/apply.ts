// THE ONLY CODE THAT CHANGES VERSIONS: carries out a plan (versions/plan.ts) with bounded
// concurrency — server-side copies of a version to the top of a key, and delete markers. It never
// deletes a version. With `dryRun` it calls nothing and only reports what it would do.
import { MAX_SINGLE_COPY, type VersionedBuckets } from '../s3/bucket.js';
import type { Action } from './plan.js';

export interface ApplyOptions {
  readonly buckets: VersionedBuckets;
  /** Where `copy` actions read from. */
  readonly sourceBucket: string;
  /** Where copies and delete markers go. */
  readonly targetBucket: string;
  readonly dryRun: boolean;
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
  failed: number;
  /** The first failures, "key: reason". */
  readonly failures: string[];
}

export const DEFAULT_APPLY_CONCURRENCY = 16;
const MAX_REPORTED_FAILURES = 50;

export async function applyPlan(plan: AsyncIterable<Action>, o: ApplyOptions): Promise<ApplyReport> {
  const r: ApplyReport = { copied: 0, copiedBytes: 0, hidden: 0, same: 0, sameBytes: 0, skipped: 0, failed: 0, failures: [] };
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
    if (a.kind !== 'copy' && a.kind !== 'hide') {
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
