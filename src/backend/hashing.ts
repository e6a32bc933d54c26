// Streaming SHA-256 and length accounting for uploads, shared by every backend that verifies.
import { createHash, timingSafeEqual } from 'node:crypto';
import { BackendError } from './errors.js';

/** Hashes and counts an upload as it streams by; refuses a body longer than announced at once. */
export class UploadDigest {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly announced: number | undefined) {}

  update(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.announced !== undefined && this.bytes > this.announced) {
      throw new BackendError('INTEGRITY', `body longer than the announced ${this.announced} bytes`);
    }
    this.hash.update(chunk);
  }

  /** Finishes the hash; throws INTEGRITY unless length and digest match what the upload promised. */
  verify(expectedSha256: string | undefined): string {
    const digest = this.hash.digest('hex');
    if (this.announced !== undefined && this.bytes !== this.announced) {
      throw new BackendError('INTEGRITY', `body has ${this.bytes} bytes, ${this.announced} announced`);
    }
    if (expectedSha256 !== undefined && !sameDigest(digest, expectedSha256)) {
      throw new BackendError('INTEGRITY', `SHA-256 of the body is ${digest}, not the file name`);
    }
    return digest;
  }
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
