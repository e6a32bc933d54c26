// The steps of `rwm maintain`, in the order that makes maintenance safe: still policed → scrub and
// repair → restic forget --prune → restic check → a fresh verified state → drop old versions →
// extend retention. Each is data (a name and a run function) over one job context.
import type { S3Client } from '@aws-sdk/client-s3';
import type { MaintainJobConfig, MaintainStep } from '../config/schema.js';
import { isResticError } from '../restic/errors.js';
import { isCountOnlyPolicy, resticCheck, resticForget, resticUnlock, type ForgetPolicy } from '../restic/commands.js';
import type { ResticRepo } from '../restic/env.js';
import type { VersionedBuckets } from '../s3/bucket.js';
import type { ScrubOutput } from '../scrub/run.js';
import { checkBucket } from '../storage/check.js';
import { keepWithinSince, runDropVersions, DEFAULT_KEEP_WITHIN } from '../storage/drop-versions.js';
import type { Step, StepResult } from './pipeline.js';

export interface JobContext {
  readonly name: string;
  readonly job: MaintainJobConfig;
  readonly dryRun: boolean;
  /** --yes: drop-versions deletes even if the config does not say dropVersions: true. */
  readonly yes: boolean;
  readonly restic: ResticRepo;
  readonly stateDir: string;
  readonly minLifecycleDays: number;
  /** Bucket jobs only. */
  readonly s3?: { readonly client: S3Client; readonly buckets: VersionedBuckets; readonly bucket: string; readonly prefix: string; readonly kp: string };
  /** A scrub of the job's target: with repair, or only to record a verified state. */
  scrub(repair: boolean): Promise<ScrubOutput>;
  /** extend-retention (object-lock buckets). */
  extendRetention(days: number): Promise<{ checked: number; retained: number; failed: number }>;
}

const skipped = (why: string): StepResult => ({ status: 'skipped', details: { why } });

function scrubResult(o: ScrubOutput): StepResult {
  const failing = o.report.findings.filter((f) => f.code !== 'deleted' && !(f.repair === 'restored' || f.repair === 'hidden'));
  return {
    status: o.ok || failing.length === 0 ? 'ok' : 'findings',
    details: { state: o.state, hashed: o.report.hashed, hashedBytes: o.report.hashedBytes, carried: o.report.carried, findings: o.report.findings.filter((f) => f.code !== 'deleted').length, repaired: o.repaired, unrepaired: failing.map((f) => `${f.code} ${f.key}`).slice(0, 20) },
  };
}

export const STEPS: Record<MaintainStep, Step<JobContext>> = {
  'storage-check': {
    name: 'storage-check',
    async run(c) {
      if (c.s3 === undefined) return skipped('not a bucket');
      const r = await checkBucket({ bucket: c.s3.bucket, client: c.s3.client, minLifecycleDays: c.minLifecycleDays });
      return { status: r.ok ? 'ok' : 'findings', details: { policed: r.ok, findings: r.findings.map((f) => `${f.code}: ${f.message}`) } };
    },
  },
  scrub: {
    name: 'scrub',
    async run(c) {
      return scrubResult(await c.scrub(c.s3 !== undefined && !c.dryRun));
    },
  },
  forget: {
    name: 'forget',
    async run(c, signal) {
      const policy = c.job.forget;
      if (policy === undefined) return skipped('no forget policy in the config');
      const { groupBy, ...keep } = policy;
      const warnings = isCountOnlyPolicy(keep as ForgetPolicy)
        ? ['the forget policy only counts snapshots: with the backup keys an attacker can add forged snapshots that push real ones out (restic\'s docs); prefer keepWithin']
        : [];
      try {
        const r = await resticForget(c.restic, keep as ForgetPolicy, { prune: true, dryRun: c.dryRun, ...(groupBy !== undefined ? { groupBy } : {}) }, signal ? { signal } : {});
        const removed = r.groups.reduce((n, g) => n + (g.remove?.length ?? 0), 0);
        const kept = r.groups.reduce((n, g) => n + g.keep.length, 0);
        return { status: 'ok', details: { kept, removed }, warnings };
      } catch (err) {
        if (isResticError(err, 'INTERRUPTED') || isResticError(err, 'TIMEOUT')) await resticUnlock(c.restic).catch(() => undefined);
        throw err;
      }
    },
  },
  check: {
    name: 'check',
    async run(c, signal) {
      const opts = c.job.check.readDataSubset !== undefined ? { readDataSubset: c.job.check.readDataSubset } : { readData: c.job.check.readData ?? true };
      try {
        const r = await resticCheck(c.restic, opts, signal ? { signal } : {});
        return { status: 'ok', details: { ...opts, output: r.output.slice(-3) } };
      } catch (err) {
        if (isResticError(err, 'INTEGRITY')) return { status: 'findings', details: { ...opts, errors: err.stderr.slice(-10) } };
        throw err;
      }
    },
  },
  verify: {
    name: 'verify',
    async run(c) {
      return scrubResult(await c.scrub(false));
    },
  },
  'drop-versions': {
    name: 'drop-versions',
    async run(c) {
      if (c.s3 === undefined) return skipped('not a bucket');
      const keepWithin = c.job.keepWithin ?? DEFAULT_KEEP_WITHIN;
      const now = Date.now();
      const enabled = c.job.dropVersions || c.yes;
      const r = await runDropVersions({ buckets: c.s3.buckets, target: c.s3, stateDir: c.stateDir, keepWithin, now, since: keepWithinSince(keepWithin, now), dryRun: c.dryRun || !enabled, concurrency: 16 });
      return {
        status: r.report.failed > 0 ? 'findings' : 'ok',
        details: { deleted: !r.dryRun, versions: r.report.dropped, bytes: r.report.droppedBytes, locked: r.report.locked, failed: r.report.failed, keptVersions: r.kept.versions, manifest: r.manifest },
        ...(enabled ? {} : { warnings: ['dry run: set dropVersions: true in the job, or give --yes, to delete'] }),
      };
    },
  },
  'extend-retention': {
    name: 'extend-retention',
    async run(c) {
      if (c.s3 === undefined) return skipped('not a bucket');
      const days = c.job.extendRetentionDays;
      if (days === undefined) return skipped('no extendRetentionDays in the config');
      if (!(await c.s3.buckets.objectLockEnabled(c.s3.bucket))) return skipped('the bucket has no object lock');
      const r = await c.extendRetention(days);
      return { status: r.failed > 0 ? 'findings' : 'ok', details: r };
    },
  },
};
