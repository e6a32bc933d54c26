// The versioned-bucket operations the trusted host's commands need, as one interface with two
// implementations: S3 (s3-buckets.ts) and an in-memory twin for unit tests (memory-buckets.ts).
// Reading is open to all; the writing calls (copy, hide, put) are made only by versions/apply.ts and
// state/save.ts, so every change to versions goes through one place.
import type { Readable } from 'node:stream';

/** One object version or delete marker, as ListObjectVersions reports it. */
export interface VersionRecord {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
  /** Bytes; 0 for a delete marker. */
  readonly size: number;
  /** Lowercase, without quotes; '' for a delete marker. */
  readonly etag: string;
  /** Milliseconds since the epoch, set by S3 (a client cannot choose it). */
  readonly lastModified: number;
  /** The S3 owner (canonical id) of the version: who wrote it. '' when S3 does not say. */
  readonly owner: string;
}

export interface VersionRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
}

export interface BucketCallOptions {
  readonly signal?: AbortSignal;
}

export interface ReadOptions extends BucketCallOptions {
  /** Bytes [offset, offset+length); length undefined = to the end. */
  readonly range?: { readonly offset: number; readonly length?: number };
}

export interface ListVersionsOptions extends BucketCallOptions {
  /** Listing requests in flight at once (shards are listed in parallel). */
  readonly concurrency?: number;
}

export type VersioningStatus = 'Enabled' | 'Suspended' | 'Unversioned';

export interface VersionedBuckets {
  /**
   * Every version and delete marker whose key starts with `prefix` ('' or ending in '/'), sorted by
   * key (S3's byte order), and within a key newest first. MUST yield each exactly once, including keys
   * whose page held only delete markers. Memory MUST NOT grow with the number of keys.
   */
  listVersions(bucket: string, prefix: string, opts?: ListVersionsOptions): AsyncIterable<VersionRecord>;
  /** The bytes of one version (or of a range of it). MUST reject with NOT_FOUND only when it does not exist. */
  read(ref: VersionRef, opts?: ReadOptions): Promise<Readable>;
  /** Server-side copy of a version to (another or the same) key: adds a new version on top there. */
  copy(from: VersionRef, to: { readonly bucket: string; readonly key: string }, opts?: BucketCallOptions): Promise<void>;
  /** Adds a delete marker on top of a key (nothing is removed on a versioned bucket). */
  hide(bucket: string, key: string, opts?: BucketCallOptions): Promise<void>;
  /** Stores a new object; MUST refuse (ALREADY_EXISTS) when the key already exists. */
  putNew(bucket: string, key: string, body: Buffer | (() => Readable), size: number, opts?: BucketCallOptions): Promise<void>;
  versioning(bucket: string, opts?: BucketCallOptions): Promise<VersioningStatus>;
  /** Whether the bucket exists and these keys may list it. */
  exists(bucket: string, opts?: BucketCallOptions): Promise<boolean>;
  /** Whether the bucket has object lock enabled. */
  objectLockEnabled(bucket: string, opts?: BucketCallOptions): Promise<boolean>;
  /** A version's object-lock state (retain-until in ms since the epoch). */
  lockOf(ref: VersionRef, opts?: BucketCallOptions): Promise<VersionLock>;
  /** Sets a version's retention (object-lock buckets). MUST NOT shorten it (S3 refuses that anyway in compliance mode). */
  putRetention(ref: VersionRef, mode: 'GOVERNANCE' | 'COMPLIANCE', until: number, opts?: BucketCallOptions): Promise<void>;
  /** Deletes one version or delete marker for good, without bypassing any retention. */
  deleteVersion(ref: VersionRef, opts?: BucketCallOptions): Promise<void>;
}

export interface VersionLock {
  readonly mode?: 'GOVERNANCE' | 'COMPLIANCE';
  readonly retainUntil?: number;
  readonly legalHold: boolean;
}

/** Locked now: a retain-until date in the future, or a legal hold. */
export const isLocked = (l: VersionLock, now: number): boolean => l.legalHold || (l.retainUntil !== undefined && l.retainUntil > now);

/** Largest object a single server-side CopyObject can copy. */
export const MAX_SINGLE_COPY = 5 * 1024 ** 3;

/** Record order within a key: the latest first (whatever its LastModified says), then newest first. */
export function compareWithinKey(a: VersionRecord, b: VersionRecord): number {
  if (a.isLatest !== b.isLatest) return a.isLatest ? -1 : 1;
  return b.lastModified - a.lastModified;
}
