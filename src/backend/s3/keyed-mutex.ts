// Runs work for one key at a time. Two uploads of the same file through one server then never
// race each other: the second finds the first's object and compares, instead of writing again
// (on a versioned bucket S3 would otherwise keep both as versions). The wait is bounded: a stalled
// first upload must not hang restic's retry of the same file forever.
import { BackendError } from '../errors.js';

export interface WaitOptions {
  /** Stop waiting (UNAVAILABLE) when this aborts: the client went away. */
  readonly signal?: AbortSignal | undefined;
  /** Give up (UNAVAILABLE, the client retries) after this long. */
  readonly waitMs?: number;
}

export const DEFAULT_KEY_WAIT_MS = 30_000;

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    // The key is free once `tail` settles, which is after `prev` too: a waiter that gave up releases
    // at once, and those behind it still wait for the holder before it.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    try {
      await waitFor(prev, key, opts);
    } catch (err) {
      release();
      throw err;
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get size(): number {
    return this.tails.size;
  }
}

function waitFor(prev: Promise<void>, key: string, opts: WaitOptions): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted === true) return Promise.reject(new BackendError('UNAVAILABLE', `${key}: aborted`, { cause: signal.reason }));
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new BackendError('UNAVAILABLE', `${key}: another upload of the same file is still in progress, retry later`));
    }, opts.waitMs ?? DEFAULT_KEY_WAIT_MS);
    const onAbort = (): void => {
      cleanup();
      reject(new BackendError('UNAVAILABLE', `${key}: aborted`, { cause: signal?.reason }));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void prev.then(() => {
      cleanup();
      resolve();
    });
  });
}
