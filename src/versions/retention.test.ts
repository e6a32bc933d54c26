// Unit tests of planRetention (which current versions storage extend-retention locks longer), and of
// its retain actions carried out by applyPlan on the in-memory twin.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import type { StateEntry } from '../state/format.js';
import { applyPlan } from './apply.js';
import type { Action } from './plan.js';
import { planRetention } from './retention.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const entry: StateEntry = { key: 'repo/data/ab/abc', versionId: 'v1', deleteMarker: false, size: 10, etag: 'e', lastModified: NOW - DAY, owner: 'o' };

describe('planRetention', () => {
  test('a retain-until inside the window is extended to now + days, in the version\'s own mode', () => {
    for (const mode of ['GOVERNANCE', 'COMPLIANCE'] as const) {
      assert.deepEqual(planRetention(entry, { mode, retainUntil: NOW + 2 * DAY, legalHold: false }, NOW, 30, mode === 'GOVERNANCE' ? 'COMPLIANCE' : 'GOVERNANCE'), {
        kind: 'retain',
        target: entry.key,
        versionId: 'v1',
        mode,
        until: NOW + 30 * DAY,
      });
    }
  });

  test('an expired retain-until keeps its own mode; none at all gets the bucket\'s default', () => {
    assert.deepEqual(planRetention(entry, { mode: 'GOVERNANCE', retainUntil: NOW - DAY, legalHold: false }, NOW, 7, 'COMPLIANCE'), { kind: 'retain', target: entry.key, versionId: 'v1', mode: 'GOVERNANCE', until: NOW + 7 * DAY });
    assert.deepEqual(planRetention(entry, { legalHold: false }, NOW, 7, 'COMPLIANCE'), { kind: 'retain', target: entry.key, versionId: 'v1', mode: 'COMPLIANCE', until: NOW + 7 * DAY });
    assert.deepEqual(planRetention(entry, { legalHold: true }, NOW, 7, 'GOVERNANCE'), { kind: 'retain', target: entry.key, versionId: 'v1', mode: 'GOVERNANCE', until: NOW + 7 * DAY }, 'a legal hold does not stand in for retention');
  });

  test('locked long enough already: nothing to do (never shortened)', () => {
    assert.equal(planRetention(entry, { mode: 'COMPLIANCE', retainUntil: NOW + 30 * DAY, legalHold: false }, NOW, 30, 'GOVERNANCE'), undefined, 'exactly now + days');
    assert.equal(planRetention(entry, { mode: 'GOVERNANCE', retainUntil: NOW + 400 * DAY, legalHold: false }, NOW, 30, 'GOVERNANCE'), undefined);
    const a = planRetention(entry, { mode: 'GOVERNANCE', retainUntil: NOW + 30 * DAY - 1, legalHold: false }, NOW, 30, 'GOVERNANCE');
    assert.equal(a?.kind === 'retain' ? a.until : undefined, NOW + 30 * DAY, 'a millisecond short: extended');
  });

  test('no mode to use (no retention on the version and no bucket default): nothing', () => {
    assert.equal(planRetention(entry, { legalHold: false }, NOW, 30, undefined), undefined);
    assert.equal(planRetention(entry, { legalHold: true }, NOW, 30, undefined), undefined);
  });

  test('retain actions carried out by applyPlan: only the planned versions get the new date; a dry run changes nothing', async () => {
    const m = new MemoryBuckets();
    m.createBucket('b');
    m.lockEnabled.add('b');
    const old = m.write('b', 'k', 'one');
    const cur = m.write('b', 'k', 'two');
    const other = m.write('b', 'j', 'three');
    const now = m.now;
    m.locks.set(`b/k@${old.versionId}`, { mode: 'GOVERNANCE', retainUntil: now + DAY, legalHold: false });
    m.locks.set(`b/k@${cur.versionId}`, { mode: 'GOVERNANCE', retainUntil: now + DAY, legalHold: false });
    m.locks.set(`b/j@${other.versionId}`, { mode: 'COMPLIANCE', retainUntil: now + 90 * DAY, legalHold: false });
    const plan: Action[] = [];
    for (const r of [cur, other]) {
      const a = planRetention({ ...r }, await m.lockOf({ bucket: 'b', key: r.key, versionId: r.versionId }), now, 30, 'GOVERNANCE');
      if (a !== undefined) plan.push(a);
    }
    assert.equal(plan.length, 1);
    const snapshot = new Map(m.locks);
    const dry = await applyPlan((async function* () { yield* plan; })(), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: true });
    assert.equal(dry.retained, 1);
    assert.deepEqual(m.locks, snapshot);
    const r = await applyPlan((async function* () { yield* plan; })(), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: false });
    assert.deepEqual({ retained: r.retained, failed: r.failed }, { retained: 1, failed: 0 });
    assert.deepEqual(m.locks.get(`b/k@${cur.versionId}`), { mode: 'GOVERNANCE', retainUntil: now + 30 * DAY, legalHold: false });
    assert.deepEqual(m.locks.get(`b/k@${old.versionId}`), { mode: 'GOVERNANCE', retainUntil: now + DAY, legalHold: false }, 'the noncurrent version is left alone');
    assert.deepEqual(m.locks.get(`b/j@${other.versionId}`), snapshot.get(`b/j@${other.versionId}`));
  });
});
