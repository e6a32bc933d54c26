// The static half of `rwm storage check` for the bucket policy: every destructive action is denied
// to the backup user without conditions, no statement allows the backup user (or everyone)
// anything destructive, except DeleteObject under PREFIX/locks/, and everyone else (anonymous
// users included) is denied reading objects and their ACLs, whatever ACL an upload set.
import { DESTRUCTIVE_ACTIONS, LOCK_DELETE_ACTION, OPTIONAL_DENIES, OTHERS_DENIED_OBJECT_ACTIONS, REQUIRED_DENIES } from './actions.js';
import type { Finding } from './findings.js';
import { actionMatches, globMatch, resourceMatches } from './glob.js';
import { bucketArn, isLockResource, type NormalStatement } from './policy.js';

export interface PolicyAuditInput {
  readonly bucket: string;
  readonly prefix: string;
  /** The backup user's principal ARN. */
  readonly backupArn: string;
  readonly statements: readonly NormalStatement[];
}

export interface PolicyAudit {
  readonly findings: Finding[];
  readonly notes: string[];
}

/** Stand-ins for "anyone else": an anonymous request, another user beside the backup user, one elsewhere. */
const othersThan = (backupArn: string): string[] => ['*', backupArn.replace(/[^/:]*$/, 'rwm-audit-someone-else'), 'arn:aws:iam::rwm-audit:user/someone-else'];

/** Does the statement's principal include the backup user? ("*", the ARN, a wildcard, or its account's root) */
export function appliesTo(s: NormalStatement, arn: string): boolean {
  const listed = s.principals.some((p) => {
    if (p === '*' || globMatch(p, arn)) return true;
    if (p.endsWith(':root')) return arn.startsWith(p.slice(0, -'root'.length));
    return /^[0-9]{12}$/.test(p) && arn.startsWith(`arn:aws:iam::${p}:`);
  });
  return s.notPrincipal ? !listed : listed;
}

function grants(s: NormalStatement, action: string): boolean {
  const m = actionMatches(s.actions, action);
  return s.notAction ? !m : m;
}

function covers(s: NormalStatement, resource: string): boolean {
  const m = resourceMatches(s.resources, resource);
  return s.notResource ? !m : m;
}

export function auditPolicy(i: PolicyAuditInput): PolicyAudit {
  const b = bucketArn(i.bucket);
  const whole = [b, `${b}/*`];
  const findings: Finding[] = [];
  const notes: string[] = [];

  // A Deny only protects when it is unconditional and covers the bucket and every key in it.
  const denies = i.statements.filter((s) => s.effect === 'Deny' && !s.conditional && appliesTo(s, i.backupArn) && whole.every((r) => covers(s, r)));
  const isDenied = (a: string): boolean => denies.some((s) => grants(s, a));
  const missing = REQUIRED_DENIES.filter((a) => !isDenied(a));
  if (missing.length > 0) {
    findings.push({
      code: 'deny-missing',
      message: `the policy does not deny the backup user ${missing.join(', ')}: nothing stops an IAM policy or a later Allow from granting ${missing.length === 1 ? 'it' : 'them'}`,
    });
  }
  const optionalMissing = OPTIONAL_DENIES.filter((a) => !isDenied(a));
  if (optionalMissing.length > 0) notes.push(`not denied (this S3 server does not accept ${optionalMissing.length === 1 ? 'this action' : 'these actions'} in a policy): ${optionalMissing.join(', ')}`);

  // The backup user can set an ACL on what it uploads (x-amz-acl, x-amz-grant-*): only a Deny to
  // everyone else makes such grants worthless.
  const others = othersThan(i.backupArn);
  const othersDenies = i.statements.filter((s) => s.effect === 'Deny' && !s.conditional && others.every((p) => appliesTo(s, p)) && covers(s, `${b}/*`));
  const othersMissing = OTHERS_DENIED_OBJECT_ACTIONS.filter((a) => !othersDenies.some((s) => grants(s, a)));
  if (othersMissing.length > 0) {
    findings.push({
      code: 'others-not-denied',
      message: `the policy does not deny everyone but the owner and the backup user ${othersMissing.join(', ')}: an upload with x-amz-acl: public-read or x-amz-grant-read (allowed with PutObject) makes backups readable by anyone`,
    });
  }

  for (const s of i.statements) {
    if (s.effect !== 'Allow' || !appliesTo(s, i.backupArn)) continue;
    if (!s.resources.some((r) => globMatch(r, b) || globMatch(r, `${b}/x`) || r.startsWith(`${b}/`)) && !s.notResource) continue;
    const who = s.principals.includes('*') ? 'everyone' : 'the backup user';
    // restic must delete its own locks; on a versioned bucket that only adds a delete marker.
    const lockOnly = !s.notResource && s.resources.every((r) => isLockResource(i.bucket, i.prefix, r));
    const allowed = DESTRUCTIVE_ACTIONS.filter((a) => grants(s, a) && !(a === LOCK_DELETE_ACTION && lockOnly));
    const first = allowed[0];
    if (first === undefined) continue;
    findings.push({
      code: 'destructive-allow',
      action: first,
      message: `statement ${s.sid} allows ${who} ${allowed.map((a) => (a === LOCK_DELETE_ACTION ? `${a} (outside locks/)` : a)).join(', ')}${s.conditional ? ' (under a condition)' : ''}`,
    });
  }
  return { findings, notes };
}
