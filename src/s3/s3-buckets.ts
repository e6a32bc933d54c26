// VersionedBuckets on a real S3 server through the AWS SDK. Errors are translated by the one S3
// error mapping (backend/s3/errors.ts).
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  DeleteObjectCommand as DeleteVersionCommand,
  GetObjectLockConfigurationCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BackendError } from '../backend/errors.js';
import { isS3NotFound, mapS3Error, s3Status } from '../backend/s3/errors.js';
import type { BucketCallOptions, ListVersionsOptions, ReadOptions, VersionedBuckets, VersioningStatus, VersionLock, VersionRecord, VersionRef } from './bucket.js';
import { listS3Versions } from './versions.js';

const sdkOpts = (o: BucketCallOptions | undefined): { abortSignal?: AbortSignal } => (o?.signal ? { abortSignal: o.signal } : {});

export class S3Buckets implements VersionedBuckets {
  constructor(
    readonly client: S3Client,
    /** Store new objects (states) with the ACL bucket-owner-full-control, as `rwm serve` does its uploads. */
    private readonly opts: { readonly ownerFullControl?: boolean } = {},
  ) {}

  listVersions(bucket: string, prefix: string, opts?: ListVersionsOptions): AsyncIterable<VersionRecord> {
    const inner = listS3Versions(this.client, bucket, prefix, opts);
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* inner;
        } catch (err) {
          throw mapS3Error(err, 'list', `list versions of ${bucket}/${prefix}`);
        }
      },
    };
  }

  async read(ref: VersionRef, opts?: ReadOptions): Promise<Readable> {
    const r = opts?.range;
    const Range = r === undefined ? undefined : `bytes=${r.offset}-${r.length === undefined ? '' : r.offset + r.length - 1}`;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId, ...(Range !== undefined ? { Range } : {}) }), sdkOpts(opts));
      if (!(out.Body instanceof Readable)) throw new Error(`read ${ref.key}: S3 returned no body stream`);
      return out.Body;
    } catch (err) {
      throw mapS3Error(err, 'object', `read ${ref.bucket}/${ref.key} version ${ref.versionId}`);
    }
  }

  async copy(from: VersionRef, to: { bucket: string; key: string }, opts?: BucketCallOptions): Promise<void> {
    const source = `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}?versionId=${encodeURIComponent(from.versionId)}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: source }), sdkOpts(opts));
    } catch (err) {
      throw mapS3Error(err, 'write', `copy ${from.bucket}/${from.key} version ${from.versionId} to ${to.bucket}/${to.key}`);
    }
  }

  async hide(bucket: string, key: string, opts?: BucketCallOptions): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), sdkOpts(opts));
    } catch (err) {
      throw mapS3Error(err, 'write', `add a delete marker on ${bucket}/${key}`);
    }
  }

  async putNew(bucket: string, key: string, body: Buffer | (() => Readable), size: number, opts?: BucketCallOptions): Promise<void> {
    // RGW ignores If-None-Match on a versioned bucket and adds a version (docs/notes/rgw-s3-behaviour.md
    // §1), so look first; where S3 honours the condition, the PUT stays atomic. The keys stored this
    // way (states) have unique random names, so two writers never race for one.
    if (await this.headExists(bucket, key, opts)) throw new BackendError('ALREADY_EXISTS', `store ${bucket}/${key}: already exists`);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.isBuffer(body) ? body : body(), ContentLength: size, IfNoneMatch: '*', ContentType: 'application/gzip', ...(this.opts.ownerFullControl === true ? { ACL: 'bucket-owner-full-control' as const } : {}) }),
        sdkOpts(opts),
      );
    } catch (err) {
      throw mapS3Error(err, 'write', `store ${bucket}/${key}`);
    }
  }

  private async headExists(bucket: string, key: string, opts: BucketCallOptions | undefined): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), sdkOpts(opts));
      return true;
    } catch (err) {
      if (isS3NotFound(err) || s3Status(err) === 404) return false;
      throw mapS3Error(err, 'object', `look for ${bucket}/${key}`);
    }
  }

  async versioning(bucket: string, opts?: BucketCallOptions): Promise<VersioningStatus> {
    try {
      const out = await this.client.send(new GetBucketVersioningCommand({ Bucket: bucket }), sdkOpts(opts));
      return out.Status === 'Enabled' ? 'Enabled' : out.Status === 'Suspended' ? 'Suspended' : 'Unversioned';
    } catch (err) {
      throw mapS3Error(err, 'bucket', `read the versioning of ${bucket}`);
    }
  }

  async exists(bucket: string, opts?: BucketCallOptions): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), sdkOpts(opts));
      return true;
    } catch (err) {
      if (isS3NotFound(err) || s3Status(err) === 404) return false;
      throw mapS3Error(err, 'bucket', `open bucket ${bucket}`);
    }
  }

  async objectLockEnabled(bucket: string, opts?: BucketCallOptions): Promise<boolean> {
    try {
      const out = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }), sdkOpts(opts));
      return out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (err) {
      // No configuration: 404 ObjectLockConfigurationNotFoundError.
      if (s3Status(err) === 404) return false;
      throw mapS3Error(err, 'bucket', `read the object lock configuration of ${bucket}`);
    }
  }

  async lockOf(ref: VersionRef, opts?: BucketCallOptions): Promise<VersionLock> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }), sdkOpts(opts));
      const mode = out.ObjectLockMode;
      return {
        ...(mode === 'GOVERNANCE' || mode === 'COMPLIANCE' ? { mode } : {}),
        ...(out.ObjectLockRetainUntilDate instanceof Date ? { retainUntil: out.ObjectLockRetainUntilDate.getTime() } : {}),
        legalHold: out.ObjectLockLegalHoldStatus === 'ON',
      };
    } catch (err) {
      throw mapS3Error(err, 'object', `read the lock of ${ref.bucket}/${ref.key} version ${ref.versionId}`);
    }
  }

  async putRetention(ref: VersionRef, mode: 'GOVERNANCE' | 'COMPLIANCE', until: number, opts?: BucketCallOptions): Promise<void> {
    try {
      await this.client.send(
        new PutObjectRetentionCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId, Retention: { Mode: mode, RetainUntilDate: new Date(until) } }),
        sdkOpts(opts),
      );
    } catch (err) {
      throw mapS3Error(err, 'write', `extend the retention of ${ref.bucket}/${ref.key} version ${ref.versionId}`);
    }
  }

  async deleteVersion(ref: VersionRef, opts?: BucketCallOptions): Promise<void> {
    try {
      await this.client.send(new DeleteVersionCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }), sdkOpts(opts));
    } catch (err) {
      throw mapS3Error(err, 'write', `delete ${ref.bucket}/${ref.key} version ${ref.versionId}`);
    }
  }
}
