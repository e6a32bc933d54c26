// The backend conformance suite: every Backend implementation's test calls runBackendConformance()
// in a few lines, so all stores keep the same contract (create-only, verified, atomic, typed errors).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test, before, after } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { BackendError, isBackendError } from '../../src/backend/errors.js';
import { FILE_TYPES, type FileType, type Handle } from '../../src/backend/handle.js';

export interface BackendUnderTest {
  readonly backend: Backend;
  cleanup(): Promise<void>;
}

export function blob(size: number): { data: Buffer; id: string } {
  const data = randomBytes(size);
  return { data, id: createHash('sha256').update(data).digest('hex') };
}

async function readAll(s: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function names(b: Backend, t: FileType): Promise<string[]> {
  const out: string[] = [];
  for await (const f of b.list(t)) out.push(f.name);
  return out.sort();
}

async function* failingBody(first: Buffer): AsyncIterable<Uint8Array> {
  yield first;
  await new Promise((r) => setTimeout(r, 5));
  throw new Error('client went away');
}

async function assertCode(p: Promise<unknown>, code: BackendError['code']): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBackendError(err), `expected a BackendError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

export function runBackendConformance(name: string, open: () => Promise<BackendUnderTest>): void {
  describe(`backend conformance: ${name}`, () => {
    let t: BackendUnderTest;
    let b: Backend;
    before(async () => {
      t = await open();
      b = t.backend;
      await b.create();
      await b.create(); // idempotent
    });
    after(async () => t.cleanup());

    test('declares atomic create and SHA-256 verification', () => {
      assert.deepEqual(b.capabilities, { atomicCreate: true, verifiesSha256: true });
    });

    test('a missing type lists as empty, a missing file is NOT_FOUND', async () => {
      for (const ty of FILE_TYPES) assert.deepEqual(await names(b, ty), []);
      await assertCode(b.stat({ type: 'keys', name: blob(1).id }), 'NOT_FOUND');
      await assertCode(b.load({ type: 'data', name: blob(1).id }), 'NOT_FOUND');
      await assertCode(b.remove({ type: 'locks', name: blob(1).id }), 'NOT_FOUND');
      await assertCode(b.stat({ type: 'config' }), 'NOT_FOUND');
    });

    test('save, stat, load, list and remove each type', async () => {
      for (const ty of FILE_TYPES) {
        const f = blob(1000 + FILE_TYPES.indexOf(ty));
        const h: Handle = { type: ty, name: f.id };
        assert.equal(await b.save(h, [f.data], { size: f.data.length }), 'created');
        assert.equal((await b.stat(h)).size, f.data.length);
        assert.deepEqual(await readAll(await b.load(h)), f.data);
        assert.deepEqual(await names(b, ty), [f.id]);
        const listed = [];
        for await (const x of b.list(ty)) listed.push(x);
        assert.deepEqual(listed, [{ name: f.id, size: f.data.length }]);
        await b.remove(h);
        assert.deepEqual(await names(b, ty), []);
      }
    });

    test('load honours offset and length, and refuses an offset past the end', async () => {
      const f = blob(4096);
      const h: Handle = { type: 'data', name: f.id };
      await b.save(h, [f.data]);
      assert.deepEqual(await readAll(await b.load(h, { offset: 100, length: 50 })), f.data.subarray(100, 150));
      assert.deepEqual(await readAll(await b.load(h, { offset: 4000 })), f.data.subarray(4000));
      assert.deepEqual(await readAll(await b.load(h, { offset: 4000, length: 1000 })), f.data.subarray(4000));
      await assertCode(b.load(h, { offset: 5000 }), 'RANGE');
    });

    test('a body that does not hash to its name is refused and nothing is stored', async () => {
      const f = blob(2000);
      const other = blob(10);
      await assertCode(b.save({ type: 'snapshots', name: other.id }, [f.data]), 'INTEGRITY');
      await assertCode(b.stat({ type: 'snapshots', name: other.id }), 'NOT_FOUND');
      assert.deepEqual(await names(b, 'snapshots'), []);
    });

    test('a body shorter or longer than announced is refused', async () => {
      const f = blob(3000);
      await assertCode(b.save({ type: 'index', name: f.id }, [f.data], { size: f.data.length + 1 }), 'INTEGRITY');
      await assertCode(b.save({ type: 'index', name: f.id }, [f.data], { size: f.data.length - 1 }), 'INTEGRITY');
      assert.deepEqual(await names(b, 'index'), []);
    });

    test('a body that fails half-way leaves nothing visible', async () => {
      const f = blob(100_000);
      await assert.rejects(b.save({ type: 'data', name: f.id }, failingBody(f.data.subarray(0, 50_000)), { size: f.data.length }));
      await assertCode(b.stat({ type: 'data', name: f.id }), 'NOT_FOUND');
      assert.ok(!(await names(b, 'data')).includes(f.id));
    });

    test('an identical re-upload is "existed"; config is never replaced', async () => {
      const f = blob(500);
      const h: Handle = { type: 'keys', name: f.id };
      assert.equal(await b.save(h, [f.data]), 'created');
      assert.equal(await b.save(h, [f.data]), 'existed');
      const cfg = Buffer.from('config-v1');
      assert.equal(await b.save({ type: 'config' }, [cfg]), 'created');
      assert.equal(await b.save({ type: 'config' }, [cfg]), 'existed');
      await assertCode(b.save({ type: 'config' }, [Buffer.from('config-v2')]), 'ALREADY_EXISTS');
      assert.deepEqual(await readAll(await b.load({ type: 'config' })), cfg);
    });

    test('concurrent uploads of one id store exactly one intact file', async () => {
      const f = blob(1 << 20);
      const h: Handle = { type: 'data', name: f.id };
      const chunks = (d: Buffer): Buffer[] => Array.from({ length: 16 }, (_, i) => d.subarray(i * 65536, (i + 1) * 65536));
      const results = await Promise.all(Array.from({ length: 6 }, () => b.save(h, chunks(f.data), { size: f.data.length })));
      assert.equal(results.filter((r) => r === 'created').length, 1);
      assert.equal(results.filter((r) => r === 'existed').length, 5);
      assert.deepEqual(await readAll(await b.load(h)), f.data);
      assert.equal((await names(b, 'data')).filter((n) => n === f.id).length, 1);
    });
  });
}
