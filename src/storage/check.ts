// `rwm storage check`: is the bucket still policed? Reads the configuration (with the admin's or the
// backup user's keys), audits it statically, and, given the backup user's keys, tries the forbidden
// actions. A bucket is policed when there are no findings.
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Status } from '../backend/s3/errors.js';
import { readBucketConfig, type BucketConfig } from './bucket-config.js';
import { describeS3Error } from './errors.js';
import type { CheckReport, Finding, ProbeResult } from './findings.js';
import { auditLifecycle } from './lifecycle-audit.js';
import { auditPolicy } from './policy-audit.js';
import { bucketArn, lockFromPolicyId, parsePolicy, SID, type LockSpec, type NormalStatement } from './policy.js';
import { userArn } from './principal.js';
import { runProbes } from './probes.js';

export const DEFAULT_MIN_LIFECYCLE_DAYS = 30;

export interface CheckOptions {
  readonly bucket: string;
  /** Reads the configuration: the admin's keys, or the backup user's. */
  readonly client: S3Client;
  /** The backup user's keys, to try the forbidden actions; undefined: static checks only. */
  readonly probeClient?: S3Client;
  /** The backup user; default: the principal of rwm's statements in the policy. */
  readonly user?: string;
  /** The repository prefix; default: from rwm's statements in the policy, else ''. */
  readonly prefix?: string;
  /** null: no object lock expected; undefined: what the policy's Id records (if rwm wrote it). */
  readonly lock?: LockSpec | null;
  readonly minLifecycleDays?: number;
  /** The configuration, when the caller has already read it with `client`. */
  readonly config?: BucketConfig;
}

export async function checkBucket(o: CheckOptions): Promise<CheckReport> {
  const findings: Finding[] = [];
  const notes: string[] = [];
  let probes: ProbeResult[] = [];
  const report = (): CheckReport => ({ bucket: o.bucket, ok: findings.length === 0, findings, notes, probes });

  try {
    await o.client.send(new HeadBucketCommand({ Bucket: o.bucket }));
  } catch (err) {
    const why = s3Status(err) === 404 ? 'it does not exist' : `HeadBucket → ${describeS3Error(err)}`;
    findings.push({ code: 'bucket-unreadable', message: `cannot reach bucket ${o.bucket}: ${why}` });
    return report();
  }
  const config = o.config ?? (await readBucketConfig(o.client, o.bucket));
  const unreadable = (what: string, error: string): void => void findings.push({ code: 'bucket-unreadable', message: `cannot read the ${what}: ${error}` });

  if (!config.versioning.ok) unreadable('versioning status', config.versioning.error);
  else if (config.versioning.value !== 'Enabled') {
    findings.push({
      code: 'versioning-not-enabled',
      message: `versioning is ${config.versioning.value === 'Off' ? 'not enabled' : 'Suspended'}: a delete or overwrite by the backup user destroys data instead of keeping the old version`,
    });
  }

  let statements: NormalStatement[] | undefined;
  let policyLock: LockSpec | null | undefined;
  if (!config.policy.ok) unreadable('bucket policy', config.policy.error);
  else if (config.policy.value === null) findings.push({ code: 'policy-missing', message: 'the bucket has no policy: nothing limits what the backup user may do beyond its own permissions' });
  else {
    try {
      const parsed = parsePolicy(config.policy.value);
      statements = parsed.statements;
      policyLock = lockFromPolicyId(parsed.id);
    } catch (err) {
      findings.push({ code: 'policy-invalid', message: (err as Error).message });
    }
  }

  const user = o.user !== undefined ? userArn(o.user) : (statements === undefined ? undefined : backupUserFrom(statements));
  const prefix = o.prefix ?? (statements === undefined ? undefined : prefixFrom(statements, o.bucket)) ?? '';
  if (statements !== undefined) {
    if (user === undefined) {
      findings.push({ code: 'policy-invalid', message: 'the policy has no statements rwm wrote, so the backup user is unknown: pass --user to check it' });
    } else {
      const audit = auditPolicy({ bucket: o.bucket, prefix, backupArn: user, statements });
      findings.push(...audit.findings);
      notes.push(...audit.notes);
    }
  }

  const expected = o.lock !== undefined ? o.lock : policyLock;
  if (!config.objectLock.ok) unreadable('object-lock configuration', config.objectLock.error);
  else findings.push(...auditLock(expected, config.objectLock.value, notes));

  if (!config.lifecycle.ok) unreadable('lifecycle configuration', config.lifecycle.error);
  else findings.push(...auditLifecycle(config.lifecycle.value, o.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS));

  if (o.probeClient !== undefined) {
    const r = await runProbes({ client: o.probeClient, bucket: o.bucket, prefix, versioningEnabled: config.versioning.ok && config.versioning.value === 'Enabled' });
    probes = r.probes;
    findings.push(...r.findings);
    notes.push(...r.notes);
  } else {
    notes.push('the forbidden actions were not tried: give the backup user\'s keys (--backup-profile, or --as-backup with them) for that');
  }
  return report();
}

function auditLock(expected: LockSpec | null | undefined, actual: { rule: LockSpec | undefined } | null, notes: string[]): Finding[] {
  const desc = (l: LockSpec): string => `${l.mode} ${l.days} day${l.days === 1 ? '' : 's'}`;
  if (expected === undefined) {
    notes.push(actual === null ? 'object lock: not enabled (no expectation recorded; pass --object-lock to require it)' : `object lock: enabled${actual.rule ? `, default ${desc(actual.rule)}` : ', no default retention'}`);
    return [];
  }
  if (expected === null) {
    if (actual !== null) notes.push(`object lock is enabled${actual.rule ? ` (default ${desc(actual.rule)})` : ''} although none was asked for`);
    return [];
  }
  if (actual === null) return [{ code: 'object-lock-missing', message: `object lock is not enabled, but ${desc(expected)} was asked for: versions are protected by the policy alone` }];
  if (actual.rule === undefined) return [{ code: 'object-lock-retention', message: `object lock has no default retention (expected ${desc(expected)}): new versions are not locked` }];
  const out: Finding[] = [];
  if (actual.rule.mode !== expected.mode) out.push({ code: 'object-lock-mode', message: `default retention mode is ${actual.rule.mode}, expected ${expected.mode}` });
  if (actual.rule.days < expected.days) out.push({ code: 'object-lock-retention', message: `default retention is ${actual.rule.days} days, shorter than the expected ${expected.days}` });
  return out;
}

/** The backup user rwm's statements name (the Deny, else the object grant). */
function backupUserFrom(statements: readonly NormalStatement[]): string | undefined {
  for (const sid of [SID.deny, SID.objects, SID.bucketRead, SID.locks, SID.denyDelete]) {
    const p = statements.find((s) => s.sid === sid)?.principals[0];
    if (p !== undefined && p.startsWith('arn:')) return p;
  }
  return undefined;
}

/** The prefix in rwm's object grant: arn:aws:s3:::bucket/PREFIX/* → PREFIX. */
function prefixFrom(statements: readonly NormalStatement[], bucket: string): string | undefined {
  const r = statements.find((s) => s.sid === SID.objects)?.resources[0];
  const base = `${bucketArn(bucket)}/`;
  if (r === undefined || !r.startsWith(base) || !r.endsWith('*')) return undefined;
  return r.slice(base.length, -1).replace(/\/$/, '');
}

