// The in-memory twin of a versioned S3 account, for unit tests of everything that reads or writes
// versions (state, restore, scrub, drop-versions, serve --as-of). Same contract as S3Buckets
// (bucket.ts), checked by the same conformance suite (test/conformance/versioned-buckets.ts).
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BackendError } from '../backend/errors.js';
import type { ReadOptions, VersionLock, VersionedBuckets, VersioningStatus, VersionRecord, VersionRef } from './bucket.js';
import { compareKeys } from './names.js';

interface StoredVersion {
  readonly rec: VersionRecord;
  readonly data: Buffer | undefined;
}

interface MemBucket {
  versioning: VersioningStatus;
  /** key -> versions, newest first. */
  readonly keys: Map<string, StoredVersion[]>;
}

export class MemoryBuckets implements VersionedBuckets {
  private readonly buckets = new Map<string, MemBucket>();
  /** The clock S3 would set LastModified from; tests move it. */
  now = Date.parse('2026-01-01T00:00:00Z');
  /** Counts of calls, for tests that check what was (not) done. */
  readonly calls = { list: 0, read: 0, copy: 0, hide: 0, put: 0 };

  constructor(readonly owner = 'owner') {}

  createBucket(name: string, versioning: VersioningStatus = 'Enabled'): void {
    this.buckets.set(name, { versioning, keys: new Map() });
  }

  private bucket(name: string): MemBucket {
    const b = this.buckets.get(name);
    if (b === undefined) throw new BackendError('UNAVAILABLE', `bucket ${name} does not exist`);
    return b;
  }

  private tick(): number {
    this.now += 1;
    return this.now;
  }

  private add(bucket: string, key: string, data: Buffer | undefined, owner: string): VersionRecord {
    const b = this.bucket(bucket);
    const list = b.keys.get(key) ?? [];
    const rec: VersionRecord = {
      key,
      versionId: b.versioning === 'Unversioned' ? 'null' : randomBytes(8).toString('hex'),
      deleteMarker: data === undefined,
      isLatest: true,
      size: data?.length ?? 0,
      etag: data === undefined ? '' : createHash('md5').update(data).digest('hex'),
      lastModified: this.tick(),
      owner,
    };
    const older = list.filter((v) => v.rec.versionId !== rec.versionId).map((v) => ({ ...v, rec: { ...v.rec, isLatest: false } }));
    b.keys.set(key, [{ rec, data }, ...older]);
    return rec;
  }

  /** Writes as any S3 client would (a test's attacker or restic): a new version on top. */
  write(bucket: string, key: string, data: Buffer | string, owner = this.owner): VersionRecord {
    return this.add(bucket, key, Buffer.from(data), owner);
  }

  /** Deletes as a client would: a delete marker on a versioned bucket. */
  remove(bucket: string, key: string, owner = this.owner): VersionRecord {
    return this.add(bucket, key, undefined, owner);
  }

  /** Removes one version for good (what drop-versions or a purge would do). */
  dropVersion(bucket: string, key: string, versionId: string): void {
    const b = this.bucket(bucket);
    const list = (b.keys.get(key) ?? []).filter((v) => v.rec.versionId !== versionId);
    if (list.length === 0) b.keys.delete(key);
    else b.keys.set(key, list.map((v, i) => ({ ...v, rec: { ...v.rec, isLatest: i === 0 } })));
  }

  async *listVersions(bucket: string, prefix: string): AsyncIterable<VersionRecord> {
    this.calls.list += 1;
    const b = this.bucket(bucket);
    const keys = [...b.keys.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const k of keys) for (const v of b.keys.get(k) ?? []) yield v.rec;
  }

  private find(ref: VersionRef): StoredVersion {
    const v = this.bucket(ref.bucket).keys.get(ref.key)?.find((x) => x.rec.versionId === ref.versionId);
    if (v === undefined) throw new BackendError('NOT_FOUND', `${ref.bucket}/${ref.key} version ${ref.versionId}: not found`);
    if (v.data === undefined) throw new BackendError('INVALID', `${ref.bucket}/${ref.key} version ${ref.versionId} is a delete marker`);
    return v;
  }

  async read(ref: VersionRef, opts?: ReadOptions): Promise<Readable> {
    this.calls.read += 1;
    const data = this.find(ref).data as Buffer;
    const r = opts?.range;
    return Readable.from([r === undefined ? data : data.subarray(r.offset, r.length === undefined ? undefined : r.offset + r.length)]);
  }

  async copy(from: VersionRef, to: { bucket: string; key: string }): Promise<void> {
    this.calls.copy += 1;
    this.add(to.bucket, to.key, this.find(from).data, this.owner);
  }

  async hide(bucket: string, key: string): Promise<void> {
    this.calls.hide += 1;
    this.add(bucket, key, undefined, this.owner);
  }

  async putNew(bucket: string, key: string, body: Buffer | (() => Readable), _size: number): Promise<void> {
    this.calls.put += 1;
    const top = this.bucket(bucket).keys.get(key)?.[0];
    if (top !== undefined && !top.rec.deleteMarker) throw new BackendError('ALREADY_EXISTS', `${bucket}/${key} exists`);
    let data: Buffer;
    if (Buffer.isBuffer(body)) data = body;
    else {
      const chunks: Buffer[] = [];
      for await (const c of body()) chunks.push(c as Buffer);
      data = Buffer.concat(chunks);
    }
    this.add(bucket, key, data, this.owner);
  }

  async versioning(bucket: string): Promise<VersioningStatus> {
    return this.bucket(bucket).versioning;
  }

  async exists(bucket: string): Promise<boolean> {
    return this.buckets.has(bucket);
  }

  /** Object-lock settings per "bucket/key@version", set by tests. */
  readonly locks = new Map<string, VersionLock>();
  lockEnabled = new Set<string>();

  async objectLockEnabled(bucket: string): Promise<boolean> {
    return this.lockEnabled.has(bucket);
  }

  async lockOf(ref: VersionRef): Promise<VersionLock> {
    this.find(ref);
    return this.locks.get(`${ref.bucket}/${ref.key}@${ref.versionId}`) ?? { legalHold: false };
  }

  async putRetention(ref: VersionRef, mode: 'GOVERNANCE' | 'COMPLIANCE', until: number): Promise<void> {
    this.find(ref);
    const k = `${ref.bucket}/${ref.key}@${ref.versionId}`;
    this.locks.set(k, { ...this.locks.get(k), mode, retainUntil: until, legalHold: this.locks.get(k)?.legalHold ?? false });
  }

  async deleteVersion(ref: VersionRef): Promise<void> {
    const l = this.locks.get(`${ref.bucket}/${ref.key}@${ref.versionId}`);
    if (l !== undefined && (l.legalHold || (l.retainUntil ?? 0) > this.now)) throw new BackendError('UNAVAILABLE', `${ref.key} version ${ref.versionId} is locked`);
    if (!(this.bucket(ref.bucket).keys.get(ref.key) ?? []).some((v) => v.rec.versionId === ref.versionId)) throw new BackendError('NOT_FOUND', `${ref.key} version ${ref.versionId}: not found`);
    this.dropVersion(ref.bucket, ref.key, ref.versionId);
  }
}
