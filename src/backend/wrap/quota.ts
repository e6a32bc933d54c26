// Size limits: the whole store (--max-size) and per-user totals from the config file.
// An upload reserves its announced size before a byte is written (so parallel uploads cannot all
// pass one check), a body of unknown length reserves each chunk as it streams, and a reservation is
// turned into usage when the file is stored or released when the upload fails. Usage is measured on
// first use and again periodically and when a request would exceed the limit (files the trusted host
// pruned on disk are then no longer counted).
import type { Backend, Body, CallOptions, SaveOptions } from '../backend.js';
import { CHUNKS_HANDED_OVER, handsOverChunks, type HandedOverBody } from '../chunks.js';
import { BackendError } from '../errors.js';
import type { Handle } from '../handle.js';
import { delegate } from './delegate.js';

export interface QuotaOptions {
  /** A request that would exceed the limit re-measures first when the last measurement is this old (default 30 s). */
  readonly remeasureWhenFullMs?: number;
  /** Usage is re-measured in the background when the last measurement is this old (default 10 min). */
  readonly remeasureEveryMs?: number;
  /** Told when a background re-measurement failed (the previous numbers stay in use). */
  readonly onMeasureError?: (err: unknown) => void;
  readonly now?: () => number;
}

export class Quota {
  /** Bytes found by the last measurement, undefined before the first. */
  private measured: number | undefined;
  private measuredAt = 0;
  private measuring: Promise<void> | undefined;
  /** Bytes stored minus bytes removed through this server since the last measurement started. */
  private delta = 0;
  /** Bytes of uploads in flight. */
  private reserved = 0;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    readonly limit: number,
    private readonly measure: () => Promise<number>,
    private readonly opts: QuotaOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Bytes stored (as last measured and counted since), without uploads in flight. */
  async usage(): Promise<number> {
    await this.ensureMeasured();
    return (this.measured ?? 0) + this.delta;
  }

  /** Bytes reserved by uploads in flight. */
  get inFlight(): number {
    return this.reserved;
  }

  /**
   * Reserves room for `bytes` about to be written, or throws NO_SPACE. The caller MUST later call
   * `stored` or `release` with the same amount.
   */
  async reserve(bytes: number): Promise<void> {
    await this.ensureMeasured();
    if (this.tryReserve(bytes)) return;
    if (this.now() - this.measuredAt >= (this.opts.remeasureWhenFullMs ?? 30_000)) {
      await this.remeasure();
      if (this.tryReserve(bytes)) return;
    }
    const used = (this.measured ?? 0) + this.delta;
    throw new BackendError('NO_SPACE', `quota "${this.name}" exceeded: ${used} of ${this.limit} bytes used, ${this.reserved} reserved by uploads in progress, ${bytes} more requested`);
  }

  /** A reserved upload was stored: its `reserved` bytes become `size` bytes of usage. */
  stored(reserved: number, size: number): void {
    this.reserved -= reserved;
    this.delta += size;
  }

  release(bytes: number): void {
    this.reserved -= bytes;
  }

  removed(bytes: number): void {
    this.delta -= bytes;
  }

  private tryReserve(bytes: number): boolean {
    if ((this.measured ?? 0) + this.delta + this.reserved + bytes > this.limit) return false;
    this.reserved += bytes;
    return true;
  }

  private async ensureMeasured(): Promise<void> {
    if (this.measured === undefined) {
      await this.remeasure();
      return;
    }
    if (this.measuring === undefined && this.now() - this.measuredAt >= (this.opts.remeasureEveryMs ?? 600_000)) {
      this.remeasure().catch((err: unknown) => {
        this.measuredAt = this.now(); // try again after another period, not on every request
        this.opts.onMeasureError?.(err);
      });
    }
  }

  /** One measurement at a time; changes counted while it runs are kept (counted twice at worst: the safe side). */
  private remeasure(): Promise<void> {
    this.measuring ??= (async () => {
      const deltaBefore = this.delta;
      try {
        const bytes = await this.measure();
        this.measured = bytes;
        this.delta -= deltaBefore;
        this.measuredAt = this.now();
      } finally {
        this.measuring = undefined;
      }
    })();
    return this.measuring;
  }
}

/** Reserves `bytes` in every quota, or none of them. */
async function reserveAll(quotas: readonly Quota[], bytes: number): Promise<void> {
  for (let i = 0; i < quotas.length; i++) {
    try {
      await (quotas[i] as Quota).reserve(bytes);
    } catch (err) {
      for (const q of quotas.slice(0, i)) q.release(bytes);
      throw err;
    }
  }
}

/** The body with each chunk reserved before the backend sees it; a chunk that does not fit fails the read. */
function reservingChunks(body: Body, quotas: readonly Quota[], counter: { reserved: number }): Body {
  const iterate = (): AsyncIterator<Uint8Array> => {
    const inner = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : toAsync(body[Symbol.iterator]());
    return {
      async next() {
        const r = await inner.next();
        if (r.done !== true) {
          await reserveAll(quotas, r.value.length);
          counter.reserved += r.value.length;
        }
        return r;
      },
      // Not called when next() fails: the request stays readable, so the client still gets the 507.
      return: async () => (await inner.return?.()) ?? { done: true, value: undefined },
    };
  };
  if (!handsOverChunks(body)) return { [Symbol.asyncIterator]: iterate };
  const handedOver: HandedOverBody = { [CHUNKS_HANDED_OVER]: true, [Symbol.asyncIterator]: iterate };
  return handedOver;
}

function toAsync(it: Iterator<Uint8Array>): AsyncIterator<Uint8Array> {
  return { next: () => Promise.resolve(it.next()) };
}

export function withQuotas(inner: Backend, quotas: readonly Quota[]): Backend {
  if (quotas.length === 0) return inner;
  return {
    ...delegate(inner),
    async save(h: Handle, body: Body, opts: SaveOptions = {}) {
      const counter = { reserved: 0 };
      let streamed = body;
      if (opts.size !== undefined) {
        await reserveAll(quotas, opts.size);
        counter.reserved = opts.size;
      } else {
        streamed = reservingChunks(body, quotas, counter);
      }
      let result;
      try {
        result = await inner.save(h, streamed, opts);
      } catch (err) {
        for (const q of quotas) q.release(counter.reserved);
        throw err;
      }
      // A body of announced size was verified to have that size; an unannounced one is what streamed.
      for (const q of quotas) q.stored(counter.reserved, result === 'created' ? counter.reserved : 0);
      return result;
    },
    async remove(h: Handle, opts?: CallOptions) {
      const { size } = await inner.stat(h, opts);
      await inner.remove(h, opts);
      for (const q of quotas) q.removed(size);
    },
  };
}
