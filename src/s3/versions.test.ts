// The one ListObjectVersions pager against a fake S3 client that pages like S3 (Delimiter,
// CommonPrefixes, NextKeyMarker + NextVersionIdMarker) with tiny pages, so every page boundary,
// directory walk and merge is exercised quickly; the real thing is test/conformance/s3-versions.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ListObjectVersionsCommand, ListObjectVersionsCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { VersionRecord } from './bucket.js';
import { compareKeys } from './names.js';
import { listS3Versions, pageItems } from './versions.js';

interface FakeVersion {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly lastModified: number;
}

/** A bucket as S3 keeps it: keys in byte order, each key's versions as a stack, the latest first. */
class FakeS3 {
  requests = 0;
  inFlight = 0;
  mostInFlight = 0;
  constructor(
    private readonly versions: readonly FakeVersion[],
    private readonly pageSize: number,
  ) {}

  private page(input: { Prefix?: string | undefined; Delimiter?: string | undefined; KeyMarker?: string | undefined; VersionIdMarker?: string | undefined }): ListObjectVersionsCommandOutput {
    const prefix = input.Prefix ?? '';
    let i = 0;
    const all = this.versions;
    if (input.KeyMarker !== undefined) {
      const km = input.KeyMarker;
      if (input.VersionIdMarker !== undefined) {
        i = all.findIndex((v) => v.key === km && v.versionId === input.VersionIdMarker) + 1;
      } else {
        // After the key, and after everything under it when it is a common prefix.
        while (i < all.length && (compareKeys((all[i] as FakeVersion).key, km) <= 0 || (km.endsWith('/') && (all[i] as FakeVersion).key.startsWith(km)))) i++;
      }
    }
    const out: ListObjectVersionsCommandOutput = { $metadata: {}, Versions: [], DeleteMarkers: [], CommonPrefixes: [], IsTruncated: false };
    let n = 0;
    let last: { key: string; versionId?: string } | undefined;
    for (; i < all.length; i++) {
      const v = all[i] as FakeVersion;
      if (!v.key.startsWith(prefix)) continue;
      const slash = input.Delimiter === undefined ? -1 : v.key.indexOf(input.Delimiter, prefix.length);
      if (n === this.pageSize) {
        out.IsTruncated = true;
        out.NextKeyMarker = last?.key;
        if (last?.versionId !== undefined) out.NextVersionIdMarker = last.versionId;
        break;
      }
      if (slash >= 0) {
        const cp = v.key.slice(0, slash + 1);
        out.CommonPrefixes?.push({ Prefix: cp });
        n++;
        last = { key: cp };
        while (i + 1 < all.length && (all[i + 1] as FakeVersion).key.startsWith(cp)) i++;
        continue;
      }
      const first = all.findIndex((x) => x.key === v.key);
      const rec = { Key: v.key, VersionId: v.versionId, IsLatest: first === i, LastModified: new Date(v.lastModified) };
      if (v.deleteMarker) out.DeleteMarkers?.push(rec);
      else out.Versions?.push({ ...rec, Size: 1, ETag: `"${'0'.repeat(32)}"` });
      n++;
      last = { key: v.key, versionId: v.versionId };
    }
    return out;
  }

  readonly client = {
    send: async (cmd: ListObjectVersionsCommand): Promise<ListObjectVersionsCommandOutput> => {
      this.requests++;
      this.inFlight++;
      this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
      try {
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        return this.page(cmd.input);
      } finally {
        this.inFlight--;
      }
    },
  } as unknown as S3Client;
}

/** Versions for `keys` (each with 1..3 versions, some markers), in S3's order. */
function bucketOf(keys: readonly string[], seed = 1): FakeVersion[] {
  let x = seed;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const out: FakeVersion[] = [];
  for (const key of [...new Set(keys)].sort(compareKeys)) {
    const n = 1 + Math.floor(rnd() * 3);
    for (let j = 0; j < n; j++) out.push({ key, versionId: `${key}#${n - j}`, deleteMarker: rnd() < 0.25, lastModified: 1_000_000 + (n - j) * 10 });
  }
  return out;
}

async function collect(it: AsyncIterable<VersionRecord>): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const ids = (l: readonly { versionId: string }[]): string[] => l.map((r) => r.versionId);

describe('pageItems', () => {
  test('keeps S3\'s stack order within a key, even where LastModified disagrees', () => {
    // The latest version completed last but has the older LastModified (a slow upload, or two
    // writes within one clock tick): it is still the one S3 serves, so it comes first.
    const items = pageItems({
      Versions: [
        { Key: 'k', VersionId: 'top', IsLatest: true, LastModified: new Date(1000), Size: 1, ETag: '"a"' },
        { Key: 'k', VersionId: 'older', IsLatest: false, LastModified: new Date(2000), Size: 1, ETag: '"b"' },
        { Key: 'k', VersionId: 'oldest', IsLatest: false, LastModified: new Date(1500), Size: 1, ETag: '"c"' },
      ],
    });
    assert.deepEqual(items.map((it) => ('rec' in it ? it.rec.versionId : it.dir)), ['top', 'older', 'oldest']);
  });

  test('interleaves delete markers by time, the latest first, and places directories where they sort', () => {
    const items = pageItems({
      Versions: [
        { Key: 'a', VersionId: 'a2', IsLatest: false, LastModified: new Date(20), Size: 1, ETag: '"A2"' },
        { Key: 'a', VersionId: 'a1', IsLatest: false, LastModified: new Date(10), Size: 1, ETag: '"A1"' },
        { Key: 'c', VersionId: 'c1', IsLatest: true, LastModified: new Date(10), Size: 3, ETag: '"C1"' },
      ],
      DeleteMarkers: [
        { Key: 'a', VersionId: 'am2', IsLatest: true, LastModified: new Date(30) },
        { Key: 'a', VersionId: 'am1', IsLatest: false, LastModified: new Date(15) },
        { Key: 'b', VersionId: 'bm', IsLatest: true, LastModified: new Date(5) },
      ],
      CommonPrefixes: [{ Prefix: 'b/' }, { Prefix: 'a/' }],
    });
    assert.deepEqual(
      items.map((it) => ('rec' in it ? it.rec.versionId : it.dir)),
      ['am2', 'a2', 'am1', 'a1', 'a/', 'bm', 'b/', 'c1'],
    );
    const c1 = items.at(-1);
    assert.ok(c1 !== undefined && 'rec' in c1);
    assert.deepEqual(c1.rec, { key: 'c', versionId: 'c1', deleteMarker: false, isLatest: true, size: 3, etag: 'c1', lastModified: 10, owner: '' });
  });
});

describe('listS3Versions (on a fake S3 with tiny pages)', () => {
  const keys: string[] = ['config', 'p.txt', 'p/', 'p/data.x', 'p/data/', 'p/data/0', 'p/data0', 'a//b', '/lead', 'z'];
  for (let s = 0; s < 20; s++) for (let i = 0; i < 3; i++) keys.push(`data/${s.toString(16).padStart(2, '0')}/${randomBytes(4).toString('hex')}`);
  for (const d of ['index', 'snapshots', 'locks', 'keys']) for (let i = 0; i < 5; i++) keys.push(`${d}/${randomBytes(4).toString('hex')}`);
  for (let i = 0; i < 8; i++) keys.push(`deep/${i % 2}/${i % 3}/${i}/x`);
  const bucket = bucketOf(keys);

  for (const pageSize of [1, 2, 3, 7, 1000]) {
    for (const concurrency of [1, 3, 16]) {
      test(`page size ${pageSize}, concurrency ${concurrency}: every version once, in S3's order`, async () => {
        const s3 = new FakeS3(bucket, pageSize);
        const got = await collect(listS3Versions(s3.client, 'b', '', { concurrency }));
        assert.deepEqual(ids(got), ids(bucket));
        assert.ok(s3.mostInFlight <= concurrency, `${s3.mostInFlight} requests in flight`);
        for (const [i, r] of got.entries()) assert.equal(r.isLatest, i === 0 || got[i - 1]?.key !== r.key);
      });
    }
  }

  test('sub-directories that share a first character are listed as one flat prefix: 256 shards take 16 requests, not 256', async () => {
    const layout: string[] = ['config', 'keys/k1'];
    for (let s = 0; s < 256; s++) layout.push(`data/${s.toString(16).padStart(2, '0')}/${randomBytes(4).toString('hex')}`);
    const s3 = new FakeS3(bucketOf(layout), 1000);
    const got = await collect(listS3Versions(s3.client, 'b', '', { concurrency: 4 }));
    assert.deepEqual(ids(got), ids(bucketOf(layout)));
    // top level, data/, keys/ and data/0 .. data/f
    assert.equal(s3.requests, 3 + 16);
  });

  test('groups that span pages, with keys beside the sub-directories of a group: every version once', async () => {
    const mixed: string[] = [];
    for (const g of ['a', 'b', 'c']) {
      mixed.push(`t/${g}`, `t/${g}.x`, `t/${g}z`);
      for (let i = 0; i < 5; i++) mixed.push(`t/${g}${i}/k`, `t/${g}${i}/l`);
    }
    mixed.push('t/d/only', 't/\u{1F600}a/x', 't/\u{1F600}b/y', 't/\u{1F600}');
    const b = bucketOf(mixed, 7);
    for (const pageSize of [1, 2, 3, 4, 5, 8, 1000]) {
      const s3 = new FakeS3(b, pageSize);
      assert.deepEqual(ids(await collect(listS3Versions(s3.client, 'b', '', { concurrency: 3 }))), ids(b), `page size ${pageSize}`);
    }
  });

  test('a prefix lists only what is under it', async () => {
    const s3 = new FakeS3(bucket, 2);
    assert.deepEqual(ids(await collect(listS3Versions(s3.client, 'b', 'p/', { concurrency: 4 }))), ids(bucket.filter((v) => v.key.startsWith('p/'))));
    assert.deepEqual(ids(await collect(listS3Versions(s3.client, 'b', 'data/03/', { concurrency: 4 }))), ids(bucket.filter((v) => v.key.startsWith('data/03/'))));
    assert.deepEqual(await collect(listS3Versions(s3.client, 'b', 'nothing/', { concurrency: 4 })), []);
  });

  test('pages that hold only delete markers, and a key with more versions than a page', async () => {
    const many: FakeVersion[] = [];
    for (let i = 0; i < 40; i++) many.push({ key: `dm/${String(i).padStart(3, '0')}`, versionId: `m${i}`, deleteMarker: true, lastModified: 5 });
    for (let i = 0; i < 30; i++) many.push({ key: 'dn/k', versionId: `v${30 - i}`, deleteMarker: i % 7 === 3, lastModified: 1000 - i });
    const s3 = new FakeS3(many, 4);
    assert.deepEqual(ids(await collect(listS3Versions(s3.client, 'b', '', { concurrency: 2 }))), ids(many));
  });

  test('stopping early stops the listing: no more requests after the consumer left', async () => {
    const wide: FakeVersion[] = [];
    for (let d = 0; d < 200; d++) for (let i = 0; i < 5; i++) wide.push({ key: `d${String(d).padStart(3, '0')}/k${i}`, versionId: `${d}.${i}`, deleteMarker: false, lastModified: 1 });
    const s3 = new FakeS3(wide, 2);
    let n = 0;
    for await (const _ of listS3Versions(s3.client, 'b', '', { concurrency: 8 })) if (++n === 3) break;
    await new Promise((r) => setTimeout(r, 50));
    const after = s3.requests;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s3.requests, after, 'requests went on after the consumer stopped');
    assert.ok(after < 60, `${after} requests for 3 records`);
  });

  test('a failing request fails the listing', async () => {
    const s3 = new FakeS3(bucket, 3);
    let calls = 0;
    const failing = {
      send: async (cmd: ListObjectVersionsCommand) => {
        if (++calls === 5) throw Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        return s3.client.send(cmd);
      },
    } as unknown as S3Client;
    await assert.rejects(collect(listS3Versions(failing, 'b', '', { concurrency: 4 })), /boom/);
  });

  test('a truncated page without a new marker is an error, not an endless loop', async () => {
    const stuck = { send: async () => ({ $metadata: {}, IsTruncated: true, Versions: [] }) } as unknown as S3Client;
    await assert.rejects(collect(listS3Versions(stuck, 'b', '')), /truncated page without a new marker/);
  });
});
