// Maps an async stream with up to `concurrency` calls in flight, yielding results in input order
// (so a sorted input stays sorted while the work on it runs in parallel).

export async function* orderedMap<T, R>(input: AsyncIterable<T>, concurrency: number, f: (x: T) => Promise<R>): AsyncGenerator<R> {
  const window: Promise<R>[] = [];
  const limit = Math.max(1, concurrency);
  for await (const x of input) {
    const p = f(x);
    p.catch(() => undefined); // awaited below, in order; this only keeps it from being "unhandled" meanwhile
    window.push(p);
    if (window.length >= limit) yield await (window.shift() as Promise<R>);
  }
  while (window.length > 0) yield await (window.shift() as Promise<R>);
}

/** Groups a key-sorted record stream by key (one key's records held at a time). */
export async function* groupBy<T>(input: AsyncIterable<T>, keyOf: (x: T) => string): AsyncGenerator<T[]> {
  let group: T[] = [];
  let key: string | undefined;
  for await (const x of input) {
    const k = keyOf(x);
    if (k !== key && group.length > 0) {
      yield group;
      group = [];
    }
    key = k;
    group.push(x);
  }
  if (group.length > 0) yield group;
}
