// S3Buckets (and so the one ListObjectVersions pager, src/s3/versions.ts) against the VersionedBuckets
// conformance suite on the real Ceph RGW. Every listing is also compared with the plainest pagination
// there is, written here on purpose without the code under test: ListObjectVersions one page after
// the other, no Delimiter, following NextKeyMarker + NextVersionIdMarker.
import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { VersionRecord } from '../../src/s3/bucket.js';
import { S3Buckets } from '../../src/s3/s3-buckets.js';
import { bucketName, createBucket, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';
import { runVersionedBucketsConformance } from './versioned-buckets.js';

const env = s3TestEnv();

runVersionedBucketsConformance('s3 (Ceph RGW)', async () => {
  const bucket = bucketName('rwm-vers');
  const unversionedBucket = bucketName('rwm-plain');
  await createBucket(env, bucket, { versioned: true });
  await createBucket(env, unversionedBucket);
  const client = testClient(env);
  const writer = testClient(env);

  async function plainListing(prefix: string): Promise<VersionRecord[]> {
    const out: VersionRecord[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const page = await writer.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}), ...(versionMarker !== undefined ? { VersionIdMarker: versionMarker } : {}) }),
      );
      // One page's versions and markers, each list in the server's order (a key's newest first).
      for (const v of page.Versions ?? []) {
        out.push({ key: v.Key ?? '', versionId: v.VersionId ?? '', deleteMarker: false, isLatest: v.IsLatest === true, size: v.Size ?? 0, etag: (v.ETag ?? '').replaceAll('"', ''), lastModified: v.LastModified?.getTime() ?? 0, owner: v.Owner?.ID ?? '' });
      }
      for (const m of page.DeleteMarkers ?? []) {
        out.push({ key: m.Key ?? '', versionId: m.VersionId ?? '', deleteMarker: true, isLatest: m.IsLatest === true, size: 0, etag: '', lastModified: m.LastModified?.getTime() ?? 0, owner: m.Owner?.ID ?? '' });
      }
      if (page.IsTruncated !== true) return out;
      if (page.NextKeyMarker === keyMarker && page.NextVersionIdMarker === versionMarker) throw new Error('plain listing: no progress');
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
  }

  return {
    buckets: new S3Buckets(client),
    bucket,
    unversionedBucket,
    write: async (key, data) => void (await writer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }))),
    remove: async (key) => void (await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
    removeMany: async (keys) => {
      for (let i = 0; i < keys.length; i += 1000) {
        const out = await writer.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
        if ((out.Errors ?? []).length > 0) throw new Error(`DeleteObjects: ${out.Errors?.length} errors, the first ${JSON.stringify(out.Errors?.[0])}`);
      }
    },
    plainListing,
    cleanup: async () => {
      client.destroy();
      // Thousands of versions: delete them in parallel batches first (deleteBucket goes one by one).
      const all = await plainListing('').catch(() => []);
      const batches: VersionRecord[][] = [];
      for (let i = 0; i < all.length; i += 1000) batches.push(all.slice(i, i + 1000));
      await Promise.all(batches.map((b) => writer.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: b.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true } })).catch(() => undefined)));
      writer.destroy();
      await deleteBucket(env, bucket);
      await deleteBucket(env, unversionedBucket);
    },
  };
});
