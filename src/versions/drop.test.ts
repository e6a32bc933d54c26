// Unit tests of planDrop (which old versions storage drop-versions may delete) on the in-memory twin
// of a versioned bucket, with a verified state from a real scrub run: each rule on its own (not
// verified — the overwrite-after-scrub race —, in the window, named by a recent state), keys a
// prune deleted losing their versions and then the marker, never a current version, never .rwm/;
// then the plan carried out by applyPlan, locked versions kept.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { VersionRecord } from '../s3/bucket.js';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { newReport, scrub } from '../scrub/scrub.js';
import { bucketSource } from '../scrub/sources.js';
import type { StateEntry } from '../state/format.js';
import { stateAt } from '../state/at-time.js';
import { groupBy } from '../util/ordered.js';
import { applyPlan } from './apply.js';
import { planDrop, type DropDecision, type KeepReason } from './drop.js';
import type { Action } from './plan.js';

const B = 'b';
const P = 'repo/';
const SEC = 1000;
const DAY = 86_400 * SEC;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A hash-named pack; returns its key. */
function pack(m: MemoryBuckets, body: Buffer = randomBytes(100)): { key: string; body: Buffer } {
  const id = sha(body);
  const key = `${P}data/${id.slice(0, 2)}/${id}`;
  m.write(B, key, body);
  return { key, body };
}

function setup(): MemoryBuckets {
  const m = new MemoryBuckets();
  m.createBucket(B);
  return m;
}

/** What a scrub of the bucket now would write as its verified state. */
async function scrubbed(m: MemoryBuckets): Promise<StateEntry[]> {
  return collect(scrub({ source: bucketSource(m, B, P), mode: { kind: 'full' }, now: () => m.now }, newReport()));
}

/** What a `state save` now would record. */
async function saved(m: MemoryBuckets): Promise<StateEntry[]> {
  return collect(stateAt(m.listVersions(B, P), Infinity));
}

interface Plan {
  readonly drops: Extract<DropDecision, { kind: 'drop' }>[];
  readonly keeps: Map<string, Extract<DropDecision, { kind: 'keep' }>>;
  readonly all: DropDecision[];
}

async function plan(m: MemoryBuckets, verified: readonly StateEntry[], keepWithinMs: number, recentStates: readonly (readonly StateEntry[])[] = [], now = m.now): Promise<Plan> {
  const all = await collect(planDrop({ groups: groupBy(m.listVersions(B, P), (r) => r.key), verified: from(verified), recentStates: recentStates.map((s) => from(s)), prefix: P, now, keepWithinMs }));
  const drops = all.filter((d): d is Extract<DropDecision, { kind: 'drop' }> => d.kind === 'drop');
  const keeps = new Map(all.filter((d): d is Extract<DropDecision, { kind: 'keep' }> => d.kind === 'keep').map((d) => [d.key, d]));
  return { drops, keeps, all };
}

async function versions(m: MemoryBuckets, key: string): Promise<VersionRecord[]> {
  return (await collect(m.listVersions(B, key))).filter((r) => r.key === key);
}

const ids = (recs: readonly { versionId: string }[]): string[] => recs.map((r) => r.versionId).sort();

describe('planDrop', () => {
  test('a verified key overwritten long ago loses its old versions; a key with one version is not mentioned', async () => {
    const m = setup();
    const a = pack(m);
    const b = pack(m);
    m.write(B, a.key, 'garbage'); // an attack...
    m.write(B, a.key, a.body); // ...repaired
    const old = (await versions(m, a.key)).slice(1);
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    const p = await plan(m, verified, DAY);
    assert.deepEqual(ids(p.drops), ids(old));
    assert.deepEqual([...p.keeps.keys()], []);
    assert.ok(!p.all.some((d) => d.key === b.key), 'a key with only its current version: nothing to say');
    assert.deepEqual(
      p.drops.map((d) => ({ size: d.size, deleteMarker: d.deleteMarker })).sort((x, y) => x.size - y.size),
      [{ size: 7, deleteMarker: false }, { size: 100, deleteMarker: false }],
    );
  });

  test('not-verified: a key overwritten AFTER the scrub (the race) keeps every version, even far outside the window', async () => {
    const m = setup();
    const a = pack(m);
    m.write(B, a.key, 'garbage');
    m.write(B, a.key, a.body);
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    m.write(B, a.key, 'written after the scrub');
    const p = await plan(m, verified, DAY, [], m.now + 2 * DAY);
    assert.deepEqual(p.drops, []);
    assert.deepEqual(p.keeps.get(a.key), { kind: 'keep', key: a.key, versions: 3, bytes: 100 + 7 + 100, reasons: ['not-verified'] });
  });

  test('not-verified: a key the scrub found bad, a key it never saw, and an empty verified state keep everything', async () => {
    const m = setup();
    const bad = pack(m);
    m.write(B, bad.key, 'good once');
    m.write(B, bad.key, 'garbage'); // no good version on top: scrub reports corrupt, does not verify
    const verified = await scrubbed(m);
    assert.equal(verified.find((e) => e.key === bad.key)?.verified, undefined);
    const late = pack(m);
    m.write(B, late.key, late.body); // a second version of a key the scrub never saw
    m.now += 2 * DAY;
    for (const v of [verified, []]) {
      const p = await plan(m, v, DAY);
      assert.deepEqual(p.drops, []);
      assert.deepEqual(p.keeps.get(bad.key)?.reasons, ['not-verified']);
      assert.deepEqual(p.keeps.get(late.key)?.reasons, ['not-verified']);
    }
    // config is never verified (it cannot be hashed): it keeps its old versions
    m.write(B, `${P}config`, 'one');
    m.write(B, `${P}config`, 'two');
    const v2 = await scrubbed(m);
    m.now += 2 * DAY;
    assert.deepEqual((await plan(m, v2, DAY)).keeps.get(`${P}config`)?.reasons, ['not-verified']);
  });

  test('in-window: what became noncurrent (its successor\'s LastModified) inside the window is kept, older is dropped', async () => {
    const m = setup();
    const a = pack(m);
    const first = (await versions(m, a.key))[0] as VersionRecord;
    m.now += 10 * DAY;
    m.write(B, a.key, 'garbage'); // first became noncurrent now: 10 days after it was written
    const garbage = (await versions(m, a.key))[0] as VersionRecord;
    m.now += 5 * DAY;
    m.write(B, a.key, a.body); // garbage noncurrent from here
    const verified = await scrubbed(m);
    m.now += 1 * DAY;
    // window 3 days: garbage (noncurrent 1 day) kept; first (noncurrent 6 days, written 16 days ago) dropped
    let p = await plan(m, verified, 3 * DAY);
    assert.deepEqual(ids(p.drops), [first.versionId]);
    assert.deepEqual(p.keeps.get(a.key), { kind: 'keep', key: a.key, versions: 1, bytes: 7, reasons: ['in-window'] });
    // window 7 days: both kept, although the first one was written long before the window
    p = await plan(m, verified, 7 * DAY);
    assert.deepEqual(p.drops, []);
    assert.deepEqual(p.keeps.get(a.key), { kind: 'keep', key: a.key, versions: 2, bytes: 107, reasons: ['in-window'] });
    // the boundary: noncurrent exactly keepWithin ago is outside, a millisecond less inside
    p = await plan(m, verified, m.now - garbage.lastModified);
    assert.deepEqual(ids(p.drops), [first.versionId]);
    p = await plan(m, verified, m.now - garbage.lastModified + 1);
    assert.deepEqual(p.drops, []);
    p = await plan(m, verified, 1 * DAY);
    assert.deepEqual(ids(p.drops), ids([first, garbage]));
  });

  test('in-state: a version named by a state made inside the window is kept though outside the window itself', async () => {
    const m = setup();
    const a = pack(m);
    const b = pack(m);
    m.write(B, a.key, 'v2');
    m.write(B, b.key, 'v2');
    const state = await saved(m); // names the garbage "v2" of both as current
    const aV2 = (await versions(m, a.key))[0] as VersionRecord;
    m.write(B, a.key, a.body);
    m.write(B, b.key, b.body);
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    const bOld = (await versions(m, b.key)).slice(1);
    // the state of a only: a keeps v2, its first version goes; b loses both
    const onlyA = state.filter((e) => e.key === a.key);
    const p = await plan(m, verified, DAY, [onlyA]);
    assert.deepEqual(p.keeps.get(a.key), { kind: 'keep', key: a.key, versions: 1, bytes: 2, reasons: ['in-state'] });
    assert.deepEqual(ids(p.drops.filter((d) => d.key === a.key)), ids((await versions(m, a.key)).slice(2)));
    assert.deepEqual(ids(p.drops.filter((d) => d.key === b.key)), ids(bOld));
    assert.ok(!p.drops.some((d) => d.versionId === aV2.versionId));
    // several states: each counts
    const p2 = await plan(m, verified, DAY, [[], state]);
    assert.deepEqual([...p2.keeps.keys()].sort(), [a.key, b.key].sort());
  });

  test('a key a trusted prune deleted (a delete marker on top): its versions after the window, then the marker', async () => {
    const m = setup();
    const a = pack(m);
    const b = pack(m);
    const c = pack(m);
    m.write(B, c.key, 'garbage');
    const verified = await scrubbed(m); // c is corrupt: not verified; deleted keys need no verification
    m.now += 1 * DAY;
    m.remove(B, a.key); // the prune
    m.remove(B, c.key);
    const aMarker = (await versions(m, a.key))[0] as VersionRecord;
    m.now += 5 * DAY;
    m.remove(B, b.key); // a later prune, inside the window
    m.now += 1 * DAY;

    const p = await plan(m, verified, 3 * DAY);
    // a: its version and then its marker (nothing left to hide)
    assert.deepEqual(p.drops.filter((d) => d.key === a.key).map((d) => [d.versionId, d.deleteMarker]), [...(await versions(m, a.key)).slice(1).map((v) => [v.versionId, false]), [aMarker.versionId, true]]);
    assert.ok(!p.keeps.has(a.key));
    // c: the same, whatever the scrub said of its garbage (it is no longer current)
    assert.equal(p.drops.filter((d) => d.key === c.key).length, 3);
    // b: deleted inside the window, so its version stays, and the marker that hides it too
    assert.deepEqual(p.drops.filter((d) => d.key === b.key), []);
    assert.deepEqual(p.keeps.get(b.key), { kind: 'keep', key: b.key, versions: 1, bytes: 100, reasons: ['in-window'] });
  });

  test('a delete marker on top is kept while it still hides a kept version (named by a state), and while it is young', async () => {
    const m = setup();
    const a = pack(m);
    const state = await saved(m);
    m.remove(B, a.key);
    const marker = (await versions(m, a.key))[0] as VersionRecord;
    m.now += 5 * DAY;
    let p = await plan(m, [], DAY, [state]);
    assert.deepEqual(p.drops, [], 'the version is named by the state, so the marker above it stays too');
    assert.deepEqual(p.keeps.get(a.key)?.reasons, ['in-state']);
    // without the state both go
    p = await plan(m, [], DAY);
    assert.equal(p.drops.length, 2);
    // a marker only (its version dropped earlier): young, kept; old, dropped
    m.dropVersion(B, a.key, (await versions(m, a.key))[1]?.versionId as string);
    p = await plan(m, [], 10 * DAY);
    assert.deepEqual(p.drops, []);
    assert.deepEqual(p.keeps.get(a.key), { kind: 'keep', key: a.key, versions: 0, bytes: 0, reasons: ['in-window'] });
    p = await plan(m, [], DAY);
    assert.deepEqual(p.drops, [{ kind: 'drop', key: a.key, versionId: marker.versionId, size: 0, deleteMarker: true }]);
  });

  test('noncurrent delete markers (a delete undone by a restore) are dropped like versions', async () => {
    const m = setup();
    const a = pack(m);
    m.remove(B, a.key);
    const marker = (await versions(m, a.key))[0] as VersionRecord;
    m.write(B, a.key, a.body); // rwm restore's copy back on top
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    const p = await plan(m, verified, DAY);
    assert.deepEqual(p.drops.map((d) => [d.versionId, d.deleteMarker]).sort(), [[marker.versionId, true], [(await versions(m, a.key))[2]?.versionId, false]].sort());
  });

  test('never a current version, whatever the inputs: for every key, its top is never dropped unless it is a marker with nothing left', async () => {
    const m = setup();
    for (let i = 0; i < 30; i++) {
      const a = pack(m, randomBytes(50 + i));
      for (let j = 0; j < i % 4; j++) {
        m.now += DAY;
        if (j % 2 === 0) m.write(B, a.key, `g${j}`);
        else m.remove(B, a.key);
      }
      if (i % 3 === 0) m.write(B, a.key, a.body);
      if (i % 5 === 0) m.remove(B, a.key);
    }
    const verified = await scrubbed(m);
    m.now += 30 * DAY;
    const p = await plan(m, verified, 0);
    const tops = new Map<string, VersionRecord>();
    for await (const r of m.listVersions(B, P)) if (!tops.has(r.key)) tops.set(r.key, r);
    for (const d of p.drops) {
      const t = tops.get(d.key) as VersionRecord;
      if (d.versionId === t.versionId) {
        assert.ok(t.deleteMarker, `${d.key}: a current version was planned for dropping`);
        const left = (await versions(m, d.key)).filter((v) => !p.drops.some((x) => x.versionId === v.versionId));
        assert.deepEqual(left, [], `${d.key}: the marker goes only with everything below it`);
      }
    }
    assert.ok(p.drops.length > 20);
  });

  test('nothing under .rwm/ is ever planned, however old and however many versions', async () => {
    const m = setup();
    for (const k of [`${P}.rwm/state/20250101T000000.000Z-0123456789abcdef.jsonl.gz`, `${P}host/.rwm/ledger/x`]) {
      m.write(B, k, 'one');
      m.write(B, k, 'two');
      m.remove(B, k);
    }
    pack(m);
    m.now += 100 * DAY;
    const p = await plan(m, [], DAY);
    assert.deepEqual(p.all.filter((d) => d.key.includes('.rwm/')), []);
  });

  test('keys are yielded in listing order, and every decision of a key before the next key\'s', async () => {
    const m = setup();
    for (let i = 0; i < 10; i++) {
      const a = pack(m);
      m.write(B, a.key, 'x');
      m.write(B, a.key, a.body);
    }
    const verified = await scrubbed(m);
    m.now += DAY;
    const p = await plan(m, verified, 1);
    const keys = p.all.map((d) => d.key);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(p.drops.length, 20);
  });
});

describe('planDrop carried out by applyPlan', () => {
  test('what is planned is deleted; the repository (current versions) is untouched; a rerun plans nothing', async () => {
    const m = setup();
    const keys: string[] = [];
    for (let i = 0; i < 8; i++) {
      const a = pack(m);
      keys.push(a.key);
      m.write(B, a.key, 'garbage');
      m.write(B, a.key, a.body);
    }
    m.remove(B, keys[0] as string);
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    const before = await saved(m);
    const p = await plan(m, verified, DAY);
    const r = await applyPlan(from(p.drops.map((d): Action => ({ kind: 'drop', target: d.key, versionId: d.versionId, size: d.size }))), { buckets: m, sourceBucket: B, targetBucket: B, dryRun: false, now: () => m.now });
    assert.deepEqual({ dropped: r.dropped, droppedBytes: r.droppedBytes, failed: r.failed }, { dropped: p.drops.length, droppedBytes: p.drops.reduce((n, d) => n + d.size, 0), failed: 0 });
    const after = await saved(m);
    assert.deepEqual(after, before.filter((e) => e.key !== keys[0]), 'every current version is as it was; the pruned key is gone entirely');
    for (const k of keys.slice(1)) assert.equal((await versions(m, k)).length, 1);
    assert.deepEqual((await plan(m, verified, DAY)).all, []);
  });

  test('locked versions (retention in the future, legal hold) are kept and counted; expired retention is no lock', async () => {
    const m = setup();
    const a = pack(m);
    const b = pack(m);
    const c = pack(m);
    for (const x of [a, b, c]) m.write(B, x.key, x.body);
    const old = async (k: string): Promise<VersionRecord> => (await versions(m, k))[1] as VersionRecord;
    m.locks.set(`${B}/${a.key}@${(await old(a.key)).versionId}`, { mode: 'GOVERNANCE', retainUntil: m.now + 10 * DAY, legalHold: false });
    m.locks.set(`${B}/${b.key}@${(await old(b.key)).versionId}`, { legalHold: true });
    m.locks.set(`${B}/${c.key}@${(await old(c.key)).versionId}`, { mode: 'COMPLIANCE', retainUntil: m.now + DAY, legalHold: false });
    const verified = await scrubbed(m);
    m.now += 2 * DAY;
    const p = await plan(m, verified, DAY);
    assert.equal(p.drops.length, 3);
    const dry = await applyPlan(from(p.drops.map((d): Action => ({ kind: 'drop', target: d.key, versionId: d.versionId, size: d.size }))), { buckets: m, sourceBucket: B, targetBucket: B, dryRun: true, checkLocks: true, now: () => m.now });
    assert.deepEqual({ dropped: dry.dropped, locked: dry.locked }, { dropped: 1, locked: 2 });
    assert.equal((await versions(m, c.key)).length, 2, 'a dry run deletes nothing');
    const r = await applyPlan(from(p.drops.map((d): Action => ({ kind: 'drop', target: d.key, versionId: d.versionId, size: d.size }))), { buckets: m, sourceBucket: B, targetBucket: B, dryRun: false, checkLocks: true, now: () => m.now });
    assert.deepEqual({ dropped: r.dropped, locked: r.locked, failed: r.failed }, { dropped: 1, locked: 2, failed: 0 });
    assert.deepEqual([(await versions(m, a.key)).length, (await versions(m, b.key)).length, (await versions(m, c.key)).length], [2, 2, 1]);
  });
});

describe('keep reasons', () => {
  test('a key kept for several reasons names each once', async () => {
    const m = setup();
    const a = pack(m);
    m.write(B, a.key, 'v2');
    const state = await saved(m);
    m.write(B, a.key, 'v3');
    m.write(B, a.key, a.body);
    m.now += 3 * DAY;
    m.write(B, a.key, 'v5');
    m.write(B, a.key, a.body); // v5 noncurrent just now: in the window
    const verified2 = await scrubbed(m);
    const p = await plan(m, verified2, DAY, [state]);
    const reasons = p.keeps.get(a.key)?.reasons ?? [];
    assert.deepEqual([...reasons].sort(), (['in-state', 'in-window'] as KeepReason[]).sort());
    assert.equal(new Set(reasons).size, reasons.length);
  });
});
