import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MemoryBackend } from '../memory.js';
import { isBackendError } from '../errors.js';
import { FILE_TYPES, type Handle } from '../handle.js';
import { appendOnly } from './append-only.js';

test('append-only: files can be added and locks deleted, nothing else', async () => {
  const inner = new MemoryBackend();
  const b = appendOnly(inner);
  const handles: Handle[] = [];
  for (const type of FILE_TYPES) {
    const data = randomBytes(64);
    const h: Handle = { type, name: createHash('sha256').update(data).digest('hex') };
    assert.equal(await b.save(h, [data]), 'created');
    handles.push(h);
  }
  for (const h of handles) {
    if (h.type === 'locks') {
      await b.remove(h);
      await assert.rejects(inner.stat(h), (e) => isBackendError(e, 'NOT_FOUND'));
    } else {
      await assert.rejects(b.remove(h), (e) => isBackendError(e, 'FORBIDDEN'));
      assert.equal((await inner.stat(h)).size, 64);
    }
  }
  await assert.rejects(b.remove({ type: 'config' }), (e) => isBackendError(e, 'FORBIDDEN'));
});
