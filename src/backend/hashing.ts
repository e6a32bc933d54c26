// Streaming SHA-256 and length accounting for uploads, shared by every backend that verifies.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BackendError } from './errors.js';

/** A pass-through that hashes and counts, and fails as soon as the body exceeds `maxSize`. */
export class HashingCounter extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly maxSize: number | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.maxSize !== undefined && this.bytes > this.maxSize) {
      cb(new BackendError('INTEGRITY', `body longer than the announced ${this.maxSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  digestHex(): string {
    return this.hash.digest('hex');
  }
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Throws INTEGRITY unless the counted length and digest match what the upload promised. */
export function assertUpload(counter: HashingCounter, digest: string, size: number | undefined, expected: string | undefined): void {
  if (size !== undefined && counter.bytes !== size) {
    throw new BackendError('INTEGRITY', `body has ${counter.bytes} bytes, ${size} announced`);
  }
  if (expected !== undefined && !sameDigest(digest, expected)) {
    throw new BackendError('INTEGRITY', `SHA-256 of the body is ${digest}, not the file name`);
  }
}
