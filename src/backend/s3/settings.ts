// Where and how to reach an S3 bucket. Built once in cli/ from flags, environment and the config
// file; the backend never reads the process environment itself.

export type BucketLookup = 'auto' | 'path' | 'dns';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Settings {
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for none), without leading or trailing '/'. */
  readonly prefix: string;
  /** e.g. https://s3.example.com; undefined for AWS itself. */
  readonly endpoint?: string;
  readonly region: string;
  /** 'auto' uses path-style addressing when an endpoint is given (RGW, MinIO), else virtual-hosted. */
  readonly bucketLookup: BucketLookup;
  /** undefined: the AWS SDK's default chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, instance roles). */
  readonly credentials?: S3Credentials;
  /**
   * Upload with the canned ACL bucket-owner-full-control, so the account that owns the bucket (the
   * trusted host running `restic forget --prune` and `check`) can read what the backup account wrote.
   */
  readonly bucketOwnerFullControl: boolean;
}

/** Bucket naming rules of S3 (3-63 characters, lowercase letters, digits, '.', '-'). */
export const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Normalises a key prefix: no empty, '.' or '..' segments, no leading/trailing '/'. Throws on bad input. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  const segs = trimmed.split('/');
  for (const s of segs) {
    if (s === '' || s === '.' || s === '..') throw new Error(`invalid S3 key prefix "${prefix}": empty, "." or ".." segment`);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f\\]/.test(s)) throw new Error(`invalid S3 key prefix "${prefix}": control character or backslash`);
  }
  return segs.join('/');
}

/** Splits "bucket" or "bucket/some/prefix" (the form restic's s3: URLs end with). */
export function parseBucketAndPrefix(spec: string): { bucket: string; prefix: string } {
  const s = spec.replace(/^\/+/, '');
  const slash = s.indexOf('/');
  const bucket = slash < 0 ? s : s.slice(0, slash);
  const prefix = slash < 0 ? '' : s.slice(slash + 1);
  if (!BUCKET_RE.test(bucket)) throw new Error(`invalid S3 bucket name "${bucket}" (3-63 characters: lowercase letters, digits, "." and "-")`);
  return { bucket, prefix: normalisePrefix(prefix) };
}

export function describeS3(s: Pick<S3Settings, 'endpoint' | 'bucket' | 'prefix'>): string {
  return `s3:${s.endpoint ?? 'aws'}/${s.bucket}${s.prefix === '' ? '' : `/${s.prefix}`}`;
}
