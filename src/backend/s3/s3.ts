// A restic repository under a key prefix of an S3 bucket, with restic's own object keys
// (`<prefix>/data/<2 hex>/<id>`, `<prefix>/keys/<id>`, ..., `<prefix>/config`), so `restic -r s3:...`
// opens the same repository directly. Writes are create-only and verified (see upload.ts).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Backend, Body, CallOptions, Capabilities, FileInfo, LoadOptions, SaveOptions, SaveResult } from '../backend.js';
import { BackendError, isBackendError } from '../errors.js';
import { describeHandle, expectedSha256, isId, type FileType, type Handle } from '../handle.js';
import { sameDigest } from '../hashing.js';
import { handlePath } from '../layout.js';
import { BodyReader, type FinishedBody } from './body-reader.js';
import type { S3Clients } from './client.js';
import { isS3NotFound, mapS3Error } from './errors.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { UploadBudget } from './upload-budget.js';
import { PART_SIZE, putBuffer, putMultipart, putStream, type PutTarget } from './upload.js';

export const S3_CAPABILITIES: Capabilities = { atomicCreate: true, verifiesSha256: true };

/** Bodies up to this size are read whole and checked before they are sent. */
export const SMALL_BODY = 4 << 20;

/** What the S3 backends of one store share. */
export interface S3Context {
  readonly clients: S3Clients;
  readonly bucket: string;
  readonly acl: boolean;
  readonly writes: KeyedMutex;
  /** How long an upload waits for another upload of the same key (default 30 s). */
  readonly keyWaitMs?: number | undefined;
  /** Memory for buffered uploads, shared by the store's repositories. */
  readonly uploads: UploadBudget;
  readonly describe: string;
  /** Told after a snapshot file was stored (rwm serve saves a state of the repository then). */
  readonly onSnapshot?: ((root: string) => void) | undefined;
}

interface Head {
  readonly size: number;
  readonly etag: string | undefined;
}

export class S3Backend implements Backend {
  readonly capabilities = S3_CAPABILITIES;

  /** `root` is the repository's key prefix: '' or ending in '/'. */
  constructor(
    private readonly ctx: S3Context,
    readonly root: string,
  ) {}

  get location(): string {
    return `${this.ctx.describe} ${this.root === '' ? '/' : this.root}`;
  }

  keyOf(h: Handle): string {
    return this.root + handlePath(h).join('/');
  }

  private opts(o: CallOptions | undefined): { abortSignal?: AbortSignal } {
    return o?.signal ? { abortSignal: o.signal } : {};
  }

  // S3 has no directories: there is nothing to create (the store checked that the bucket exists).
  async create(_opts?: CallOptions): Promise<void> {}

  async save(h: Handle, body: Body, opts: SaveOptions = {}): Promise<SaveResult> {
    const key = this.keyOf(h);
    const r = await this.ctx.writes.run(key, () => this.saveBudgeted(h, key, body, opts), {
      signal: opts.signal,
      ...(this.ctx.keyWaitMs !== undefined ? { waitMs: this.ctx.keyWaitMs } : {}),
    });
    if (r === 'created' && h.type === 'snapshots') this.ctx.onSnapshot?.(this.root);
    return r;
  }

  /** Bodies that are buffered (small, or of unknown length: one part at a time) take their memory from the store's budget. */
  private async saveBudgeted(h: Handle, key: string, body: Body, opts: SaveOptions): Promise<SaveResult> {
    const buffered = opts.size === undefined ? 2 * PART_SIZE : opts.size <= SMALL_BODY ? opts.size : 0;
    if (buffered === 0) return this.saveOnce(h, key, body, opts);
    this.ctx.uploads.take(buffered, `save ${describeHandle(h)}`);
    try {
      return await this.saveOnce(h, key, body, opts);
    } finally {
      this.ctx.uploads.give(buffered);
    }
  }

  private async saveOnce(h: Handle, key: string, body: Body, opts: SaveOptions): Promise<SaveResult> {
    const what = `save ${describeHandle(h)}`;
    const expected = expectedSha256(h);
    const existing = await this.head(key, opts);
    // MD5 is needed for Content-MD5 on small bodies and to compare with an existing object's ETag.
    const streamed = existing === undefined && opts.size !== undefined && opts.size > SMALL_BODY;
    const reader = new BodyReader(body, opts.size, { md5: !streamed, signal: opts.signal });
    if (existing !== undefined) {
      await reader.drain();
      return this.compareExisting(h, key, existing, reader.finish(expected), opts);
    }
    const t: PutTarget = {
      client: this.ctx.clients.client,
      streaming: this.ctx.clients.streaming,
      bucket: this.ctx.bucket,
      key,
      acl: this.ctx.acl,
      expected,
      what,
      signal: opts.signal,
    };
    try {
      if (streamed) {
        await putStream(t, reader, opts.size);
        return 'created';
      }
      // Known small size, or unknown size: read up to one part, then see whether the body goes on.
      const first = await reader.readUpTo(opts.size === undefined ? PART_SIZE : SMALL_BODY);
      const more = await reader.next(); // with a known size, a longer body throws INTEGRITY here
      if (more === undefined) {
        const fin = reader.finish(expected);
        if (fin.md5 === undefined) throw new Error('BodyReader was created without MD5 for a small body');
        await putBuffer(t, first, fin.md5);
        return 'created';
      }
      const firstPart = Buffer.concat([first, more]);
      reader.release([more]);
      const outcome = await putMultipart(t, reader, firstPart, async () => (await this.head(key, opts)) === undefined);
      if (outcome === 'created') return 'created';
      throw new BackendError('ALREADY_EXISTS', `${describeHandle(h)} appeared during the upload`);
    } catch (err) {
      if (!isBackendError(err, 'ALREADY_EXISTS')) throw err;
      // Someone created the object between our HEAD and PUT (S3 answered 412).
      await reader.drain();
      const now = await this.head(key, opts);
      if (now === undefined) throw err;
      return this.compareExisting(h, key, now, reader.finish(expected), opts);
    }
  }

  /** Same bytes already stored → 'existed'; anything else → ALREADY_EXISTS, and nothing is written. */
  private async compareExisting(h: Handle, key: string, head: Head, body: FinishedBody, opts: CallOptions): Promise<SaveResult> {
    const refuse = (): BackendError => new BackendError('ALREADY_EXISTS', `${describeHandle(h)} exists with different content`);
    if (head.size !== body.bytes) throw refuse();
    if (head.etag !== undefined && body.md5 !== undefined && sameDigest(head.etag, body.md5)) return 'existed';
    // Multipart or encrypted objects have ETags that are not the MD5: read the stored bytes.
    const stored = await this.sha256Of(h, key, opts);
    if (sameDigest(stored, body.sha256)) return 'existed';
    throw refuse();
  }

  private async sha256Of(h: Handle, key: string, opts: CallOptions): Promise<string> {
    const hash = createHash('sha256');
    for await (const c of await this.get(h, key, undefined, opts)) hash.update(c as Uint8Array);
    return hash.digest('hex');
  }

  private async head(key: string, opts: CallOptions | undefined): Promise<Head | undefined> {
    try {
      const out = await this.ctx.clients.client.send(new HeadObjectCommand({ Bucket: this.ctx.bucket, Key: key }), this.opts(opts));
      return { size: out.ContentLength ?? 0, etag: out.ETag?.replace(/^"|"$/g, '').toLowerCase() };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw mapS3Error(err, 'object', `stat ${key.slice(this.root.length)}`);
    }
  }

  async stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    const head = await this.head(this.keyOf(h), opts);
    if (head === undefined) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found`);
    return { name: h.type === 'config' ? 'config' : h.name, size: head.size };
  }

  private async get(h: Handle, key: string, range: string | undefined, opts: CallOptions | undefined): Promise<Readable> {
    try {
      const out = await this.ctx.clients.client.send(new GetObjectCommand({ Bucket: this.ctx.bucket, Key: key, ...(range ? { Range: range } : {}) }), this.opts(opts));
      if (!(out.Body instanceof Readable)) throw new Error(`load ${describeHandle(h)}: S3 returned no body stream`);
      return out.Body;
    } catch (err) {
      throw mapS3Error(err, 'object', `load ${describeHandle(h)}`);
    }
  }

  async load(h: Handle, opts: LoadOptions = {}): Promise<Readable> {
    const offset = opts.offset ?? 0;
    const length = opts.length;
    if (length === 0) {
      const { size } = await this.stat(h, opts);
      if (offset > size || (offset > 0 && offset === size)) throw new BackendError('RANGE', `offset ${offset} beyond ${describeHandle(h)} (${size} bytes)`);
      return Readable.from([]);
    }
    const range = offset === 0 && length === undefined ? undefined : `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
    return this.get(h, this.keyOf(h), range, opts);
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const prefix = `${this.root}${type}/`;
    const nameRe = type === 'data' ? /^([0-9a-f]{2})\/([0-9a-f]{64})$/ : /^()([0-9a-f]{64})$/;
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.ctx.clients.client.send(
          new ListObjectsV2Command({ Bucket: this.ctx.bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }),
          this.opts(opts),
        );
      } catch (err) {
        throw mapS3Error(err, 'list', `list ${type}`);
      }
      for (const o of out.Contents ?? []) {
        const m = o.Key === undefined ? null : nameRe.exec(o.Key.slice(prefix.length));
        const name = m?.[2];
        // Only restic's own layout: a data file outside its shard could not be loaded by name.
        if (name === undefined || !isId(name) || (type === 'data' && m?.[1] !== name.slice(0, 2))) continue;
        yield { name, size: o.Size ?? 0 };
      }
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** On a versioned bucket this adds a delete marker: every version stays. */
  async remove(h: Handle, opts?: CallOptions): Promise<void> {
    const key = this.keyOf(h);
    if ((await this.head(key, opts)) === undefined) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found`);
    try {
      await this.ctx.clients.client.send(new DeleteObjectCommand({ Bucket: this.ctx.bucket, Key: key }), this.opts(opts));
    } catch (err) {
      throw mapS3Error(err, 'write', `remove ${describeHandle(h)}`);
    }
  }
}

/** Bytes stored under a key prefix ('' or ending in '/'). */
export async function prefixUsage(ctx: S3Context, prefix: string, opts?: CallOptions): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    let out;
    try {
      out = await ctx.clients.client.send(
        new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }),
        opts?.signal ? { abortSignal: opts.signal } : {},
      );
    } catch (err) {
      throw mapS3Error(err, 'list', `usage of ${prefix === '' ? '/' : prefix}`);
    }
    for (const o of out.Contents ?? []) total += o.Size ?? 0;
    token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  } while (token !== undefined);
  return total;
}
