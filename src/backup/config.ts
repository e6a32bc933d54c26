// `backup.profiles.<name>`: what the backup host backs up, to which repositories, with which hooks and
// notifications. Strict like the rest of the config; a profile may inherit another (resolved in profile.ts).
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { keepPolicySchema } from '../config/forget.js';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const name = z.string().regex(NAME_RE, 'names may use letters, digits, ".", "_" and "-", and not start with "." or "-"');
export const hookSchema = z.strictObject({
  /** argv: no shell unless the user writes ["sh", "-c", "..."]. */
  command: z.array(z.string().min(1)).min(1),
  timeoutSeconds: z.number().positive().max(86_400).default(300),
});

export const hooksSchema = z.strictObject({
  before: z.array(hookSchema).optional(),
  after: z.array(hookSchema).optional(),
  failure: z.array(hookSchema).optional(),
  always: z.array(hookSchema).optional(),
});

/** Paths are absolute: a scheduled run starts in /, not where the config was written. */
const absolute = z.string().min(1).refine((v) => isAbsolute(v), 'an absolute path (a scheduled run starts in /)');

// restic options rwm sets itself (repository, password, output format, cache): extraArgs may not change them.
const OWNED_OPTIONS = ['-r', '--repo', '--repository-file', '-p', '--password-file', '--password-command', '--json', '-q', '--quiet', '--cache-dir', '--insecure-no-password'];
const extraArg = z.string().min(1).refine((a) => !OWNED_OPTIONS.some((o) => a === o || a.startsWith(`${o}=`) || (o.length === 2 && a.startsWith(o))), {
  message: `rwm sets these restic options itself: ${OWNED_OPTIONS.join(', ')}`,
});

const url = z.url({ protocol: /^https?$/, error: 'a http:// or https:// URL' });

export const notifySchema = z.strictObject({
  /** healthchecks.io-style ping URL: URL/start, URL (success), URL/fail with the log tail as body. */
  healthchecks: url.optional(),
  /** An ntfy topic URL (https://ntfy.sh/mytopic). */
  ntfy: url.optional(),
  /** A generic webhook: POST of a JSON event. */
  webhook: url.optional(),
  /** Which events are sent (default: all). */
  on: z.array(z.enum(['start', 'success', 'failure'])).optional(),
  retries: z.number().int().min(0).max(10).default(3),
});

export const repositorySchema = z
  .strictObject({
    /** restic's repository string: a local path, rest:URL, rclone:REMOTE:PATH or s3:ENDPOINT/BUCKET[/PREFIX]. */
    repository: z.string().min(1),
    /** The repository password: a file (mode 600), or a command that prints it (argv, no shell). */
    passwordFile: absolute.optional(),
    passwordCommand: z.array(z.string().min(1)).min(1).optional(),
    /** s3: repositories: the S3 profile (s3.profiles) with the backup user's keys. */
    s3Profile: name.optional(),
    /** rest: repositories: htpasswd user and a file holding its password. */
    restUser: z.string().min(1).optional(),
    restPasswordFile: absolute.optional(),
    /** s3: repositories: a failed policed-bucket check fails the run (default) or only warns. */
    check: z.enum(['fail', 'warn', 'off']).default('fail'),
  })
  .superRefine((v, ctx) => {
    if ((v.passwordFile === undefined) === (v.passwordCommand === undefined)) ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'give passwordFile or passwordCommand, one of them' });
    if (/\/\/[^/?#@\s]*:[^/?#@\s]*@/.test(v.repository)) ctx.addIssue({ code: 'custom', path: ['repository'], message: 'no user:password in repository strings: use restUser/restPasswordFile' });
    if (v.s3Profile !== undefined && !v.repository.startsWith('s3:')) ctx.addIssue({ code: 'custom', path: ['s3Profile'], message: 's3Profile is for s3: repositories' });
    if (v.repository.startsWith('s3:') && v.s3Profile === undefined) ctx.addIssue({ code: 'custom', path: ['s3Profile'], message: 's3: repositories need s3Profile (the backup user\'s keys)' });
    if ((v.restUser === undefined) !== (v.restPasswordFile === undefined)) ctx.addIssue({ code: 'custom', path: ['restUser'], message: 'restUser and restPasswordFile go together' });
    if (v.restUser !== undefined && !v.repository.startsWith('rest:')) ctx.addIssue({ code: 'custom', path: ['restUser'], message: 'restUser is for rest: repositories' });
  });

/** When `rwm schedule` runs a backup profile or a maintain job: systemd OnCalendar, RandomizedDelaySec. */
export const scheduleFields = {
  schedule: z.string().min(1).regex(/^[^\n\r]+$/, 'a schedule is one line').optional(),
  randomizedDelay: z.string().regex(/^[0-9]+(s|min|h)?$/, 'a systemd time span such as 30min or 1h').optional(),
};

/** One profile as written: every field optional, so a profile can take the rest from `inherit`. */
export const backupProfileSchema = z.strictObject({
  inherit: name.optional(),
  repositories: z.record(name, repositorySchema).optional(),
  paths: z.array(absolute).optional(),
  excludes: z.array(z.string().min(1)).optional(),
  excludeFiles: z.array(absolute).optional(),
  tags: z.array(z.string().regex(/^[^,]+$/, 'tags are non-empty and without commas')).optional(),
  host: z.string().min(1).optional(),
  oneFileSystem: z.boolean().optional(),
  /** More options for `restic backup` (e.g. ["--exclude-larger-than=2G"]); not those rwm sets itself. */
  extraArgs: z.array(extraArg).optional(),
  /** For local repositories only: restic forget --prune after the backup. */
  forget: keepPolicySchema.optional(),
  hooks: hooksSchema.optional(),
  notify: notifySchema.optional(),
  ...scheduleFields,
  /** Per restic call; default none. */
  timeoutMinutes: z.number().positive().optional(),
});

export const backupSectionSchema = z.strictObject({
  /** Status files, Prometheus textfile, locks: default the state directory (RWM_STATE_DIR...)/backup. */
  statusDir: absolute.optional(),
  /** node_exporter textfile collector file (e.g. /var/lib/prometheus/node-exporter/rwm_backup.prom). */
  prometheusFile: absolute.refine((v) => v.endsWith('.prom'), 'node_exporter reads only files ending in .prom').optional(),
  profiles: z.record(name, backupProfileSchema).default({}),
});

export type BackupSectionConfig = z.infer<typeof backupSectionSchema>;
export type BackupProfileConfig = z.infer<typeof backupProfileSchema>;
export type RepositoryConfig = z.infer<typeof repositorySchema>;
export type HookConfig = z.infer<typeof hookSchema>;
export type NotifyConfig = z.infer<typeof notifySchema>;
