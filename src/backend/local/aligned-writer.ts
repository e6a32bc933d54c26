// Writes an upload to its temp file through pooled, aligned buffers: each body chunk is copied in
// (and can then be freed at once), and every full buffer goes out in one write. Where the file system
// accepts it, full buffers are written with O_DIRECT: the page cache is skipped, which cuts the
// kernel's share of an upload several-fold; the unaligned tail, and every write on a file system
// that refuses O_DIRECT (tmpfs), goes through the ordinary descriptor. Durability is unchanged: the
// caller still fsyncs the file (which also covers the metadata of direct writes) and the directory.
// One buffer may be in flight while the next fills, so reading and hashing overlap with writing.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Size of one write, and of each pooled buffer. */
export const WRITE_BYTES = 1 << 20;
/** Alignment of direct writes' offsets and lengths (a multiple of every common logical block size). */
const ALIGN = 4096;
/** Free buffers kept for reuse; more are left to the garbage collector. */
const POOL_MAX = 16;
const O_DIRECT: number | undefined = (constants as Record<string, number | undefined>).O_DIRECT;

/** A buffer of WRITE_BYTES whose memory address (once probed) suits direct I/O. */
interface PoolBuffer {
  readonly bytes: Uint8Array;
  /** Where the WRITE_BYTES window starts in `bytes`. */
  offset: number;
  /** True once a direct write from `offset` succeeded (its alignment is then known to be good). */
  aligned: boolean;
}

const pool: PoolBuffer[] = [];

// V8 does not expose addresses; an ArrayBuffer a little larger than needed contains an aligned
// WRITE_BYTES window at one of the offsets 0, 16, ... < ALIGN. The offset is found by trying direct
// writes (probe()), once per buffer, since buffers are pooled.
function takeBuffer(): PoolBuffer {
  return pool.pop() ?? { bytes: new Uint8Array(new ArrayBuffer(WRITE_BYTES + ALIGN)), offset: 0, aligned: false };
}

function giveBack(b: PoolBuffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

/** Whether direct I/O is worth trying in a directory; false once it was refused there. */
const directRefused = new Set<string>();

export class AlignedWriter {
  private cur: PoolBuffer = takeBuffer();
  private curBytes = 0;
  /** File offset of the current buffer's first byte. */
  private position = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private direct: FileHandle | undefined;
  private directState: 'untried' | 'on' | 'off';
  private released = false;

  /**
   * @param fh the temp file, opened for writing (buffered)
   * @param path its path, reopened with O_DIRECT for full buffers
   * @param dir the directory it lives in (remembers where O_DIRECT is refused)
   */
  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly dir: string,
  ) {
    this.directState = O_DIRECT === undefined || directRefused.has(dir) ? 'off' : 'untried';
  }

  /** Copies the chunk in; the caller may reuse or free it as soon as this returns or resolves. */
  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, WRITE_BYTES - this.curBytes);
      this.view(this.cur).set(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n), this.curBytes);
      this.curBytes += n;
      off += n;
      if (this.curBytes === WRITE_BYTES) await this.emitFull();
    }
  }

  /** Writes what is left and waits for every write. */
  async flush(): Promise<void> {
    await this.inFlight;
    const buf = this.cur;
    const bytes = this.curBytes;
    if (bytes > 0) {
      const alignedPart = bytes - (bytes % ALIGN);
      if (alignedPart > 0 && (await this.openDirect())) {
        await this.writeDirect(buf, alignedPart, this.position);
        await writeFully(this.fh, this.view(buf).subarray(alignedPart, bytes), this.position + alignedPart);
      } else {
        await writeFully(this.fh, this.view(buf).subarray(0, bytes), this.position);
      }
      this.position += bytes;
      this.curBytes = 0;
    }
    await this.close();
  }

  /** Closes the direct descriptor and returns the buffers to the pool. Safe to call more than once. */
  async close(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    if (!this.released) {
      this.released = true;
      giveBack(this.cur);
    }
    const d = this.direct;
    this.direct = undefined;
    await d?.close().catch(() => undefined);
  }

  private view(b: PoolBuffer): Uint8Array {
    return b.bytes.subarray(b.offset, b.offset + WRITE_BYTES);
  }

  private async emitFull(): Promise<void> {
    await this.inFlight;
    const buf = this.cur;
    const at = this.position;
    this.position += WRITE_BYTES;
    this.cur = takeBuffer();
    this.curBytes = 0;
    this.inFlight = (async () => {
      try {
        if (await this.openDirect()) await this.writeDirect(buf, WRITE_BYTES, at);
        else await writeFully(this.fh, this.view(buf), at);
      } finally {
        giveBack(buf);
      }
    })();
    // a failure surfaces at the next write or at flush(); keep it from being unhandled meanwhile
    this.inFlight.catch(() => undefined);
  }

  private async openDirect(): Promise<boolean> {
    if (this.directState === 'untried') {
      try {
        this.direct = await open(this.path, constants.O_WRONLY | (O_DIRECT as number));
        this.directState = 'on';
      } catch {
        directRefused.add(this.dir);
        this.directState = 'off';
      }
    }
    return this.directState === 'on';
  }

  /** A direct write of `bytes` (a multiple of ALIGN) from `buf` at `at`; falls back to buffered I/O if refused. */
  private async writeDirect(buf: PoolBuffer, bytes: number, at: number): Promise<void> {
    const d = this.direct as FileHandle;
    if (!buf.aligned && !(await probe(d, buf, at))) {
      // no offset of this buffer suits the device (or it refuses direct writes): stay buffered
      this.directState = 'off';
      directRefused.add(this.dir);
      await writeFully(this.fh, this.view(buf).subarray(0, bytes), at);
      return;
    }
    try {
      await writeFully(d, this.view(buf).subarray(0, bytes), at);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EINVAL') throw err;
      this.directState = 'off';
      directRefused.add(this.dir);
      await writeFully(this.fh, this.view(buf).subarray(0, bytes), at);
    }
  }
}

/**
 * Finds the offset into buf.bytes from which direct writes work, by writing ALIGN bytes at `at` from
 * each candidate offset in turn (the real write then overwrites them), and moves the data there.
 * Large allocations usually start 16 bytes past a page boundary, so that candidate goes first.
 * False if none works.
 */
async function probe(d: FileHandle, buf: PoolBuffer, at: number): Promise<boolean> {
  const candidates = [ALIGN - 16];
  for (let off = 0; off < ALIGN; off += 16) if (off !== ALIGN - 16) candidates.push(off);
  for (const off of candidates) {
    try {
      await d.write(buf.bytes, off, ALIGN, at);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EINVAL') throw err;
      continue;
    }
    buf.bytes.copyWithin(off, buf.offset, buf.offset + WRITE_BYTES);
    buf.offset = off;
    buf.aligned = true;
    return true;
  }
  return false;
}

async function writeFully(fh: FileHandle, data: Uint8Array, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, at + done);
    done += bytesWritten;
  }
}
