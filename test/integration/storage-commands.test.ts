// The other `rwm storage` subcommands on the real RGW: list and info count exactly what is there,
// delete refuses anything it should (non-empty, unconfirmed, backup keys) and changes nothing then,
// policy prints what create applies, and usage and config errors are clear. No secret is ever printed.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, GetBucketPolicyCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { jsonOf, runStorage, writeProfilesConfig, type StorageRun } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = testClient(env, 'admin');
const backup = testClient(env, 'backup');

const SECRETS = [env.admin.secretAccessKey, env.backup.secretAccessKey];
async function storage(args: string[], o: Parameters<typeof runStorage>[2] = {}): Promise<StorageRun> {
  const r = await runStorage(env, args, o);
  for (const s of SECRETS) assert.equal(`${r.stdout}${r.stderr}`.includes(s), false, `a secret key was printed by: storage ${args.join(' ')}`);
  return r;
}

describe('rwm storage list, info, delete, policy', () => {
  const bucket = bucketName('rwm-cmds');
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-storage-'));
    assert.equal((await storage(['create', bucket, '--user', 'backup', '--admin-user', 'admin'])).status, 0);
    // As restic would: three files, one overwritten (a second version), one lock added and removed.
    for (const [k, body] of [['data/aa/1', 'one'], ['data/bb/2', 'two-2'], ['config', 'cfg'], ['data/aa/1', 'one-again'], ['locks/l1', 'lock']] as const) {
      await backup.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body }));
    }
    await backup.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'locks/l1' }));
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await rm(dir, { recursive: true, force: true });
    admin.destroy();
    backup.destroy();
  });

  test('list --json counts objects, versions, delete markers and bytes exactly', async () => {
    const r = await storage(['list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const row = jsonOf<Record<string, unknown>[]>(r).find((b) => b.bucket === bucket);
    assert.ok(row, 'the bucket is listed');
    const { created, ...rest } = row;
    assert.equal(typeof created, 'string');
    assert.deepEqual(rest, { bucket, policed: true, findings: 0, versioning: 'Enabled', objectLock: null, objects: 3, versions: 5, deleteMarkers: 1, bytes: 3 + 5 + 3 + 9 + 4 });
    const text = await storage(['list']);
    assert.match(text.stdout, new RegExp(`^${bucket}\\s+yes\\s+Enabled`, 'm'));
  });

  test('info --json shows current, noncurrent and delete markers with their bytes, and the policy', async () => {
    const r = await storage(['info', bucket, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = jsonOf<{ counts: unknown; versioning: string; check: { ok: boolean }; policy: { Id: string }; incompleteUploads: number }>(r);
    assert.deepEqual(info.counts, { current: { count: 3, bytes: 9 + 5 + 3 }, noncurrent: { count: 2, bytes: 3 + 4 }, deleteMarkers: { count: 1 } });
    assert.equal(info.versioning, 'Enabled');
    assert.equal(info.check.ok, true);
    assert.equal(info.policy.Id, 'rwm-v1-nolock');
    assert.equal(info.incompleteUploads, 0);
  });

  test('policy prints the policy create applied (portable on RGW)', async () => {
    const r = await storage(['policy', bucket, '--user', 'backup', '--admin-user', 'admin', '--portable'], { endpoint: false, as: 'none' });
    assert.equal(r.status, 0, r.stderr);
    const applied = JSON.parse((await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '') as unknown;
    assert.deepEqual(JSON.parse(r.stdout), applied);
    const full = JSON.parse((await storage(['policy', bucket, '--user', 'backup', '--prefix', 'host1'], { endpoint: false, as: 'none' })).stdout) as { Statement: { Effect: string; Action: string[]; Resource?: string[] }[] };
    const deny = full.Statement.find((s) => s.Effect === 'Deny' && s.Action.includes('s3:DeleteObjectVersion'));
    assert.ok(deny?.Action.includes('s3:PutEncryptionConfiguration'), 'the full policy also denies encryption changes');
    assert.deepEqual(full.Statement.filter((s) => s.Effect === 'Allow' && s.Action.includes('s3:DeleteObject')).map((s) => s.Resource), [[`arn:aws:s3:::${bucket}/host1/locks/*`, `arn:aws:s3:::${bucket}/host1/*/locks/*`]]);
  });

  test('delete refuses a bucket with versions, an unconfirmed purge, and the backup user; nothing changes', async () => {
    const before = await listVersions(env, bucket);
    const plain = await storage(['delete', bucket]);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /not empty.*3 current and 2 noncurrent.*--purge/);
    const unconfirmed = await storage(['delete', bucket, '--purge']);
    assert.equal(unconfirmed.status, 2, 'no terminal and no --yes');
    assert.match(unconfirmed.stderr, /confirm on a terminal, or add --yes/);
    const dry = await storage(['delete', bucket, '--purge', '--dry-run', '--yes']);
    assert.equal(dry.status, 0);
    assert.match(dry.stdout, /dry run.*3 current and 2 noncurrent versions.*1 delete markers/);
    const asBackup = await storage(['delete', bucket, '--purge', '--yes'], { as: 'backup' });
    assert.equal(asBackup.status, 1);
    assert.match(asBackup.stderr, /not owned by the account whose keys are in use/);
    assert.deepEqual(await listVersions(env, bucket), before);
  });

  test('create refuses an existing bucket and changes nothing', async () => {
    const policy = (await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
    const r = await storage(['create', bucket, '--user', 'someone-else']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already exists: nothing changed/);
    assert.equal((await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, policy);
  });

  test('delete --purge --yes removes every version and the bucket; an empty bucket needs no --purge', async () => {
    const other = bucketName('rwm-cmds-empty');
    assert.equal((await storage(['create', other, '--user', 'backup'])).status, 0);
    const empty = await storage(['delete', other]);
    assert.equal(empty.status, 0, empty.stderr);
    const gone = await storage(['delete', bucket, '--purge', '--yes']);
    assert.equal(gone.status, 0, gone.stderr);
    assert.match(gone.stdout, /deleted 6 versions and delete markers\ndeleted bucket/);
    for (const b of [bucket, other]) {
      await assert.rejects(admin.send(new HeadBucketCommand({ Bucket: b })), (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 404);
    }
  });

  test('usage and configuration errors exit 2 and say why', async () => {
    const cases: [string[], RegExp][] = [
      [['create', 'rwm-x-ok'], /needs --user/],
      [['create', 'rwm-x-ok', '--user', 'backup', '--object-lock', 'governance'], /needs --retention/],
      [['create', 'rwm-x-ok', '--user', 'backup', '--object-lock', 'bogus', '--retention', '1'], /governance or compliance/],
      [['create', 'Not_A_Bucket', '--user', 'backup'], /invalid bucket name/],
      [['create', 'rwm-x-ok', '--user', 'bad user'], /invalid user name/],
      [['check', 'rwm-x-ok', '--profile', 'nope'], /no S3 profile "nope"/],
    ];
    for (const [args, msg] of cases) {
      const r = await storage(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
    }
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 's3:\n  profiles:\n    admin:\n      endpont: http://127.0.0.1:1\n');
    await chmod(bad, 0o600);
    const r = await storage(['list', '--config', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /s3\.profiles\.admin.*endpont/);
  });

  test('profiles from the config file; a world-readable one is warned about', async () => {
    const cfg = await writeProfilesConfig(dir, env);
    const quiet = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /warning/);
    await chmod(cfg, 0o644);
    const loud = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(loud.status, 0, loud.stderr);
    assert.match(loud.stderr, new RegExp(`warning: config file ${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is readable`));
  });
});
