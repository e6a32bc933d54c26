// `rwm storage delete`: removes a bucket the keys' owner owns. Without `purge` only an empty bucket
// (no versions, no delete markers, no incomplete uploads); with it, every version first (bypassing
// governance retention; compliance-locked versions cannot be deleted and keep the bucket).
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describeS3Error, StorageError } from './errors.js';
import { listS3Versions } from '../s3/versions.js';
import type { VersionRecord } from '../s3/bucket.js';
import { listIncompleteUploads, takeInventory, type Inventory } from './inventory.js';

export interface DeleteOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly purge: boolean;
  readonly dryRun: boolean;
  /** Asked before a purge deletes anything from a bucket that is not empty; throws to stop it. */
  readonly confirm?: (contents: Inventory) => Promise<void>;
  /** Called after each deleted version, for progress. */
  readonly onDeleted?: (done: number) => void;
}

export interface DeleteResult {
  readonly before: Inventory;
  readonly deleted: boolean;
  readonly versionsDeleted: number;
  /** Versions S3 refused to delete (compliance retention, legal hold), "key@version: reason". */
  readonly refused: string[];
}

const DELETE_CONCURRENCY = 16;

export const isEmpty = (i: Inventory): boolean => i.current.count + i.noncurrent.count + i.deleteMarkers.count + i.incompleteUploads === 0;

export function describeContents(i: Inventory): string {
  return `${i.current.count} current and ${i.noncurrent.count} noncurrent versions (${i.current.bytes + i.noncurrent.bytes} bytes), ${i.deleteMarkers.count} delete markers, ${i.incompleteUploads} incomplete uploads`;
}

/** Refuses unless the keys in use own the bucket: the backup account never deletes buckets. */
async function assertOwned(client: S3Client, bucket: string): Promise<void> {
  let names: string[];
  try {
    names = ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
  } catch (err) {
    throw new StorageError(`cannot list the buckets these keys own: ${describeS3Error(err)}`, { cause: err });
  }
  if (!names.includes(bucket)) throw new StorageError(`bucket ${bucket} is not owned by the account whose keys are in use (or does not exist): nothing deleted`);
}

export async function deleteBucket(o: DeleteOptions): Promise<DeleteResult> {
  await assertOwned(o.client, o.bucket);
  const before = await takeInventory(o.client, o.bucket);
  if (o.dryRun) return { before, deleted: false, versionsDeleted: 0, refused: [] };
  if (!isEmpty(before) && !o.purge) {
    throw new StorageError(`bucket ${o.bucket} is not empty (${describeContents(before)}): nothing deleted; use --purge to delete everything in it`);
  }
  let versionsDeleted = 0;
  const refused: string[] = [];
  if (o.purge) {
    if (!isEmpty(before)) await o.confirm?.(before);
    for (const u of await listIncompleteUploads(o.client, o.bucket)) {
      await o.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: u.key, UploadId: u.uploadId })).catch((err: unknown) => refused.push(`upload ${u.key}: ${describeS3Error(err)}`));
    }
    const deleteOne = async (r: VersionRecord): Promise<void> => {
      try {
        await o.client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: r.key, VersionId: r.versionId, BypassGovernanceRetention: true }));
        versionsDeleted += 1;
        o.onDeleted?.(versionsDeleted);
      } catch (err) {
        refused.push(`${r.key}@${r.versionId}: ${describeS3Error(err)}`);
      }
    };
    // One DELETE per version (a multi-delete answers 200 even when it deleted nothing), 16 at a time.
    let batch: VersionRecord[] = [];
    for await (const r of listS3Versions(o.client, o.bucket, '')) {
      batch.push(r);
      if (batch.length < DELETE_CONCURRENCY) continue;
      await Promise.all(batch.map(deleteOne));
      batch = [];
    }
    await Promise.all(batch.map(deleteOne));
  }
  if (refused.length > 0) return { before, deleted: false, versionsDeleted, refused };
  try {
    await o.client.send(new DeleteBucketCommand({ Bucket: o.bucket }));
  } catch (err) {
    throw new StorageError(`delete bucket ${o.bucket}: ${describeS3Error(err)}`, { cause: err });
  }
  return { before, deleted: true, versionsDeleted, refused };
}
