import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryBackend } from '../memory.js';
import { isBackendError } from '../errors.js';
import { createLocalLedger, localLedgerFile, readLocalLedger, type ArrivalLedger, type ArrivalRecord } from '../../ledger/arrival.js';
import { withLedger } from './ledger.js';

const blob = (n: number): { data: Buffer; name: string } => {
  const data = randomBytes(n);
  return { data, name: createHash('sha256').update(data).digest('hex') };
};

test('ledger wrapper: a stored snapshot (and its retry) is recorded with repository, user and address; other files are not', async () => {
  const got: Omit<ArrivalRecord, 'v' | 'arrived'>[] = [];
  const b = withLedger(new MemoryBackend(), { append: async (r) => void got.push(r) }, { repo: 'alice/laptop', user: 'alice', addr: '127.0.0.9' });
  const s = blob(300);
  const d = blob(100);
  await b.save({ type: 'data', name: d.name }, [d.data], { size: 100 });
  assert.equal(got.length, 0);
  assert.equal(await b.save({ type: 'snapshots', name: s.name }, [s.data], { size: 300 }), 'created');
  assert.deepEqual(got, [{ repo: 'alice/laptop', id: s.name, size: 300, user: 'alice', addr: '127.0.0.9' }]);
  assert.equal(await b.save({ type: 'snapshots', name: s.name }, [s.data]), 'existed');
  assert.equal(got.length, 2, 'a retried upload is recorded again (the earliest record wins)');
  assert.equal(got[1]?.size, 300, 'size from stat when the upload did not announce one');
});

test('ledger wrapper: a ledger that cannot record makes the upload fail with UNAVAILABLE (restic retries), the file stays', async () => {
  const failing: ArrivalLedger = { append: () => Promise.reject(new Error('disk full')) };
  const inner = new MemoryBackend();
  const b = withLedger(inner, failing, { repo: '' });
  const s = blob(50);
  await assert.rejects(b.save({ type: 'snapshots', name: s.name }, [s.data], { size: 50 }), (e) => isBackendError(e, 'UNAVAILABLE') && /could not be recorded/.test((e as Error).message));
  assert.equal((await inner.stat({ type: 'snapshots', name: s.name })).size, 50);
});

test('local ledger: appends JSON lines under root/.rwm/ledger/<repo>/, stdio base segments prefix the repository, mode 0600', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rwm-ledger-'));
  try {
    const id = 'a'.repeat(64);
    let t = Date.parse('2026-12-01T10:00:00Z');
    const now = (): Date => new Date((t += 1000));
    await createLocalLedger(root, [], now).append({ repo: 'web1', id, size: 10, user: 'u' });
    await createLocalLedger(root, ['hosts', 'web2'], now).append({ repo: '', id, size: 11 });
    const one = await readLocalLedger(localLedgerFile(root, 'web1'));
    assert.deepEqual(one, { records: [{ v: 1, repo: 'web1', id, size: 10, user: 'u', arrived: '2026-12-01T10:00:01.000Z' }], bad: 0 });
    const two = await readLocalLedger(localLedgerFile(root, 'hosts/web2'));
    assert.equal(two.records[0]?.repo, 'hosts/web2');
    const { stat } = await import('node:fs/promises');
    assert.equal((await stat(localLedgerFile(root, 'web1'))).mode & 0o777, 0o600);
    assert.deepEqual(await readLocalLedger(join(root, 'nothing.jsonl')), { records: [], bad: 0 });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
