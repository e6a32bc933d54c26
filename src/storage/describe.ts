// One bucket at a glance, for `rwm storage list` and `info`: configuration, contents and verdict.
import { ListBucketsCommand, type LifecycleRule, type S3Client } from '@aws-sdk/client-s3';
import { readBucketConfig, type Versioning } from './bucket-config.js';
import { checkBucket } from './check.js';
import type { Finding } from './findings.js';
import { takeInventory, type Inventory } from './inventory.js';
import type { LockSpec } from './policy.js';

export interface BucketDescription {
  readonly bucket: string;
  readonly created: string | null;
  readonly versioning: Versioning | 'unreadable';
  /** null: no object lock; `rule` null: enabled without a default retention. */
  readonly objectLock: { mode: string; days: number } | { mode: null; days: null } | null | 'unreadable';
  readonly policy: unknown;
  readonly lifecycle: LifecycleRule[] | 'unreadable';
  readonly inventory: Inventory;
  readonly policed: boolean;
  readonly findings: readonly Finding[];
}

export async function ownedBuckets(client: S3Client): Promise<{ name: string; created: string | null }[]> {
  const r = await client.send(new ListBucketsCommand({}));
  return (r.Buckets ?? []).map((b) => ({ name: b.Name ?? '', created: b.CreationDate?.toISOString() ?? null }));
}

export async function describeBucket(client: S3Client, bucket: string, created: string | null, minLifecycleDays: number): Promise<BucketDescription> {
  const [config, inventory] = await Promise.all([readBucketConfig(client, bucket), takeInventory(client, bucket)]);
  const check = await checkBucket({ bucket, client, minLifecycleDays, config });
  const lock = (l: { rule: LockSpec | undefined } | null): BucketDescription['objectLock'] => (l === null ? null : l.rule === undefined ? { mode: null, days: null } : { mode: l.rule.mode, days: l.rule.days });
  let policy: unknown = null;
  if (!config.policy.ok) policy = 'unreadable';
  else if (config.policy.value !== null) {
    try {
      policy = JSON.parse(config.policy.value);
    } catch {
      policy = config.policy.value;
    }
  }
  return {
    bucket,
    created,
    versioning: config.versioning.ok ? config.versioning.value : 'unreadable',
    objectLock: config.objectLock.ok ? lock(config.objectLock.value) : 'unreadable',
    policy,
    lifecycle: config.lifecycle.ok ? config.lifecycle.value : 'unreadable',
    inventory,
    policed: check.ok,
    findings: check.findings,
  };
}
