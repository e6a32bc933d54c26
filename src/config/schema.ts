// The rwm config file (YAML). Strict: an unknown key is an error, reported with its path.
import { z } from 'zod';
import { parseRepoPath } from '../backend/repo-path.js';
import { parseSize } from '../util/size.js';
import { BUCKET_RE, normalisePrefix } from '../backend/s3/settings.js';

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

export const serveSectionSchema = z.strictObject({
  s3: s3SectionSchema.optional(),
  users: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'user names may use letters, digits, ".", "_" and "-"'), userRuleSchema).default({}),
});

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** `s3.profiles.<name>`: how to reach an S3 server and with whose keys (for `rwm storage`). */
export const s3ProfileSchema = z
  .strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be an http:// or https:// URL' }).optional(),
    region: z.string().min(1).optional(),
    pathStyle: z.boolean().optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /** An AWS shared-credentials file (INI: [section] aws_access_key_id = ..., aws_secret_access_key = ...). */
    credentialsFile: z.string().min(1).optional(),
    /** The section of credentialsFile (default "default"). */
    credentialsProfile: z.string().min(1).optional(),
  })
  .refine((v) => (v.accessKeyId === undefined) === (v.secretAccessKey === undefined), { message: 'accessKeyId and secretAccessKey must be given together' })
  .refine((v) => v.credentialsFile === undefined || v.accessKeyId === undefined, { message: 'give either accessKeyId/secretAccessKey or credentialsFile, not both' })
  .refine((v) => v.credentialsProfile === undefined || v.credentialsFile !== undefined, { message: 'credentialsProfile needs credentialsFile' });

export const s3ProfilesSectionSchema = z
  .strictObject({
    defaultProfile: z.string().regex(NAME_RE).optional(),
    profiles: z.record(z.string().regex(NAME_RE, 'profile names may use letters, digits, ".", "_" and "-"'), s3ProfileSchema).default({}),
  })
  .refine((v) => v.defaultProfile === undefined || v.defaultProfile in v.profiles, { message: 'defaultProfile must name one of the profiles', path: ['defaultProfile'] });

export const storageSectionSchema = z.strictObject({
  /** `storage check`: lifecycle rules may not expire versions sooner than this many days. */
  minLifecycleDays: z.number().int().min(1).optional(),
});

export const configSchema = z.strictObject({
  serve: serveSectionSchema.default({ users: {} }),
  s3: s3ProfilesSectionSchema.default({ profiles: {} }),
  storage: storageSectionSchema.default({}),
});

export type RwmConfig = z.infer<typeof configSchema>;
export type UserRuleConfig = z.infer<typeof userRuleSchema>;
export type S3SectionConfig = z.infer<typeof s3SectionSchema>;
export type S3ProfileConfig = z.infer<typeof s3ProfileSchema>;
