// The benchmarks' own bookkeeping of bucket versions (not measured): list every version and delete
// marker under a prefix, delete exactly some of them, a few requests at once.
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';

export interface Version {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified: number;
  readonly etag: string;
  readonly size: number;
}

/** Every version and delete marker under `prefix`, sequentially. */
export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<Version[]> {
  const out: Version[] = [];
  for (let keyMarker: string | undefined, versionIdMarker: string | undefined; ; ) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...(keyMarker !== undefined ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}) }));
    for (const v of r.Versions ?? []) {
      out.push({ key: v.Key ?? '', versionId: v.VersionId ?? 'null', deleteMarker: false, isLatest: v.IsLatest === true, lastModified: v.LastModified?.getTime() ?? 0, etag: (v.ETag ?? '').replace(/"/g, ''), size: v.Size ?? 0 });
    }
    for (const m of r.DeleteMarkers ?? []) {
      out.push({ key: m.Key ?? '', versionId: m.VersionId ?? 'null', deleteMarker: true, isLatest: m.IsLatest === true, lastModified: m.LastModified?.getTime() ?? 0, etag: '', size: 0 });
    }
    if (r.IsTruncated !== true) break;
    keyMarker = r.NextKeyMarker;
    versionIdMarker = r.NextVersionIdMarker;
  }
  return out;
}

/** Runs `fn` for every item, at most `limit` at a time. */
export async function pool<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let r = it.next(); r.done !== true; r = it.next()) await fn(r.value);
  }));
}

/** Deletes exactly these versions for good (admin keys), 1000 per request, `concurrency` requests at once. */
export async function deleteVersions(s3: S3Client, bucket: string, versions: readonly Pick<Version, 'key' | 'versionId'>[], concurrency = 4): Promise<void> {
  const batches: { Key: string; VersionId: string }[][] = [];
  for (let i = 0; i < versions.length; i += 1000) batches.push(versions.slice(i, i + 1000).map((v) => ({ Key: v.key, VersionId: v.versionId })));
  await pool(batches, concurrency, async (batch) => {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
    if ((r.Errors ?? []).length > 0) throw new Error(`deleting versions in ${bucket}: ${JSON.stringify(r.Errors?.slice(0, 3))}`);
  });
}
