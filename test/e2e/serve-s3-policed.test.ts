// `rwm serve --s3` on a bucket made by `rwm storage create`, with the backup user's keys: the proxy
// needs nothing the policy withholds (init, backup with a streamed pack, check), the owner reads the
// repository directly, and the bucket is still policed afterwards. Repositories 2 and 4 levels deep
// (/alice/laptop/, the README's layout) can delete their locks too, and nothing else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir, type RunningServer } from '../helpers/server.js';
import { resticOk } from '../helpers/restic.js';
import { makeTree } from '../helpers/data.js';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { directRepo, keysEnv, startS3Server, writeHtpasswd } from '../helpers/s3-restic.js';
import { jsonOf, runStorage, type CheckJson } from '../helpers/storage.js';

const env = s3TestEnv();

describe('rwm serve --s3 on a policed bucket', () => {
  const bucket = bucketName('rwm-policed-serve');
  let dir: string;
  let server: RunningServer;
  let rest: string[];

  before(async () => {
    dir = await tempDir();
    await makeTree(join(dir, 'src'), 60, 128 << 10);
    await writeFile(join(dir, 'src', 'big.bin'), randomBytes(6 << 20));
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', 'restic']);
    assert.equal(created.status, 0, created.stderr);
    writeHtpasswd(join(dir, 'htpasswd'), 'web1', 'web1-pw');
    server = await startS3Server(env, `${bucket}/restic`, ['--htpasswd-file', join(dir, 'htpasswd')]);
    rest = ['-r', `rest:http://web1:web1-pw@127.0.0.1:${server.port}/web1/`];
  });
  after(async () => {
    await server?.stop();
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('init, backup and check through rwm with the backup user\'s keys', async () => {
    await resticOk([...rest, 'init']);
    await resticOk([...rest, 'backup', join(dir, 'src')]);
    assert.match((await resticOk([...rest, 'check'])).stdout, /no errors were found/);
    const versions = await listVersions(env, bucket, 'restic/web1/');
    assert.ok(versions.some((v) => v.key.startsWith('restic/web1/data/') && v.size > 4 << 20), 'a pack went through the streamed upload');
    assert.ok(!versions.some((v) => v.deleteMarker && !v.key.startsWith('restic/web1/locks/')));
  });

  for (const repo of ['alice/laptop', 'a/b/c/d']) {
    test(`a ${repo.split('/').length}-level repository /${repo}/: restic removes its locks; the backup user still cannot delete anything else there`, async () => {
      const url = ['-r', `rest:http://web1:web1-pw@127.0.0.1:${server.port}/${repo}/`];
      await resticOk([...url, 'init']);
      await resticOk([...url, 'backup', join(dir, 'src', 'big.bin')]);
      const versions = await listVersions(env, bucket, `restic/${repo}/`);
      const locks = versions.filter((v) => v.key.startsWith(`restic/${repo}/locks/`));
      assert.ok(locks.length > 0, 'restic took locks');
      const current = locks.filter((v) => v.isLatest && !v.deleteMarker).map((v) => v.key);
      assert.deepEqual(current, [], 'every lock was deleted (its latest entry is a delete marker)');
      assert.match((await resticOk([...url, 'check'])).stdout, /no errors were found/, 'and the repository is not left locked');
      const backup = testClient(env, 'backup');
      try {
        for (const key of [versions.find((v) => v.key.startsWith(`restic/${repo}/data/`))?.key, `restic/${repo}/config`]) {
          assert.ok(key !== undefined);
          await assert.rejects(backup.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })), (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403, `DeleteObject ${key}`);
        }
      } finally {
        backup.destroy();
      }
    });
  }

  test('the owner reads it directly, and the bucket is still policed', async () => {
    const direct = ['-r', directRepo(env, bucket, 'restic/web1'), '--no-cache'];
    assert.match((await resticOk([...direct, 'check', '--read-data'], keysEnv(env.admin))).stdout, /no errors were found/);
    const r = await runStorage(env, ['check', bucket, '--as-backup', '--json'], { as: 'backup' });
    assert.equal(r.status, 0, r.stdout);
    assert.equal(jsonOf<CheckJson>(r).ok, true);
  });
});
