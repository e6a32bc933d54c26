// End to end with the real restic (Debian's 0.14) and `rwm serve --s3` on the Ceph RADOS Gateway:
// - over HTTP (htpasswd): init, backup (with packs large enough for the streaming upload path),
//   restore byte-identical, check --read-data; `forget` is refused and no object version changes;
// - the trusted host reads that repository with restic's own s3: backend and the admin's keys
//   (the objects are restic's S3 layout and the bucket owner may read what the backup user wrote);
// - the reverse: a repository restic wrote directly to the bucket is served by rwm, and grows;
// - over stdio (restic's rclone backend, the SSH forced-command form) with the keys inherited
//   from restic's environment, objects under BUCKET/PREFIX/REPO/, forget refused as well.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditEvents, CLI, removeDir, tempDir, type RunningServer } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { treeDigest } from '../helpers/tree.js';
import { makeTree } from '../helpers/data.js';
import { bucketName, createBucket, deleteBucket, listVersions, s3TestEnv, type VersionEntry } from '../helpers/s3.js';
import { assertOnlyLocksChanged, directRepo, keysEnv, s3Flags, snapshotIds, startS3Server, writeHtpasswd } from '../helpers/s3-restic.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
/** restic 0.14 retries a refused DELETE for about 45 s before it gives up. */
const FORGET_TIMEOUT = 240_000;

/** A few hundred KiB of small files plus one 8 MiB file, so some pack is over rwm's 4 MiB streaming threshold. */
async function makeSource(root: string): Promise<void> {
  await makeTree(root, 120, 256 << 10);
  await writeFile(join(root, 'big.bin'), randomBytes(8 << 20));
}

/** Restores the latest snapshot and asserts it is byte-identical to src. */
async function assertRestores(repoArgs: string[], envVars: NodeJS.ProcessEnv, src: string, target: string): Promise<void> {
  await resticOk([...repoArgs, 'restore', 'latest', '--target', target], envVars);
  assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src));
}

async function assertCheck(repoArgs: string[], envVars: NodeJS.ProcessEnv, readData: boolean): Promise<void> {
  const r = await resticOk([...repoArgs, 'check', ...(readData ? ['--read-data'] : [])], envVars);
  assert.match(r.stdout, /no errors were found/);
}

async function snapshots(repoArgs: string[], envVars: NodeJS.ProcessEnv): Promise<string[]> {
  return snapshotIds((await resticOk([...repoArgs, 'snapshots', '--json'], envVars)).stdout);
}

/**
 * Every key below repoKey is one of restic's own S3 layout, or rwm serve's arrival record of a snapshot
 * it stored (one per snapshot, under .rwm/ledger/); returns the live (latest, not deleted) restic ones.
 */
function assertResticLayout(all: readonly VersionEntry[], repoKey: string, throughRwm = true): VersionEntry[] {
  const ledger = new RegExp(`^${repoKey}/\\.rwm/ledger/\\d{8}T\\d{6}Z-([0-9a-f]{64})-[0-9a-f]{8}\\.json$`);
  const recorded = new Set(all.map((v) => ledger.exec(v.key)?.[1]).filter((id) => id !== undefined));
  const versions = all.filter((v) => !ledger.test(v.key));
  const live = versions.filter((v) => v.isLatest && !v.deleteMarker);
  const snapshots = live.filter((v) => v.key.startsWith(`${repoKey}/snapshots/`)).map((v) => v.key.slice(repoKey.length + 11));
  assert.deepEqual([...recorded].sort(), throughRwm ? snapshots.sort() : [], throughRwm ? 'one arrival record for each snapshot rwm serve stored' : 'restic direct leaves no arrival record');
  const re = new RegExp(`^${repoKey}/(config|(keys|snapshots|index|locks)/[0-9a-f]{64}|data/([0-9a-f]{2})/([0-9a-f]{64}))$`);
  for (const v of versions) {
    const m = re.exec(v.key);
    assert.ok(m, `unexpected key ${v.key}`);
    if (m[3] !== undefined) assert.equal(m[3], m[4]!.slice(0, 2), `${v.key} is in the wrong data/ subdirectory`);
  }
  for (const dir of ['keys/', 'snapshots/', 'index/', 'data/']) assert.ok(live.some((v) => v.key.startsWith(`${repoKey}/${dir}`)), `no ${dir} object`);
  assert.ok(live.some((v) => v.key === `${repoKey}/config`), 'no config object');
  return live;
}

/**
 * Runs `restic forget ID`, which must fail, and asserts that no object version in the bucket
 * changed (lock files aside). Returns restic's result.
 */
async function assertForgetRefused(bucket: string, repoKey: string, repoArgs: string[], envVars: NodeJS.ProcessEnv): Promise<{ stderr: string }> {
  const [id] = await snapshots(repoArgs, envVars);
  assert.ok(id);
  const versionsBefore = await listVersions(env, bucket);
  assert.ok(versionsBefore.some((v) => v.key === `${repoKey}/snapshots/${id}`));
  const r = await restic([...repoArgs, 'forget', id], envVars, FORGET_TIMEOUT);
  assert.notEqual(r.code, 0, `forget must fail:\n${r.stdout}\n${r.stderr}`);
  assertOnlyLocksChanged(versionsBefore, await listVersions(env, bucket), repoKey);
  assert.deepEqual(await snapshots(repoArgs, envVars), [id]);
  return r;
}

describe('restic over HTTP with rwm serve --s3', () => {
  const bucket = bucketName();
  const prefix = 'restic';
  const repoKey = `${prefix}/alice/laptop`;
  let dir: string;
  let src: string;
  let server: RunningServer;
  let rest: string[];
  let snapshotId: string;

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeSource(src);
    await createBucket(env, bucket, { versioned: true, grantBackup: true });
    const htpasswd = join(dir, 'htpasswd');
    writeHtpasswd(htpasswd, 'alice', 'alice-pw');
    server = await startS3Server(env, `${bucket}/${prefix}`, ['--htpasswd-file', htpasswd]);
    rest = ['-r', `rest:http://alice:alice-pw@127.0.0.1:${server.port}/alice/laptop/`];
  });
  after(async () => {
    await server?.stop();
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('init, backup, snapshots, restore byte-identical, check --read-data', async () => {
    await resticOk([...rest, 'init']);
    await resticOk([...rest, 'backup', src]);
    const snaps = JSON.parse((await resticOk([...rest, 'snapshots', '--json'])).stdout) as { id: string; paths: string[] }[];
    assert.equal(snaps.length, 1);
    assert.deepEqual(snaps[0]!.paths, [src]);
    snapshotId = snaps[0]!.id;
    await assertRestores(rest, {}, src, join(dir, 'restore-rest'));
    await assertCheck(rest, {}, true);
  });

  test('the objects are restic\'s S3 layout under the prefix, and a pack went through the streaming upload', async () => {
    const versions = await listVersions(env, bucket);
    const live = assertResticLayout(versions, repoKey);
    assert.ok(live.some((v) => v.key === `${repoKey}/snapshots/${snapshotId}`));
    const packs = live.filter((v) => v.key.startsWith(`${repoKey}/data/`));
    assert.ok(packs.some((v) => v.size > 4 << 20), `no pack over 4 MiB: ${packs.map((v) => v.size).join(', ')}`);
    assert.ok(!versions.some((v) => v.deleteMarker && !v.key.startsWith(`${repoKey}/locks/`)), 'nothing but locks was deleted');
  });

  test('forget is refused (403 on DELETE, audited) and every object version is unchanged', { timeout: FORGET_TIMEOUT + 60_000 }, async () => {
    const auditBefore = auditEvents(server).length;
    await assertForgetRefused(bucket, repoKey, rest, {});
    const refusals = auditEvents(server).slice(auditBefore);
    assert.ok(
      refusals.some((e) => e.reason === 'delete-refused' && e.method === 'DELETE' && e.status === 403 && e.user === 'alice' && String(e.path).includes(`/snapshots/${snapshotId}`)),
      JSON.stringify(refusals),
    );
  });

  test('the trusted host reads the repository directly with restic\'s s3: backend and the admin\'s keys', async () => {
    // --no-cache: restic's local cache holds what it read through rwm; read it all from the bucket
    const direct = ['-r', directRepo(env, bucket, repoKey), '--no-cache'];
    assert.deepEqual(await snapshots(direct, admin), [snapshotId]);
    await assertCheck(direct, admin, true);
    await assertRestores(direct, admin, src, join(dir, 'restore-direct'));
  });
});

describe('rwm serve --s3 serves a repository restic wrote directly to the bucket', () => {
  const bucket = bucketName();
  const prefix = 'direct';
  const repoKey = `${prefix}/host2`;
  let dir: string;
  let src: string;
  let server: RunningServer;
  let rest: string[];
  let direct: string[];
  let firstId: string;

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeSource(src);
    await createBucket(env, bucket, { versioned: true, grantBackup: true });
    const htpasswd = join(dir, 'htpasswd');
    writeHtpasswd(htpasswd, 'host2', 'host2-pw');
    server = await startS3Server(env, `${bucket}/${prefix}`, ['--htpasswd-file', htpasswd]);
    // --no-cache: the repository has the same id both ways, so restic's local cache would answer
    // some reads; every read must go to the bucket, through rwm or directly
    rest = ['-r', `rest:http://host2:host2-pw@127.0.0.1:${server.port}/host2/`, '--no-cache'];
    direct = ['-r', directRepo(env, bucket, repoKey), '--no-cache'];
  });
  after(async () => {
    await server?.stop();
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('restic init and backup directly on the bucket (admin keys)', async () => {
    await resticOk([...direct, 'init'], admin);
    await resticOk([...direct, 'backup', src], admin);
    const ids = await snapshots(direct, admin);
    assert.equal(ids.length, 1);
    firstId = ids[0]!;
    assertResticLayout(await listVersions(env, bucket), repoKey, false);
  });

  test('through rwm: snapshots, restore byte-identical, check', async () => {
    assert.deepEqual(await snapshots(rest, {}), [firstId]);
    await assertRestores(rest, {}, src, join(dir, 'restore-rest'));
    await assertCheck(rest, {}, false);
  });

  test('a second backup through rwm works, and the admin can read what the backup user wrote', async () => {
    await writeFile(join(src, 'new.bin'), randomBytes(6 << 20));
    await resticOk([...rest, 'backup', src]);
    const ids = await snapshots(rest, {});
    assert.equal(ids.length, 2);
    assert.ok(ids.includes(firstId));
    assert.deepEqual((await snapshots(direct, admin)).sort(), [...ids].sort());
    await assertCheck(direct, admin, true);
    await assertRestores(direct, admin, src, join(dir, 'restore-direct'));
  });
});

describe('restic over stdio (rclone backend) with rwm serve --stdio --s3', () => {
  const bucket = bucketName();
  const prefix = 'hosts';
  const repoKey = `${prefix}/host3/main`;
  let dir: string;
  let src: string;
  // restic runs "<program> <args> <name>": node dist/cli/main.js serve --stdio --s3 BUCKET/hosts ... host3/main
  const stdio = (): string[] => ['-r', 'rclone:host3/main', '-o', `rclone.program=${process.execPath} ${CLI}`, '-o', `rclone.args=serve --stdio ${s3Flags(env, `${bucket}/${prefix}`).join(' ')}`];

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeSource(src);
    await createBucket(env, bucket, { versioned: true, grantBackup: true });
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('init, backup, restore byte-identical; the objects are under BUCKET/PREFIX/REPO/', async () => {
    // the backup user's keys are in restic's environment, which the rwm child inherits
    await resticOk([...stdio(), 'init'], backup);
    await resticOk([...stdio(), 'backup', src], backup);
    assert.equal((await snapshots(stdio(), backup)).length, 1);
    await assertRestores(stdio(), backup, src, join(dir, 'restore'));
    const all = await listVersions(env, bucket);
    assert.deepEqual(all.filter((v) => !v.key.startsWith(`${repoKey}/`)).map((v) => v.key), [], 'nothing outside the repository prefix');
    assertResticLayout(all, repoKey);
    await assertCheck(['-r', directRepo(env, bucket, repoKey)], admin, false);
  });

  test('forget is refused and every object version is unchanged', { timeout: FORGET_TIMEOUT + 60_000 }, async () => {
    const r = await assertForgetRefused(bucket, repoKey, stdio(), backup);
    // rwm's warnings reach restic's stderr (restic prefixes the child's lines with "rclone: ")
    assert.match(r.stderr, /delete-refused/);
  });
});
