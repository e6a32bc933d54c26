// Reads the configuration that decides whether a bucket is policed: versioning, object lock,
// policy and lifecycle. Each part is read independently; a part that cannot be read says why.
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describeS3Error, isAbsent } from './errors.js';
import type { LockSpec } from './policy.js';

export type Versioning = 'Enabled' | 'Suspended' | 'Off';

/** A part of the configuration: its value, or why it could not be read. */
export type Part<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly cause: unknown };

export interface BucketConfig {
  readonly versioning: Part<Versioning>;
  /** null: object lock not enabled. `rule` undefined: enabled without a default retention. */
  readonly objectLock: Part<{ readonly rule: LockSpec | undefined } | null>;
  /** null: no policy. */
  readonly policy: Part<string | null>;
  readonly lifecycle: Part<LifecycleRule[]>;
}

async function part<T>(read: () => Promise<T>, absent?: T): Promise<Part<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    if (absent !== undefined && isAbsent(err)) return { ok: true, value: absent };
    return { ok: false, error: describeS3Error(err), cause: err };
  }
}

export async function readBucketConfig(client: S3Client, bucket: string): Promise<BucketConfig> {
  const [versioning, objectLock, policy, lifecycle] = await Promise.all([
    part(async (): Promise<Versioning> => {
      const r = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      return r.Status === 'Enabled' ? 'Enabled' : r.Status === 'Suspended' ? 'Suspended' : 'Off';
    }),
    part(async () => {
      const r = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      const c = r.ObjectLockConfiguration;
      if (c?.ObjectLockEnabled !== 'Enabled') return null;
      const d = c.Rule?.DefaultRetention;
      const days = d?.Days ?? (d?.Years !== undefined ? d.Years * 365 : undefined);
      const rule: LockSpec | undefined = d?.Mode !== undefined && days !== undefined ? { mode: d.Mode, days } : undefined;
      return { rule };
    }, null),
    part(async () => (await client.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null, null),
    part(async () => (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [], [] as LifecycleRule[]),
  ]);
  return { versioning, objectLock, policy, lifecycle };
}
