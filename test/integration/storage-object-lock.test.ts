// `rwm storage create --object-lock governance|compliance --retention 1` on the Ceph RGW:
// - the bucket is policed (check exits 0, with the admin's keys and with the backup user's alone);
// - the backup user's new versions get the default retention in the asked mode;
// - the backup user cannot delete a version, not even with BypassGovernanceRetention;
// - the difference between the modes: under governance the admin can delete a version with the
//   bypass header, under compliance not even the admin can;
// - `check` with a different expected mode or a longer expected retention reports
//   object-lock-mode / object-lock-retention and exits 1.
// Compliance-locked versions outlive the test by a day: cleanup of that bucket fails silently.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, GetObjectLockConfigurationCommand, HeadBucketCommand, GetObjectRetentionCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { jsonOf, runStorage, type CheckJson, type StorageRun } from '../helpers/storage.js';

const env = s3TestEnv();
const DAY = 86_400_000;

const show = (r: StorageRun): string => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The HTTP status of a request (2xx from the output, else from the error), and the error name. */
async function statusOf(send: () => Promise<{ $metadata: { httpStatusCode?: number } }>): Promise<{ status: number | undefined; name: string }> {
  try {
    return { status: (await send()).$metadata.httpStatusCode, name: 'OK' };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, name: e.name ?? String(err) };
  }
}

for (const mode of ['governance', 'compliance'] as const) {
  const MODE = mode === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE';
  const other = mode === 'governance' ? 'compliance' : 'governance';

  describe(`rwm storage create BUCKET --user backup --object-lock ${mode} --retention 1`, () => {
    const bucket = bucketName(`rwm-lock-${mode.slice(0, 3)}`);
    const key = `data/${mode}-object`;
    let adminClient: S3Client;
    let backupClient: S3Client;
    let versionId: string;

    before(() => {
      adminClient = testClient(env, 'admin');
      backupClient = testClient(env, 'backup');
    });
    after(async () => {
      adminClient?.destroy();
      backupClient?.destroy();
      await deleteBucket(env, bucket);
    });

    test('create exits 0 and the bucket has object lock with the default retention asked for', async () => {
      const r = await runStorage(env, ['create', bucket, '--user', 'backup', '--object-lock', mode, '--retention', '1']);
      assert.equal(r.status, 0, show(r));
      const lock = await adminClient.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      assert.equal(lock.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
      assert.deepEqual(lock.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: MODE, Days: 1 });
    });

    test('check exits 0 with the admin\'s keys and with the backup user\'s keys (--as-backup)', async () => {
      const a = await runStorage(env, ['check', bucket]);
      assert.equal(a.status, 0, show(a));
      const b = await runStorage(env, ['check', bucket, '--as-backup', '--json'], { as: 'backup' });
      assert.equal(b.status, 0, show(b));
      const report = jsonOf<CheckJson>(b);
      assert.equal(report.ok, true, JSON.stringify(report.findings));
      assert.ok(report.probes.length > 0, 'the forbidden actions were tried');
      assert.deepEqual(report.probes.filter((p) => p.outcome === 'allowed'), []);
    });

    test(`a version the backup user writes gets the default ${MODE} retention of 1 day`, async () => {
      const t0 = Date.now();
      const out = await backupClient.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `locked ${mode}` }));
      assert.ok(out.VersionId);
      versionId = out.VersionId;
      const ret = await adminClient.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      assert.equal(ret.Retention?.Mode, MODE);
      const until = ret.Retention?.RetainUntilDate?.getTime() ?? 0;
      assert.ok(until > t0 + DAY - 3_600_000 && until < t0 + DAY + 3_600_000, `retain until ${ret.Retention?.RetainUntilDate?.toISOString()}: not about one day from now`);
    });

    test('the backup user cannot delete the version, not even with BypassGovernanceRetention (403)', async () => {
      for (const bypass of [false, true]) {
        const r = await statusOf(() => backupClient.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ...(bypass ? { BypassGovernanceRetention: true } : {}) })));
        assert.equal(r.status, 403, `backup DeleteObject VersionId${bypass ? ' + BypassGovernanceRetention' : ''}: ${r.status} ${r.name}`);
      }
      assert.ok((await listVersions(env, bucket)).some((v) => v.key === key && v.versionId === versionId), 'the version is still there');
    });

    test('the admin cannot delete the version without the bypass header (403)', async () => {
      const r = await statusOf(() => adminClient.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })));
      assert.equal(r.status, 403, `admin DeleteObject VersionId: ${r.status} ${r.name}`);
      assert.ok((await listVersions(env, bucket)).some((v) => v.key === key && v.versionId === versionId), 'the version is still there');
    });

    if (mode === 'governance') {
      test('governance: the admin CAN delete the version with BypassGovernanceRetention (204)', async () => {
        const r = await statusOf(() => adminClient.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, BypassGovernanceRetention: true })));
        assert.equal(r.status, 204, `admin DeleteObject VersionId + BypassGovernanceRetention: ${r.status} ${r.name}`);
        assert.ok(!(await listVersions(env, bucket)).some((v) => v.key === key && v.versionId === versionId), 'the version is gone');
      });
    } else {
      test('compliance: not even the admin can delete the version with BypassGovernanceRetention (403)', async () => {
        const r = await statusOf(() => adminClient.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, BypassGovernanceRetention: true })));
        assert.equal(r.status, 403, `admin DeleteObject VersionId + BypassGovernanceRetention: ${r.status} ${r.name}`);
        assert.ok((await listVersions(env, bucket)).some((v) => v.key === key && v.versionId === versionId), 'the version is still there');
      });
    }

    test(`check --object-lock ${other} --retention 1 reports object-lock-mode (exit 1)`, async () => {
      const r = await runStorage(env, ['check', bucket, '--object-lock', other, '--retention', '1', '--json']);
      assert.equal(r.status, 1, show(r));
      const report = jsonOf<CheckJson>(r);
      assert.equal(report.ok, false);
      assert.deepEqual(report.findings.map((f) => f.code), ['object-lock-mode'], JSON.stringify(report.findings));
      const text = await runStorage(env, ['check', bucket, '--object-lock', other, '--retention', '1']);
      assert.equal(text.status, 1, show(text));
      assert.equal(text.stdout.split('\n')[0], `${bucket}: NOT policed (1 finding)`, show(text));
      assert.match(text.stdout, /^ {2}- \[object-lock-mode\] /m, show(text));
    });

    test(`check --object-lock ${mode} --retention 30 reports object-lock-retention (exit 1)`, async () => {
      const r = await runStorage(env, ['check', bucket, '--object-lock', mode, '--retention', '30', '--json']);
      assert.equal(r.status, 1, show(r));
      const report = jsonOf<CheckJson>(r);
      assert.equal(report.ok, false);
      assert.deepEqual(report.findings.map((f) => f.code), ['object-lock-retention'], JSON.stringify(report.findings));
    });

    test(`check --object-lock ${mode} --retention 1 (what was asked for) exits 0`, async () => {
      const r = await runStorage(env, ['check', bucket, '--object-lock', mode, '--retention', '1']);
      assert.equal(r.status, 0, show(r));
    });

    test(`delete --purge --yes: ${mode === 'governance' ? 'bypasses governance and removes the bucket' : 'cannot delete compliance-locked versions, says so, and keeps the bucket'}`, async () => {
      const before = await listVersions(env, bucket);
      assert.ok(before.length > 0);
      const r = await runStorage(env, ['delete', bucket, '--purge', '--yes']);
      const head = await statusOf(() => adminClient.send(new HeadBucketCommand({ Bucket: bucket })));
      if (mode === 'governance') {
        assert.equal(r.status, 0, show(r));
        assert.equal(head.status, 404, 'the bucket is gone');
      } else {
        assert.equal(r.status, 1, show(r));
        assert.match(r.stderr, /could not be deleted .*so bucket .* was kept/, show(r));
        assert.equal(head.status, 200, 'the bucket is kept');
        const locked = before.filter((v) => !v.deleteMarker);
        const after = await listVersions(env, bucket);
        for (const v of locked) assert.ok(after.some((a) => a.key === v.key && a.versionId === v.versionId), `${v.key} ${v.versionId} is still there`);
      }
    });
  });
}
