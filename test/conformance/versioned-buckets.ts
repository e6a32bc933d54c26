// The VersionedBuckets conformance suite: the in-memory twin (src/s3/memory-buckets.test.ts) and real
// S3 (s3-versions.test.ts, Ceph RGW) each call runVersionedBucketsConformance() in a few lines, so
// state, restore and scrub can be unit-tested on the twin and trusted on S3. The fixture writes and
// deletes "as any S3 client would" (not through the interface), and the suite keeps its own record
// of what it wrote, so listings are checked against what must be there; where the backend can also
// give a plain, sequential listing (S3: ListObjectVersions without Delimiter), that is compared too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isBackendError } from '../../src/backend/errors.js';
import type { VersionedBuckets, VersionRecord } from '../../src/s3/bucket.js';
import { compareKeys } from '../../src/s3/names.js';

export interface VersionedBucketsUnderTest {
  readonly buckets: VersionedBuckets;
  /** An empty bucket with versioning enabled, for this suite alone. */
  readonly bucket: string;
  /** An existing bucket that never had versioning enabled. */
  readonly unversionedBucket: string;
  /** Puts a new version on top of `key` in `bucket`, as any S3 client would. */
  write(key: string, data: Buffer): Promise<void>;
  /** Deletes `key` in `bucket` without a version id: a delete marker on top. */
  remove(key: string): Promise<void>;
  /** The same for many keys at once, if the backend has a faster way (S3: DeleteObjects). Optional. */
  removeMany?(keys: readonly string[]): Promise<void>;
  /**
   * Every version and delete marker under `prefix`, by the plainest means the backend has (S3: one
   * sequential ListObjectVersions pagination without Delimiter), in the server's order. Optional.
   */
  plainListing?(prefix: string): Promise<VersionRecord[]>;
  cleanup(): Promise<void>;
}

/** Writes the suite made to one key, oldest first: a body's MD5 (its ETag) or null for a delete marker. */
type Written = Map<string, (string | null)[]>;

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

async function collect(it: AsyncIterable<VersionRecord>): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Runs `work` over `items` with at most `n` at once (the fixture's writes are one request each). */
async function pool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const describeRec = (r: VersionRecord): string => `${r.key}@${r.versionId}${r.deleteMarker ? ' (marker)' : ''}`;

/**
 * The listing is sorted by key in byte order, each key's records are contiguous, the first one
 * (only) is the latest, and no (key, versionId) appears twice.
 */
function assertWellFormed(list: readonly VersionRecord[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const r = list[i] as VersionRecord;
    const id = `${r.key}\0${r.versionId}`;
    assert.ok(!seen.has(id), `listed twice: ${describeRec(r)}`);
    seen.add(id);
    const prev = list[i - 1];
    if (prev === undefined || prev.key !== r.key) {
      if (prev !== undefined) assert.ok(compareKeys(prev.key, r.key) < 0, `out of order: ${JSON.stringify(prev.key)} before ${JSON.stringify(r.key)}`);
      assert.equal(r.isLatest, true, `the first record of ${JSON.stringify(r.key)} is not the latest`);
    } else {
      // Newest first is S3's stack order, which LastModified need not follow (see the listing
      // checks); but the latest, the one S3 serves, MUST come first.
      assert.equal(r.isLatest, false, `${describeRec(r)} is marked latest but is not the first of its key`);
    }
    if (r.deleteMarker) {
      assert.equal(r.size, 0);
      assert.equal(r.etag, '');
    } else assert.match(r.etag, /^[0-9a-f]{32}$/, `${describeRec(r)}: ETag ${r.etag}`);
    assert.ok(r.lastModified > 0, `${describeRec(r)} has no LastModified`);
    assert.notEqual(r.versionId, '', `${r.key} has no version id`);
  }
}

/** Exactly what was written under `prefix`: every version and marker once; for keys written one at a time, in order. */
function assertMatchesWritten(list: readonly VersionRecord[], written: Written, prefix: string, ordered: (key: string) => boolean): void {
  const byKey = new Map<string, VersionRecord[]>();
  for (const r of list) {
    const l = byKey.get(r.key) ?? [];
    l.push(r);
    byKey.set(r.key, l);
  }
  const expectedKeys = [...written.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
  assert.deepEqual([...byKey.keys()], expectedKeys, `the keys under ${JSON.stringify(prefix)}`);
  for (const key of expectedKeys) {
    const want = [...(written.get(key) ?? [])].reverse();
    const got = (byKey.get(key) ?? []).map((r) => (r.deleteMarker ? null : r.etag));
    if (ordered(key)) assert.deepEqual(got, want, `the versions of ${JSON.stringify(key)}, newest first`);
    else {
      const sort = (a: (string | null)[]): string[] => a.map((x) => x ?? '(marker)').sort();
      assert.equal(got.length, want.length, `how many versions ${JSON.stringify(key)} has`);
      assert.deepEqual(sort(got), sort(want), `the versions of ${JSON.stringify(key)}`);
    }
  }
}

/** The same records as a plain listing: same keys, version ids, kinds, sizes and ETags, in the same order per kind. */
function assertSameAsPlain(list: readonly VersionRecord[], plain: readonly VersionRecord[], what: string): void {
  const fields = (r: VersionRecord): string => `${r.key}\0${r.versionId}\0${r.deleteMarker}\0${r.isLatest}\0${r.size}\0${r.etag}\0${r.lastModified}`;
  assert.equal(list.length, plain.length, `${what}: as many records as the plain listing`);
  assert.deepEqual(list.map(fields).sort(), plain.map(fields).sort(), `${what}: the same records as the plain listing`);
  // The plain listing has a key's versions newest first, and its markers newest first, in two lists.
  for (const dm of [false, true]) {
    const order = (l: readonly VersionRecord[]): string[] => l.filter((r) => r.deleteMarker === dm).map((r) => `${r.key}\0${r.versionId}`);
    const byKeyThenPosition = (l: string[]): string[] => {
      const pos = new Map(l.map((x, i) => [x, i]));
      return [...l].sort((a, b) => compareKeys(a.split('\0')[0] as string, b.split('\0')[0] as string) || (pos.get(a) as number) - (pos.get(b) as number));
    };
    assert.deepEqual(order(list), byKeyThenPosition(order(plain)), `${what}: ${dm ? 'markers' : 'versions'} in the server's order`);
  }
}

export function runVersionedBucketsConformance(name: string, open: () => Promise<VersionedBucketsUnderTest>): void {
  describe(`versioned buckets conformance: ${name}`, () => {
    let t: VersionedBucketsUnderTest;
    let b: VersionedBuckets;
    let bucket: string;
    const written: Written = new Map();

    const note = (key: string, etag: string | null): void => {
      const l = written.get(key) ?? [];
      l.push(etag);
      written.set(key, l);
    };
    const write = async (key: string, data: Buffer | string): Promise<string> => {
      const body = Buffer.from(data);
      await t.write(key, body);
      note(key, md5(body));
      return md5(body);
    };
    const remove = async (key: string): Promise<void> => {
      await t.remove(key);
      note(key, null);
    };
    const list = (prefix: string, concurrency?: number): Promise<VersionRecord[]> => collect(b.listVersions(bucket, prefix, concurrency === undefined ? {} : { concurrency }));
    /** Sequential writes to one key get distinct LastModified times even on a millisecond clock. */
    const writeInOrder = async (key: string, bodies: readonly (Buffer | string | null)[]): Promise<void> => {
      for (const body of bodies) {
        if (body === null) await remove(key);
        else await write(key, body);
        await sleep(3);
      }
    };
    const removeMany = async (keys: readonly string[]): Promise<void> => {
      if (t.removeMany === undefined) await pool(keys, 16, (k) => t.remove(k));
      else await t.removeMany(keys);
      for (const k of keys) note(k, null);
    };
    /**
     * Checks a listing of `prefix` at concurrency 16 and 1 (unless `narrow` is false: one request
     * per directory, one after the other, is slow on a real server) against what was written and,
     * if the backend has one, the plain listing.
     */
    const checkListing = async (prefix: string, ordered: (key: string) => boolean, narrow = true): Promise<VersionRecord[]> => {
      const wide = await list(prefix, 16);
      const lists: [VersionRecord[], string][] = [[wide, 'concurrency 16']];
      if (narrow) lists.push([await list(prefix, 1), 'concurrency 1']);
      for (const [l, what] of lists) {
        assertWellFormed(l);
        assertMatchesWritten(l, written, prefix, ordered);
        assert.deepEqual(l, wide, `${what}: the same listing as concurrency 16`);
      }
      if (t.plainListing !== undefined) assertSameAsPlain(wide, await t.plainListing(prefix), `listing ${JSON.stringify(prefix)}`);
      return wide;
    };

    before(async () => {
      t = await open();
      b = t.buckets;
      bucket = t.bucket;
    });
    after(async () => t.cleanup());

    test('versioning reports Enabled and Unversioned; exists is false for a missing bucket', async () => {
      assert.equal(await b.versioning(bucket), 'Enabled');
      assert.equal(await b.versioning(t.unversionedBucket), 'Unversioned');
      assert.equal(await b.exists(bucket), true);
      assert.equal(await b.exists(t.unversionedBucket), true);
      assert.equal(await b.exists(`rwm-missing-${randomBytes(6).toString('hex')}`), false);
    });

    test('an empty prefix lists nothing; a missing bucket is an error, never an empty listing', async () => {
      assert.deepEqual(await list('nothing-here/'), []);
      await assert.rejects(collect(b.listVersions(`rwm-missing-${randomBytes(6).toString('hex')}`, '')), (err: unknown) => {
        assert.ok(isBackendError(err), `expected a BackendError, got ${String(err)}`);
        assert.notEqual(err.code, 'NOT_FOUND');
        return true;
      });
    });

    test('sorted by key in byte order, newest first within a key, every version and marker once', async () => {
      await writeInOrder('sort/b', ['b1', 'b2', null, 'b3']);
      await writeInOrder('sort/a', ['a1']);
      await writeInOrder('sort/c', ['c1', null]);
      await writeInOrder('sort/a/x', ['ax1', 'ax2']);
      await writeInOrder('sort/\u00e9', ['e-acute']);
      await writeInOrder('sort/z', ['z1']);
      await writeInOrder('sort/\uff61', ['halfwidth']);
      await writeInOrder('sort/\u{1f600}', ['emoji']); // after U+FF61 in UTF-8, before it in UTF-16
      await writeInOrder('sort/~', ['tilde']);
      const l = await checkListing('sort/', () => true);
      assert.deepEqual(
        [...new Set(l.map((r) => r.key))],
        ['sort/a', 'sort/a/x', 'sort/b', 'sort/c', 'sort/z', 'sort/~', 'sort/\u00e9', 'sort/\uff61', 'sort/\u{1f600}'],
      );
      const top = l.find((r) => r.key === 'sort/c');
      assert.equal(top?.deleteMarker, true);
      assert.equal(top.isLatest, true);
      assert.equal(l.filter((r) => r.key === 'sort/b').length, 4);
    });

    test('keys with prefix-like neighbours interleave correctly', async () => {
      const keys = [
        'nb/p',
        'nb/p.txt',
        'nb/p/',
        'nb/p/data',
        'nb/p/data-x',
        'nb/p/data.x',
        'nb/p/data/',
        'nb/p/data/00/a',
        'nb/p/data/00/b',
        'nb/p/data/00.x',
        'nb/p/data/0',
        'nb/p/data/01/a',
        'nb/p/data0',
        'nb/p/dataz',
        'nb/p0',
        'nb/p0/q',
        'nb/q',
      ];
      await pool(keys, 8, async (k) => {
        await write(k, `body of ${k}`);
      });
      await remove('nb/p/data/00/b');
      const l = await checkListing('nb/', () => true);
      assert.deepEqual([...new Set(l.map((r) => r.key))], [...keys].sort(compareKeys));
      // A prefix that is itself a key ("directory marker") and one that ends inside a segment.
      assert.deepEqual([...new Set((await list('nb/p/data/')).map((r) => r.key))], ['nb/p/data/', 'nb/p/data/0', 'nb/p/data/00.x', 'nb/p/data/00/a', 'nb/p/data/00/b', 'nb/p/data/01/a']);
    });

    test('read returns the bytes of a version that is no longer current', async () => {
      const old = randomBytes(3000);
      await writeInOrder('rd/k', [old, randomBytes(10), null]);
      const versions = await list('rd/');
      const first = versions.at(-1) as VersionRecord;
      assert.equal(first.etag, md5(old));
      assert.equal(first.size, old.length);
      assert.deepEqual(await readAll(await b.read({ bucket, key: 'rd/k', versionId: first.versionId })), old);
      // A version id that does not exist, of an existing key and of a missing one.
      const made = (first.versionId.startsWith('A') ? 'B' : 'A') + first.versionId.slice(1);
      for (const key of ['rd/k', 'rd/missing']) {
        await assert.rejects(b.read({ bucket, key, versionId: made }), (err: unknown) => {
          assert.ok(isBackendError(err, 'NOT_FOUND'), `${key}: expected NOT_FOUND, got ${String(err)}`);
          return true;
        });
      }
    });

    test('copy of an old version puts its bytes on top, of the same key or another', async () => {
      const v1 = randomBytes(1500);
      await writeInOrder('cp/k', [v1, 'garbage over it']);
      const before = await list('cp/');
      const old = before.at(-1) as VersionRecord;
      await b.copy({ bucket, key: 'cp/k', versionId: old.versionId }, { bucket, key: 'cp/k' });
      note('cp/k', md5(v1));
      await sleep(3);
      await b.copy({ bucket, key: 'cp/k', versionId: old.versionId }, { bucket, key: 'cp/other' });
      note('cp/other', md5(v1));
      const after = await checkListing('cp/', () => true);
      const top = after.find((r) => r.key === 'cp/k') as VersionRecord;
      assert.equal(top.isLatest, true);
      assert.equal(top.size, v1.length);
      assert.notEqual(top.versionId, old.versionId);
      assert.deepEqual(await readAll(await b.read({ bucket, key: 'cp/k', versionId: top.versionId })), v1);
      const other = after.find((r) => r.key === 'cp/other') as VersionRecord;
      assert.deepEqual(await readAll(await b.read({ bucket, key: 'cp/other', versionId: other.versionId })), v1);
      // The versions that were there stay.
      for (const r of before) assert.ok(after.some((x) => x.versionId === r.versionId && x.key === r.key), `${describeRec(r)} is gone`);
    });

    test('hide adds a delete marker on top and keeps every version', async () => {
      const v1 = randomBytes(700);
      await writeInOrder('hd/k', [v1, 'two']);
      const before = await list('hd/');
      await b.hide(bucket, 'hd/k');
      note('hd/k', null);
      await b.hide(bucket, 'hd/never-written');
      note('hd/never-written', null);
      const after = await checkListing('hd/', () => true);
      const mine = after.filter((r) => r.key === 'hd/k');
      assert.equal(mine.length, 3);
      assert.equal(mine[0]?.deleteMarker, true);
      assert.deepEqual(mine.slice(1).map((r) => r.versionId), before.map((r) => r.versionId));
      assert.deepEqual(await readAll(await b.read({ bucket, key: 'hd/k', versionId: (mine[2] as VersionRecord).versionId })), v1);
    });

    test('putNew stores a new key and refuses an existing one', async () => {
      const body = randomBytes(2048);
      await b.putNew(bucket, 'pn/state.jsonl.gz', body, body.length);
      note('pn/state.jsonl.gz', md5(body));
      const other = randomBytes(100);
      await assert.rejects(b.putNew(bucket, 'pn/state.jsonl.gz', other, other.length), (err: unknown) => isBackendError(err, 'ALREADY_EXISTS'));
      const streamed = randomBytes(5000);
      await b.putNew(bucket, 'pn/streamed', () => Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000)]), streamed.length);
      note('pn/streamed', md5(streamed));
      await assert.rejects(b.putNew(bucket, 'pn/streamed', () => Readable.from([other]), other.length), (err: unknown) => isBackendError(err, 'ALREADY_EXISTS'));
      const l = await checkListing('pn/', () => true);
      assert.equal(l.length, 2, 'a refused putNew adds no version');
      const top = l.find((r) => r.key === 'pn/state.jsonl.gz') as VersionRecord;
      assert.deepEqual(await readAll(await b.read({ bucket, key: top.key, versionId: top.versionId })), body);
    });

    test('the whole bucket (prefix \'\') lists as everything written, nothing twice', async () => {
      // Before the paging cases fill the bucket, so that listing it one directory at a time stays quick.
      await checkListing('', () => true);
    });

    test('paging: a key with more than 1000 versions', async () => {
      const bodies = Array.from({ length: 1100 }, (_, i) => Buffer.from(`version ${i}`));
      await pool(bodies, 16, async (body) => {
        await write('many/k', body);
      });
      await writeInOrder('many/l', ['after']);
      const l = await checkListing('many/', (k) => k !== 'many/k');
      assert.equal(l.filter((r) => r.key === 'many/k').length, 1100);
    });

    test('paging: pages that hold only delete markers', async () => {
      const keys = Array.from({ length: 1100 }, (_, i) => `dm/k${String(i).padStart(4, '0')}`);
      await writeInOrder('dm/a-first', ['before the markers']);
      await removeMany(keys);
      await writeInOrder('dm/z-last', ['after the markers']);
      const l = await checkListing('dm/', () => true);
      assert.equal(l.filter((r) => r.deleteMarker).length, 1100);
      assert.equal(l.at(-1)?.key, 'dm/z-last');
    });

    test('paging: a directory with more than 1000 sub-directories', async () => {
      // Each sub-directory holds only a delete marker (quicker to make than objects, and a case of its own).
      const keys = Array.from({ length: 1010 }, (_, i) => `wide/d${String(i).padStart(4, '0')}/x`);
      await removeMany(keys);
      await writeInOrder('wide/d0007/y', ['an object among the markers']);
      await writeInOrder('wide/d0500', ['a key beside its own directory']);
      const l = await checkListing('wide/', () => true, false);
      assert.equal(new Set(l.map((r) => r.key)).size, 1012);
    });

    test('paging: a repository prefix with 2000+ objects across restic shards', async () => {
      const id = (): string => randomBytes(32).toString('hex');
      const keys: string[] = ['repo/config'];
      for (let s = 0; s < 256; s++) {
        const shard = s.toString(16).padStart(2, '0');
        for (let i = 0; i < 7; i++) keys.push(`repo/data/${shard}/${shard}${id().slice(2)}`);
      }
      for (const dir of ['index', 'snapshots']) for (let i = 0; i < 100; i++) keys.push(`repo/${dir}/${id()}`);
      for (let i = 0; i < 3; i++) keys.push(`repo/keys/${id()}`);
      for (let i = 0; i < 12; i++) keys.push(`repo/locks/${id()}`);
      await pool(keys, 16, async (k) => {
        await write(k, randomBytes(16));
      });
      // Some keys get another version on top, some a delete marker (what tampering and prune leave).
      const data = keys.filter((k) => k.includes('/data/'));
      await pool(data.filter((_, i) => i % 40 === 0), 16, async (k) => {
        await write(k, 'garbage');
      });
      await removeMany(data.filter((_, i) => i % 40 === 20));
      const l = await checkListing('repo/', () => true);
      assert.ok(new Set(l.map((r) => r.key)).size >= 2000);
    });
  });
}
