import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VersionRecord } from '../s3/bucket.js';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { filterKeys, pairsAt, present, stateAt } from './at-time.js';
import type { StateEntry } from './format.js';
import { mergeJoin } from './merge.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A listing: keys in order, each key's versions newest first ('x' marks a delete marker). */
function listing(spec: Record<string, readonly (readonly [number, 'v' | 'x'])[]>): VersionRecord[] {
  const out: VersionRecord[] = [];
  for (const key of Object.keys(spec).sort()) {
    (spec[key] ?? []).forEach(([t, kind], i) =>
      out.push({ key, versionId: `${key}@${t}`, deleteMarker: kind === 'x', isLatest: i === 0, size: kind === 'x' ? 0 : t, etag: kind === 'x' ? '' : `e${t}`, lastModified: t, owner: 'o' }),
    );
  }
  return out;
}

const at = async (recs: VersionRecord[], t: number): Promise<string[]> => (await collect(stateAt(from(recs), t))).map((e) => `${e.key}=${e.deleteMarker ? 'x' : e.versionId}`);

describe('stateAt', () => {
  const recs = listing({
    a: [[300, 'v'], [200, 'v'], [100, 'v']],
    b: [[250, 'x'], [150, 'v']],
    c: [[400, 'v']],
    d: [[350, 'v'], [320, 'x'], [120, 'v']],
  });

  test('each key\'s newest version with LastModified <= T', async () => {
    assert.deepEqual(await at(recs, 210), ['a=a@200', 'b=b@150', 'd=d@120']);
    assert.deepEqual(await at(recs, 200), ['a=a@200', 'b=b@150', 'd=d@120'], 'LastModified equal to T counts');
    assert.deepEqual(await at(recs, 199), ['a=a@100', 'b=b@150', 'd=d@120']);
  });

  test('a delete marker that is the newest at T is in the state, as a marker', async () => {
    assert.deepEqual(await at(recs, 260), ['a=a@200', 'b=x', 'd=d@120']);
    assert.deepEqual(await at(recs, 330), ['a=a@300', 'b=x', 'd=x']);
    const entries = await collect(stateAt(from(recs), 330));
    assert.deepEqual(entries.find((e) => e.key === 'b'), { key: 'b', versionId: 'b@250', deleteMarker: true, size: 0, etag: '', lastModified: 250, owner: 'o' });
  });

  test('a key whose first version is after T is not in the state; T before everything gives nothing', async () => {
    assert.equal((await at(recs, 399)).some((e) => e.startsWith('c=')), false);
    assert.deepEqual(await at(recs, 99), []);
    assert.deepEqual(await at(recs, -Infinity), []);
  });

  test('T = Infinity is what is current', async () => {
    assert.deepEqual(await at(recs, Infinity), ['a=a@300', 'b=x', 'c=c@400', 'd=d@350']);
  });

  test('on the in-memory twin\'s listing', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    m.write('b', 'k', 'one');
    const t1 = m.now;
    m.write('b', 'k', 'two');
    m.remove('b', 'gone-later');
    m.now += 1000;
    const t2 = m.now;
    m.remove('b', 'k');
    m.write('b', 'new', 'x');
    const state = async (t: number): Promise<[string, boolean, number][]> => (await collect(stateAt(m.listVersions('b', ''), t))).map((e) => [e.key, e.deleteMarker, e.size]);
    assert.deepEqual(await state(t1), [['k', false, 3]]);
    assert.deepEqual(await state(t2), [['gone-later', true, 0], ['k', false, 3]]);
    assert.deepEqual(await state(Infinity), [['gone-later', true, 0], ['k', true, 0], ['new', false, 1]]);
  });
});

describe('pairsAt', () => {
  test('gives each key as at T and as now, as mergeJoin(stateAt(T), stateAt(now)) would', async () => {
    const recs = listing({
      a: [[300, 'v'], [200, 'v'], [100, 'v']],
      b: [[250, 'x'], [150, 'v']],
      c: [[400, 'v']],
      d: [[350, 'v'], [320, 'x'], [120, 'v']],
      e: [[50, 'x']],
    });
    for (const t of [-Infinity, 0, 100, 149, 150, 260, 330, 399, 400, Infinity]) {
      const want = await collect(mergeJoin(stateAt(from(recs), t), stateAt(from(recs), Infinity)));
      assert.deepEqual(await collect(pairsAt(from(recs), t)), want, `T = ${t}`);
    }
    assert.deepEqual(await collect(pairsAt(from([]), 5)), []);
  });
});

describe('present and filterKeys', () => {
  test('present drops delete markers; filterKeys keeps what passes', async () => {
    const entries: StateEntry[] = await collect(stateAt(from(listing({ a: [[1, 'v']], b: [[2, 'x']], c: [[3, 'v']] })), Infinity));
    assert.deepEqual((await collect(present(from(entries)))).map((e) => e.key), ['a', 'c']);
    assert.deepEqual((await collect(filterKeys(from(entries), (k) => k !== 'a'))).map((e) => e.key), ['b', 'c']);
  });
});
