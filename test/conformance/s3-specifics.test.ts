// S3 backend behaviour beyond the shared contract, on the real Ceph RGW: the streamed and multipart
// upload paths refuse bad bodies without leaving anything behind, versioned buckets get no extra
// versions, lock removal only adds a delete marker, the bucket owner can read what the backup
// account wrote, and S3 failures become typed errors (never NOT_FOUND on a list).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Backend } from '../../src/backend/backend.js';
import { isBackendError, type BackendErrorCode } from '../../src/backend/errors.js';
import { S3Store } from '../../src/backend/s3/store.js';
import type { S3Settings } from '../../src/backend/s3/settings.js';
import { bucketName, createBucket, deleteBucket, listVersions, s3TestEnv, testClient, type S3TestEnv } from '../helpers/s3.js';

const env = s3TestEnv();
const MiB = 1 << 20;

function blob(size: number): { data: Buffer; id: string } {
  const data = randomBytes(size);
  return { data, id: createHash('sha256').update(data).digest('hex') };
}

function chunks(d: Buffer, size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < d.length; i += size) out.push(d.subarray(i, i + size));
  return out;
}

async function* slowFailing(d: Buffer): AsyncIterable<Uint8Array> {
  for (const c of chunks(d)) yield c;
  await new Promise((r) => setTimeout(r, 20));
  throw new Error('client went away');
}

async function readAll(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

async function rejectsWith(p: Promise<unknown>, code: BackendErrorCode): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    assert.ok(isBackendError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
  return caught as Error;
}

function settings(e: S3TestEnv, bucket: string, who: 'admin' | 'backup', over: Partial<S3Settings> = {}): S3Settings {
  return { bucket, prefix: 'p', endpoint: e.endpoint, region: e.region, bucketLookup: 'path', credentials: e[who], bucketOwnerFullControl: true, ...over };
}

async function noMultipartLeft(bucket: string): Promise<void> {
  const c = testClient(env);
  try {
    const r = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(r.Uploads ?? [], [], 'no incomplete multipart upload is left behind');
  } finally {
    c.destroy();
  }
}

describe('s3 backend on a versioned bucket written by the backup account', () => {
  const bucket = bucketName();
  let store: S3Store;
  let b: Backend;
  before(async () => {
    await createBucket(env, bucket, { versioned: true, grantBackup: true });
    store = await S3Store.open(settings(env, bucket, 'backup'));
    b = store.repo(['r']);
  });
  after(async () => {
    await store.close();
    await deleteBucket(env, bucket);
  });

  test('a streamed upload (> 4 MiB) with a body that does not hash to its name stores nothing, quickly', async () => {
    const f = blob(6 * MiB);
    const wrong = blob(10).id;
    const t0 = Date.now();
    await rejectsWith(b.save({ type: 'data', name: wrong }, chunks(f.data), { size: f.data.length }), 'INTEGRITY');
    assert.ok(Date.now() - t0 < 20_000, 'refused without waiting for an S3 timeout');
    assert.deepEqual(await listVersions(env, bucket, 'p/r/data/'), []);
  });

  test('a streamed upload whose client goes away half-way stores nothing, quickly', async () => {
    const f = blob(6 * MiB);
    const t0 = Date.now();
    await assert.rejects(b.save({ type: 'data', name: f.id }, slowFailing(f.data.subarray(0, 3 * MiB)), { size: f.data.length }));
    assert.ok(Date.now() - t0 < 20_000, 'the S3 request was aborted, not left to time out');
    await rejectsWith(b.stat({ type: 'data', name: f.id }), 'NOT_FOUND');
    assert.deepEqual(await listVersions(env, bucket, `p/r/data/${f.id.slice(0, 2)}/${f.id}`), []);
  });

  test('a streamed body shorter than announced stores nothing, without waiting for S3 to time out', async () => {
    // config is not content-addressed, so only the length check and the abort protect it here.
    const t0 = Date.now();
    await rejectsWith(b.save({ type: 'config' }, chunks(randomBytes(5 * MiB)), { size: 5 * MiB + 1 }), 'INTEGRITY');
    assert.ok(Date.now() - t0 < 20_000);
    await rejectsWith(b.stat({ type: 'config' }), 'NOT_FOUND');
    assert.deepEqual(await listVersions(env, bucket, 'p/r/config'), []);
  });

  test('a body longer than announced is refused on the streamed path too', async () => {
    const f = blob(5 * MiB);
    await rejectsWith(b.save({ type: 'data', name: f.id }, [...chunks(f.data), Buffer.from('x')], { size: f.data.length }), 'INTEGRITY');
    assert.deepEqual(await listVersions(env, bucket, `p/r/data/${f.id.slice(0, 2)}/`), []);
  });

  test('a streamed upload lands whole in restic\'s key layout, readable by the bucket owner; a retry adds no version', async () => {
    const f = blob(9 * MiB + 123);
    const h = { type: 'data', name: f.id } as const;
    assert.equal(await b.save(h, chunks(f.data), { size: f.data.length }), 'created');
    assert.equal(await b.save(h, chunks(f.data), { size: f.data.length }), 'existed');
    const key = `p/r/data/${f.id.slice(0, 2)}/${f.id}`;
    const versions = await listVersions(env, bucket, key);
    assert.equal(versions.length, 1, 'one version only');
    const admin = testClient(env);
    try {
      const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.ok(got.Body);
      assert.deepEqual(await readAll(got.Body as AsyncIterable<unknown>), f.data);
    } finally {
      admin.destroy();
    }
    assert.deepEqual(await readAll(await b.load(h, { offset: 5 * MiB, length: 100 })), f.data.subarray(5 * MiB, 5 * MiB + 100));
  });

  test('a body of unknown length > 8 MiB goes up in parts, verified before it is completed', async () => {
    const good = blob(17 * MiB);
    const h = { type: 'data', name: good.id } as const;
    assert.equal(await b.save(h, chunks(good.data)), 'created');
    assert.deepEqual(await readAll(await b.load(h)), good.data);
    // The multipart ETag is not an MD5: an identical retry is recognised by reading the stored bytes.
    assert.equal(await b.save(h, chunks(good.data)), 'existed');
    assert.equal((await listVersions(env, bucket, `p/r/data/${good.id.slice(0, 2)}/${good.id}`)).length, 1);

    const bad = blob(12 * MiB);
    const wrong = blob(1).id;
    await rejectsWith(b.save({ type: 'data', name: wrong }, chunks(bad.data)), 'INTEGRITY');
    await rejectsWith(b.stat({ type: 'data', name: wrong }), 'NOT_FOUND');
    await noMultipartLeft(bucket);
  });

  test('removing a lock only adds a delete marker; the version stays', async () => {
    const f = blob(300);
    const h = { type: 'locks', name: f.id } as const;
    await b.save(h, [f.data]);
    await b.remove(h);
    await rejectsWith(b.stat(h), 'NOT_FOUND');
    const v = await listVersions(env, bucket, `p/r/locks/${f.id}`);
    assert.equal(v.filter((x) => !x.deleteMarker).length, 1);
    assert.equal(v.filter((x) => x.deleteMarker).length, 1);
  });
});

describe('s3 backend: existing objects are never replaced', () => {
  const bucket = bucketName();
  let store: S3Store;
  let b: Backend;
  before(async () => {
    await createBucket(env, bucket, {});
    store = await S3Store.open(settings(env, bucket, 'admin'));
    b = store.repo(['r']);
  });
  after(async () => {
    await store.close();
    await deleteBucket(env, bucket);
  });

  test('a tampered object is left as it is: the correct upload gets ALREADY_EXISTS', async () => {
    const f = blob(2000);
    const key = `p/r/snapshots/${f.id}`;
    const c = testClient(env);
    try {
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(2000, 7) }));
      await rejectsWith(b.save({ type: 'snapshots', name: f.id }, [f.data]), 'ALREADY_EXISTS');
      const big = blob(5 * MiB);
      const bigKey = `p/r/data/${big.id.slice(0, 2)}/${big.id}`;
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: bigKey, Body: Buffer.alloc(5 * MiB, 1) }));
      await rejectsWith(b.save({ type: 'data', name: big.id }, chunks(big.data), { size: big.data.length }), 'ALREADY_EXISTS');
      const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: bigKey }));
      assert.equal(head.ETag, `"${createHash('md5').update(Buffer.alloc(5 * MiB, 1)).digest('hex')}"`, 'the stored object is untouched');
    } finally {
      c.destroy();
    }
    assert.deepEqual(await readAll(await b.load({ type: 'snapshots', name: f.id })), Buffer.alloc(2000, 7));
  });

  test('files outside restic\'s layout are not listed', async () => {
    const f = blob(100);
    const c = testClient(env);
    try {
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: `p/r/index/not-an-id`, Body: 'x' }));
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: `p/r/data/00/${f.id}`, Body: f.data })); // wrong shard
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: `p/r/index/sub/${f.id}`, Body: f.data }));
    } finally {
      c.destroy();
    }
    const names: string[] = [];
    for await (const x of b.list('index')) names.push(x.name);
    for await (const x of b.list('data')) if (x.name === f.id) names.push(x.name);
    assert.deepEqual(names, f.id.startsWith('00') ? [f.id] : []);
  });
});

describe('s3 store: failures are typed and explained', () => {
  test('a missing bucket, wrong keys and an unreachable endpoint are UNAVAILABLE with a clear message', async () => {
    let err = await rejectsWith(S3Store.open(settings(env, 'rwm-no-such-bucket-x', 'admin')), 'UNAVAILABLE');
    assert.match(err.message, /does not exist/);
    const bucket = bucketName();
    await createBucket(env, bucket, {});
    try {
      err = await rejectsWith(S3Store.open(settings(env, bucket, 'admin', { credentials: { accessKeyId: env.admin.accessKeyId, secretAccessKey: 'wrong-secret' } })), 'UNAVAILABLE');
      assert.match(err.message, /denied/);
      assert.ok(!err.message.includes('wrong-secret'), 'the secret is not in the message');
      err = await rejectsWith(S3Store.open(settings(env, bucket, 'admin', { endpoint: 'http://127.0.0.1:9' })), 'UNAVAILABLE');
      assert.match(err.message, /cannot reach S3/);
    } finally {
      await deleteBucket(env, bucket);
    }
  });

  test('a list in a bucket that disappeared is UNAVAILABLE, never NOT_FOUND or empty', async () => {
    const bucket = bucketName();
    await createBucket(env, bucket, {});
    const store = await S3Store.open(settings(env, bucket, 'admin'));
    try {
      await deleteBucket(env, bucket);
      const names: string[] = [];
      await rejectsWith(
        (async () => {
          for await (const x of store.repo(['r']).list('snapshots')) names.push(x.name);
        })(),
        'UNAVAILABLE',
      );
      await rejectsWith(store.repo(['r']).save({ type: 'config' }, [Buffer.from('c')]), 'UNAVAILABLE');
    } finally {
      await store.close();
    }
  });
});
