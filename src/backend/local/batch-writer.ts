// Writes a stream of small chunks (an HTTP body arrives in ~64 KiB pieces) to a file in large
// writev(2) batches, without copying them together first. One batch may be in flight while the
// next is collected, so reading (and hashing) the body overlaps with writing it; memory stays
// bounded at about two batches per upload.
import type { FileHandle } from 'node:fs/promises';

const BATCH_BYTES = 1 << 20;

export class BatchWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly fh: FileHandle) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH_BYTES) {
      await this.inFlight;
      this.inFlight = this.writeAll(this.takePending());
      // a failure surfaces at the next write or at flush(); keep it from being unhandled meanwhile
      this.inFlight.catch(() => undefined);
    }
  }

  /** Writes what is left and waits for every write. */
  async flush(): Promise<void> {
    await this.inFlight;
    await this.writeAll(this.takePending());
  }

  private takePending(): { bufs: Uint8Array[]; bytes: number } {
    const taken = { bufs: this.pending, bytes: this.pendingBytes };
    this.pending = [];
    this.pendingBytes = 0;
    return taken;
  }

  private async writeAll({ bufs, bytes }: { bufs: Uint8Array[]; bytes: number }): Promise<void> {
    let left = bytes;
    while (left > 0) {
      const { bytesWritten } = await this.fh.writev(bufs);
      left -= bytesWritten;
      if (left > 0) bufs = dropBytes(bufs, bytesWritten); // a short write: go on with the rest
    }
  }
}

function dropBytes(bufs: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
