import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prefetched, Semaphore } from './prefetch.js';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

/** A source that counts how far it was pulled and whether it was stopped. */
function counting(n: number, fail?: { at: number; err: Error }): { source: AsyncGenerator<number>; pulled: () => number; finished: () => boolean } {
  let pulled = 0;
  let finished = false;
  const source = (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        if (fail !== undefined && i === fail.at) throw fail.err;
        pulled += 1;
        yield i;
      }
    } finally {
      finished = true;
    }
  })();
  return { source, pulled: () => pulled, finished: () => finished };
}

describe('prefetched', () => {
  test('yields everything in order', async () => {
    const { source, finished } = counting(50);
    const out: number[] = [];
    for await (const x of prefetched(source, 3)) out.push(x);
    assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => i));
    assert.equal(finished(), true);
  });

  test('holds at most `max` items ahead of its consumer', async () => {
    const { source, pulled } = counting(100);
    const it = prefetched(source, 4);
    await settle();
    assert.equal(pulled(), 4, 'runs ahead up to max before anyone reads');
    assert.equal((await it.next()).value, 0);
    await settle();
    assert.equal(pulled(), 5);
    for (let i = 1; i <= 3; i++) assert.equal((await it.next()).value, i);
    await settle();
    assert.equal(pulled(), 8);
    await it.return(undefined);
  });

  test('an error reaches the consumer after the items before it', async () => {
    const boom = new Error('boom');
    const { source } = counting(10, { at: 3, err: boom });
    const out: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const x of prefetched(source, 2)) out.push(x);
      })(),
      (err: unknown) => err === boom,
    );
    assert.deepEqual(out, [0, 1, 2]);
  });

  test('an error thrown by the first pull propagates too', async () => {
    const boom = new Error('at once');
    const { source } = counting(10, { at: 0, err: boom });
    await assert.rejects(prefetched(source, 2).next(), (err: unknown) => err === boom);
  });

  test('returning early stops the producer and returns the source', async () => {
    const { source, pulled, finished } = counting(1_000_000);
    for await (const x of prefetched(source, 2)) if (x === 5) break;
    await settle();
    assert.equal(finished(), true, 'the source was returned');
    const n = pulled();
    assert.ok(n <= 9, `pulled ${n} items for 6 read`);
    await settle();
    assert.equal(pulled(), n, 'the producer stopped');
  });

  test('returning before the first read stops the producer too', async () => {
    const { source, pulled, finished } = counting(1_000_000);
    const it = prefetched(source, 2);
    await settle();
    await it.return(undefined);
    await settle();
    assert.equal(finished(), true, 'the source was returned');
    assert.ok(pulled() <= 3, `pulled ${pulled()}`);
  });

  test('a slow consumer does not lose or duplicate items', async () => {
    const { source } = counting(30);
    const out: number[] = [];
    for await (const x of prefetched(source, 1)) {
      out.push(x);
      if (x % 7 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    assert.deepEqual(out, Array.from({ length: 30 }, (_, i) => i));
  });
});

describe('Semaphore', () => {
  test('at most `limit` holders at once, and every task runs', async () => {
    const s = new Semaphore(3);
    let active = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.run(async () => {
          active += 1;
          most = Math.max(most, active);
          await new Promise((r) => setTimeout(r, 1 + (i % 4)));
          active -= 1;
          return i;
        }),
      ),
    );
    assert.equal(most, 3);
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i));
  });

  test('a failing holder releases its place', async () => {
    const s = new Semaphore(1);
    await assert.rejects(s.run(() => Promise.reject(new Error('no'))));
    assert.equal(await s.run(async () => 'next'), 'next');
  });
});
