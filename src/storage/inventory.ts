// What a bucket holds: every object version and delete marker, current or not, with their bytes,
// and the incomplete multipart uploads (invisible in listings, but they take space).
import { ListMultipartUploadsCommand, ListObjectVersionsCommand, type ListObjectVersionsCommandOutput, type S3Client } from '@aws-sdk/client-s3';

export interface Inventory {
  readonly current: { count: number; bytes: number };
  readonly noncurrent: { count: number; bytes: number };
  readonly deleteMarkers: { count: number };
  readonly incompleteUploads: number;
}

export interface VersionRef {
  readonly key: string;
  readonly versionId: string;
}

/** Every page of ListObjectVersions for the bucket. */
export async function* versionPages(client: S3Client, bucket: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const r = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, ...(KeyMarker !== undefined ? { KeyMarker } : {}), ...(VersionIdMarker !== undefined ? { VersionIdMarker } : {}) }));
    yield r;
    if (r.IsTruncated !== true) return;
    KeyMarker = r.NextKeyMarker;
    VersionIdMarker = r.NextVersionIdMarker;
  }
}

/** The versions and delete markers of one page, as refs for deleting. */
export function refsOf(page: ListObjectVersionsCommandOutput): VersionRef[] {
  return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ key: v.Key ?? '', versionId: v.VersionId ?? 'null' }));
}

export async function takeInventory(client: S3Client, bucket: string): Promise<Inventory> {
  const inv = { current: { count: 0, bytes: 0 }, noncurrent: { count: 0, bytes: 0 }, deleteMarkers: { count: 0 }, incompleteUploads: 0 };
  for await (const page of versionPages(client, bucket)) {
    for (const v of page.Versions ?? []) {
      const c = v.IsLatest === true ? inv.current : inv.noncurrent;
      c.count += 1;
      c.bytes += v.Size ?? 0;
    }
    inv.deleteMarkers.count += page.DeleteMarkers?.length ?? 0;
  }
  inv.incompleteUploads = (await listIncompleteUploads(client, bucket)).length;
  return inv;
}

export async function listIncompleteUploads(client: S3Client, bucket: string): Promise<{ key: string; uploadId: string }[]> {
  const out: { key: string; uploadId: string }[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...(KeyMarker !== undefined ? { KeyMarker } : {}), ...(UploadIdMarker !== undefined ? { UploadIdMarker } : {}) }));
    for (const u of r.Uploads ?? []) out.push({ key: u.Key ?? '', uploadId: u.UploadId ?? '' });
    if (r.IsTruncated !== true) return out;
    KeyMarker = r.NextKeyMarker;
    UploadIdMarker = r.NextUploadIdMarker;
  }
}
