import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_STORE_DEPTH } from '../backend/repo-path.js';
import { OPTIONAL_DENIES, OTHERS_DENIED_OBJECT_ACTIONS, REQUIRED_DENIES } from './actions.js';
import { auditPolicy } from './policy-audit.js';
import { buildPolicy, MAX_LOCK_DEPTH, lockFromPolicyId, parsePolicy, policyId, type PolicyStatement } from './policy.js';
import { ownerPrincipal, userArn, userNameOf } from './principal.js';

const BACKUP = 'arn:aws:iam:::user/backup';
const audit = (statements: PolicyStatement[], prefix = ''): ReturnType<typeof auditPolicy> =>
  auditPolicy({ bucket: 'b1', prefix, backupArn: BACKUP, statements: parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements })).statements });
const codes = (r: ReturnType<typeof auditPolicy>): string[] => r.findings.map((f) => f.code);
const good = (prefix = '', portable = false): PolicyStatement[] => buildPolicy({ bucket: 'b1', prefix, user: 'backup', admin: ownerPrincipal('admin'), portable }).Statement;

describe('principals', () => {
  test('user names become IAM user ARNs; ARNs stay; bad names are refused', () => {
    assert.equal(userArn('backup'), BACKUP);
    assert.equal(userArn('acme$backup'), 'arn:aws:iam::acme:user/backup');
    assert.equal(userArn('arn:aws:iam::123456789012:user/b'), 'arn:aws:iam::123456789012:user/b');
    assert.throws(() => userArn('bad user'), /invalid user name/);
    assert.throws(() => userArn('arn:aws:s3:::bucket'), /not an IAM/);
    assert.deepEqual(ownerPrincipal('a'.repeat(64)), { CanonicalUser: 'a'.repeat(64) });
    assert.equal(userNameOf('arn:aws:iam::acme:user/backup'), 'acme$backup');
  });
});

describe('the policy rwm builds', () => {
  test('denies every destructive action to the backup user, allows deletes only under locks/', () => {
    const p = buildPolicy({ bucket: 'b1', prefix: 'host1', user: 'backup' });
    const deny = p.Statement.find((s) => s.Effect === 'Deny' && Array.isArray(s.Action) && s.Action.includes('s3:DeleteObjectVersion'));
    assert.ok(deny);
    for (const a of [...REQUIRED_DENIES, ...OPTIONAL_DENIES]) assert.ok((deny.Action as string[]).includes(a), a);
    const del = p.Statement.filter((s) => s.Effect === 'Allow' && (s.Action as string[]).includes('s3:DeleteObject'));
    const locks = del.map((s) => s.Resource as string[]);
    assert.equal(locks.length, 1);
    // One pattern per depth (RGW's "*" stops at the first "/"): host1/locks/, host1/a/locks/, … host1/a/…/l/locks/.
    assert.deepEqual(locks[0], Array.from({ length: MAX_LOCK_DEPTH + 1 }, (_, n) => `arn:aws:s3:::b1/host1/${'*/'.repeat(n)}locks/*`));
    assert.ok(MAX_LOCK_DEPTH >= MAX_STORE_DEPTH, 'every repository rwm serve may keep below the prefix');
    assert.deepEqual(p.Statement.find((s) => s.Sid === 'RwmBackupObjects')?.Resource, ['arn:aws:s3:::b1/host1/*']);
    assert.equal(p.Statement.some((s) => s.Sid === 'RwmAdminAll'), false, 'no admin statement unless asked');
    assert.equal(p.Statement.some((s) => s.Sid === 'RwmDenyOthersObjectAccess'), false, 'nor a Deny to all but the owner, which would lock the owner out');
  });

  test('denies everyone but the owner and the backup user reading objects and ACLs (what an upload\'s ACL header could grant)', () => {
    const byOwner = (admin: ReturnType<typeof ownerPrincipal>): PolicyStatement | undefined => buildPolicy({ bucket: 'b1', prefix: 'host1', user: 'backup', admin }).Statement.find((s) => s.Sid === 'RwmDenyOthersObjectAccess');
    const s = byOwner(ownerPrincipal('admin'));
    assert.deepEqual(s?.NotPrincipal, { AWS: ['arn:aws:iam:::user/admin', BACKUP] });
    assert.deepEqual(s?.Resource, ['arn:aws:s3:::b1/*'], 'every object, not only the prefix');
    assert.equal(s?.Effect, 'Deny');
    for (const a of OTHERS_DENIED_OBJECT_ACTIONS) assert.ok((s?.Action as string[]).includes(a), a);
    assert.deepEqual(byOwner(ownerPrincipal('c'.repeat(64)))?.NotPrincipal, { AWS: [BACKUP], CanonicalUser: 'c'.repeat(64) }, 'an AWS owner by canonical id');
  });

  test('portable leaves out only the optional actions', () => {
    const p = buildPolicy({ bucket: 'b1', prefix: '', user: 'backup', portable: true });
    const deny = p.Statement.find((s) => s.Sid === 'RwmBackupDenyDestroy')?.Action as string[];
    for (const a of OPTIONAL_DENIES) assert.equal(deny.includes(a), false);
    for (const a of REQUIRED_DENIES) assert.ok(deny.includes(a));
  });

  test('the Id records the object lock asked for', () => {
    assert.deepEqual(lockFromPolicyId(policyId({ mode: 'COMPLIANCE', days: 30 })), { mode: 'COMPLIANCE', days: 30 });
    assert.equal(lockFromPolicyId(policyId(undefined)), null);
    assert.equal(lockFromPolicyId('something else'), undefined);
    assert.equal(lockFromPolicyId(undefined), undefined);
  });
});

describe('the policy audit', () => {
  test('the policy rwm builds has no findings, with or without a prefix; the portable one only a note', () => {
    assert.deepEqual(codes(audit(good())), []);
    assert.deepEqual(codes(audit(good('a/b'), 'a/b')), []);
    const portable = audit(good('', true));
    assert.deepEqual(codes(portable), []);
    assert.match(portable.notes.join(), /PutEncryptionConfiguration/);
  });

  test('a removed or weakened Deny is deny-missing, naming the actions', () => {
    const noDeny = good().filter((s) => s.Sid !== 'RwmBackupDenyDestroy');
    const r = audit(noDeny);
    assert.deepEqual(codes(r), ['deny-missing']);
    assert.match(r.findings[0]?.message ?? '', /s3:DeleteObjectVersion.*s3:PutBucketVersioning/);
    const conditional = good().map((s) => (s.Sid === 'RwmBackupDenyDestroy' ? { ...s, Condition: { Bool: { 'aws:SecureTransport': 'true' } } } : s));
    assert.deepEqual(codes(audit(conditional)), ['deny-missing'], 'a conditional Deny does not count');
    const prefixOnly = good().map((s) => (s.Sid === 'RwmBackupDenyDestroy' ? { ...s, Resource: ['arn:aws:s3:::b1/host1/*'] } : s));
    assert.deepEqual(codes(audit(prefixOnly)), ['deny-missing'], 'a Deny must cover the whole bucket');
    const otherUser = good().map((s) => (s.Sid === 'RwmBackupDenyDestroy' ? { ...s, Principal: { AWS: ['arn:aws:iam:::user/someone'] } } : s));
    assert.deepEqual(codes(audit(otherUser)), ['deny-missing']);
  });

  test('a missing, narrowed or conditional Deny to everyone else is others-not-denied', () => {
    const without = good().filter((s) => s.Sid !== 'RwmDenyOthersObjectAccess');
    const r = audit(without);
    assert.deepEqual(codes(r), ['others-not-denied']);
    assert.match(r.findings[0]?.message ?? '', /s3:GetObject, .*s3:PutObjectAcl.*x-amz-acl/);
    const change = (f: (s: PolicyStatement) => PolicyStatement): string[] => codes(audit(good().map((s) => (s.Sid === 'RwmDenyOthersObjectAccess' ? f(s) : s))));
    assert.deepEqual(change((s) => ({ ...s, Action: ['s3:GetObject'] })), ['others-not-denied'], 'reads of ACLs and versions still allowed');
    assert.deepEqual(change((s) => ({ ...s, Resource: ['arn:aws:s3:::b1/host1/*'] })), ['others-not-denied'], 'only part of the bucket');
    assert.deepEqual(change((s) => ({ ...s, Condition: { Bool: { 'aws:SecureTransport': 'false' } } })), ['others-not-denied'], 'under a condition');
    assert.deepEqual(change((s) => ({ ...s, NotPrincipal: { AWS: ['arn:aws:iam:::user/*'] } })), ['others-not-denied'], 'every user exempted');
    assert.deepEqual(change((s) => ({ ...s, Action: ['s3:GetObject*', 's3:PutObject*Acl'] })), [], 'wildcards count');
    const everyone = without.concat({ Effect: 'Deny', Principal: '*', Action: ['s3:GetObject*', 's3:PutObjectAcl', 's3:PutObjectVersionAcl'], Resource: 'arn:aws:s3:::b1/*' });
    assert.deepEqual(codes(audit(everyone)), [], 'a Deny to everyone counts (the probes tell whether restic still works)');
  });

  test('a Deny by wildcard or NotAction counts', () => {
    const star = good().map((s) => (s.Sid === 'RwmBackupDenyDestroy' ? { ...s, Action: ['s3:Delete*', 's3:Put*', 's3:BypassGovernanceRetention'] } : s));
    assert.deepEqual(codes(audit(star)), []);
  });

  test('any Allow of a destructive action to the backup user or everyone is destructive-allow', () => {
    const extra = (st: PolicyStatement): string[] => codes(audit([...good(), st]));
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:DeleteObjectVersion', Resource: 'arn:aws:s3:::b1/*' }), ['destructive-allow']);
    assert.deepEqual(extra({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'] }), ['destructive-allow']);
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::user/*' }, Action: ['s3:putbucketversioning'], Resource: 'arn:aws:s3:::b1' }), ['destructive-allow'], 'case-insensitive actions, wildcard principals');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::b1/*' }), ['destructive-allow']);
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b1/data/*' }), ['destructive-allow'], 'deletes outside locks/');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b1/locks/*' }), [], 'deletes of locks are what restic needs');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b1/alice/laptop/locks/*' }), [], 'and the locks of repositories below the prefix');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b1/*locks/*' }), ['destructive-allow'], 'but not any key merely ending in locks');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam:::user/other'] }, Action: 's3:*', Resource: 'arn:aws:s3:::b1/*' }), [], 'other users are not the backup user');
    assert.deepEqual(extra({ Effect: 'Allow', Principal: { AWS: [BACKUP] }, Action: 's3:*', Resource: 'arn:aws:s3:::other-bucket/*' }), [], 'other buckets do not matter');
  });

  test('a lock-only delete is fine only under the configured prefix', () => {
    assert.deepEqual(codes(audit(good('host1'), 'host1')), []);
    assert.deepEqual(codes(audit(good(''), 'host1')), ['destructive-allow'], 'locks/ at the root is outside host1/locks/');
  });

  test('a policy that is not JSON or has no statements is refused with a reason', () => {
    assert.throws(() => parsePolicy('nope'), /not JSON/);
    assert.throws(() => parsePolicy('{"Version":"2012-10-17","Statement":[]}'), /no statements/);
  });
});
