// `rwm storage check` catches each weakening an admin (or an attacker with admin keys) can make to a
// policed bucket, each as its own finding; and the backup host's check, with only the backup user's
// keys, passes on a good bucket and fails on a bad one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';
import { jsonOf, runStorage, type CheckJson } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = testClient(env, 'admin');

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action?: string[];
  Resource?: string[];
}

async function readPolicy(bucket: string): Promise<{ Statement: Statement[] }> {
  return JSON.parse((await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}') as { Statement: Statement[] };
}
const putPolicy = (bucket: string, p: unknown): Promise<unknown> => admin.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(p) }));

const TAMPERING: { name: string; code: string; mention: RegExp; create?: string[]; check?: string[]; tamper: (bucket: string) => Promise<unknown> }[] = [
  {
    name: 'versioning suspended',
    code: 'versioning-not-enabled',
    mention: /Suspended/,
    tamper: (b) => admin.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } })),
  },
  {
    name: 'a statement allowing the backup user DeleteObjectVersion',
    code: 'destructive-allow',
    mention: /s3:DeleteObjectVersion/,
    tamper: async (b) => {
      const p = await readPolicy(b);
      p.Statement.push({ Sid: 'Sneaky', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/backup'] }, Action: ['s3:DeleteObjectVersion'], Resource: [`arn:aws:s3:::${b}/*`] });
      return putPolicy(b, p);
    },
  },
  {
    name: 'the Deny statement removed',
    code: 'deny-missing',
    mention: /s3:DeleteObjectVersion.*s3:PutBucketVersioning/,
    tamper: async (b) => {
      const p = await readPolicy(b);
      p.Statement = p.Statement.filter((s) => !(s.Effect === 'Deny' && (s.Action ?? []).includes('s3:DeleteObjectVersion')));
      return putPolicy(b, p);
    },
  },
  {
    name: 'a lifecycle rule expiring noncurrent versions after 1 day',
    code: 'lifecycle-noncurrent-expiry',
    mention: /"expire-old".*after 1 day/,
    tamper: (b) =>
      admin.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [{ ID: 'expire-old', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] } })),
  },
  {
    name: 'object lock missing when it was asked for',
    code: 'object-lock-missing',
    mention: /not enabled.*GOVERNANCE 1 day/,
    check: ['--object-lock', 'governance', '--retention', '1'],
    tamper: () => Promise.resolve(),
  },
  {
    name: 'the policy deleted',
    code: 'policy-missing',
    mention: /no policy/,
    tamper: (b) => admin.send(new DeleteBucketPolicyCommand({ Bucket: b })),
  },
];

describe('rwm storage check catches tampering with admin rights', () => {
  const buckets: string[] = [];
  after(async () => {
    for (const b of buckets) await deleteBucket(env, b);
    admin.destroy();
  });

  const fresh = async (): Promise<string> => {
    const b = bucketName('rwm-tamper');
    buckets.push(b);
    const r = await runStorage(env, ['create', b, '--user', 'backup']);
    assert.equal(r.status, 0, r.stderr);
    return b;
  };

  const seen = new Map<string, string[]>();
  for (const t of TAMPERING) {
    test(`${t.name} → ${t.code}`, async () => {
      const b = await fresh();
      const good = jsonOf<CheckJson>(await runStorage(env, ['check', b, '--json']));
      assert.equal(good.ok, true, JSON.stringify(good.findings));
      await t.tamper(b);
      const r = await runStorage(env, ['check', b, '--json', ...(t.check ?? [])]);
      assert.equal(r.status, 1, r.stderr);
      const rep = jsonOf<CheckJson>(r);
      assert.equal(rep.ok, false);
      const f = rep.findings.find((x) => x.code === t.code);
      assert.ok(f, `expected ${t.code}, got ${JSON.stringify(rep.findings)}`);
      assert.match(f.message, t.mention);
      seen.set(t.name, rep.findings.map((x) => x.code));
      // The text form names the finding too, for the person reading it.
      const text = await runStorage(env, ['check', b, ...(t.check ?? [])]);
      assert.equal(text.status, 1);
      assert.match(text.stdout, new RegExp(`NOT policed[^]*\\[${t.code}\\]`));
    });
  }

  test('each tampering is its own finding', () => {
    assert.equal(seen.size, TAMPERING.length);
    for (const t of TAMPERING) {
      for (const o of TAMPERING.filter((x) => x !== t)) {
        assert.equal((seen.get(o.name) ?? []).includes(t.code), false, `${o.name} also reported ${t.code}`);
      }
    }
  });
});

describe('rwm storage check --as-backup with only the backup user\'s keys', () => {
  const good = bucketName('rwm-tamper-good');
  const bad = bucketName('rwm-tamper-bad');
  before(async () => {
    for (const b of [good, bad]) assert.equal((await runStorage(env, ['create', b, '--user', 'backup'])).status, 0);
    // An attacker with admin rights: the Deny gone, and the backup user allowed everything.
    const p = await readPolicy(bad);
    p.Statement = p.Statement.filter((s) => s.Effect !== 'Deny');
    p.Statement.push({ Sid: 'Everything', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/backup'] }, Action: ['s3:*'], Resource: [`arn:aws:s3:::${bad}`, `arn:aws:s3:::${bad}/*`] });
    await putPolicy(bad, p);
  });
  after(async () => {
    await deleteBucket(env, good);
    await deleteBucket(env, bad);
  });

  test('passes on a policed bucket', async () => {
    const r = await runStorage(env, ['check', good, '--as-backup', '--json'], { as: 'backup' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const rep = jsonOf<CheckJson>(r);
    assert.ok(rep.probes.some((p) => p.outcome === 'refused'));
  });

  test('fails on the tampered bucket: the static audit and the attempts both say so', async () => {
    const r = await runStorage(env, ['check', bad, '--as-backup', '--json'], { as: 'backup' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const rep = jsonOf<CheckJson>(r);
    const codes = new Set(rep.findings.map((f) => f.code));
    assert.ok(codes.has('deny-missing'));
    assert.ok(codes.has('destructive-allow'));
    const allowed = rep.findings.filter((f) => f.code === 'backup-allowed').map((f) => f.action);
    for (const a of ['s3:DeleteObjectVersion', 's3:PutBucketVersioning', 's3:PutBucketPolicy', 's3:PutLifecycleConfiguration', 's3:DeleteBucket']) assert.ok(allowed.includes(a), `${a} not reported: ${allowed.join(', ')}`);
  });

  test('the attempts changed nothing that matters even where they were allowed', async () => {
    const after = await readPolicy(bad);
    assert.ok(after.Statement.some((s) => s.Sid === 'Everything'), 'policy unchanged');
    const r = await runStorage(env, ['info', bad, '--json']);
    const info = jsonOf<{ versioning: string; lifecycle: { ID?: string }[] }>(r);
    assert.equal(info.versioning, 'Enabled');
    assert.deepEqual(info.lifecycle.map((l) => l.ID), ['rwm-abort-incomplete-uploads']);
  });
});
