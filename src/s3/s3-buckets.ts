// VersionedBuckets on a real S3 server through the AWS SDK. Errors are translated by the one S3
// error mapping (backend/s3/errors.ts).
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isS3NotFound, mapS3Error, s3Status } from '../backend/s3/errors.js';
import type { BucketCallOptions, ListVersionsOptions, ReadOptions, VersionedBuckets, VersioningStatus, VersionRecord, VersionRef } from './bucket.js';
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
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.isBuffer(body) ? body : body(), ContentLength: size, IfNoneMatch: '*', ContentType: 'application/gzip', ...(this.opts.ownerFullControl === true ? { ACL: 'bucket-owner-full-control' as const } : {}) }),
        sdkOpts(opts),
      );
    } catch (err) {
      throw mapS3Error(err, 'write', `store ${bucket}/${key}`);
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
}
