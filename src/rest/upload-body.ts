// The body of an upload: its announced length (checked before reading) and the request read with
// 'data' events (cheaper than the stream's async iterator), refusing to grow past the server's limit
// when no length was announced. Its chunks are handed over to the backend, which frees each one once
// hashed and stored (see backend/chunks.ts).
import { BackendError } from '../backend/errors.js';
import { CHUNKS_HANDED_OVER, type HandedOverBody } from '../backend/chunks.js';
import type { Req } from './context.js';

/** Chunks queued before the request is paused (~1 MiB of 64 KiB chunks). */
const QUEUE_CHUNKS = 16;

export function announcedLength(req: Req, maxUploadSize: number): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw new BackendError('INVALID', 'invalid Content-Length');
  const n = Number(raw);
  if (n > maxUploadSize) throw new BackendError('TOO_LARGE', `upload of ${n} bytes is larger than the limit of ${maxUploadSize}`);
  return n;
}

/** The request's body; `limit` (when no length was announced) caps its total length with TOO_LARGE. */
export function requestBody(req: Req, limit: number | undefined): HandedOverBody {
  let used = false;
  return {
    [CHUNKS_HANDED_OVER]: true,
    [Symbol.asyncIterator]: () => {
      if (used) throw new Error('an upload body can be read only once');
      used = true;
      return new RequestChunks(req, limit);
    },
  };
}

type Waiter = { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (err: Error) => void };

class RequestChunks implements AsyncIterator<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private ended = false;
  private failure: Error | undefined;
  private waiter: Waiter | undefined;
  private total = 0;

  constructor(
    private readonly req: Req,
    private readonly limit: number | undefined,
  ) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('close', this.onClose);
    // Read lazily (after the backend opened its temp file): a client that sent a short body and hung
    // up may be gone already, its 'close' emitted before these listeners; without this the upload
    // would wait forever and its temp file stay behind.
    if (req.destroyed) this.onClose();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.total += chunk.length;
    if (this.limit !== undefined && this.total > this.limit) {
      this.fail(new BackendError('TOO_LARGE', `upload larger than the limit of ${this.limit}`));
      return;
    }
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.resolve({ done: false, value: chunk });
      return;
    }
    this.queue.push(chunk);
    if (this.queue.length - this.head >= QUEUE_CHUNKS) this.req.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.settleWaiter();
  };

  private readonly onError = (err: unknown): void => this.fail(err);

  private readonly onClose = (): void => {
    if (!this.ended) this.fail(Object.assign(new Error('the client closed the connection during the upload'), { code: 'ECONNRESET' }));
  };

  private fail(err: unknown): void {
    if (this.failure !== undefined || this.ended) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.detach();
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    if (this.failure !== undefined) w.reject(this.failure);
    else w.resolve({ done: true, value: undefined });
  }

  private detach(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('close', this.onClose);
    // keep an 'error' listener: a late socket error must not become an uncaught exception
    this.req.on('error', () => undefined);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head] as Uint8Array;
      this.queue[this.head++] = EMPTY;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        if (this.req.isPaused() && this.failure === undefined) this.req.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    if (this.req.isPaused()) this.req.resume();
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The consumer stopped early: like a stream's async iterator, destroy the unread request. */
  return(): Promise<IteratorResult<Uint8Array>> {
    const unfinished = !this.ended;
    this.ended = true;
    this.queue.length = 0;
    this.head = 0;
    this.detach();
    if (unfinished) this.req.destroy();
    return Promise.resolve({ done: true, value: undefined });
  }
}

const EMPTY = new Uint8Array(0);
