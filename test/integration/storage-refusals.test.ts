// `rwm storage create BUCKET --user backup` (with and without --prefix) on the Ceph RGW, then the
// backup user's own keys straight against the bucket with the AWS SDK:
// - every destructive request is refused (403 AccessDenied; replication and default encryption,
//   which this RGW does not implement for anyone, at least get no 2xx), and no object version,
//   delete marker, policy, versioning state, lifecycle rule or ACL changed;
// - what restic needs still works: put, get, list, list versions, versioning status, and deleting
//   under locks/ (which only adds a delete marker);
// - `rwm storage check` says the bucket is policed with the admin's keys, with the backup user's
//   keys alone (--as-backup, no forbidden probe allowed), and with both profiles from a config file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type DeleteObjectsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { removeDir, tempDir } from '../helpers/server.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient, type S3TestEnv, type VersionEntry } from '../helpers/s3.js';
import { jsonOf, runStorage, writeProfilesConfig, type CheckJson, type StorageRun } from '../helpers/storage.js';

const env = s3TestEnv();
const BACKUP_ARN = 'arn:aws:iam:::user/backup';

const hex = (): string => randomBytes(32).toString('hex');
const show = (r: StorageRun): string => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The server's answer to one request: its HTTP status and, for an error, the SDK's error name. */
interface Answer {
  readonly status: number | undefined;
  readonly name: string;
  /** For DeleteObjects: what the 2xx body said. */
  readonly detail?: string;
}

const describeAnswer = (a: Answer): string => `${a.status ?? 'no status'} ${a.name}${a.detail !== undefined ? ` (${a.detail})` : ''}`;

async function answerOf(send: () => Promise<{ $metadata: { httpStatusCode?: number } }>): Promise<Answer> {
  try {
    const out = await send();
    return { status: out.$metadata.httpStatusCode, name: 'OK' };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, name: e.name ?? String(err) };
  }
}

/**
 * DeleteObjects may be authorised per key: a 2xx whose body deletes nothing and lists every key as
 * AccessDenied is a refusal too (RGW refuses the whole request with 403; both are accepted).
 */
async function deleteObjectsAnswer(send: () => Promise<DeleteObjectsCommandOutput>): Promise<Answer> {
  try {
    const out = await send();
    const deleted = (out.Deleted ?? []).map((d) => `${d.Key}${d.VersionId ? `@${d.VersionId}` : ''}${d.DeleteMarker ? ' (marker)' : ''}`);
    const errors = (out.Errors ?? []).map((e) => `${e.Key}:${e.Code}`);
    const allDenied = deleted.length === 0 && errors.length > 0 && (out.Errors ?? []).every((e) => e.Code === 'AccessDenied');
    return { status: allDenied ? 403 : out.$metadata.httpStatusCode, name: allDenied ? 'AccessDenied' : 'OK', detail: `deleted [${deleted.join(', ')}], errors [${errors.join(', ')}]` };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, name: e.name ?? String(err) };
  }
}

/** What the admin sees of the bucket's configuration (policy, versioning, lifecycle, ACL) and one object's ACL and tags. */
async function bucketState(e: S3TestEnv, bucket: string, objectKey: string): Promise<Record<string, unknown>> {
  const c = testClient(e, 'admin');
  const read = async (f: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await f();
    } catch (err) {
      const x = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      return `${x.$metadata?.httpStatusCode} ${x.name}`;
    }
  };
  try {
    return {
      policy: await read(async () => (await c.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy),
      versioning: await read(async () => (await c.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status),
      lifecycle: await read(async () => (await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules),
      bucketAcl: await read(async () => (await c.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants),
      objectAcl: await read(async () => (await c.send(new GetObjectAclCommand({ Bucket: bucket, Key: objectKey }))).Grants),
      objectTags: await read(async () => (await c.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: objectKey }))).TagSet),
    };
  } finally {
    c.destroy();
  }
}

interface Attempt {
  readonly action: string;
  /** 'denied': must be 403 AccessDenied. 'not-2xx': this RGW implements it for nobody; anything but 2xx. */
  readonly expect: 'denied' | 'not-2xx';
  readonly run: (c: S3Client) => Promise<Answer>;
}

function policedBucketSuite(prefix: string): void {
  const p = prefix === '' ? '' : `${prefix}/`;
  const bucket = bucketName('rwm-refuse');
  const createArgs = ['create', bucket, '--user', 'backup', ...(prefix === '' ? [] : ['--prefix', prefix])];
  // restic's layout under the prefix: the keys the backup user writes and must never be able to destroy
  const keys = {
    config: `${p}config`,
    key: `${p}keys/${hex()}`,
    snapshot: `${p}snapshots/${hex()}`,
    index: `${p}index/${hex()}`,
    data: (() => {
      const h = hex();
      return `${p}data/${h.slice(0, 2)}/${h}`;
    })(),
    lock: `${p}locks/${hex()}`,
  };
  const versionIds: Record<string, string> = {};
  const bodies: Record<string, string> = {};
  let dir: string;
  let backup: S3Client;
  let versionsBefore: VersionEntry[];
  let stateBefore: Record<string, unknown>;

  const vid = (k: string): string => {
    const v = versionIds[k];
    assert.ok(v, `no version id recorded for ${k}`);
    return v;
  };
  const deleteObject = (Key: string, o: { version?: boolean; bypass?: boolean } = {}): Attempt['run'] => (c) =>
    answerOf(() => c.send(new DeleteObjectCommand({ Bucket: bucket, Key, ...(o.version === true ? { VersionId: vid(Key) } : {}), ...(o.bypass === true ? { BypassGovernanceRetention: true } : {}) })));
  const deleteObjects = (objects: { Key: string; version: boolean }[], bypass = false): Attempt['run'] => (c) =>
    deleteObjectsAnswer(() =>
      c.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          ...(bypass ? { BypassGovernanceRetention: true } : {}),
          Delete: { Objects: objects.map((o) => ({ Key: o.Key, ...(o.version ? { VersionId: vid(o.Key) } : {}) })), Quiet: false },
        }),
      ),
    );

  const attempts: Attempt[] = [
    { action: 'DeleteObject data object with VersionId', expect: 'denied', run: deleteObject(keys.data, { version: true }) },
    { action: 'DeleteObject lock object with VersionId', expect: 'denied', run: deleteObject(keys.lock, { version: true }) },
    { action: 'DeleteObject snapshot object with VersionId', expect: 'denied', run: deleteObject(keys.snapshot, { version: true }) },
    { action: 'DeleteObject data object with VersionId + BypassGovernanceRetention', expect: 'denied', run: deleteObject(keys.data, { version: true, bypass: true }) },
    { action: 'DeleteObject lock object with VersionId + BypassGovernanceRetention', expect: 'denied', run: deleteObject(keys.lock, { version: true, bypass: true }) },
    { action: 'DeleteObjects of non-lock keys without VersionId', expect: 'denied', run: deleteObjects([keys.data, keys.snapshot, keys.index, keys.key, keys.config].map((Key) => ({ Key, version: false }))) },
    { action: 'DeleteObjects with VersionIds (data and lock)', expect: 'denied', run: deleteObjects([{ Key: keys.data, version: true }, { Key: keys.lock, version: true }]) },
    {
      action: 'DeleteObjects with VersionIds + BypassGovernanceRetention',
      expect: 'denied',
      run: deleteObjects([{ Key: keys.data, version: true }, { Key: keys.lock, version: true }, { Key: keys.snapshot, version: true }], true),
    },
    { action: 'DeleteObject data/ key (delete marker)', expect: 'denied', run: deleteObject(keys.data) },
    { action: 'DeleteObject snapshots/ key (delete marker)', expect: 'denied', run: deleteObject(keys.snapshot) },
    { action: 'DeleteObject keys/ key (delete marker)', expect: 'denied', run: deleteObject(keys.key) },
    { action: 'DeleteObject index/ key (delete marker)', expect: 'denied', run: deleteObject(keys.index) },
    { action: 'DeleteObject config (delete marker)', expect: 'denied', run: deleteObject(keys.config) },
    { action: 'DeleteBucket', expect: 'denied', run: (c) => answerOf(() => c.send(new DeleteBucketCommand({ Bucket: bucket }))) },
    {
      action: 'PutBucketVersioning Suspended',
      expect: 'denied',
      run: (c) => answerOf(() => c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }))),
    },
    {
      action: 'PutBucketLifecycleConfiguration (expire noncurrent versions after 1 day)',
      expect: 'denied',
      run: (c) =>
        answerOf(() =>
          c.send(
            new PutBucketLifecycleConfigurationCommand({
              Bucket: bucket,
              LifecycleConfiguration: { Rules: [{ ID: 'wipe', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] },
            }),
          ),
        ),
    },
    { action: 'DeleteBucketLifecycle', expect: 'denied', run: (c) => answerOf(() => c.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }))) },
    {
      action: 'PutBucketPolicy (grant backup s3:*)',
      expect: 'denied',
      run: (c) =>
        answerOf(() =>
          c.send(
            new PutBucketPolicyCommand({
              Bucket: bucket,
              Policy: JSON.stringify({
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Principal: { AWS: [BACKUP_ARN] }, Action: ['s3:*'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
              }),
            }),
          ),
        ),
    },
    { action: 'DeleteBucketPolicy', expect: 'denied', run: (c) => answerOf(() => c.send(new DeleteBucketPolicyCommand({ Bucket: bucket }))) },
    { action: 'PutBucketAcl public-read-write', expect: 'denied', run: (c) => answerOf(() => c.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }))) },
    { action: 'PutObjectAcl public-read-write on a data object', expect: 'denied', run: (c) => answerOf(() => c.send(new PutObjectAclCommand({ Bucket: bucket, Key: keys.data, ACL: 'public-read-write' }))) },
    {
      action: 'PutObjectAcl public-read on a data object version',
      expect: 'denied',
      run: (c) => answerOf(() => c.send(new PutObjectAclCommand({ Bucket: bucket, Key: keys.data, VersionId: vid(keys.data), ACL: 'public-read' }))),
    },
    {
      action: 'PutObjectLockConfiguration (COMPLIANCE 1 day)',
      expect: 'denied',
      run: (c) =>
        answerOf(() =>
          c.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } })),
        ),
    },
    {
      action: 'PutObjectRetention GOVERNANCE +3 days on a data object',
      expect: 'denied',
      run: (c) =>
        answerOf(() =>
          c.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: keys.data, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 3 * 86_400_000) } })),
        ),
    },
    { action: 'PutObjectLegalHold ON on a data object', expect: 'denied', run: (c) => answerOf(() => c.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: keys.data, LegalHold: { Status: 'ON' } }))) },
    {
      action: 'PutBucketReplication',
      expect: 'not-2xx',
      run: (c) =>
        answerOf(() =>
          c.send(
            new PutBucketReplicationCommand({
              Bucket: bucket,
              ReplicationConfiguration: {
                Role: 'arn:aws:iam:::role/steal',
                Rules: [{ ID: 'steal', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: 'arn:aws:s3:::attacker-bucket' } }],
              },
            }),
          ),
        ),
    },
    {
      action: 'PutBucketEncryption AES256',
      expect: 'not-2xx',
      run: (c) =>
        answerOf(() => c.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }))),
    },
    {
      action: 'PutObjectTagging on a data object',
      expect: 'denied',
      run: (c) => answerOf(() => c.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: keys.data, Tagging: { TagSet: [{ Key: 'expire', Value: 'now' }] } }))),
    },
    ...(prefix === ''
      ? []
      : [
          { action: 'PutObject outside the prefix (outside/data/x)', expect: 'denied' as const, run: (c: S3Client) => answerOf(() => c.send(new PutObjectCommand({ Bucket: bucket, Key: 'outside/data/x', Body: 'x' }))) },
          { action: 'PutObject outside the prefix (config at the root)', expect: 'denied' as const, run: (c: S3Client) => answerOf(() => c.send(new PutObjectCommand({ Bucket: bucket, Key: 'config', Body: 'x' }))) },
          { action: 'DeleteObject under locks/ outside the prefix', expect: 'denied' as const, run: (c: S3Client) => answerOf(() => c.send(new DeleteObjectCommand({ Bucket: bucket, Key: `locks/${hex()}` }))) },
        ]),
  ];

  describe(`rwm storage ${createArgs.join(' ').replace(bucket, 'BUCKET')}: the backup user's keys against the bucket`, () => {
    before(async () => {
      dir = await tempDir();
      backup = testClient(env, 'backup');
    });
    after(async () => {
      backup?.destroy();
      await deleteBucket(env, bucket);
      await removeDir(dir);
    });

    test('create exits 0', async () => {
      const r = await runStorage(env, createArgs);
      assert.equal(r.status, 0, show(r));
    });

    test('allowed: the backup user writes restic\'s files under the prefix (PutObject)', async () => {
      for (const k of Object.values(keys)) {
        const body = `${k} ${hex()}`;
        bodies[k] = body;
        const out = await backup.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body }));
        assert.ok(out.VersionId, `PutObject ${k}: no VersionId (versioning is not on)`);
        versionIds[k] = out.VersionId;
      }
      // a second version of the data object, so there is a noncurrent version to protect too
      const again = await backup.send(new PutObjectCommand({ Bucket: bucket, Key: keys.data, Body: `${keys.data} again` }));
      bodies[keys.data] = `${keys.data} again`;
      assert.ok(again.VersionId && again.VersionId !== versionIds[keys.data]);
      versionsBefore = await listVersions(env, bucket);
      assert.equal(versionsBefore.length, Object.keys(keys).length + 1, JSON.stringify(versionsBefore));
      stateBefore = await bucketState(env, bucket, keys.data);
    });

    for (const a of attempts) {
      test(`refused: ${a.action}`, async (t) => {
        const answer = await a.run(backup);
        if (a.expect === 'denied') {
          assert.ok(answer.status === 403 && answer.name === 'AccessDenied', `${a.action} by the backup user must be refused with 403 AccessDenied; the server answered ${describeAnswer(answer)}`);
        } else {
          assert.ok(answer.status !== undefined && (answer.status < 200 || answer.status > 299), `${a.action} by the backup user must not succeed; the server answered ${describeAnswer(answer)}`);
          // this RGW does not implement it: recorded so a server upgrade that starts accepting it is noticed
          t.diagnostic(`${a.action}: ${describeAnswer(answer)}`);
        }
      });
    }

    test('after all the attempts, every object version, delete marker and setting is unchanged', async () => {
      assert.deepEqual(await listVersions(env, bucket), versionsBefore);
      assert.deepEqual(await bucketState(env, bucket, keys.data), stateBefore);
      assert.equal(stateBefore.versioning, 'Enabled');
    });

    test('allowed: GetObject, ListObjectsV2, ListObjectVersions, GetBucketVersioning', async () => {
      for (const k of Object.values(keys)) {
        const body = await (await backup.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body?.transformToString();
        assert.equal(body, bodies[k], `GetObject ${k}`);
      }
      const listed = await backup.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p }));
      assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).sort(), Object.values(keys).sort());
      const versions = await backup.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: p }));
      assert.equal((versions.Versions ?? []).length, versionsBefore.length);
      assert.equal((await backup.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    });

    test('allowed: DeleteObject of a lock file, which only adds a delete marker', async () => {
      const before = await listVersions(env, bucket);
      const out = await backup.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys.lock }));
      assert.equal(out.DeleteMarker, true, 'the lock delete must add a delete marker');
      assert.ok(out.VersionId);
      const afterDelete = await listVersions(env, bucket);
      const old = new Set(before.map((v) => `${v.key}@${v.versionId}`));
      const added = afterDelete.filter((v) => !old.has(`${v.key}@${v.versionId}`));
      assert.deepEqual(added.map((v) => ({ key: v.key, versionId: v.versionId, deleteMarker: v.deleteMarker })), [{ key: keys.lock, versionId: out.VersionId, deleteMarker: true }]);
      const strip = (v: VersionEntry): Omit<VersionEntry, 'isLatest'> => ({ key: v.key, versionId: v.versionId, etag: v.etag, size: v.size, deleteMarker: v.deleteMarker });
      assert.deepEqual(afterDelete.filter((v) => old.has(`${v.key}@${v.versionId}`)).map(strip), before.map(strip), 'every earlier version is kept');
    });

    test('rwm storage check with the admin\'s keys: policed (exit 0)', async () => {
      const r = await runStorage(env, ['check', bucket]);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout.split('\n')[0], `${bucket}: policed`, show(r));
    });

    test('rwm storage check --as-backup with only the backup user\'s keys: policed, no forbidden probe allowed', async () => {
      const text = await runStorage(env, ['check', bucket, '--as-backup'], { as: 'backup' });
      assert.equal(text.status, 0, show(text));
      const r = await runStorage(env, ['check', bucket, '--as-backup', '--json'], { as: 'backup' });
      assert.equal(r.status, 0, show(r));
      const report = jsonOf<CheckJson>(r);
      assert.equal(report.bucket, bucket);
      assert.equal(report.ok, true, JSON.stringify(report.findings));
      assert.deepEqual(report.findings, []);
      assert.ok(report.probes.length > 0, 'the forbidden actions were tried');
      assert.deepEqual(report.probes.filter((x) => x.outcome === 'allowed'), [], 'no probe may be allowed');
      assert.ok(report.probes.some((x) => x.outcome === 'refused'), JSON.stringify(report.probes));
      for (const x of report.probes) assert.ok(['refused', 'unsupported', 'inconclusive', 'ok'].includes(x.outcome), `probe ${x.action}: ${x.outcome} (${x.detail})`);
    });

    test('rwm storage check --config FILE --backup-profile backup (keys from the file only): policed, probes run', async () => {
      const cfg = await writeProfilesConfig(dir, env);
      const r = await runStorage(env, ['check', bucket, '--config', cfg, '--backup-profile', 'backup', '--json'], { as: 'none', endpoint: false });
      assert.equal(r.status, 0, show(r));
      const report = jsonOf<CheckJson>(r);
      assert.equal(report.ok, true, JSON.stringify(report.findings));
      assert.ok(report.probes.length > 0, 'the forbidden actions were tried with the backup profile');
      assert.deepEqual(report.probes.filter((x) => x.outcome === 'allowed'), [], 'no probe may be allowed');
      const text = await runStorage(env, ['check', bucket, '--config', cfg, '--backup-profile', 'backup'], { as: 'none', endpoint: false });
      assert.equal(text.status, 0, show(text));
      assert.equal(text.stdout.split('\n')[0], `${bucket}: policed`, show(text));
    });

    test('the checks changed no version outside the canary and locks/', async () => {
      const now = await listVersions(env, bucket);
      // The canary, the ACL probe's key, and the lock probes at the prefix and 12 levels below it.
      const canary = (k: string): boolean => k === `${p}rwm-canary` || k === `${p}rwm-canary-acl` || k.startsWith(`${p}locks/`) || (k.startsWith(`${p}rwm-canary-1/`) && k.endsWith('/locks/rwm-canary'));
      const key = (v: VersionEntry): string => `${v.key}@${v.versionId}`;
      const beforeKeys = new Set(versionsBefore.map(key));
      assert.deepEqual(now.filter((v) => !beforeKeys.has(key(v)) && !canary(v.key)).map(key), [], 'nothing but the canaries and lock markers was added');
      for (const v of versionsBefore) assert.ok(now.some((x) => key(x) === key(v)), `${key(v)} is gone`);
    });
  });
}

policedBucketSuite('');
policedBucketSuite('host1');
