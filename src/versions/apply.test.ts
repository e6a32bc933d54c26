import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SINGLE_COPY, type VersionRef } from '../s3/bucket.js';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { applyPlan } from './apply.js';
import type { Action } from './plan.js';

async function* from(items: readonly Action[]): AsyncGenerator<Action> {
  yield* items;
}

function setup(n: number): { m: MemoryBuckets; plan: Action[] } {
  const m = new MemoryBuckets();
  m.createBucket('b');
  const plan: Action[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${String(i).padStart(3, '0')}`;
    const v = m.write('b', key, `old ${i}`);
    m.write('b', key, 'garbage');
    plan.push({ kind: 'copy', key, versionId: v.versionId, size: v.size, target: key });
  }
  plan.push({ kind: 'hide', target: 'forged' }, { kind: 'same', target: 'same', size: 7 }, { kind: 'skip', target: 'locks/x', why: 'lock' });
  return { m, plan };
}

/** MemoryBuckets whose copies and hides take a while, counting how many run at once. */
class SlowBuckets extends MemoryBuckets {
  active = 0;
  most = 0;
  private async slowly<T>(f: () => Promise<T>): Promise<T> {
    this.active += 1;
    this.most = Math.max(this.most, this.active);
    try {
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 3));
      return await f();
    } finally {
      this.active -= 1;
    }
  }
  override copy(from: VersionRef, to: { bucket: string; key: string }): Promise<void> {
    return this.slowly(() => super.copy(from, to));
  }
  override hide(bucket: string, key: string): Promise<void> {
    return this.slowly(() => super.hide(bucket, key));
  }
}

describe('applyPlan', () => {
  test('a dry run calls nothing and reports what it would do', async () => {
    const { m, plan } = setup(5);
    const before = { ...m.calls };
    const seen: string[] = [];
    const r = await applyPlan(from(plan), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: true, onAction: (a) => seen.push(a.kind) });
    assert.deepEqual(m.calls, before);
    const { copied, copiedBytes, hidden, same, sameBytes, skipped, failed, failures } = r;
    assert.deepEqual({ copied, copiedBytes, hidden, same, sameBytes, skipped, failed, failures }, { copied: 5, copiedBytes: 25, hidden: 1, same: 1, sameBytes: 7, skipped: 1, failed: 0, failures: [] });
    assert.equal(seen.length, plan.length);
  });

  test('copies put the old version on top; hides add a marker', async () => {
    const { m, plan } = setup(3);
    const r = await applyPlan(from(plan), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: false });
    assert.equal(r.copied, 3);
    assert.equal(r.hidden, 1);
    const { list, read, copy, hide, put } = m.calls;
    assert.deepEqual({ list, read, copy, hide, put }, { list: 0, read: 0, copy: 3, hide: 1, put: 0 });
    const top: Record<string, string> = {};
    for await (const v of m.listVersions('b', '')) if (v.isLatest) top[v.key] = v.deleteMarker ? 'marker' : String(v.size);
    assert.deepEqual(top, { forged: 'marker', k000: '5', k001: '5', k002: '5' });
  });

  test('never more than `concurrency` writes at once', async () => {
    for (const concurrency of [1, 4]) {
      const { plan } = setup(30);
      const slow = new SlowBuckets();
      slow.createBucket('b');
      // The same versions in the slow twin: rebuild the plan against it.
      const slowPlan: Action[] = [];
      for (const a of plan) {
        if (a.kind !== 'copy') slowPlan.push(a);
        else slowPlan.push({ ...a, versionId: slow.write('b', a.key, 'x').versionId });
      }
      const r = await applyPlan(from(slowPlan), { buckets: slow, sourceBucket: 'b', targetBucket: 'b', dryRun: false, concurrency });
      assert.equal(r.copied, 30);
      assert.equal(slow.most, concurrency, `concurrency ${concurrency}`);
    }
  });

  test('failures are collected and the rest is still done', async () => {
    const { m, plan } = setup(6);
    const broken = plan.map((a) => (a.kind === 'copy' && (a.key === 'k001' || a.key === 'k004') ? { ...a, versionId: 'no-such-version' } : a));
    broken.push({ kind: 'copy', key: 'k000', versionId: (plan[0] as { versionId: string }).versionId, size: MAX_SINGLE_COPY + 1, target: 'huge' });
    const errors: string[] = [];
    const r = await applyPlan(from(broken), { buckets: m, sourceBucket: 'b', targetBucket: 'b', dryRun: false, concurrency: 2, onAction: (a, err) => err !== undefined && errors.push(a.target) });
    assert.equal(r.copied, 4);
    assert.equal(r.hidden, 1);
    assert.equal(r.failed, 3);
    assert.equal(r.failures.length, 3);
    assert.deepEqual([...errors].sort(), ['huge', 'k001', 'k004']);
    assert.ok(r.failures.some((f) => f.startsWith('huge: ') && f.includes('5 GiB')), r.failures.join('; '));
    assert.ok(r.failures.some((f) => f.startsWith('k001: ')));
    assert.equal(m.calls.copy, 6, 'the too-large copy was never sent');
  });

  test('an aborted run stops taking new actions and says how to finish', async () => {
    const { m, plan } = setup(20);
    const ac = new AbortController();
    let done = 0;
    await assert.rejects(
      applyPlan(from(plan), {
        buckets: m,
        sourceBucket: 'b',
        targetBucket: 'b',
        dryRun: false,
        concurrency: 1,
        signal: ac.signal,
        onAction: () => {
          if (++done === 3) ac.abort();
        },
      }),
      /run the same restore again/,
    );
    assert.ok(m.calls.copy < 20, `${m.calls.copy} copies after the abort`);
  });
});
