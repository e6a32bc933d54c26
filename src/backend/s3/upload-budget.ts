// Memory for S3 uploads that are buffered whole (bodies up to 4 MiB) or part by part (bodies of
// unknown length): one budget per store. An upload that does not fit is refused at once with
// UNAVAILABLE (503, restic retries), so held-open uploads cannot make the server buffer without
// limit.
import { BackendError } from '../errors.js';

export const DEFAULT_UPLOAD_BUFFER = 256 << 20;

export class UploadBudget {
  private used = 0;

  constructor(readonly limit: number = DEFAULT_UPLOAD_BUFFER) {}

  /** Takes `bytes` of the budget, or throws UNAVAILABLE. The caller MUST give them back. */
  take(bytes: number, what: string): void {
    if (this.used + bytes > this.limit) {
      throw new BackendError('UNAVAILABLE', `${what}: too many uploads are being buffered (${this.used} of ${this.limit} bytes), retry later`);
    }
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
}
