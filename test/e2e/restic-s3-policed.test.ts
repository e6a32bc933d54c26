// End to end: Debian's restic 0.14 writes DIRECTLY to a bucket made by `rwm storage create --user
// backup --prefix repo`, with the backup user's own keys (no rwm in between):
// - init, two backups and check work, and restic leaves no lock behind (its lock deletes are allowed
//   and only add delete markers);
// - `forget --keep-last 1 --prune` cannot destroy anything: every earlier object version is still
//   there, unchanged and current, and the only additions are under repo/locks/;
// - the admin (the bucket owner) reads and checks everything the backup user wrote, thanks to the
//   policy's admin statement.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { makeTree } from '../helpers/data.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, type VersionEntry } from '../helpers/s3.js';
import { assertOnlyLocksChanged, directRepo, keysEnv, snapshotIds } from '../helpers/s3-restic.js';
import { runStorage } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const REPO_KEY = 'repo';
/** restic 0.14 retries a refused DELETE with backoff (tens of seconds per file) before it gives up. */
const FORGET_TIMEOUT = 420_000;

/** No lock is current: the latest entry of every key under repo/locks/ is a delete marker (or there is none). */
function assertNoCurrentLock(versions: readonly VersionEntry[], when: string): void {
  const current = versions.filter((v) => v.key.startsWith(`${REPO_KEY}/locks/`) && v.isLatest && !v.deleteMarker).map((v) => v.key);
  assert.deepEqual(current, [], `a lock is left after ${when}`);
}

describe('restic directly on a bucket made by rwm storage create, with the backup user\'s keys', () => {
  const bucket = bucketName('rwm-policed');
  let dir: string;
  let src: string;
  let repo: string[];
  let ids: string[];

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeTree(src, 60, 256 << 10);
    repo = ['-r', directRepo(env, bucket, REPO_KEY), '-o', 's3.connections=2'];
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('rwm storage create BUCKET --user backup --prefix repo exits 0', async () => {
    const r = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', REPO_KEY]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  });

  test('init, two backups and check work with the backup user\'s keys; no lock is left', { timeout: 300_000 }, async () => {
    await resticOk([...repo, 'init'], backup);
    assertNoCurrentLock(await listVersions(env, bucket), 'init');
    await resticOk([...repo, 'backup', src], backup);
    assertNoCurrentLock(await listVersions(env, bucket), 'the first backup');
    await writeFile(join(src, 'second.bin'), randomBytes(300 << 10));
    await resticOk([...repo, 'backup', src], backup);
    assertNoCurrentLock(await listVersions(env, bucket), 'the second backup');
    const c = await resticOk([...repo, 'check'], backup);
    assert.match(c.stdout, /no errors were found/);
    ids = snapshotIds((await resticOk([...repo, 'snapshots', '--json'], backup)).stdout);
    assert.equal(ids.length, 2);
    const versions = await listVersions(env, bucket);
    assertNoCurrentLock(versions, 'check');
    assert.deepEqual(versions.filter((v) => !v.key.startsWith(`${REPO_KEY}/`)).map((v) => v.key), [], 'nothing outside the prefix');
    for (const id of ids) assert.ok(versions.some((v) => v.key === `${REPO_KEY}/snapshots/${id}` && v.isLatest && !v.deleteMarker), `snapshot ${id} is stored`);
    assert.deepEqual(versions.filter((v) => v.deleteMarker && !v.key.startsWith(`${REPO_KEY}/locks/`)).map((v) => v.key), [], 'nothing but locks was deleted');
  });

  test('forget --keep-last 1 --prune destroys nothing: every version is kept, only locks/ changes', { timeout: FORGET_TIMEOUT + 60_000 }, async (t) => {
    assert.equal(ids?.length, 2, 'needs the two snapshots of the previous test');
    const versionsBefore = await listVersions(env, bucket);
    const r = await restic([...repo, 'forget', '--keep-last', '1', '--prune'], backup, FORGET_TIMEOUT);
    // restic may report the refused deletes as a failure; what matters is the bucket
    assert.notEqual(r.code, -1, `restic was killed after ${FORGET_TIMEOUT} ms:\n${r.stdout}\n${r.stderr}`);
    t.diagnostic(`restic forget exited ${r.code}: ${r.stderr.split('\n').find((l) => /^(Fatal|error|unable|Remove)/i.test(l)) ?? r.stderr.slice(0, 200)}`);
    const versionsAfter = await listVersions(env, bucket);
    // every earlier version unchanged and, outside locks/, still current; additions only under repo/locks/; no lock left
    assertOnlyLocksChanged(versionsBefore, versionsAfter, REPO_KEY);
    assert.deepEqual(
      versionsAfter.filter((v) => v.deleteMarker && !v.key.startsWith(`${REPO_KEY}/locks/`)).map((v) => v.key),
      [],
      'no delete marker outside locks/ (a snapshot or pack hidden from restic)',
    );
    assert.deepEqual(snapshotIds((await resticOk([...repo, 'snapshots', '--json'], backup)).stdout).sort(), [...ids].sort(), 'both snapshots are still there');
  });

  test('the admin checks the repository (with --read-data) with its own keys', { timeout: 300_000 }, async () => {
    const direct = ['-r', directRepo(env, bucket, REPO_KEY), '--no-cache'];
    assert.deepEqual(snapshotIds((await resticOk([...direct, 'snapshots', '--json'], admin)).stdout).sort(), [...ids].sort());
    const c = await resticOk([...direct, 'check', '--read-data'], admin);
    assert.match(c.stdout, /no errors were found/);
  });
});
