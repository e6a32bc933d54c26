// The other `rwm storage` subcommands against the real RGW: `policy` prints exactly what `create`
// applies; `list` and `info` count versions, delete markers and bytes exactly; `delete` refuses what it
// should (a non-empty bucket, an unconfirmed purge, the backup user's keys) and then changes nothing;
// `create` never touches an existing bucket; usage and config errors exit 2 and say why; a config file
// others can read is warned about. No run ever prints a secret key.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { jsonOf, runStorage, writeProfilesConfig, type StorageRun, type StorageRunOptions } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = testClient(env, 'admin');
const backup = testClient(env, 'backup');
const BACKUP_ARN = 'arn:aws:iam:::user/backup';
const ADMIN_ARN = 'arn:aws:iam:::user/admin';

const buckets: string[] = [];
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rwm-storage-cli-'));
});
after(async () => {
  for (const b of buckets) await deleteBucket(env, b);
  admin.destroy();
  backup.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** A bucket name for this file, removed again after all tests. */
function newBucket(prefix: string): string {
  const b = bucketName(prefix);
  buckets.push(b);
  return b;
}

/** Every run goes through here: no secret key may ever reach stdout or stderr. */
async function storage(args: string[], o: StorageRunOptions = {}): Promise<StorageRun> {
  const r = await runStorage(env, args, o);
  for (const [who, secret] of [['admin', env.admin.secretAccessKey], ['backup', env.backup.secretAccessKey]] as const) {
    assert.equal(`${r.stdout}\n${r.stderr}`.includes(secret), false, `the ${who} secret key was printed by: rwm storage ${args.join(' ')}`);
  }
  return r;
}

const show = (r: StorageRun): string => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

async function createPoliced(bucket: string, extra: string[] = []): Promise<StorageRun> {
  const r = await storage(['create', bucket, '--user', 'backup', ...extra]);
  assert.equal(r.status, 0, show(r));
  return r;
}

async function appliedPolicy(bucket: string): Promise<string> {
  const p = (await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  assert.ok(p !== undefined && p !== '', `${bucket} has a policy`);
  return p;
}

async function assertNoBucket(bucket: string): Promise<void> {
  await assert.rejects(
    admin.send(new HeadBucketCommand({ Bucket: bucket })),
    (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 404,
    `bucket ${bucket} does not exist`,
  );
}

async function assertBucket(bucket: string): Promise<void> {
  await admin.send(new HeadBucketCommand({ Bucket: bucket }));
}

/**
 * What restic would leave behind, written by the backup user: three files (3, 5 and 7 bytes), the first
 * overwritten (4 bytes: a second version), a lock (6 bytes) written and removed (a delete marker).
 */
const CONTENT = { current: { count: 3, bytes: 4 + 5 + 7 }, noncurrent: { count: 2, bytes: 3 + 6 }, deleteMarkers: { count: 1 } } as const;
async function fill(bucket: string): Promise<void> {
  for (const [Key, Body] of [['data/aa/one', 'abc'], ['data/bb/two', 'bcdef'], ['config', 'cfg-123'], ['data/aa/one', 'abcd'], ['locks/l1', 'lock-1']] as const) {
    await backup.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  }
  await backup.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'locks/l1' }));
  // The fixture is what the numbers below say.
  const all = await listVersions(env, bucket);
  assert.equal(all.filter((v) => v.deleteMarker).length, CONTENT.deleteMarkers.count);
  assert.equal(all.filter((v) => !v.deleteMarker).length, CONTENT.current.count + CONTENT.noncurrent.count);
  assert.equal(all.reduce((n, v) => n + v.size, 0), CONTENT.current.bytes + CONTENT.noncurrent.bytes);
}

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { AWS?: string | string[] } | string;
  Action?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}
interface Policy {
  Version: string;
  Id?: string;
  Statement: Statement[];
}
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const principals = (s: Statement): string[] => (typeof s.Principal === 'string' ? [s.Principal] : list(s.Principal?.AWS));
const forBackup = (p: Policy, effect: 'Allow' | 'Deny'): Statement[] => p.Statement.filter((s) => s.Effect === effect && principals(s).includes(BACKUP_ARN));

/**
 * The backup user may delete (DeleteObject, or anything granting it) only lock files: every resource of
 * such an Allow is a "locks/*" pattern below BASE (the repository's own, BASE + "locks/*", among them).
 */
function assertDeletesOnlyLocks(p: Policy, base: string): void {
  const deleting = forBackup(p, 'Allow').filter((s) => list(s.Action).some((a) => a === 's3:DeleteObject' || a === 's3:*' || a === 's3:Delete*'));
  assert.equal(deleting.length, 1, `one Allow of s3:DeleteObject: ${JSON.stringify(deleting)}`);
  const resources = list(deleting[0]?.Resource);
  assert.ok(resources.includes(`${base}locks/*`), `DeleteObject is allowed on ${base}locks/*: ${resources.join(', ')}`);
  for (const r of resources) assert.ok(r.startsWith(base) && r.endsWith('/locks/*'), `DeleteObject is allowed on lock files only, not on ${r}`);
  assert.equal(deleting[0]?.NotResource, undefined, 'no NotResource in the Allow');
}

describe('rwm storage policy', () => {
  const bucket = newBucket('rwm-cli-policy');
  const arn = `arn:aws:s3:::${bucket}`;

  const policyOf = async (extra: string[] = []): Promise<Policy> => {
    const r = await storage(['policy', bucket, '--user', 'backup', '--admin-user', 'admin', ...extra], { as: 'none', endpoint: false });
    assert.equal(r.status, 0, show(r));
    return JSON.parse(r.stdout) as Policy;
  };

  test('denies the backup user the destructive actions, allows DeleteObject only under locks/, and gives the admin everything', async () => {
    const p = await policyOf();
    const deny = forBackup(p, 'Deny').find((s) => list(s.Action).includes('s3:DeleteObjectVersion'));
    assert.ok(deny, `a Deny of s3:DeleteObjectVersion for ${BACKUP_ARN}: ${JSON.stringify(p)}`);
    assert.ok(list(deny.Action).includes('s3:PutBucketPolicy'), 'the Deny also covers rewriting the policy');
    assert.deepEqual(list(deny.Resource).sort(), [arn, `${arn}/*`], 'the Deny covers the bucket and every key');
    assertDeletesOnlyLocks(p, `${arn}/`);
    assert.ok(
      p.Statement.some((s) => s.Effect === 'Allow' && principals(s).includes(ADMIN_ARN) && list(s.Action).includes('s3:*')),
      '--admin-user admin gets full access',
    );
  });

  test('--prefix host1 puts the backup user\'s resources under host1/', async () => {
    const p = await policyOf(['--prefix', 'host1']);
    const allows = forBackup(p, 'Allow');
    const objectResources = allows.flatMap((s) => list(s.Resource)).filter((r) => r.startsWith(`${arn}/`));
    assert.ok(objectResources.length > 0, JSON.stringify(p));
    for (const r of objectResources) assert.ok(r.startsWith(`${arn}/host1/`), `${r} is under host1/`);
    assertDeletesOnlyLocks(p, `${arn}/host1/`);
  });

  test('is exactly the policy create applies', async () => {
    const r = await createPoliced(bucket, ['--admin-user', 'admin', '--json']);
    const created = jsonOf<{ bucket: string; policy: unknown }>(r);
    assert.equal(created.bucket, bucket);
    const applied = JSON.parse(await appliedPolicy(bucket)) as Policy;
    assert.deepEqual(created.policy, applied, 'create --json shows the policy it applied');
    // Ceph RGW refuses a policy naming s3:PutEncryptionConfiguration; create then applies the
    // portable form, which `policy --portable` prints. The full form differs by exactly that action.
    assert.deepEqual(await policyOf(['--portable']), applied, '`rwm storage policy --portable` prints the policy `create` applied on RGW');
    const denied = (p: Policy): string[] => p.Statement.filter((s) => s.Effect === 'Deny').flatMap((s) => list(s.Action));
    assert.deepEqual(
      denied(await policyOf()).filter((a) => !denied(applied).includes(a)),
      ['s3:PutEncryptionConfiguration'],
    );
  });
});

describe('rwm storage list and info', () => {
  const bucket = newBucket('rwm-cli-list');
  before(async () => {
    await createPoliced(bucket, ['--admin-user', 'admin']);
    await fill(bucket);
  });

  test('list --json: policed, versioning Enabled, and exact object, version, delete marker and byte counts', async () => {
    const r = await storage(['list', '--json']);
    assert.equal(r.status, 0, show(r));
    const rows = jsonOf<Record<string, unknown>[]>(r);
    const row = rows.find((x) => x.bucket === bucket);
    assert.ok(row, `${bucket} is listed: ${r.stdout}`);
    const { created, ...rest } = row;
    assert.equal(typeof created, 'string');
    assert.ok(Math.abs(Date.parse(String(created)) - Date.now()) < 3_600_000, `created is a recent date: ${String(created)}`);
    assert.deepEqual(rest, {
      bucket,
      policed: true,
      findings: 0,
      versioning: 'Enabled',
      objectLock: null,
      objects: CONTENT.current.count,
      versions: CONTENT.current.count + CONTENT.noncurrent.count,
      deleteMarkers: CONTENT.deleteMarkers.count,
      bytes: CONTENT.current.bytes + CONTENT.noncurrent.bytes,
    });
  });

  test('info --json: current, noncurrent and delete markers with their bytes', async () => {
    const r = await storage(['info', bucket, '--json']);
    assert.equal(r.status, 0, show(r));
    const info = jsonOf<{ bucket: string; versioning: string; objectLock: unknown; policy: Policy | null; lifecycle: unknown[]; counts: unknown; incompleteUploads: number; check: { ok: boolean; findings: unknown[] } }>(r);
    assert.equal(info.bucket, bucket);
    assert.deepEqual(info.counts, CONTENT);
    assert.equal(info.versioning, 'Enabled');
    assert.equal(info.objectLock, null);
    assert.equal(info.incompleteUploads, 0);
    assert.deepEqual(info.policy, JSON.parse(await appliedPolicy(bucket)), 'the policy, parsed');
    assert.equal(info.lifecycle.length, 1, 'the rule create wrote');
    assert.deepEqual(info.check, { ok: true, findings: [] });
  });

  test('create of an existing bucket exits 1 and changes nothing', async () => {
    const policy = await appliedPolicy(bucket);
    const versions = await listVersions(env, bucket);
    const lifecycle = (await admin.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules;
    const r = await storage(['create', bucket, '--user', 'someone-else', '--prefix', 'elsewhere']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, new RegExp(`${bucket}.*exists`));
    assert.equal(await appliedPolicy(bucket), policy, 'policy unchanged');
    assert.deepEqual(await listVersions(env, bucket), versions, 'contents unchanged');
    assert.deepEqual((await admin.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules, lifecycle, 'lifecycle unchanged');
    assert.equal((await admin.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  });
});

describe('rwm storage delete', () => {
  const bucket = newBucket('rwm-cli-delete');
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'rwm-cli-home-'));
    await createPoliced(bucket, ['--admin-user', 'admin']);
    await fill(bucket);
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** Every version and marker is still there, and so is the bucket. */
  const unchanged = async (before: unknown, after: string): Promise<void> => {
    await assertBucket(bucket);
    assert.deepEqual(await listVersions(env, bucket), before, `nothing deleted by ${after}`);
  };

  test('a non-empty bucket is refused without --purge, with the counts', async () => {
    const before = await listVersions(env, bucket);
    const r = await storage(['delete', bucket]);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /not empty/);
    assert.match(r.stderr, /3 current/);
    assert.match(r.stderr, /2 noncurrent/);
    await unchanged(before, 'delete');
  });

  test('--purge without --yes and without a terminal refuses with exit 2', async () => {
    const before = await listVersions(env, bucket);
    const r = await storage(['delete', bucket, '--purge']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /--yes/);
    await unchanged(before, 'delete --purge');
  });

  test('--purge --dry-run deletes nothing and prints the counts', async () => {
    const before = await listVersions(env, bucket);
    const r = await storage(['delete', bucket, '--purge', '--dry-run']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /3 current/);
    assert.match(r.stdout, /2 noncurrent/);
    assert.match(r.stdout, /1 delete marker/);
    await unchanged(before, 'delete --purge --dry-run');
  });

  test('the backup user\'s keys are refused (exit 1), with or without --purge --yes', async () => {
    const before = await listVersions(env, bucket);
    const backupOnly: StorageRunOptions = { as: 'backup', env: { HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none') } };
    for (const args of [['delete', bucket], ['delete', bucket, '--purge', '--yes']]) {
      const r = await storage(args, backupOnly);
      assert.equal(r.status, 1, `${args.join(' ')} as backup: ${show(r)}`);
      assert.match(r.stderr, /own/, 'says the keys do not own the bucket');
      await unchanged(before, `${args.join(' ')} as backup`);
    }
  });

  test('--purge --yes with the admin\'s keys removes every version and the bucket', async () => {
    const r = await storage(['delete', bucket, '--purge', '--yes']);
    assert.equal(r.status, 0, show(r));
    await assertNoBucket(bucket);
  });

  test('an empty bucket is deleted without --purge', async () => {
    const empty = newBucket('rwm-cli-empty');
    await createPoliced(empty);
    await assertBucket(empty);
    const r = await storage(['delete', empty]);
    assert.equal(r.status, 0, show(r));
    await assertNoBucket(empty);
  });
});

describe('usage and configuration errors, config file permissions', () => {
  test('usage errors exit 2, say why, and create nothing', async () => {
    const b = newBucket('rwm-cli-usage');
    const cfg = await writeProfilesConfig(dir, env);
    const cases: { args: string[]; o?: StorageRunOptions; says: RegExp[] }[] = [
      { args: ['create', b], says: [/--user/] },
      { args: ['create', b, '--user', 'backup', '--object-lock', 'governance'], says: [/--retention/] },
      { args: ['create', b, '--user', 'backup', '--object-lock', 'bogus', '--retention', '1'], says: [/bogus/, /governance/, /compliance/] },
      { args: ['create', 'Not_A_Bucket', '--user', 'backup'], says: [/Not_A_Bucket/, /bucket name/i] },
      // RGW keeps retain-until as 32-bit seconds: a later date wraps around to one decades earlier.
      { args: ['create', b, '--user', 'backup', '--object-lock', 'compliance', '--retention', '30000'], says: [/--retention/, /2106-02-07/] },
      { args: ['extend-retention', b, '--days', '30000'], says: [/--days/, /2106-02-07/] },
      { args: ['check', b, '--config', cfg, '--profile', 'nope'], o: { as: 'none', endpoint: false }, says: [/profile/i, /nope/] },
    ];
    for (const c of cases) {
      const r = await storage(c.args, c.o);
      assert.equal(r.status, 2, `${c.args.join(' ')}: ${show(r)}`);
      for (const m of c.says) assert.match(r.stderr, m, `${c.args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
    await assertNoBucket(b);
  });

  test('a config file with an unknown key exits 2 and names the key\'s path', async () => {
    // The typo sits next to the secrets: the error must name the key, not print the file.
    const inProfile = join(dir, 'typo-profile.yaml');
    await writeFile(
      inProfile,
      ['s3:', '  profiles:', '    admin:', `      endpont: ${env.endpoint}`, `      accessKeyId: ${env.admin.accessKeyId}`, `      secretAccessKey: ${env.admin.secretAccessKey}`, ''].join('\n'),
    );
    await chmod(inProfile, 0o600);
    const r1 = await storage(['list', '--config', inProfile], { as: 'none' });
    assert.equal(r1.status, 2, show(r1));
    assert.match(r1.stderr, /s3\.profiles\.admin(\.endpont\b|\b.*"?endpont"?)/);

    const inStorage = await writeProfilesConfig(dir, env, 'storage:\n  minLifecycleDayz: 30');
    const r2 = await storage(['list', '--config', inStorage], { as: 'none', endpoint: false });
    assert.equal(r2.status, 2, show(r2));
    assert.match(r2.stderr, /storage(\.minLifecycleDayz\b|\b.*"?minLifecycleDayz"?)/);
  });

  test('a config file others can read is warned about on stderr; with mode 600 it is not', async () => {
    const cfg = await writeProfilesConfig(dir, env);
    const mentions = (stderr: string): boolean => stderr.split('\n').some((l) => /warning/i.test(l) && l.includes(cfg));
    const quiet = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(quiet.status, 0, show(quiet));
    assert.ok(Array.isArray(jsonOf<unknown[]>(quiet)), 'the profile in the file is used');
    assert.equal(mentions(quiet.stderr), false, `no warning at mode 600: ${quiet.stderr}`);
    await chmod(cfg, 0o644);
    const loud = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(loud.status, 0, show(loud));
    assert.ok(mentions(loud.stderr), `a warning naming ${cfg}: ${loud.stderr}`);
    assert.match(loud.stderr, /^rwm: warning: /m);
    assert.ok(Array.isArray(jsonOf<unknown[]>(loud)), 'the warning stays off stdout');
  });

  test('a credentials file others can read is warned about too', async () => {
    const creds = join(dir, 'backup.credentials');
    await writeFile(creds, `[default]\naws_access_key_id = ${env.backup.accessKeyId}\naws_secret_access_key = ${env.backup.secretAccessKey}\n`);
    await chmod(creds, 0o644);
    const cfg = join(dir, 'creds.yaml');
    await writeFile(cfg, ['s3:', '  profiles:', '    backup:', `      endpoint: ${env.endpoint}`, `      region: ${env.region}`, `      credentialsFile: ${creds}`, '      credentialsProfile: default', ''].join('\n'));
    await chmod(cfg, 0o600);
    const r = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stderr.split('\n').some((l) => /warning/i.test(l) && l.includes(creds)), `a warning naming ${creds}: ${r.stderr}`);
    await chmod(creds, 0o600);
    const quiet = await storage(['list', '--config', cfg, '--json'], { as: 'none', endpoint: false });
    assert.equal(quiet.status, 0, show(quiet));
    assert.equal(quiet.stderr.includes(creds), false, quiet.stderr);
  });
});

describe('rwm storage create rolls back', () => {
  test('a step failing after the bucket was made removes the new bucket again, and says so', async () => {
    const bucket = newBucket('rwm-cli-rollback');
    // The admin statement would name the backup user itself: refused after CreateBucket.
    const r = await storage(['create', bucket, '--user', 'backup', '--admin-user', 'backup']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /the backup user backup owns the bucket.*the new bucket was removed again/, show(r));
    await assertNoBucket(bucket);
  });
});
