// The S3 test server (Ceph RGW from scripts/s3-test-server.sh) as the tests see it: its address, the
// two users' keys, throw-away buckets, and helpers to look at every object and version.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export interface S3TestEnv {
  readonly endpoint: string;
  readonly region: string;
  readonly admin: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly backup: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The running test server. `npm test` starts one (scripts/run-tests.mjs); so does `eval "$(scripts/s3-test-server.sh start)"`. */
export function s3TestEnv(): S3TestEnv {
  const e = process.env;
  const need = (k: string): string => {
    const v = e[k];
    if (v === undefined || v === '') {
      throw new Error(`${k} is not set: run the tests with "npm test" (which starts the S3 test server) or first eval "$(scripts/s3-test-server.sh start)"`);
    }
    return v;
  };
  return {
    endpoint: need('RWM_S3_ENDPOINT'),
    region: e.RWM_S3_REGION ?? 'us-east-1',
    admin: { accessKeyId: need('RWM_S3_ADMIN_ACCESS_KEY'), secretAccessKey: need('RWM_S3_ADMIN_SECRET_KEY') },
    backup: { accessKeyId: need('RWM_S3_BACKUP_ACCESS_KEY'), secretAccessKey: need('RWM_S3_BACKUP_SECRET_KEY') },
  };
}

export function testClient(env: S3TestEnv, who: 'admin' | 'backup' = 'admin'): S3Client {
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: env[who],
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function bucketName(prefix = 'rwm-test'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export interface BucketOptions {
  readonly versioned?: boolean;
  readonly objectLock?: boolean;
  /** Let the backup user read, write and list (and delete, which a versioned bucket turns into markers). */
  readonly grantBackup?: boolean;
}

/** Creates a bucket owned by admin. */
export async function createBucket(env: S3TestEnv, name: string, o: BucketOptions = {}): Promise<void> {
  const c = testClient(env);
  try {
    await c.send(new CreateBucketCommand({ Bucket: name, ...(o.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
    if (o.versioned && !o.objectLock) await c.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    if (o.grantBackup) {
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: ['arn:aws:iam:::user/backup'] },
            Action: ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:PutObjectAcl', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
            Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
          },
        ],
      };
      await c.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify(policy) }));
    }
  } finally {
    c.destroy();
  }
}

export interface VersionEntry {
  readonly key: string;
  readonly versionId: string;
  readonly etag: string | undefined;
  readonly size: number;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
}

/** Every version and delete marker in the bucket (as admin), sorted by key then version id. */
export async function listVersions(env: S3TestEnv, bucket: string, prefix = ''): Promise<VersionEntry[]> {
  const c = testClient(env);
  const out: VersionEntry[] = [];
  try {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const r = await c.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(versionMarker ? { VersionIdMarker: versionMarker } : {}) }),
      );
      for (const v of r.Versions ?? []) out.push({ key: v.Key ?? '', versionId: v.VersionId ?? '', etag: v.ETag, size: v.Size ?? 0, deleteMarker: false, isLatest: v.IsLatest === true });
      for (const m of r.DeleteMarkers ?? []) out.push({ key: m.Key ?? '', versionId: m.VersionId ?? '', etag: undefined, size: 0, deleteMarker: true, isLatest: m.IsLatest === true });
      if (r.IsTruncated !== true) break;
      keyMarker = r.NextKeyMarker;
      versionMarker = r.NextVersionIdMarker;
    }
  } finally {
    c.destroy();
  }
  return out.sort((a, b) => (a.key === b.key ? a.versionId.localeCompare(b.versionId) : a.key < b.key ? -1 : 1));
}

/** Deletes every version in the bucket and the bucket itself (as admin). Best effort; for test cleanup. */
export async function deleteBucket(env: S3TestEnv, bucket: string): Promise<void> {
  const c = testClient(env);
  try {
    const all = await listVersions(env, bucket).catch(() => []);
    for (let i = 0; i < all.length; i += 500) {
      const batch = all.slice(i, i + 500).map((v) => ({ Key: v.key, VersionId: v.versionId }));
      await c.send(new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: batch, Quiet: true } })).catch(() => undefined);
    }
    await c.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  } finally {
    c.destroy();
  }
}
