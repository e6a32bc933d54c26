import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VersionRecord } from '../s3/bucket.js';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { stateAt } from './at-time.js';
import type { StateEntry } from './format.js';
import { verifyStates } from './verify.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A listing that counts how often it is read. */
function counted(m: MemoryBuckets, bucket: string, prefix: string): { listing: AsyncIterable<VersionRecord>; passes: () => number } {
  let passes = 0;
  return {
    listing: {
      [Symbol.asyncIterator]: () => {
        passes += 1;
        return m.listVersions(bucket, prefix)[Symbol.asyncIterator]();
      },
    },
    passes: () => passes,
  };
}

describe('verifyStates', () => {
  test('every version still there: nothing missing', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    for (const k of ['p/a', 'p/b', 'p/c']) m.write('b', k, k);
    m.remove('b', 'p/b');
    const state = await collect(stateAt(m.listVersions('b', 'p/'), Infinity));
    const c = counted(m, 'b', 'p/');
    assert.deepEqual(await verifyStates([from(state)], c.listing, 'p/'), [{ checked: 3, missing: 0, examples: [] }]);
    assert.equal(c.passes(), 1);
  });

  test('missing and changed versions are counted per state, many states in one pass', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    for (const k of ['a', 'b', 'c', 'd']) m.write('b', k, `${k}1`);
    const s1 = await collect(stateAt(m.listVersions('b', ''), Infinity));
    m.write('b', 'b', 'b2');
    m.write('b', 'e', 'e1');
    m.remove('b', 'c');
    const s2 = await collect(stateAt(m.listVersions('b', ''), Infinity));
    // Versions removed for good (a purge, or someone with the owner's keys).
    const va = s1.find((e) => e.key === 'a') as StateEntry;
    m.dropVersion('b', 'a', va.versionId);
    const vc = s2.find((e) => e.key === 'c') as StateEntry;
    m.dropVersion('b', 'c', vc.versionId); // the marker on top of c
    const ve = s2.find((e) => e.key === 'e') as StateEntry;
    m.dropVersion('b', 'e', ve.versionId); // e is gone completely: only in s2
    // A forged state: the right version ids with another size or ETag.
    const forged = s1.map((e) => (e.key === 'b' ? { ...e, size: e.size + 1 } : e.key === 'd' ? { ...e, etag: 'f'.repeat(32) } : e));
    const c = counted(m, 'b', '');
    const [r1, r2, r3, empty] = await verifyStates([from(s1), from(s2), from(forged), from([])], c.listing, '');
    assert.equal(c.passes(), 1, 'one listing for all the states');
    assert.deepEqual(r1, { checked: 4, missing: 1, examples: ['a'] });
    assert.deepEqual(r2, { checked: 5, missing: 3, examples: ['a', 'c', 'e'] }, 'a was in both states');
    assert.deepEqual(r3, { checked: 4, missing: 3, examples: ['a', 'b', 'd'] });
    assert.deepEqual(empty, { checked: 0, missing: 0, examples: [] });
  });

  test('a state entry that is a marker where the listing has a version (or the other way) is missing', async () => {
    const rec = (key: string, versionId: string, deleteMarker: boolean): VersionRecord => ({ key, versionId, deleteMarker, isLatest: true, size: deleteMarker ? 0 : 1, etag: deleteMarker ? '' : 'e', lastModified: 1, owner: '' });
    const entry = (r: VersionRecord, deleteMarker: boolean): StateEntry => ({ key: r.key, versionId: r.versionId, deleteMarker, size: r.size, etag: r.etag, lastModified: 1, owner: '' });
    const x = rec('x', 'v1', false);
    const y = rec('y', 'm1', true);
    const [r] = await verifyStates([from([entry(x, true), entry(y, false)])], from([x, y]), '');
    assert.deepEqual(r, { checked: 2, missing: 2, examples: ['x', 'y'] });
  });

  test('keys before, between and after the listing\'s keys; rwm\'s own keys in the listing are skipped', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    m.write('b', 'p/.rwm/state/s.jsonl.gz', 'state');
    m.write('b', 'p/m', 'm');
    const listed = await collect(stateAt(m.listVersions('b', 'p/m'), Infinity));
    const ghost = (key: string): StateEntry => ({ key, versionId: 'gone', deleteMarker: false, size: 1, etag: 'e', lastModified: 1, owner: '' });
    const state = [ghost('p/a'), ...listed, ghost('p/n'), ghost('p/z'), ghost('p/zz')];
    const [r] = await verifyStates([from(state)], m.listVersions('b', 'p/'), 'p/');
    assert.equal(r?.checked, 5);
    assert.equal(r?.missing, 4);
    assert.deepEqual(r?.examples, ['p/a', 'p/n', 'p/z', 'p/zz']);
  });

  test('examples are capped at five', async () => {
    const ghosts = Array.from({ length: 9 }, (_, i): StateEntry => ({ key: `k${i}`, versionId: 'v', deleteMarker: false, size: 1, etag: 'e', lastModified: 1, owner: '' }));
    const [r] = await verifyStates([from(ghosts)], from([]), '');
    assert.equal(r?.missing, 9);
    assert.equal(r?.examples.length, 5);
  });
});
