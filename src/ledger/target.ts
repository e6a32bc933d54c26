// One repository as the ledger sees it: restic's view (with the password), where arrival times come
// from (bucket versions and rwm serve's records, or a local directory's ledger), and where the trusted
// host keeps its book. Shared by `rwm ledger` and `rwm maintain`.
import { createHash } from 'node:crypto';
import type { LedgerOptionsConfig } from '../config/schema.js';
import type { ResticRepo } from '../restic/env.js';
import type { VersionedBuckets } from '../s3/bucket.js';
import { parseAgeMs } from '../state/time.js';
import { bucketArrivals, localArrivals } from './arrivals.js';
import { bookFile } from './book.js';
import { DEFAULT_FINDING_OPTIONS, type FindingOptions } from './findings.js';
import type { LedgerTarget } from './verify.js';

export function bucketLedgerTarget(restic: ResticRepo, buckets: VersionedBuckets, where: { bucket: string; prefix: string; kp: string }, stateDir: string): LedgerTarget {
  const repository = where.prefix === '' ? where.bucket : `${where.bucket}/${where.prefix}`;
  return { repository, bookFile: bookFile(stateDir, where.bucket, where.prefix), restic, arrivals: bucketArrivals(buckets, where.bucket, where.kp) };
}

/** `root`: the repository's directory, resolved. */
export function localLedgerTarget(restic: ResticRepo, root: string, stateDir: string): LedgerTarget {
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 16);
  return { repository: root, bookFile: bookFile(stateDir, '_local', hash), restic, arrivals: localArrivals(root) };
}

export function findingOptions(c: LedgerOptionsConfig | undefined): FindingOptions {
  const d = DEFAULT_FINDING_OPTIONS;
  return {
    clockSkewMs: c?.clockSkew !== undefined ? parseAgeMs(c.clockSkew) : d.clockSkewMs,
    timeToleranceMs: c?.timeTolerance !== undefined ? parseAgeMs(c.timeTolerance) : d.timeToleranceMs,
    shrinkRatio: c?.shrinkRatio ?? d.shrinkRatio,
    shrinkWindow: d.shrinkWindow,
    flood: c?.flood !== undefined ? { count: c.flood.count, windowMs: parseAgeMs(c.flood.window) } : d.flood,
    ...(c?.served !== undefined ? { served: c.served } : {}),
  };
}
