// `rwm storage check` against the real RGW: every weakening someone with the admin's keys can make to a
// policed bucket shows up as its own, readable finding (and a fresh bucket has none of them); and the
// backup host's own check, run with nothing but the backup user's keys, passes on a policed bucket and
// fails, by trying the forbidden actions, on one whose Deny was replaced by an Allow of everything.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketPolicyCommand,
  DeleteObjectTaggingCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, s3TestEnv, testClient } from '../helpers/s3.js';
import { jsonOf, runStorage, type CheckJson, type StorageRun, type StorageRunOptions } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = testClient(env, 'admin');
const BACKUP_ARN = 'arn:aws:iam:::user/backup';
const PROBE_OUTCOMES = ['refused', 'allowed', 'unsupported', 'inconclusive', 'ok', 'failed'];
after(() => admin.destroy());

/** Every run goes through here: no secret key may ever reach stdout or stderr. */
async function storage(args: string[], o: StorageRunOptions = {}): Promise<StorageRun> {
  const r = await runStorage(env, args, o);
  for (const [who, secret] of [['admin', env.admin.secretAccessKey], ['backup', env.backup.secretAccessKey]] as const) {
    assert.equal(`${r.stdout}\n${r.stderr}`.includes(secret), false, `the ${who} secret key was printed by: rwm storage ${args.join(' ')}`);
  }
  return r;
}

/** `check --json`, with the whole run in the message when the exit status is not the expected one. */
async function check(bucket: string, extra: string[], status: 0 | 1, o: StorageRunOptions = {}): Promise<CheckJson> {
  const r = await storage(['check', bucket, '--json', ...extra], o);
  assert.equal(r.status, status, `check ${bucket} ${extra.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  const rep = jsonOf<CheckJson>(r);
  assert.equal(rep.bucket, bucket);
  assert.equal(rep.ok, status === 0, JSON.stringify(rep.findings));
  return rep;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}
interface Policy {
  Version?: string;
  Id?: string;
  Statement: Statement[];
}

const actionsOf = (s: Statement): string[] => (s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action]);

async function readPolicy(bucket: string): Promise<Policy> {
  const text = (await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  assert.ok(text !== undefined && text !== '', `bucket ${bucket} has a policy`);
  return JSON.parse(text) as Policy;
}

async function putPolicy(bucket: string, p: Policy): Promise<void> {
  await admin.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(p) }));
}

/** Drops the statement(s) denying the backup user DeleteObjectVersion; returns the actions they denied. */
async function dropDeny(bucket: string): Promise<{ policy: Policy; removed: string[] }> {
  const p = await readPolicy(bucket);
  const isTheDeny = (s: Statement): boolean => s.Effect === 'Deny' && actionsOf(s).includes('s3:DeleteObjectVersion');
  const removed = p.Statement.filter(isTheDeny).flatMap(actionsOf);
  assert.ok(removed.length > 0, `the policy rwm wrote on ${bucket} has a Deny of s3:DeleteObjectVersion: ${JSON.stringify(p)}`);
  p.Statement = p.Statement.filter((s) => !isTheDeny(s));
  assert.ok(p.Statement.length > 0, 'the rest of the policy is kept');
  return { policy: p, removed };
}

/** The policy without its Deny to everyone but the owner and the backup user (what buckets made before it have). */
async function withoutOthersDeny(bucket: string): Promise<Policy> {
  const p = await readPolicy(bucket);
  const kept = p.Statement.filter((s) => !(s.Effect === 'Deny' && s.NotPrincipal !== undefined));
  assert.equal(kept.length, p.Statement.length - 1, `the policy rwm wrote on ${bucket} has one Deny with NotPrincipal: ${JSON.stringify(p)}`);
  return { ...p, Statement: kept };
}

/** A policed bucket made by `rwm storage create` with the admin's keys. */
async function createPoliced(bucket: string, extra: string[] = []): Promise<void> {
  const r = await storage(['create', bucket, '--user', 'backup', ...extra]);
  assert.equal(r.status, 0, `create ${bucket}:\n${r.stdout}\n${r.stderr}`);
}

interface Tampering {
  readonly name: string;
  /** The finding code this tampering must produce. */
  readonly code: string;
  /** What the finding's message must mention, so a person knows what is wrong. */
  readonly mentions: readonly RegExp[];
  /** Extra `check` options (the expectation the tampering breaks). */
  readonly check?: readonly string[];
  readonly tamper: (bucket: string) => Promise<void>;
}

const TAMPERINGS: readonly Tampering[] = [
  {
    name: '(a) versioning suspended',
    code: 'versioning-not-enabled',
    mentions: [/versioning/i, /suspended/i],
    tamper: async (b) => {
      await admin.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
      assert.equal((await admin.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
    },
  },
  {
    name: '(b) an extra statement allowing the backup user s3:DeleteObjectVersion',
    code: 'destructive-allow',
    mentions: [/s3:DeleteObjectVersion/],
    tamper: async (b) => {
      const p = await readPolicy(b);
      p.Statement.push({ Sid: 'LetBackupPrune', Effect: 'Allow', Principal: { AWS: [BACKUP_ARN] }, Action: ['s3:DeleteObjectVersion'], Resource: [`arn:aws:s3:::${b}/*`] });
      await putPolicy(b, p);
    },
  },
  {
    name: '(c) the Deny statement removed',
    code: 'deny-missing',
    mentions: [/s3:DeleteObjectVersion/, /s3:PutBucketPolicy/],
    tamper: async (b) => putPolicy(b, (await dropDeny(b)).policy),
  },
  {
    name: '(d) a lifecycle rule expiring noncurrent versions after 1 day',
    code: 'lifecycle-noncurrent-expiry',
    mentions: [/expire-noncurrent-1d/, /\b1 day/],
    tamper: async (b) => {
      // Added next to the rule rwm wrote, as someone would sneak it in.
      const rules: LifecycleRule[] = (await admin.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules ?? [];
      assert.ok(rules.length > 0, 'create wrote a lifecycle rule');
      rules.push({ ID: 'expire-noncurrent-1d', Status: 'Enabled', Prefix: '', NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
      await admin.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules } }));
    },
  },
  {
    name: '(e) object lock missing although it was asked for',
    code: 'object-lock-missing',
    mentions: [/object lock/i, /governance/i],
    // The bucket was created without object lock; the check asks for it.
    check: ['--object-lock', 'governance', '--retention', '1'],
    tamper: async () => undefined,
  },
  {
    name: '(f) the policy deleted',
    code: 'policy-missing',
    mentions: [/policy/i],
    tamper: async (b) => {
      await admin.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    },
  },
  {
    name: '(g) the Deny to everyone but the owner and the backup user removed',
    code: 'others-not-denied',
    mentions: [/s3:GetObject/, /x-amz-acl/],
    tamper: async (b) => putPolicy(b, await withoutOthersDeny(b)),
  },
];

describe('rwm storage check catches each tampering done with the admin\'s keys', () => {
  const buckets: string[] = [];
  /** Codes the untampered bucket reported, and the codes after tampering, per case. */
  const untampered = new Map<string, string[]>();
  const tampered = new Map<string, string[]>();

  after(async () => {
    for (const b of buckets) await deleteBucket(env, b);
  });

  for (const t of TAMPERINGS) {
    test(`${t.name} → ${t.code}`, async () => {
      const b = bucketName('rwm-check');
      buckets.push(b);
      await createPoliced(b);
      const good = await check(b, [], 0);
      untampered.set(t.name, good.findings.map((f) => f.code));
      assert.deepEqual(good.findings, [], 'a fresh bucket has no findings');

      await t.tamper(b);

      const rep = await check(b, [...(t.check ?? [])], 1);
      const f = rep.findings.find((x) => x.code === t.code);
      assert.ok(f, `expected a ${t.code} finding, got ${JSON.stringify(rep.findings)}`);
      for (const m of t.mentions) assert.match(f.message, m, `the ${t.code} message says what is wrong`);
      tampered.set(t.name, rep.findings.map((x) => x.code));

      // The text form, for the person reading it: the verdict, then one line per finding.
      const text = await storage(['check', b, ...(t.check ?? [])]);
      assert.equal(text.status, 1, text.stderr);
      const lines = text.stdout.split('\n');
      assert.match(lines[0] ?? '', new RegExp(`^${b}: NOT policed \\(${rep.findings.length} findings?\\)$`));
      assert.ok(lines.some((l) => l.startsWith(`  - [${t.code}] `)), `a "  - [${t.code}] ..." line:\n${text.stdout}`);
    });
  }

  test('each tampering is a distinct finding that an untampered bucket does not report', () => {
    assert.equal(tampered.size, TAMPERINGS.length, 'every case ran');
    const codes = TAMPERINGS.map((t) => t.code);
    assert.equal(new Set(codes).size, codes.length, 'different codes');
    for (const t of TAMPERINGS) {
      for (const [name, seen] of untampered) assert.equal(seen.includes(t.code), false, `the untampered bucket of ${name} reported ${t.code}`);
      for (const o of TAMPERINGS.filter((x) => x !== t)) {
        assert.equal((tampered.get(o.name) ?? []).includes(t.code), false, `${o.name} also reported ${t.code} (${t.name}'s code): ${JSON.stringify(tampered.get(o.name))}`);
      }
    }
  });
});

describe('rwm storage check --as-backup with nothing but the backup user\'s keys', () => {
  const good = bucketName('rwm-check-good');
  const bad = bucketName('rwm-check-bad');
  let home: string;
  let removed: string[] = [];
  let badPolicy: Policy;
  /** Only the backup user's keys in the environment (runStorage as 'backup'), and no credentials files to fall back on. */
  const backupOnly = (): StorageRunOptions => ({
    as: 'backup',
    env: { HOME: home, AWS_CONFIG_FILE: join(home, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials') },
  });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'rwm-check-home-'));
    await createPoliced(good);
    await createPoliced(bad);
    // Someone with the admin's keys: the Deny gone, and the backup user allowed everything.
    const d = await dropDeny(bad);
    removed = d.removed;
    d.policy.Statement.push({ Sid: 'BackupMayDoAnything', Effect: 'Allow', Principal: { AWS: [BACKUP_ARN] }, Action: ['s3:*'], Resource: [`arn:aws:s3:::${bad}`, `arn:aws:s3:::${bad}/*`] });
    await putPolicy(bad, d.policy);
    badPolicy = await readPolicy(bad);
  });
  after(async () => {
    await deleteBucket(env, good);
    await deleteBucket(env, bad);
    await rm(home, { recursive: true, force: true });
  });

  test('passes on a policed bucket: every forbidden attempt refused, writing and lock deletes work', async () => {
    const rep = await check(good, ['--as-backup'], 0, backupOnly());
    assert.deepEqual(rep.findings, []);
    assert.ok(rep.probes.length > 0, 'the forbidden actions were tried');
    for (const p of rep.probes) assert.ok(PROBE_OUTCOMES.includes(p.outcome), `probe outcome "${p.outcome}" (${p.action}) is one of ${PROBE_OUTCOMES.join(', ')}`);
    assert.ok(rep.probes.some((p) => p.action === 's3:DeleteObjectVersion' && p.outcome === 'refused'), `DeleteObjectVersion refused: ${JSON.stringify(rep.probes)}`);
    assert.ok(rep.probes.some((p) => p.outcome === 'ok'), 'the things restic needs (canary write, lock delete) were tried and worked');
    assert.equal(rep.probes.some((p) => p.outcome === 'allowed'), false, JSON.stringify(rep.probes));
    const text = await storage(['check', good, '--as-backup'], backupOnly());
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.equal(text.stdout.split('\n')[0], `${good}: policed`);
  });

  test('tags: the backup user can neither tag an older version nor strip tags the admin set, and the check tries each', async () => {
    const backup = testClient(env, 'backup');
    try {
      const Key = 'data/00/tagged';
      const put = await admin.send(new PutObjectCommand({ Bucket: good, Key, Body: 'x', Tagging: 'keep=admin' }));
      const VersionId = put.VersionId;
      assert.ok(VersionId !== undefined);
      const refused = async (what: string, f: () => Promise<unknown>): Promise<void> => {
        await assert.rejects(f(), (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403, `${what} was not refused`);
      };
      await refused('PutObjectTagging with a VersionId', () => backup.send(new PutObjectTaggingCommand({ Bucket: good, Key, VersionId, Tagging: { TagSet: [{ Key: 'expire', Value: 'now' }] } })));
      await refused('DeleteObjectTagging', () => backup.send(new DeleteObjectTaggingCommand({ Bucket: good, Key })));
      await refused('DeleteObjectTagging with a VersionId', () => backup.send(new DeleteObjectTaggingCommand({ Bucket: good, Key, VersionId })));
      const tags = (await admin.send(new GetObjectTaggingCommand({ Bucket: good, Key, VersionId }))).TagSet ?? [];
      assert.deepEqual(tags.map((t) => `${t.Key}=${t.Value}`), ['keep=admin']);
    } finally {
      backup.destroy();
    }
    const actions = ['s3:PutObjectVersionTagging', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'];
    const goodRep = await check(good, ['--as-backup'], 0, backupOnly());
    for (const a of actions) assert.equal(goodRep.probes.find((p) => p.action === a)?.outcome, 'refused', `${a}: ${JSON.stringify(goodRep.probes)}`);
    const badRep = await check(bad, ['--as-backup'], 1, backupOnly());
    const allowed = badRep.findings.filter((f) => f.code === 'backup-allowed').map((f) => f.action);
    for (const a of actions) assert.ok(allowed.includes(a), `${a} not reported as allowed on the loose bucket: ${allowed.join(', ')}`);
  });

  test('ACL headers on uploads: refused or harmless on a policed bucket; on one without the Deny to everyone else, each form is reported', async () => {
    const forms = ['s3:PutObject x-amz-acl', 's3:PutObject x-amz-grant-read', 's3:PutObject x-amz-grant-full-control', 's3:CopyObject x-amz-acl', 's3:CreateMultipartUpload x-amz-acl'];
    const goodRep = await check(good, ['--as-backup'], 0, backupOnly());
    for (const a of forms) assert.equal(goodRep.probes.find((p) => p.action === a)?.outcome, 'refused', `${a}: ${JSON.stringify(goodRep.probes)}`);
    const open = bucketName('rwm-check-acl');
    try {
      await createPoliced(open);
      await putPolicy(open, await withoutOthersDeny(open));
      const rep = await check(open, ['--as-backup'], 1, backupOnly());
      const allowed = rep.findings.filter((f) => f.code === 'backup-allowed').map((f) => f.action);
      assert.deepEqual(allowed, forms, JSON.stringify(rep.findings));
      assert.ok(rep.findings.some((f) => f.code === 'others-not-denied'), 'and the static audit says why');
      const anon = await fetch(`${env.endpoint}/${open}/rwm-canary-acl`);
      await anon.arrayBuffer();
      assert.equal(anon.status, 200, 'the check was right: anyone can read the probe there');
    } finally {
      await deleteBucket(env, open);
    }
  });

  test('fails on a bucket whose Deny was replaced by an Allow of s3:*: the attempts and the policy audit both say so', async () => {
    const rep = await check(bad, ['--as-backup'], 1, backupOnly());
    const codes = new Set(rep.findings.map((f) => f.code));
    assert.equal(codes.has('bucket-unreadable'), false, `the backup user can read the configuration: ${JSON.stringify(rep.findings)}`);
    const allowed = rep.findings.filter((f) => f.code === 'backup-allowed').map((f) => f.action ?? '');
    assert.ok(allowed.some((a) => removed.includes(a)), `a backup-allowed finding names one of the actions no longer denied (${removed.join(', ')}): ${JSON.stringify(rep.findings)}`);
    assert.ok(allowed.includes('s3:DeleteObjectVersion'), `deleting a version was not refused and is reported: ${allowed.join(', ')}`);
    assert.ok(rep.probes.some((p) => p.action === 's3:DeleteObjectVersion' && p.outcome === 'allowed'), JSON.stringify(rep.probes));
    // The backup user can read the policy, so the static audit runs too.
    assert.ok(codes.has('deny-missing'), `deny-missing: ${JSON.stringify(rep.findings)}`);
    assert.ok(codes.has('destructive-allow'), `destructive-allow for the Allow of s3:*: ${JSON.stringify(rep.findings)}`);
    const text = await storage(['check', bad, '--as-backup'], backupOnly());
    assert.equal(text.status, 1);
    assert.match(text.stdout, new RegExp(`^${bad}: NOT policed[^]*\\n  - \\[backup-allowed\\] `));
  });

  test('the attempts were harmless: versioning, policy and lifecycle of the tampered bucket are unchanged', async () => {
    assert.equal((await admin.send(new GetBucketVersioningCommand({ Bucket: bad }))).Status, 'Enabled');
    assert.deepEqual(await readPolicy(bad), badPolicy);
    const rules = (await admin.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bad }))).Rules ?? [];
    assert.equal(rules.length, 1, JSON.stringify(rules));
    assert.equal(rules[0]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 7, 'only the rule create wrote');
  });
});
