// Pulls an upload body chunk by chunk while hashing it (SHA-256 for the name check, MD5 to compare
// with S3 ETags), so the S3 upload code can read some, send some, and stop at any point.
import { createHash, type Hash } from 'node:crypto';
import type { Body } from '../backend.js';
import { UploadDigest } from '../hashing.js';
import { freeChunk, handsOverChunks } from '../chunks.js';

export interface FinishedBody {
  readonly sha256: string;
  /** Only when asked for (small bodies and comparisons): MD5 costs as much CPU as SHA-256. */
  readonly md5: string | undefined;
  readonly bytes: number;
}

export class BodyReader {
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private readonly sha: UploadDigest;
  private readonly md5: Hash | undefined;
  private ended = false;
  private finished: FinishedBody | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly signal: AbortSignal | undefined;
  /** The body hands its chunks over: free them once copied (see backend/chunks.ts). */
  private readonly freeable: boolean;

  constructor(
    body: Body,
    size: number | undefined,
    opts: { readonly md5: boolean; readonly signal?: AbortSignal | undefined },
  ) {
    this.it = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
    this.sha = new UploadDigest(size);
    this.md5 = opts.md5 ? createHash('md5') : undefined;
    this.signal = opts.signal;
    this.freeable = handsOverChunks(body);
  }

  /** Frees chunks this reader returned, once the caller has copied them (a no-op unless the body hands its chunks over). */
  release(chunks: readonly Uint8Array[]): void {
    if (this.freeable) for (const c of chunks) freeChunk(c);
  }

  get bytes(): number {
    return this.sha.bytes;
  }

  get done(): boolean {
    return this.ended;
  }

  /** The next chunk, hashed and counted; undefined at the end. Throws INTEGRITY if longer than announced. */
  next(): Promise<Uint8Array | undefined> {
    // Serialised: an upload that stops half-way and the drain after it never pull concurrently.
    const p = this.queue.then(() => this.pull());
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async pull(): Promise<Uint8Array | undefined> {
    if (this.ended) return undefined;
    this.signal?.throwIfAborted();
    const r = await this.it.next();
    if (r.done === true) {
      this.ended = true;
      return undefined;
    }
    this.sha.update(r.value);
    this.md5?.update(r.value);
    return r.value;
  }

  /** Reads until at least `limit` bytes are held or the body ends. */
  async readUpTo(limit: number): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let n = 0;
    while (n < limit) {
      const c = await this.next();
      if (c === undefined) break;
      parts.push(c);
      n += c.length;
    }
    const whole = Buffer.concat(parts, n);
    this.release(parts);
    return whole;
  }

  async drain(): Promise<void> {
    for (;;) {
      const c = await this.next();
      if (c === undefined) return;
      this.release([c]);
    }
  }

  /** After the end: checks length and (unless undefined) the expected SHA-256. Throws INTEGRITY. */
  finish(expectedSha256: string | undefined): FinishedBody {
    if (!this.ended) throw new Error('BodyReader.finish before the end of the body');
    this.finished ??= { sha256: this.sha.verify(expectedSha256), md5: this.md5?.digest('hex'), bytes: this.sha.bytes };
    return this.finished;
  }
}
