// Runs an async iterator ahead of its consumer, holding at most `max` items, so that several
// listings can be in flight while one is being read. Stopping the consumer stops the producer.

export function prefetched<T>(source: AsyncIterator<T>, max: number): AsyncGenerator<T> {
  const buf: T[] = [];
  let done = false;
  let stopped = false;
  let failure: { err: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (): void => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  void (async () => {
    try {
      for (;;) {
        while (buf.length >= max && !stopped) await new Promise<void>((r) => (wakeProducer = r));
        if (stopped) break;
        const r = await source.next();
        if (r.done === true) break;
        buf.push(r.value);
        wake();
      }
    } catch (err) {
      failure = { err };
    } finally {
      done = true;
      wake();
    }
  })();
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    wakeProducer?.();
    wakeProducer = undefined;
    if (!done) void source.return?.(undefined)?.catch(() => undefined);
  };
  const consumer = (async function* () {
    try {
      for (;;) {
        if (buf.length > 0) {
          const v = buf.shift() as T;
          wakeProducer?.();
          wakeProducer = undefined;
          yield v;
          continue;
        }
        if (failure !== undefined) throw failure.err;
        if (done) return;
        await new Promise<void>((r) => (wakeConsumer = r));
      }
    } finally {
      stop();
    }
  })();
  // return() on a generator that has not started yet skips its finally block, and listings start
  // sub-listings ahead that may never be read: stop the producer then too.
  const ret = consumer.return.bind(consumer);
  consumer.return = (value) => {
    stop();
    return ret(value);
  };
  return consumer;
}

/** A counting semaphore: at most `limit` holders at once. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active += 1;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}
