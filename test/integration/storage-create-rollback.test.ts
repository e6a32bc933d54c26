// `rwm storage create` never leaves a versioned bucket without its policy (issue 9): when a step after
// CreateBucket fails, or SIGINT/SIGTERM arrives while one is in flight, the new bucket is removed
// before rwm exits. A proxy in front of RGW fails or holds the chosen request, so the signal lands
// exactly mid-create.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';
import { CLI } from '../helpers/server.js';
import { startS3Proxy, type S3ProxyOptions } from '../helpers/s3-proxy.js';

const env = s3TestEnv();
const admin = testClient(env, 'admin');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function bucketExists(bucket: string): Promise<boolean> {
  return admin.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (err: { $metadata?: { httpStatusCode?: number } }) => {
      if (err.$metadata?.httpStatusCode === 404) return false;
      throw err;
    },
  );
}

/** `rwm storage create BUCKET --user backup` through a proxy that stops one request; `signal` is sent once it is held. */
async function createThroughProxy(bucket: string, stop: S3ProxyOptions, signal?: NodeJS.Signals): Promise<Run> {
  const proxy = await startS3Proxy(env.endpoint, stop);
  try {
    const child = spawn(process.execPath, [CLI, 'storage', 'create', bucket, '--user', 'backup', '--endpoint', proxy.endpoint, '--region', env.region], {
      env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: env.admin.accessKeyId, AWS_SECRET_ACCESS_KEY: env.admin.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    if (signal !== undefined) {
      await proxy.caught;
      child.kill(signal);
      // The removal goes through the proxy too: let it pass once the signal is in.
      await sleep(300);
      proxy.resume();
    }
    const status = await done;
    clearTimeout(killer);
    return { status, stdout, stderr };
  } finally {
    await proxy.close();
  }
}

const show = (r: Run): string => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('rwm storage create removes the bucket it made when it cannot finish', () => {
  const buckets: string[] = [];
  const newBucket = (): string => {
    const b = bucketName('rwm-rollback');
    buckets.push(b);
    return b;
  };
  after(async () => {
    for (const b of buckets) await deleteBucket(env, b);
    admin.destroy();
  });

  test('the policy step fails (403): exit 1, says so, and the bucket is gone', async () => {
    const bucket = newBucket();
    const r = await createThroughProxy(bucket, { match: (h) => h.startsWith(`PUT /${bucket}/?policy`), action: { status: 403, code: 'AccessDenied' } });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stdout, new RegExp(`created bucket ${bucket}`), 'the bucket had been made');
    assert.match(r.stderr, /apply the bucket policy: 403 AccessDenied; the new bucket was removed again/, show(r));
    assert.equal(await bucketExists(bucket), false);
  });

  for (const [signal, step, query, code] of [
    ['SIGTERM', 'enabling versioning', 'versioning', 143],
    ['SIGINT', 'applying the policy', 'policy', 130],
  ] as const) {
    test(`${signal} while ${step}: the bucket is removed, exit ${code}`, async () => {
      const bucket = newBucket();
      const r = await createThroughProxy(bucket, { match: (h) => h.startsWith(`PUT /${bucket}/?${query}`), action: 'hold' }, signal);
      assert.equal(r.status, code, show(r));
      assert.match(r.stdout, new RegExp(`created bucket ${bucket}`), 'the bucket had been made');
      assert.match(r.stderr, new RegExp(`interrupted \\(${signal}\\); the new bucket was removed again`), show(r));
      assert.equal(await bucketExists(bucket), false);
    });
  }
});
