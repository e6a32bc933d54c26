// Size limits: the whole store (--max-size) and per-user totals from the config file. Usage is
// measured once (lazily) and then kept up to date by the writes and deletes that pass through.
import type { Backend, Body, CallOptions, SaveOptions } from '../backend.js';
import { BackendError } from '../errors.js';
import type { Handle } from '../handle.js';
import { delegate } from './delegate.js';

export class Quota {
  private used: Promise<number> | undefined;
  private delta = 0;

  constructor(
    readonly name: string,
    readonly limit: number,
    private readonly measure: () => Promise<number>,
  ) {}

  async usage(): Promise<number> {
    this.used ??= this.measure().catch((err: unknown) => {
      this.used = undefined;
      throw err;
    });
    return (await this.used) + this.delta;
  }

  async assertRoom(bytes: number): Promise<void> {
    const used = await this.usage();
    if (used + bytes > this.limit) {
      throw new BackendError('NO_SPACE', `quota "${this.name}" exceeded: ${used} of ${this.limit} bytes used, ${bytes} more requested`);
    }
  }

  add(bytes: number): void {
    this.delta += bytes;
  }
}

export function withQuotas(inner: Backend, quotas: readonly Quota[]): Backend {
  if (quotas.length === 0) return inner;
  return {
    ...delegate(inner),
    async save(h: Handle, body: Body, opts: SaveOptions = {}) {
      for (const q of quotas) await q.assertRoom(opts.size ?? 0);
      const result = await inner.save(h, body, opts);
      if (result === 'created') {
        const { size } = await inner.stat(h, opts);
        for (const q of quotas) q.add(size);
      }
      return result;
    },
    async remove(h: Handle, opts?: CallOptions) {
      const { size } = await inner.stat(h, opts);
      await inner.remove(h, opts);
      for (const q of quotas) q.add(-size);
    },
  };
}
