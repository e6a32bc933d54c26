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
