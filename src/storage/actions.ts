// The append-only rule for a policed bucket, as S3 action names: what the backup account may do,
// and what it is explicitly denied. Every other file (the policy builder, the policy audit, the
// probes) takes its lists from here.

/** Bucket-level reads restic and `rwm storage check --as-backup` need (list, state, configuration). */
export const BACKUP_BUCKET_READS = [
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:GetBucketLocation',
  's3:GetBucketVersioning',
  's3:GetBucketPolicy',
  's3:GetBucketObjectLockConfiguration',
  's3:GetLifecycleConfiguration',
] as const;

/** Object actions on the repository prefix: read and add. On a versioned bucket a PUT over a key adds a version. */
export const BACKUP_OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject'] as const;

/**
 * Denied to everyone but the bucket owner and the backup user (a Deny with NotPrincipal), on every
 * object. The backup user may write, and S3 lets a writer set the new object's ACL in the same
 * request (x-amz-acl, x-amz-grant-* on PutObject, CopyObject, CreateMultipartUpload, a POST form):
 * no Deny of PutObjectAcl stops that, so the grants it could make are made worthless instead.
 * Object ACLs can grant only these (READ, READ_ACP, WRITE_ACP).
 */
export const OTHERS_DENIED_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectAcl',
  's3:GetObjectVersionAcl',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:GetObjectTorrent',
  's3:GetObjectVersionTorrent',
] as const;

/** Allowed only under PREFIX/locks/: on a versioned bucket it adds a delete marker, never removes data. */
export const LOCK_DELETE_ACTION = 's3:DeleteObject';

export interface DeniedAction {
  readonly action: string;
  /** What the backup account could do with it. */
  readonly why: string;
  /**
   * Some S3 servers reject a policy naming this action (Ceph RGW answers 400 to
   * s3:PutEncryptionConfiguration): it is left out there, and its absence is a note, not a finding.
   */
  readonly optional?: boolean;
}

/** Explicitly denied to the backup account, whatever else (an IAM user policy, a later Allow) grants. */
export const DENIED_ACTIONS: readonly DeniedAction[] = [
  { action: 's3:DeleteObjectVersion', why: 'delete versions for good' },
  { action: 's3:BypassGovernanceRetention', why: 'delete or shorten governance-locked versions' },
  { action: 's3:PutBucketVersioning', why: 'suspend versioning' },
  { action: 's3:PutLifecycleConfiguration', why: 'set or remove lifecycle rules that expire versions' },
  { action: 's3:PutBucketPolicy', why: 'rewrite the bucket policy' },
  { action: 's3:DeleteBucketPolicy', why: 'remove the bucket policy' },
  { action: 's3:PutBucketAcl', why: 'change the bucket ACL' },
  { action: 's3:PutObjectAcl', why: 'change object ACLs' },
  { action: 's3:PutObjectVersionAcl', why: 'change object version ACLs' },
  { action: 's3:DeleteBucket', why: 'delete the bucket' },
  { action: 's3:PutBucketObjectLockConfiguration', why: 'change the default retention' },
  { action: 's3:PutObjectRetention', why: 'change object retention' },
  { action: 's3:PutObjectLegalHold', why: 'set or lift legal holds' },
  { action: 's3:PutReplicationConfiguration', why: 'replicate the backups elsewhere' },
  { action: 's3:PutObjectTagging', why: 'tag objects into a tag-filtered lifecycle rule' },
  { action: 's3:PutObjectVersionTagging', why: 'tag older versions into a tag-filtered lifecycle rule' },
  { action: 's3:DeleteObjectTagging', why: 'strip the tags the admin set' },
  { action: 's3:DeleteObjectVersionTagging', why: 'strip the tags the admin set on older versions' },
  { action: 's3:PutEncryptionConfiguration', why: 'change default encryption (e.g. to a key the attacker controls)', optional: true },
];

/**
 * Actions the policy audit treats as destructive when allowed to the backup account: every denied
 * action, plus DeleteObject outside locks/ (a delete marker hides a file from restic) and the
 * deletes/version operations AWS documents under other names.
 */
export const DESTRUCTIVE_ACTIONS: readonly string[] = [
  ...DENIED_ACTIONS.map((d) => d.action),
  's3:DeleteObject',
];

export const REQUIRED_DENIES = DENIED_ACTIONS.filter((d) => d.optional !== true).map((d) => d.action);
export const OPTIONAL_DENIES = DENIED_ACTIONS.filter((d) => d.optional === true).map((d) => d.action);
