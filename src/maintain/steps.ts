// The steps of `rwm maintain`, in the order that makes maintenance safe: still policed → scrub and
// repair → restic forget --prune → restic check → a fresh verified state → drop old versions →
// extend retention. Each is data (a name and a run function) over one job context.
import type { S3Client } from '@aws-sdk/client-s3';
import type { MaintainJobConfig, MaintainStep } from '../config/schema.js';
import { isResticError } from '../restic/errors.js';
import { isCountOnlyPolicy, resticCheck, resticForget, resticUnlock, type ForgetPolicy } from '../restic/commands.js';
import { planForget } from '../ledger/forget.js';
import { forgetAsTrusted, type Verified } from '../ledger/verify.js';
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
  /** --force-forget: ledger findings and the forget guard warn instead of stopping the run. */
  readonly force: boolean;
  /** The ledger brought up to date (once per run; not written in a dry run). */
  ledger(): Promise<Verified>;
  /** Names this run in the book ("maintain <job> <start time>"). */
  readonly run: string;
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

/** forget decided from the ledger's trusted arrival times; restic gets explicit ids. */
async function forgetByArrival(c: JobContext, keep: ForgetPolicy, groupBy: string | undefined, warnings: string[], signal: AbortSignal | undefined): Promise<StepResult> {
  const v = await c.ledger();
  const plan = planForget(v.book, v.present, keep, v.report.findings, groupBy !== undefined ? { groupBy } : {});
  const details = { by: 'arrival', kept: plan.keep.length, removed: plan.remove.length, remove: plan.remove.map((id) => id.slice(0, 8)), blocked: plan.blocked };
  if (plan.blocked.length > 0) {
    if (!c.force) return { status: 'findings', details: { ...details, removed: 0, why: 'refused: snapshots with ledger findings would push out others (--force-forget to go on)' }, warnings };
    warnings.push(`--force-forget: removing despite the guard: ${plan.blocked.join('; ')}`);
  }
  if (plan.remove.length === 0 || c.dryRun) return { status: 'ok', details: { ...details, deleted: false }, warnings };
  try {
    await forgetAsTrusted(v.report.book, v.book, c.restic, plan.remove, c.run, { prune: true, ...(signal ? { restic: { signal } } : {}) });
  } catch (err) {
    if (isResticError(err, 'INTERRUPTED') || isResticError(err, 'TIMEOUT')) await resticUnlock(c.restic).catch(() => undefined);
    throw err;
  }
  return { status: 'ok', details: { ...details, deleted: true }, warnings };
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
  ledger: {
    name: 'ledger',
    async run(c) {
      const v = await c.ledger();
      const f = v.report.findings;
      const details = { snapshots: v.report.snapshots, added: v.report.added.length, book: v.report.book, findings: f.map((x) => `${x.code}: ${x.message}`) };
      if (f.length === 0) return { status: 'ok', details };
      if (c.force) return { status: 'ok', details, warnings: [`--force-forget: going on despite ${f.length} ledger finding(s)`] };
      return { status: 'findings', details };
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
      if (c.job.forgetBy === 'arrival') return forgetByArrival(c, keep as ForgetPolicy, groupBy, warnings, signal);
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
