// `rwm serve` with S3 storage from the command line: start-up errors are clear (usage errors exit 2,
// an unusable bucket exits 1), and the bucket, prefix and keys can come from the config file alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CLI, removeDir, startServer, tempDir } from '../helpers/server.js';
import { http, sha256hex } from '../helpers/data.js';
import { bucketName, createBucket, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';
import { writeHtpasswd } from '../helpers/s3-restic.js';

const env = s3TestEnv();

describe('rwm serve --s3 on the command line', () => {
  const bucket = bucketName();
  let dir: string;
  before(async () => {
    dir = await tempDir();
    await createBucket(env, bucket, { versioned: true, grantBackup: true });
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, ...extraEnv } });
  const keys = { AWS_ACCESS_KEY_ID: env.backup.accessKeyId, AWS_SECRET_ACCESS_KEY: env.backup.secretAccessKey };

  test('usage errors exit 2, an unusable bucket exits 1, and both say why', () => {
    const both = run(['--s3', bucket, '--path', dir, '--no-auth', '--s3-endpoint', env.endpoint], keys);
    assert.equal(both.status, 2);
    assert.match(String(both.stderr), /--path .* cannot be used together/);
    const noAuth = run(['--s3', bucket, '--s3-endpoint', env.endpoint], keys);
    assert.equal(noAuth.status, 2);
    assert.match(String(noAuth.stderr), /--htpasswd-file/);
    const badBucket = run(['--s3', 'Not_A_Bucket', '--no-auth', '--s3-endpoint', env.endpoint], keys);
    assert.equal(badBucket.status, 2);
    assert.match(String(badBucket.stderr), /invalid S3 bucket name/);
    const missing = run(['--s3', `${bucket}-missing`, '--no-auth', '--s3-endpoint', env.endpoint], keys);
    assert.equal(missing.status, 1);
    assert.match(String(missing.stderr), /does not exist/);
    const wrongKey = run(['--s3', bucket, '--no-auth', '--s3-endpoint', env.endpoint], { ...keys, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.equal(wrongKey.status, 1);
    assert.match(String(wrongKey.stderr), /denied/);
    assert.doesNotMatch(String(wrongKey.stderr), /not-the-secret/, 'secrets never reach the output');
    const noKeys = run(['--s3', bucket, '--no-auth', '--s3-endpoint', env.endpoint], { HOME: dir });
    assert.equal(noKeys.status, 1);
    assert.match(String(noKeys.stderr), /no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/, 'names the variables');
  });

  test('bucket, prefix, endpoint and keys from the config file; files land under the prefix', async () => {
    const cfg = join(dir, 'rwm.yaml');
    await writeFile(
      cfg,
      [
        'serve:',
        '  s3:',
        `    bucket: ${bucket}`,
        '    prefix: from-config/',
        `    endpoint: ${env.endpoint}`,
        `    accessKeyId: ${env.backup.accessKeyId}`,
        `    secretAccessKey: ${env.backup.secretAccessKey}`,
        '',
      ].join('\n'),
    );
    await chmod(cfg, 0o600);
    const server = await startServer('', ['--config', cfg, '--no-auth']);
    try {
      assert.ok(!server.logs.some((l) => JSON.stringify(l).includes(env.backup.secretAccessKey)), 'the secret is not logged');
      const r = await http('POST', `${server.url}host1/config`, Buffer.from('a config'));
      assert.equal(r.status, 200);
      const admin = testClient(env);
      try {
        const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'from-config/host1/config' }));
        assert.equal(head.ContentLength, 8);
      } finally {
        admin.destroy();
      }
      assert.equal((await http('POST', `${server.url}host1/config`, Buffer.from('another'))).status, 403, 'config is never replaced');
    } finally {
      await server.stop();
    }
  });

  test('--max-size counts what is already in the bucket', async () => {
    const admin = testClient(env);
    try {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'quota/old/data/00/x', Body: Buffer.alloc(6000) }));
    } finally {
      admin.destroy();
    }
    const server = await startServer('', ['--s3', `${bucket}/quota`, '--s3-endpoint', env.endpoint, '--no-auth', '--max-size', '10000'], keys);
    try {
      const small = Buffer.alloc(3000, 1);
      assert.equal((await http('POST', `${server.url}r/data/${sha256hex(small)}`, small)).status, 200);
      const more = Buffer.alloc(3000, 2);
      assert.equal((await http('POST', `${server.url}r/data/${sha256hex(more)}`, more)).status, 507, '6000 + 3000 + 3000 > 10000');
    } finally {
      await server.stop();
    }
  });

  test('a user\'s root maps their repositories to a prefix the operator chose', async () => {
    const cfg = join(dir, 'roots.yaml');
    await writeFile(cfg, ['serve:', '  users:', '    alice:', '      root: customers/acme', ''].join('\n'));
    await chmod(cfg, 0o600);
    const ht = join(dir, 'htpasswd');
    writeHtpasswd(ht, 'alice', 'alice-pw');
    writeHtpasswd(ht, 'bob', 'bob-pw', false);
    const server = await startServer('', ['--s3', `${bucket}/roots`, '--s3-endpoint', env.endpoint, '--config', cfg, '--htpasswd-file', ht, '--private-repos'], keys);
    try {
      const auth = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
      const body = Buffer.from('alice config');
      assert.equal((await http('POST', `${server.url}laptop/config`, body, auth('alice', 'alice-pw'))).status, 200);
      const admin = testClient(env);
      try {
        const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'roots/customers/acme/laptop/config' }));
        assert.equal(head.ContentLength, body.length, 'stored below alice\'s root');
      } finally {
        admin.destroy();
      }
      assert.equal((await http('GET', `${server.url}laptop/config`, undefined, auth('alice', 'alice-pw'))).body.toString(), 'alice config');
      // bob has no root: with --private-repos he reaches /bob/... only, which is not alice's data.
      assert.equal((await http('GET', `${server.url}laptop/config`, undefined, auth('bob', 'bob-pw'))).status, 403);
      assert.equal((await http('GET', `${server.url}customers/acme/laptop/config`, undefined, auth('bob', 'bob-pw'))).status, 403);
      assert.equal((await http('GET', `${server.url}bob/laptop/config`, undefined, auth('bob', 'bob-pw'))).status, 404);
    } finally {
      await server.stop();
    }
  });

  test('memory for buffered uploads is bounded: beyond --s3-upload-buffer an upload gets 503 (restic retries), and the room comes back', async () => {
    const server = await startServer('', ['--s3', `${bucket}/budget`, '--no-auth', '--s3-endpoint', env.endpoint, '--s3-upload-buffer', '1MiB'], keys);
    const held: Socket[] = [];
    try {
      // two uploads of 500 KiB announced, a little sent, then held open (as 40 of them once took 630 MB)
      for (let i = 0; i < 2; i++) {
        const body = randomBytes(500 * 1024);
        const sock = connect({ host: '127.0.0.1', port: server.port });
        sock.on('error', () => undefined);
        sock.write(`POST /r/data/${sha256hex(body)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
        sock.write(body.subarray(0, 1024));
        held.push(sock);
      }
      await new Promise((r) => setTimeout(r, 500));
      const more = randomBytes(100_000);
      const refused = await http('POST', `${server.url}r/data/${sha256hex(more)}`, more);
      assert.equal(refused.status, 503);
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await http('POST', `${server.url}r/data/${sha256hex(more)}`, more)).status, 200);
    } finally {
      for (const s of held) s.destroy();
      await server.stop();
    }
  });
});
