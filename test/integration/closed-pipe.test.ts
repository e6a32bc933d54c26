// `rwm … | head -1`: the reader of stdout goes away mid-command. rwm must drop the output nobody
// reads and finish the command: `rwm storage create` once died of the EPIPE between making the
// bucket versioned and setting its policy, leaving a bucket that was not policed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { GetBucketPolicyCommand, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CLI } from '../helpers/server.js';
import { bucketName, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';

interface Closed {
  readonly status: number | null;
  readonly stderr: string;
  readonly bytesRead: number;
}

/** Runs the CLI and closes its stdout after the first chunk it writes, like `| head -c 1`. */
function withStdoutClosedEarly(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let bytesRead = 0;
    child.stdout.once('data', (d: Buffer) => {
      bytesRead = d.length;
      child.stdout.destroy();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, bytesRead });
    });
  });
}

describe('stdout closed by its reader', () => {
  const env = s3TestEnv();
  const admin = testClient(env);
  const buckets: string[] = [];
  after(async () => {
    for (const b of buckets) await deleteBucket(env, b).catch(() => undefined);
    admin.destroy();
  });

  test('rwm --help | head -c 1: exit 0, no EPIPE crash', async () => {
    // Long enough output that the pipe closes while node still writes.
    const r = await withStdoutClosedEarly(['storage', 'create', '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  });

  test('rwm storage create | head -c 1: the bucket is still created with versioning and its policy', async () => {
    const bucket = bucketName('rwm-pipe');
    buckets.push(bucket);
    const r = await withStdoutClosedEarly(['storage', 'create', bucket, '--user', 'backup', '--endpoint', env.endpoint, '--region', env.region], {
      AWS_ACCESS_KEY_ID: env.admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.admin.secretAccessKey,
    });
    assert.ok(r.bytesRead > 0, 'storage create wrote nothing to stdout before it finished');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
    assert.equal((await admin.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    const policy = (await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '';
    assert.match(policy, /Deny/);
  });
});
