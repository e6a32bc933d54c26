// The bucket policy of a policed bucket: built from the rule in actions.ts, and parsed back (for the
// audit) into statements with every "string or list" field as a list.
import { MAX_STORE_DEPTH } from '../backend/repo-path.js';
import { BACKUP_BUCKET_READS, BACKUP_OBJECT_ACTIONS, DENIED_ACTIONS, LOCK_DELETE_ACTION, OTHERS_DENIED_OBJECT_ACTIONS } from './actions.js';
import { userArn, type PolicyPrincipal } from './principal.js';

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface LockSpec {
  readonly mode: LockMode;
  readonly days: number;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PolicyPrincipal | '*' | Record<string, unknown>;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, unknown>;
}

export interface PolicyDocument {
  Version: string;
  Id?: string;
  Statement: PolicyStatement[];
}

export interface PolicyOptions {
  readonly bucket: string;
  /** Repository prefix ('' = the bucket root), without leading or trailing '/'. */
  readonly prefix: string;
  /** The backup user (uid, tenant$uid or ARN). */
  readonly user: string;
  /** Full access for the bucket owner; undefined leaves the statement out. */
  readonly admin?: PolicyPrincipal;
  /** Recorded in the policy's Id, so `check` knows what was asked for. */
  readonly lock?: LockSpec;
  /** Leave out the actions some servers do not know (DeniedAction.optional). */
  readonly portable?: boolean;
}

export const SID = {
  admin: 'RwmAdminAll',
  bucketRead: 'RwmBackupBucketRead',
  objects: 'RwmBackupObjects',
  locks: 'RwmBackupDeleteLocks',
  deny: 'RwmBackupDenyDestroy',
  denyDelete: 'RwmBackupDenyDeleteOutsideLocks',
  denyOthers: 'RwmDenyOthersObjectAccess',
} as const;

export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
/** The key prefix as the start of a key: '' or 'PREFIX/'. */
export const under = (prefix: string): string => (prefix === '' ? '' : `${prefix}/`);

export function buildPolicy(o: PolicyOptions): PolicyDocument {
  const b = bucketArn(o.bucket);
  const backup: PolicyPrincipal = { AWS: [userArn(o.user)] };
  const locks = lockResources(o.bucket, o.prefix);
  const denied = DENIED_ACTIONS.filter((d) => !(o.portable === true && d.optional === true)).map((d) => d.action);
  const statements: PolicyStatement[] = [];
  if (o.admin !== undefined) statements.push({ Sid: SID.admin, Effect: 'Allow', Principal: o.admin, Action: ['s3:*'], Resource: [b, `${b}/*`] });
  statements.push(
    { Sid: SID.bucketRead, Effect: 'Allow', Principal: backup, Action: [...BACKUP_BUCKET_READS], Resource: [b] },
    { Sid: SID.objects, Effect: 'Allow', Principal: backup, Action: [...BACKUP_OBJECT_ACTIONS], Resource: [`${b}/${under(o.prefix)}*`] },
    { Sid: SID.locks, Effect: 'Allow', Principal: backup, Action: [LOCK_DELETE_ACTION], Resource: locks },
    { Sid: SID.deny, Effect: 'Deny', Principal: backup, Action: denied, Resource: [b, `${b}/*`] },
    { Sid: SID.denyDelete, Effect: 'Deny', Principal: backup, Action: [LOCK_DELETE_ACTION], NotResource: locks },
  );
  // Without the owner's principal this Deny would lock the owner out of reading its backups.
  if (o.admin !== undefined) {
    statements.push({ Sid: SID.denyOthers, Effect: 'Deny', NotPrincipal: exceptFor(o.admin, userArn(o.user)), Action: [...OTHERS_DENIED_OBJECT_ACTIONS], Resource: [`${b}/*`] });
  }
  return { Version: '2012-10-17', Id: policyId(o.lock), Statement: statements };
}

/** The owner and the backup user, as one NotPrincipal. */
function exceptFor(admin: PolicyPrincipal, backupArn: string): Record<string, unknown> {
  if ('AWS' in admin) return { AWS: [...admin.AWS.filter((a) => a !== backupArn), backupArn] };
  return { AWS: [backupArn], CanonicalUser: admin.CanonicalUser };
}

/**
 * How many path segments may lie between PREFIX and a repository's locks/: a path in `rwm serve`'s
 * store (a user's root plus the URL path, MAX_STORE_DEPTH) below a `--s3 BUCKET/PATH` of up to 4 more.
 */
export const MAX_LOCK_DEPTH = MAX_STORE_DEPTH + 4;

/**
 * Where the backup user may delete: the lock files of a repository at PREFIX, or of repositories
 * below it (`rwm serve --s3` keeps many: PREFIX/alice/laptop/locks/). One pattern per depth: Ceph
 * RGW matches "*" without backtracking, so "*\/locks/*" never matches "a/b/locks/x" there ("*" stops
 * at the first "/"). restic's other files never have a "locks" path segment, and no repository
 * path may have one (repo-path.ts reserves it).
 */
export function lockResources(bucket: string, prefix: string): string[] {
  const base = `${bucketArn(bucket)}/${under(prefix)}`;
  return Array.from({ length: MAX_LOCK_DEPTH + 1 }, (_, depth) => `${base}${'*/'.repeat(depth)}locks/*`);
}

/** Is this resource pattern one of lockResources' (so a DeleteObject on it only touches lock files)? */
export function isLockResource(bucket: string, prefix: string, resource: string): boolean {
  const base = `${bucketArn(bucket)}/${under(prefix)}`;
  return resource.startsWith(base) && /^(?:\*\/|[^*?]+\/)*locks\/\*$/.test(resource.slice(base.length));
}

/** "rwm-v1-nolock" or "rwm-v1-lock-governance-30d": what `create` was asked for, for `check`. */
export function policyId(lock: LockSpec | undefined): string {
  return lock === undefined ? 'rwm-v1-nolock' : `rwm-v1-lock-${lock.mode.toLowerCase()}-${lock.days}d`;
}

/** The lock recorded in an Id rwm wrote: null = none asked for; undefined = not an rwm Id. */
export function lockFromPolicyId(id: string | undefined): LockSpec | null | undefined {
  if (id === 'rwm-v1-nolock') return null;
  const m = /^rwm-v1-lock-(governance|compliance)-([1-9][0-9]*)d$/.exec(id ?? '');
  if (m === null) return undefined;
  return { mode: m[1] === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', days: Number(m[2]) };
}

/** A statement with every list-or-string field as a list. */
export interface NormalStatement {
  readonly sid: string;
  readonly effect: 'Allow' | 'Deny';
  /** AWS principal ARNs, or ['*'] for everyone; CanonicalUser ids as "canonical:<id>". */
  readonly principals: readonly string[];
  readonly notPrincipal: boolean;
  readonly actions: readonly string[];
  readonly notAction: boolean;
  readonly resources: readonly string[];
  readonly notResource: boolean;
  readonly conditional: boolean;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(text) : [text(v)]);

function principalsOf(p: unknown): string[] {
  if (p === undefined) return [];
  if (p === '*') return ['*'];
  if (typeof p !== 'object' || p === null) return [text(p)];
  const o = p as Record<string, unknown>;
  return [...list(o.AWS), ...list(o.CanonicalUser).map((c) => `canonical:${c}`)];
}

/** Parses a policy JSON text; throws with a readable reason when it is not a policy. */
export function parsePolicy(text: string): { id: string | undefined; statements: NormalStatement[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`the bucket policy is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const d = doc as { Id?: unknown; Statement?: unknown };
  const raw = Array.isArray(d.Statement) ? (d.Statement as unknown[]) : d.Statement !== undefined ? [d.Statement] : [];
  if (raw.length === 0) throw new Error('the bucket policy has no statements');
  const statements = raw.map((s, i): NormalStatement => {
    const st = s as Record<string, unknown>;
    const effect = String(st.Effect).toLowerCase() === 'deny' ? 'Deny' : 'Allow';
    return {
      sid: typeof st.Sid === 'string' && st.Sid !== '' ? st.Sid : `#${i + 1}`,
      effect,
      principals: principalsOf(st.Principal ?? st.NotPrincipal),
      notPrincipal: st.NotPrincipal !== undefined,
      actions: list(st.Action ?? st.NotAction),
      notAction: st.NotAction !== undefined,
      resources: list(st.Resource ?? st.NotResource),
      notResource: st.NotResource !== undefined,
      conditional: st.Condition !== undefined && Object.keys(st.Condition as object).length > 0,
    };
  });
  return { id: typeof d.Id === 'string' ? d.Id : undefined, statements };
}
