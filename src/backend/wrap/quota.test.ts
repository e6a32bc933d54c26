import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MemoryBackend } from '../memory.js';
import { isBackendError } from '../errors.js';
import { Quota, withQuotas } from './quota.js';

const blob = (n: number): { data: Buffer; name: string } => {
  const data = randomBytes(n);
  return { data, name: createHash('sha256').update(data).digest('hex') };
};

test('quota: counts existing usage, refuses beyond the limit, frees on delete', async () => {
  const q = new Quota('t', 1000, async () => 300);
  const b = withQuotas(new MemoryBackend(), [q]);
  const a = blob(600);
  await b.save({ type: 'data', name: a.name }, [a.data], { size: 600 });
  assert.equal(await q.usage(), 900);
  const c = blob(200);
  await assert.rejects(b.save({ type: 'data', name: c.name }, [c.data], { size: 200 }), (e) => isBackendError(e, 'NO_SPACE'));
  await b.remove({ type: 'data', name: a.name });
  assert.equal(await q.usage(), 300);
  await b.save({ type: 'data', name: c.name }, [c.data], { size: 200 });
  assert.equal(await q.usage(), 500);
});

test('quota: parallel uploads reserve before writing, so together they cannot pass the limit', async () => {
  const q = new Quota('t', 1000, async () => 0);
  const b = withQuotas(new MemoryBackend(), [q]);
  const blobs = Array.from({ length: 8 }, () => blob(400));
  const results = await Promise.allSettled(blobs.map((x) => b.save({ type: 'data', name: x.name }, [x.data], { size: 400 })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
  assert.ok(results.every((r) => r.status === 'fulfilled' || isBackendError(r.reason, 'NO_SPACE')));
  assert.equal(await q.usage(), 800);
  assert.equal(q.inFlight, 0, 'refused uploads released nothing they did not hold');
});

test('quota: a body of unknown length is counted as it streams, refused when it outgrows the room, and released', async () => {
  const q = new Quota('t', 1000, async () => 0);
  const inner = new MemoryBackend();
  const b = withQuotas(inner, [q]);
  const big = blob(3000);
  const chunks = [0, 1, 2].map((i) => big.data.subarray(i * 1000, (i + 1) * 1000));
  await assert.rejects(b.save({ type: 'data', name: big.name }, chunks), (e) => isBackendError(e, 'NO_SPACE'));
  await assert.rejects(inner.stat({ type: 'data', name: big.name }), (e) => isBackendError(e, 'NOT_FOUND'));
  assert.equal(q.inFlight, 0);
  assert.equal(await q.usage(), 0);
  const ok = blob(700);
  await b.save({ type: 'data', name: ok.name }, [ok.data.subarray(0, 300), ok.data.subarray(300)]);
  assert.equal(await q.usage(), 700, 'an unannounced body counts for what streamed');
  // a failed upload (bad hash) releases what it reserved
  await assert.rejects(b.save({ type: 'data', name: blob(10).name }, [randomBytes(200)], { size: 200 }), (e) => isBackendError(e, 'INTEGRITY'));
  assert.equal(q.inFlight, 0);
  assert.equal(await q.usage(), 700);
});

test('quota: usage is measured again when a request would exceed it, and periodically', async () => {
  let onDisk = 900;
  let now = 0;
  const q = new Quota('t', 1000, async () => onDisk, { remeasureWhenFullMs: 30_000, remeasureEveryMs: 600_000, now: () => now });
  const b = withQuotas(new MemoryBackend(), [q]);
  const x = blob(200);
  await assert.rejects(b.save({ type: 'data', name: x.name }, [x.data], { size: 200 }), (e) => isBackendError(e, 'NO_SPACE'));
  onDisk = 100; // the trusted host pruned on disk
  now = 10_000;
  await assert.rejects(b.save({ type: 'data', name: x.name }, [x.data], { size: 200 }), (e) => isBackendError(e, 'NO_SPACE'), 'not measured again at once');
  now = 31_000;
  await b.save({ type: 'data', name: x.name }, [x.data], { size: 200 });
  assert.equal(await q.usage(), 300);
  // periodically, in the background: the next request sees the new numbers
  onDisk = 50;
  now = 700_000;
  await q.usage();
  await new Promise((r) => setImmediate(r));
  assert.equal(await q.usage(), 50);
});
