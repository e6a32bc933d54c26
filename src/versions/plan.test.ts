import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { compareKeys } from '../s3/names.js';
import { pairsAt, stateAt } from '../state/at-time.js';
import type { StateEntry } from '../state/format.js';
import { mergeJoin, type Pair } from '../state/merge.js';
import { applyPlan } from './apply.js';
import { planCopy, planInPlace, type Action } from './plan.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const brief = (as: Action[]): string[] => as.map((a) => `${a.kind} ${a.target}`);

/** A small restic repository under r/ with what an attacker and a prune leave afterwards. */
function scenario() {
  const m = new MemoryBuckets();
  m.createBucket('b');
  const files: Record<string, Buffer> = {};
  const put = (key: string, data: Buffer): void => {
    files[key] = data;
    m.write('b', key, data);
  };
  const blob = (): Buffer => randomBytes(64);
  const pack1 = blob();
  const pack2 = blob();
  const idx = blob();
  const snap = blob();
  const key = blob();
  const keys = {
    config: 'r/config',
    key: `r/keys/${sha(key)}`,
    pack1: `r/data/${sha(pack1).slice(0, 2)}/${sha(pack1)}`,
    pack2: `r/data/${sha(pack2).slice(0, 2)}/${sha(pack2)}`,
    index: `r/index/${sha(idx)}`,
    snap: `r/snapshots/${sha(snap)}`,
    lock: `r/locks/${'1'.repeat(64)}`,
    lock2: `r/locks/${'2'.repeat(64)}`,
    forged: `r/snapshots/${'f'.repeat(64)}`,
    gone: `r/index/${'0'.repeat(64)}`,
    state: 'r/.rwm/state/20260101T000000.000Z-00000000.jsonl.gz',
  };
  put(keys.config, Buffer.from('config'));
  put(keys.key, key);
  put(keys.pack1, pack1);
  put(keys.pack2, pack2);
  put(keys.index, idx);
  put(keys.snap, snap);
  put(keys.lock, blob());
  put(keys.gone, blob());
  m.remove('b', keys.gone); // deleted before T: absent then, absent now
  put(keys.state, blob());
  m.now += 1000;
  const t = m.now;
  m.now += 1000;
  // After T: tampering, a forged snapshot, a prune, a new lock, an identical rewrite, a new state.
  m.write('b', keys.config, 'garbage config');
  m.write('b', keys.pack1, 'garbage pack');
  m.write('b', keys.index, files[keys.index] as Buffer); // the same bytes again
  m.write('b', keys.forged, 'forged snapshot');
  m.remove('b', keys.pack2);
  m.remove('b', keys.lock);
  m.write('b', keys.lock2, blob());
  m.write('b', 'r/.rwm/state/20260102T000000.000Z-00000001.jsonl.gz', blob());
  return { m, t, keys } as const;
}

describe('planInPlace', () => {
  test('copies what differs, hides what was absent, leaves identical bytes, skips locks and .rwm/', async () => {
    const { m, t, keys } = scenario();
    const plan = await collect(planInPlace(pairsAt(m.listVersions('b', 'r/'), t), 'r/'));
    const expected = [
      `copy ${keys.config}`,
      `copy ${keys.pack1}`,
      `copy ${keys.pack2}`,
      `same ${keys.index}`,
      `same ${keys.key}`,
      `skip ${keys.lock}`,
      `skip ${keys.lock2}`,
      `same ${keys.snap}`,
      `hide ${keys.forged}`,
    ].sort((a, b) => compareKeys(a.split(' ')[1] as string, b.split(' ')[1] as string));
    assert.deepEqual(brief(plan), expected);
    // The copies name the version of T.
    const atT = new Map((await collect(stateAt(m.listVersions('b', 'r/'), t))).map((e) => [e.key, e]));
    for (const a of plan) if (a.kind === 'copy') assert.equal(a.versionId, atT.get(a.key)?.versionId);
    // From a saved state merged with the current listing, the plan is the same.
    const viaState = await collect(planInPlace(mergeJoin(stateAt(m.listVersions('b', 'r/'), t), stateAt(m.listVersions('b', 'r/'), Infinity)), 'r/'));
    assert.deepEqual(viaState, plan);
  });

  test('pairs with nothing on either side, or markers on both, plan nothing', async () => {
    const marker = (key: string): StateEntry => ({ key, versionId: 'm', deleteMarker: true, size: 0, etag: '', lastModified: 1, owner: '' });
    const pairs: Pair[] = [
      { key: 'r/index/a', a: marker('r/index/a'), b: undefined },
      { key: 'r/index/b', a: undefined, b: marker('r/index/b') },
      { key: 'r/index/c', a: marker('r/index/c'), b: marker('r/index/c') },
    ];
    assert.deepEqual(
      await collect(
        planInPlace(
          (async function* () {
            yield* pairs;
          })(),
          'r/',
        ),
      ),
      [],
    );
  });

  test('after the plan is applied, the bucket is as at T and a rerun plans nothing', async () => {
    const { m, t } = scenario();
    const report = await applyPlan(planInPlace(pairsAt(m.listVersions('b', 'r/'), t), 'r/'), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: false });
    assert.deepEqual({ copied: report.copied, hidden: report.hidden, same: report.same, skipped: report.skipped, failed: report.failed }, { copied: 3, hidden: 1, same: 3, skipped: 2, failed: 0 });
    const now = new Map((await collect(stateAt(m.listVersions('b', 'r/'), Infinity))).filter((e) => !e.deleteMarker).map((e) => [e.key, e.etag]));
    const then = new Map((await collect(stateAt(m.listVersions('b', 'r/'), t))).filter((e) => !e.deleteMarker).map((e) => [e.key, e.etag]));
    for (const map of [now, then]) for (const k of [...map.keys()]) if (k.includes('/locks/') || k.includes('/.rwm/')) map.delete(k);
    assert.deepEqual(now, then);
    const calls = { ...m.calls };
    const rerun = await collect(planInPlace(pairsAt(m.listVersions('b', 'r/'), t), 'r/'));
    assert.deepEqual([...new Set(rerun.map((a) => a.kind))].sort(), ['same', 'skip']);
    assert.equal(rerun.filter((a) => a.kind === 'same').length, 6);
    assert.equal(m.calls.copy, calls.copy);
    assert.equal(m.calls.hide, calls.hide);
  });
});

describe('planCopy', () => {
  test('every wanted version to its mapped key; identical bytes left alone; target-only keys untouched', async () => {
    const { m, t, keys } = scenario();
    m.createBucket('b2');
    const kp = 'r/';
    const tp = 'dst/x/';
    const mapKey = (k: string): string => tp + k.slice(kp.length);
    const unmapKey = (k: string): string => kp + k.slice(tp.length);
    // The target already has the right config, another key file, and something of its own.
    m.write('b2', 'dst/x/config', 'config');
    m.write('b2', mapKey(keys.key), 'not the key');
    m.write('b2', 'dst/x/zzz-own', 'theirs');
    const wanted = (): AsyncIterable<StateEntry> => stateAt(m.listVersions('b', kp), t);
    const plan = await collect(planCopy(wanted(), stateAt(m.listVersions('b2', tp), Infinity), kp, mapKey, unmapKey));
    const by = new Map(plan.map((a) => [a.target, a.kind]));
    assert.equal(by.get('dst/x/config'), 'same');
    assert.equal(by.get(mapKey(keys.key)), 'copy');
    for (const k of [keys.pack1, keys.pack2, keys.index, keys.snap]) assert.equal(by.get(mapKey(k)), 'copy', k);
    assert.equal(by.get(mapKey(keys.lock)), 'skip');
    assert.equal(by.has(mapKey(keys.forged)), false, 'did not exist at T');
    assert.equal(by.has(mapKey(keys.gone)), false, 'a delete marker at T');
    assert.equal(by.has('dst/x/zzz-own'), false);
    assert.equal([...by.keys()].some((k) => k.includes('.rwm')), false);
    assert.equal(plan.length, 7);
    for (const a of plan) if (a.kind === 'copy') assert.equal(a.key, unmapKey(a.target));

    const report = await applyPlan(planCopy(wanted(), stateAt(m.listVersions('b2', tp), Infinity), kp, mapKey, unmapKey), { buckets: m, sourceBucket: 'b', targetBucket: 'b2', dryRun: false });
    assert.equal(report.copied, 5);
    assert.equal(report.failed, 0);
    const target = new Map((await collect(stateAt(m.listVersions('b2', tp), Infinity))).map((e) => [e.key, e.etag]));
    const source = await collect(stateAt(m.listVersions('b', kp), t));
    for (const e of source) if (!e.deleteMarker && !e.key.includes('/locks/') && !e.key.includes('/.rwm/')) assert.equal(target.get(mapKey(e.key)), e.etag, e.key);
    assert.equal(target.get('dst/x/zzz-own'), createHash('md5').update('theirs').digest('hex'));
    const rerun = await collect(planCopy(wanted(), stateAt(m.listVersions('b2', tp), Infinity), kp, mapKey, unmapKey));
    assert.deepEqual([...new Set(rerun.map((a) => a.kind))].sort(), ['same', 'skip']);
  });
});
