// `rwm storage create`: a new bucket owned by the admin, versioned (object lock when asked, which
// S3 only allows at creation), with the policy that lets the backup user add but never destroy.
// If any step fails, or the caller aborts (a signal), the bucket this call created (still empty) is
// removed again: a versioned bucket without its policy must never be left behind.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketAclCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Status } from '../backend/s3/errors.js';
import { describeS3Error, StorageError } from './errors.js';
import { buildPolicy, type LockSpec, type PolicyDocument } from './policy.js';
import { ownerPrincipal, userArn, type PolicyPrincipal } from './principal.js';

export interface CreateOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly user: string;
  readonly prefix: string;
  readonly lock?: LockSpec;
  /** The principal given full access; default: the bucket owner as S3 reports it. */
  readonly adminUser?: string;
  readonly region: string;
  /** Progress lines for the user. */
  readonly say?: (line: string) => void;
  /** Aborts the creation (SIGINT, SIGTERM): the new bucket is removed again. */
  readonly signal?: AbortSignal;
}

export interface CreateResult {
  readonly bucket: string;
  readonly prefix: string;
  readonly user: string;
  readonly objectLock: LockSpec | null;
  readonly policy: PolicyDocument;
  /** Actions left out of the Deny because the server refused a policy naming them. */
  readonly omittedActions: string[];
}

/** Days after which incomplete multipart uploads (invisible, but taking space) are aborted. */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;

export async function createPolicedBucket(o: CreateOptions): Promise<CreateResult> {
  const say = o.say ?? (() => undefined);
  const backupArn = userArn(o.user);
  const opts = o.signal !== undefined ? { abortSignal: o.signal } : {};
  o.signal?.throwIfAborted();
  try {
    await o.client.send(new HeadBucketCommand({ Bucket: o.bucket }), opts);
    throw new StorageError(`bucket ${o.bucket} already exists: nothing changed (check it with "rwm storage check ${o.bucket}")`);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    if (s3Status(err) === 403) throw new StorageError(`bucket ${o.bucket} already exists and belongs to someone else`, { cause: err });
    if (s3Status(err) !== 404) throw new StorageError(`cannot reach S3 to create ${o.bucket}: ${describeS3Error(err)}`, { cause: err });
  }

  try {
    await step(`create bucket ${o.bucket}`, () =>
      o.client.send(
        new CreateBucketCommand({
          Bucket: o.bucket,
          ...(o.lock !== undefined ? { ObjectLockEnabledForBucket: true } : {}),
          ...(o.region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: o.region as never } } : {}),
        }),
        opts,
      ),
    );
  } catch (err) {
    // Aborted in flight, the bucket may exist all the same; any other failure made none.
    if (o.signal?.aborted === true) throw await rollback(o, err);
    throw err;
  }
  say(`created bucket ${o.bucket}${o.lock !== undefined ? ' with object lock' : ''}`);
  try {
    const admin = await adminPrincipal(o, opts);
    if ('AWS' in admin && admin.AWS.includes(backupArn)) throw new StorageError(`the backup user ${o.user} owns the bucket: give the backup account its own user`);
    await step('enable versioning', () => o.client.send(new PutBucketVersioningCommand({ Bucket: o.bucket, VersioningConfiguration: { Status: 'Enabled' } }), opts));
    say('versioning enabled');
    if (o.lock !== undefined) {
      const lock = o.lock;
      await step('set the default retention', () =>
        o.client.send(new PutObjectLockConfigurationCommand({ Bucket: o.bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } } } }), opts),
      );
      say(`default retention: ${lock.mode} ${lock.days} day${lock.days === 1 ? '' : 's'}`);
    }
    const { policy, omittedActions } = await applyPolicy(o, admin, opts);
    say(`bucket policy applied (backup user ${o.user}${o.prefix === '' ? '' : `, prefix ${o.prefix}/`})`);
    if (omittedActions.length > 0) say(`  the server refused a policy naming ${omittedActions.join(', ')}: left out`);
    await step('set the lifecycle rule for incomplete uploads', () =>
      o.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: o.bucket,
          LifecycleConfiguration: { Rules: [{ ID: 'rwm-abort-incomplete-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS } }] },
        }),
        opts,
      ),
    );
    say(`lifecycle: incomplete multipart uploads are aborted after ${ABORT_INCOMPLETE_UPLOADS_DAYS} days`);
    return { bucket: o.bucket, prefix: o.prefix, user: o.user, objectLock: o.lock ?? null, policy, omittedActions };
  } catch (err) {
    throw await rollback(o, err);
  }
}

/** The bucket is new and empty: take it away again rather than leave it half-policed. */
async function rollback(o: CreateOptions, err: unknown): Promise<StorageError> {
  // Not under the (aborted) signal: the removal is what the interruption must still do.
  const removed = await o.client.send(new DeleteBucketCommand({ Bucket: o.bucket })).then(
    () => true,
    (e: unknown) => s3Status(e) === 404,
  );
  const msg = o.signal?.aborted === true ? `interrupted (${String(o.signal.reason instanceof Error ? o.signal.reason.message : o.signal.reason)})` : (err as Error).message;
  return new StorageError(removed ? `${msg}; the new bucket was removed again` : `${msg}; the new bucket ${o.bucket} could not be removed: delete it with "rwm storage delete ${o.bucket}"`, { cause: err });
}

type SendOptions = { abortSignal?: AbortSignal };

async function adminPrincipal(o: CreateOptions, opts: SendOptions): Promise<PolicyPrincipal> {
  if (o.adminUser !== undefined) return { AWS: [userArn(o.adminUser)] };
  const acl = await step('read the bucket owner', () => o.client.send(new GetBucketAclCommand({ Bucket: o.bucket }), opts));
  const id = acl.Owner?.ID;
  if (id === undefined || id === '') throw new StorageError('S3 did not say who owns the new bucket: pass --admin-user');
  return ownerPrincipal(id);
}

async function applyPolicy(o: CreateOptions, admin: PolicyPrincipal, opts: SendOptions): Promise<{ policy: PolicyDocument; omittedActions: string[] }> {
  const base = { bucket: o.bucket, prefix: o.prefix, user: o.user, admin, ...(o.lock !== undefined ? { lock: o.lock } : {}) };
  const full = buildPolicy(base);
  try {
    await o.client.send(new PutBucketPolicyCommand({ Bucket: o.bucket, Policy: JSON.stringify(full) }), opts);
    return { policy: full, omittedActions: [] };
  } catch (err) {
    if (s3Status(err) !== 400) throw new StorageError(`apply the bucket policy: ${describeS3Error(err)}`, { cause: err });
  }
  // Some servers (Ceph RGW) reject a whole policy when it names an action they do not know.
  const portable = buildPolicy({ ...base, portable: true });
  await step('apply the bucket policy', () => o.client.send(new PutBucketPolicyCommand({ Bucket: o.bucket, Policy: JSON.stringify(portable) }), opts));
  const kept = new Set(portable.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [])));
  const omittedActions = full.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [])).filter((a) => !kept.has(a));
  return { policy: portable, omittedActions };
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError(`${what}: ${describeS3Error(err)}`, { cause: err });
  }
}
