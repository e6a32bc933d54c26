// The rwm config file (YAML). Strict: an unknown key is an error, reported with its path.
import { z } from 'zod';
import { parseRepoPath } from '../backend/repo-path.js';
import { parseSize } from '../util/size.js';
import { BUCKET_RE, normalisePrefix } from '../backend/s3/settings.js';
import { backupSectionSchema, scheduleFields } from '../backup/config.js';
import { keepPolicySchema } from './forget.js';

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const repoPath = z.string().transform((v, ctx) => {
  try {
    return parseRepoPath(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const userRuleSchema = z.strictObject({
  /** Where the user's repositories are stored: URL path /x is <root>/x under --path or the S3 prefix. */
  root: repoPath.optional(),
  /** Repository paths (below root, and everything below them) the user may use. Default: everything below root; without root, /<user>/ with private repos, else all. */
  repos: z.array(repoPath).min(1).optional(),
  appendOnly: z.boolean().optional(),
  maxSize: size.optional(),
  /** "own": the user may delete only the lock files it created (not the trusted host's prune lock). */
  deleteLocks: z.enum(['any', 'own']).optional(),
});

/** `serve.s3`: store the repositories in an S3 bucket instead of --path. Flags and AWS_* variables win. */
export const s3SectionSchema = z
  .strictObject({
    bucket: z.string().regex(BUCKET_RE, 'bucket names have 3-63 characters: lowercase letters, digits, "." and "-"'),
    prefix: z
      .string()
      .default('')
      .transform((v, ctx) => {
        try {
          return normalisePrefix(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be an http:// or https:// URL' }).optional(),
    region: z.string().min(1).optional(),
    bucketLookup: z.enum(['auto', 'path', 'dns']).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    bucketOwnerFullControl: z.boolean().optional(),
  })
  .refine((v) => (v.accessKeyId === undefined) === (v.secretAccessKey === undefined), { message: 'accessKeyId and secretAccessKey must be given together' });

export const serveSectionSchema = z
  .strictObject({
    s3: s3SectionSchema.optional(),
    users: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'user names may use letters, digits, ".", "_" and "-"'), userRuleSchema).default({}),
  })
  .superRefine((v, ctx) => {
    // "" and "/" parse as the whole store: as a root or an allowed path they would give the user
    // every repository, other users' included, whatever --private-repos says.
    for (const [user, rule] of Object.entries(v.users)) {
      const whole = `user "${user}": "" or "/" is the whole store, other users' repositories included`;
      if (rule.root?.length === 0) ctx.addIssue({ code: 'custom', path: ['users', user, 'root'], message: `${whole}; give a directory below it, or omit root` });
      rule.repos?.forEach((r, i) => {
        if (r.length === 0) ctx.addIssue({ code: 'custom', path: ['users', user, 'repos', i], message: `${whole}; name the repositories (without --private-repos, omit repos to allow all)` });
      });
    }
  });

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const NAME_RULE = 'profile names may use letters, digits, ".", "_" and "-", and not start with "." or "-"';
const profileName = z.string().regex(NAME_RE, NAME_RULE);

/** `s3.profiles.<name>`: how to reach an S3 server and with whose keys (for `rwm storage`). */
export const s3ProfileSchema = z
  .strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be an http:// or https:// URL' }).optional(),
    region: z.string().min(1).optional(),
    /** Path-style addressing; default: on when an endpoint is set. */
    pathStyle: z.boolean().optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /** An AWS shared-credentials file (INI: [section] aws_access_key_id = ..., aws_secret_access_key = ...). */
    credentialsFile: z.string().min(1).optional(),
    /** The section of credentialsFile (default "default"). */
    credentialsProfile: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string): void => ctx.addIssue({ code: 'custom', path: [path], message });
    const inline = v.accessKeyId !== undefined || v.secretAccessKey !== undefined;
    if (v.accessKeyId === undefined && v.secretAccessKey !== undefined) issue('accessKeyId', 'accessKeyId and secretAccessKey must be given together');
    if (v.accessKeyId !== undefined && v.secretAccessKey === undefined) issue('secretAccessKey', 'accessKeyId and secretAccessKey must be given together');
    if (v.sessionToken !== undefined && !inline) issue('sessionToken', 'sessionToken needs accessKeyId and secretAccessKey (a credentials file holds its own aws_session_token)');
    if (v.credentialsFile !== undefined && inline) issue('credentialsFile', 'give either accessKeyId/secretAccessKey or credentialsFile, not both');
    if (v.credentialsProfile !== undefined && v.credentialsFile === undefined) issue('credentialsProfile', 'credentialsProfile needs credentialsFile');
  });

/** Top-level `s3`: named connection profiles for `rwm storage` (not `serve.s3`, which is the served bucket). */
export const s3ProfilesSectionSchema = z
  .strictObject({
    defaultProfile: profileName.optional(),
    // The error map: zod reports a bad record key only as "Invalid key in record".
    profiles: z.record(profileName, s3ProfileSchema, { error: (iss) => (iss.code === 'invalid_key' ? NAME_RULE : undefined) }).default({}),
  })
  .superRefine((v, ctx) => {
    // Object.hasOwn: "toString" in {} is true.
    if (v.defaultProfile === undefined || Object.hasOwn(v.profiles, v.defaultProfile)) return;
    const names = Object.keys(v.profiles);
    ctx.addIssue({
      code: 'custom',
      path: ['defaultProfile'],
      message: `defaultProfile "${v.defaultProfile}" is not one of the profiles (${names.length === 0 ? 's3.profiles is empty' : `known: ${names.join(', ')}`})`,
    });
  });

export const storageSectionSchema = z.strictObject({
  /** `storage check`: lifecycle rules may not expire versions sooner than this many days. */
  minLifecycleDays: z.number().int('minLifecycleDays must be a whole number of days').min(1, 'minLifecycleDays must be at least 1').optional(),
  /** `storage drop-versions`: keep versions that became noncurrent less than this long ago (e.g. 30d). */
  keepWithin: z.string().regex(/^[1-9][0-9]{0,6}[smhdw]$/, 'keepWithin must be an age such as 30d, 12h or 2w').optional(),
});

const AGE = /^[1-9][0-9]{0,6}[smhdw]$/;
/** `maintain.<job>.forget`: restic's --keep-* options, by their names in camelCase, and --group-by. */
export const forgetPolicySchema = keepPolicySchema.extend({ groupBy: z.string().optional() });

/** `maintain.<job>.ledger` (and `rwm ledger verify`'s flags): what the snapshot ledger reports. */
export const ledgerOptionsSchema = z.strictObject({
  /** restic's time may lie this far before the arrival (the longest backup), e.g. 24h. */
  timeTolerance: z.string().regex(AGE, 'timeTolerance must be an age such as 24h or 2d').optional(),
  /** ... and this far after it (clock skew), e.g. 10m. */
  clockSkew: z.string().regex(AGE, 'clockSkew must be an age such as 10m').optional(),
  /** A snapshot with fewer files or bytes than this share of its group's recent median is "shrunk". */
  shrinkRatio: z.number().gt(0).lt(1).optional(),
  /** At most this many snapshots of one host+paths group may arrive within `window`. */
  flood: z.strictObject({ count: z.number().int().positive(), window: z.string().regex(AGE, 'window must be an age such as 24h') }).optional(),
  /** Every snapshot must have come through rwm serve (else only those since its first record). */
  served: z.boolean().optional(),
});

export const MAINTAIN_STEPS = ['storage-check', 'scrub', 'ledger', 'forget', 'check', 'verify', 'drop-versions', 'extend-retention'] as const;

/** `maintain.<job>`: one repository the trusted host looks after with `rwm maintain`. */
export const maintainJobSchema = z
  .strictObject({
    /** A bucket (with `prefix`: the repository's), or a local directory (`path`). */
    bucket: z.string().regex(BUCKET_RE, 'an S3 bucket name').optional(),
    prefix: z.string().optional(),
    path: z.string().min(1).optional(),
    /** The S3 profile with the bucket owner's keys (s3.profiles). */
    profile: profileName.optional(),
    /** The repository password, for restic's forget and check. */
    passwordFile: z.string().min(1),
    forget: forgetPolicySchema.optional(),
    /** The snapshot ledger's thresholds; forget decides by trusted arrival times unless forgetBy: time. */
    ledger: ledgerOptionsSchema.optional(),
    forgetBy: z.enum(['arrival', 'time']).default('arrival'),
    /** restic check: --read-data, or --read-data-subset (e.g. "10%", "1/5"). */
    check: z.strictObject({ readData: z.boolean().optional(), readDataSubset: z.string().min(1).optional() }).default({}),
    /** drop-versions: its window, and whether to delete at all (else the step is a dry run). */
    keepWithin: z.string().regex(AGE, 'keepWithin must be an age such as 30d, 12h or 2w').optional(),
    dropVersions: z.boolean().default(false),
    /** extend-retention (object-lock buckets): keep current versions locked this many days ahead. */
    extendRetentionDays: z.number().int().min(1).max(36_500).optional(),
    /** Which steps to run (default: all that apply), always in the pipeline's order. */
    steps: z.array(z.enum(MAINTAIN_STEPS)).optional(),
    /** `rwm schedule install --maintain`: when the job runs (systemd OnCalendar). */
    ...scheduleFields,
  })
  .superRefine((v, ctx) => {
    if ((v.bucket === undefined) === (v.path === undefined)) ctx.addIssue({ code: 'custom', message: 'give bucket (and prefix) or path, one of them' });
    if (v.path !== undefined && (v.prefix !== undefined || v.profile !== undefined)) ctx.addIssue({ code: 'custom', message: 'prefix and profile are for bucket jobs' });
  });

export const configSchema = z.strictObject({
  serve: serveSectionSchema.default({ users: {} }),
  s3: s3ProfilesSectionSchema.default({ profiles: {} }),
  storage: storageSectionSchema.default({}),
  maintain: z.record(profileName, maintainJobSchema).default({}),
  backup: backupSectionSchema.default({ profiles: {} }),
});

export type RwmConfig = z.infer<typeof configSchema>;
export type UserRuleConfig = z.infer<typeof userRuleSchema>;
export type S3SectionConfig = z.infer<typeof s3SectionSchema>;
export type S3ProfileConfig = z.infer<typeof s3ProfileSchema>;
export type MaintainJobConfig = z.infer<typeof maintainJobSchema>;
export type LedgerOptionsConfig = z.infer<typeof ledgerOptionsSchema>;
export type MaintainStep = (typeof MAINTAIN_STEPS)[number];
