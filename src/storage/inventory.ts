// What a bucket holds: every object version and delete marker, current or not, with their bytes,
// and the incomplete multipart uploads (invisible in listings, but they take space).
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { listS3Versions } from '../s3/versions.js';

export interface Inventory {
  readonly current: { count: number; bytes: number };
  readonly noncurrent: { count: number; bytes: number };
  readonly deleteMarkers: { count: number };
  readonly incompleteUploads: number;
}

/** Counts every version and delete marker (through the one versions lister, s3/versions.ts). */
export async function takeInventory(client: S3Client, bucket: string): Promise<Inventory> {
  const inv = { current: { count: 0, bytes: 0 }, noncurrent: { count: 0, bytes: 0 }, deleteMarkers: { count: 0 }, incompleteUploads: 0 };
  for await (const v of listS3Versions(client, bucket, '')) {
    if (v.deleteMarker) {
      inv.deleteMarkers.count += 1;
      continue;
    }
    const c = v.isLatest ? inv.current : inv.noncurrent;
    c.count += 1;
    c.bytes += v.size;
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
