// The in-memory twin against the VersionedBuckets conformance suite, plus what only the twin has
// (its clock, call counters and dropVersion).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runVersionedBucketsConformance } from '../../test/conformance/versioned-buckets.js';
import type { VersionRecord } from './bucket.js';
import { MemoryBuckets } from './memory-buckets.js';

runVersionedBucketsConformance('memory', async () => {
  const m = new MemoryBuckets();
  m.createBucket('versioned');
  m.createBucket('plain', 'Unversioned');
  return {
    buckets: m,
    bucket: 'versioned',
    unversionedBucket: 'plain',
    write: async (key, data) => void m.write('versioned', key, data),
    remove: async (key) => void m.remove('versioned', key),
    cleanup: async () => undefined,
  };
});

describe('MemoryBuckets specifics', () => {
  const all = async (m: MemoryBuckets, bucket: string): Promise<VersionRecord[]> => {
    const out: VersionRecord[] = [];
    for await (const r of m.listVersions(bucket, '')) out.push(r);
    return out;
  };

  test('LastModified comes from the settable clock; owners are recorded', async () => {
    const m = new MemoryBuckets('alice');
    m.createBucket('b');
    m.now = Date.parse('2026-03-01T00:00:00Z');
    const a = m.write('b', 'k', 'one');
    const d = m.remove('b', 'k', 'mallory');
    assert.ok(a.lastModified > Date.parse('2026-03-01T00:00:00Z'));
    assert.ok(d.lastModified > a.lastModified);
    assert.deepEqual((await all(m, 'b')).map((r) => [r.owner, r.deleteMarker, r.isLatest]), [
      ['mallory', true, true],
      ['alice', false, false],
    ]);
  });

  test('dropVersion removes one version for good and the next one becomes latest', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    const v1 = m.write('b', 'k', 'one');
    const v2 = m.write('b', 'k', 'two');
    m.dropVersion('b', 'k', v2.versionId);
    assert.deepEqual((await all(m, 'b')).map((r) => [r.versionId, r.isLatest]), [[v1.versionId, true]]);
    m.dropVersion('b', 'k', v1.versionId);
    assert.deepEqual(await all(m, 'b'), []);
  });

  test('an unversioned bucket keeps one "null" version per key', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b', 'Unversioned');
    m.write('b', 'k', 'one');
    m.write('b', 'k', 'two');
    assert.deepEqual((await all(m, 'b')).map((r) => [r.versionId, r.size]), [['null', 3]]);
  });

  test('counts the calls that read and change versions', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    const v = m.write('b', 'k', 'one');
    await all(m, 'b');
    await m.read({ bucket: 'b', key: 'k', versionId: v.versionId });
    await m.copy({ bucket: 'b', key: 'k', versionId: v.versionId }, { bucket: 'b', key: 'k2' });
    await m.hide('b', 'k');
    await m.putNew('b', 'k3', Buffer.from('x'), 1);
    const { list, read, copy, hide, put } = m.calls;
    assert.deepEqual({ list, read, copy, hide, put }, { list: 1, read: 1, copy: 1, hide: 1, put: 1 });
  });
});
