import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBackendError } from '../errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { UploadBudget } from './upload-budget.js';

test('keyed mutex: a stalled holder makes later uploads of the key give up (UNAVAILABLE) instead of hanging; order is kept', async () => {
  const m = new KeyedMutex();
  let unstall!: () => void;
  const stalled = m.run('k', () => new Promise<string>((r) => (unstall = () => r('first'))));
  const started = Date.now();
  await assert.rejects(m.run('k', async () => 'retry', { waitMs: 50 }), (e) => isBackendError(e, 'UNAVAILABLE') && /still in progress/.test(e.message));
  assert.ok(Date.now() - started < 1000);
  // another key is not held up
  assert.equal(await m.run('other', async () => 'x', { waitMs: 50 }), 'x');
  // a waiter that gave up does not let the next one in before the holder is done
  const order: string[] = [];
  const next = m.run('k', async () => void order.push('next'), { waitMs: 5000 });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, []);
  unstall();
  assert.equal(await stalled, 'first');
  await next;
  assert.deepEqual(order, ['next']);
  await new Promise((r) => setImmediate(r));
  assert.equal(m.size, 0);
});

test('keyed mutex: a waiter whose client went away stops waiting', async () => {
  const m = new KeyedMutex();
  let unstall!: () => void;
  const stalled = m.run('k', () => new Promise<void>((r) => (unstall = r)));
  const ac = new AbortController();
  const waiting = m.run('k', async () => 'never', { signal: ac.signal, waitMs: 60_000 });
  ac.abort();
  await assert.rejects(waiting, (e) => isBackendError(e, 'UNAVAILABLE'));
  unstall();
  await stalled;
  await new Promise((r) => setImmediate(r));
  assert.equal(m.size, 0);
});

test('upload budget: refuses what does not fit, gives back', () => {
  const b = new UploadBudget(10);
  b.take(6, 'a');
  assert.throws(() => b.take(5, 'b'), (e) => isBackendError(e, 'UNAVAILABLE') && /retry later/.test((e as Error).message));
  b.take(4, 'c');
  b.give(6);
  b.take(5, 'd');
  assert.equal(b.inUse, 9);
});
