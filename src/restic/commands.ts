// Typed restic commands on top of runRestic: the argv each needs (flags as --flag=value, so no value is
// ever read as an option; paths after --) and its output parsed with the schema of that command.
import type { ResticRepo } from './env.js';
import { ResticError } from './errors.js';
import { runRestic, type RunResticOptions } from './run.js';
import { parseBackupLine, type BackupItemError, type BackupStatus, type BackupSummary } from './schema/backup.js';
import { checkSaysOk } from './schema/check.js';
import { forgetSchema, splitForgetOutput, type ForgetGroup } from './schema/forget.js';
import { snapshotsSchema, type Snapshot } from './schema/snapshots.js';
import { statsSchema, type Stats, type StatsMode } from './schema/stats.js';

/** The run options a typed command passes through. */
export type ResticCallOptions = Pick<RunResticOptions, 'signal' | 'timeoutMs' | 'graceMs' | 'onLine' | 'binary' | 'inherited' | 'cwd' | 'onSpawn'>;

export interface SnapshotFilter {
  readonly host?: string;
  /** Each entry is one --tag: a snapshot matches if it has all tags of any entry. */
  readonly tags?: readonly (readonly string[])[];
  readonly paths?: readonly string[];
}

/** `restic init`. */
export async function resticInit(repo: ResticRepo, opts: ResticCallOptions = {}): Promise<void> {
  await runRestic(repo, ['init'], opts);
}

/**
 * `restic unlock`: removes stale locks only (restic 0.14: of dead processes on this host, or older than
 * 30 min). Worth running after an interrupted run: restic 0.14 leaves its lock behind when SIGINT
 * arrives while it is still creating it.
 */
export async function resticUnlock(repo: ResticRepo, opts: ResticCallOptions = {}): Promise<void> {
  await runRestic(repo, ['unlock'], opts);
}

/** `restic snapshots --json`, optionally filtered. */
export async function resticSnapshots(repo: ResticRepo, filter: SnapshotFilter = {}, opts: ResticCallOptions = {}): Promise<Snapshot[]> {
  const r = await runRestic(repo, ['snapshots', ...filterArgs(filter)], { ...opts, json: snapshotsSchema });
  return r.json;
}

export interface ForgetPolicy {
  readonly keepLast?: number;
  readonly keepHourly?: number;
  readonly keepDaily?: number;
  readonly keepWeekly?: number;
  readonly keepMonthly?: number;
  readonly keepYearly?: number;
  /** restic durations such as `30d`, `1y6m`, `12h`. */
  readonly keepWithin?: string;
  readonly keepWithinHourly?: string;
  readonly keepWithinDaily?: string;
  readonly keepWithinWeekly?: string;
  readonly keepWithinMonthly?: string;
  readonly keepWithinYearly?: string;
  /** Each entry is one --keep-tag (a snapshot with all of its tags is kept). */
  readonly keepTags?: readonly (readonly string[])[];
}

export interface ForgetOptions extends SnapshotFilter {
  readonly prune?: boolean;
  readonly dryRun?: boolean;
  /** restic's --group-by (`host,paths` by default). */
  readonly groupBy?: string;
}

export interface ForgetResult {
  readonly groups: ForgetGroup[];
  /** Prune's text report (with prune: true), line by line. */
  readonly pruneOutput: string[];
}

const COUNTS = [
  ['keepLast', '--keep-last'],
  ['keepHourly', '--keep-hourly'],
  ['keepDaily', '--keep-daily'],
  ['keepWeekly', '--keep-weekly'],
  ['keepMonthly', '--keep-monthly'],
  ['keepYearly', '--keep-yearly'],
] as const;
const WITHINS = [
  ['keepWithin', '--keep-within'],
  ['keepWithinHourly', '--keep-within-hourly'],
  ['keepWithinDaily', '--keep-within-daily'],
  ['keepWithinWeekly', '--keep-within-weekly'],
  ['keepWithinMonthly', '--keep-within-monthly'],
  ['keepWithinYearly', '--keep-within-yearly'],
] as const;
const DURATION = /^(\d+[ymdh])+$/;

/** The --keep-* flags of a policy; INVALID for an empty policy or a malformed value. */
export function policyArgs(policy: ForgetPolicy): string[] {
  const out: string[] = [];
  for (const [key, flag] of COUNTS) {
    const v = policy[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new ResticError('INVALID', `${key} must be a positive whole number, not ${v}`);
    out.push(`${flag}=${v}`);
  }
  for (const [key, flag] of WITHINS) {
    const v = policy[key];
    if (v === undefined) continue;
    if (!DURATION.test(v)) throw new ResticError('INVALID', `${key} must be a restic duration such as 30d or 1y6m, not ${JSON.stringify(v)}`);
    out.push(`${flag}=${v}`);
  }
  for (const tags of policy.keepTags ?? []) out.push(`--keep-tag=${tagList(tags)}`);
  if (out.length === 0) throw new ResticError('INVALID', 'a forget policy needs at least one keep rule');
  return out;
}

/**
 * Whether the policy keeps snapshots only by count. restic's docs warn that a client with append-only
 * access can then push the good snapshots out with forged new ones; time-based rules do not have that.
 */
export function isCountOnlyPolicy(policy: ForgetPolicy): boolean {
  return WITHINS.every(([key]) => policy[key] === undefined) && (policy.keepTags ?? []).length === 0;
}

/** `restic forget --json` with a policy (and --prune / --dry-run). */
export async function resticForget(repo: ResticRepo, policy: ForgetPolicy, options: ForgetOptions = {}, opts: ResticCallOptions = {}): Promise<ForgetResult> {
  const args = ['--json', 'forget', ...policyArgs(policy), ...filterArgs(options)];
  if (options.groupBy !== undefined) args.push(`--group-by=${options.groupBy}`);
  if (options.prune === true) args.push('--prune');
  if (options.dryRun === true) args.push('--dry-run');
  const r = await runRestic(repo, args, opts);
  const { json, rest } = splitForgetOutput(r.stdout);
  if (json === undefined) return { groups: [], pruneOutput: rest };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ResticError('BAD_OUTPUT', 'restic forget --json printed a line that is not JSON', { command: 'forget', cause: err, stderr: r.stderr });
  }
  const parsed = forgetSchema.safeParse(value);
  if (!parsed.success) {
    throw new ResticError('BAD_OUTPUT', `restic forget --json printed output rwm does not understand: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      command: 'forget',
      cause: parsed.error,
      stderr: r.stderr,
    });
  }
  return { groups: parsed.data, pruneOutput: rest };
}

/**
 * `restic forget ID... [--prune]`: removes exactly these snapshots (the trusted host decided which,
 * from times restic's own `time` field cannot steer). Resolves with restic's text output.
 */
export async function resticForgetIds(repo: ResticRepo, ids: readonly string[], options: { prune?: boolean; dryRun?: boolean } = {}, opts: ResticCallOptions = {}): Promise<{ output: string[] }> {
  if (ids.length === 0) throw new ResticError('INVALID', 'forget needs at least one snapshot id');
  for (const id of ids) if (!/^[0-9a-f]{64}$/.test(id)) throw new ResticError('INVALID', `not a full snapshot id: ${JSON.stringify(id)}`);
  const args = ['forget'];
  if (options.prune === true) args.push('--prune');
  if (options.dryRun === true) args.push('--dry-run');
  args.push('--', ...ids);
  const r = await runRestic(repo, args, opts);
  return { output: r.stdout.split('\n').filter((l) => l.trim() !== '') };
}

export interface CheckOptions {
  readonly readData?: boolean;
  /** restic's --read-data-subset: `n/t`, `x%` or a size such as `5G`. */
  readonly readDataSubset?: string;
}

/** `restic check`; rejects with INTEGRITY when restic finds errors. Resolves with check's text. */
export async function resticCheck(repo: ResticRepo, options: CheckOptions = {}, opts: ResticCallOptions = {}): Promise<{ output: string[] }> {
  const args = ['check'];
  if (options.readData === true && options.readDataSubset !== undefined) throw new ResticError('INVALID', 'readData and readDataSubset exclude each other');
  if (options.readData === true) args.push('--read-data');
  if (options.readDataSubset !== undefined) {
    if (!/^(\d+\/\d+|\d+(\.\d+)?%|\d+[kKmMgGtT]?)$/.test(options.readDataSubset)) {
      throw new ResticError('INVALID', `readDataSubset must be n/t, x% or a size, not ${JSON.stringify(options.readDataSubset)}`);
    }
    args.push(`--read-data-subset=${options.readDataSubset}`);
  }
  const r = await runRestic(repo, args, opts);
  if (!checkSaysOk(r.stdout)) {
    throw new ResticError('BAD_OUTPUT', 'restic check exited 0 without saying "no errors were found"', { command: 'check', exitCode: 0, stderr: r.stderr });
  }
  return { output: r.stdout.split('\n').filter((l) => l.trim() !== '') };
}

export interface StatsOptions {
  readonly mode?: StatsMode;
  /** Snapshot ids (or `latest`); default all. */
  readonly snapshots?: readonly string[];
}

/** `restic stats --json`. */
export async function resticStats(repo: ResticRepo, options: StatsOptions = {}, opts: ResticCallOptions = {}): Promise<Stats> {
  const args = ['stats'];
  if (options.mode !== undefined) args.push(`--mode=${options.mode}`);
  args.push(...snapshotIds(options.snapshots ?? []));
  return (await runRestic(repo, args, { ...opts, json: statsSchema })).json;
}

export interface BackupOptions {
  readonly host?: string;
  readonly tags?: readonly string[];
  readonly excludeFile?: string;
  readonly oneFileSystem?: boolean;
  readonly dryRun?: boolean;
  /** More `restic backup` options, before the paths; MUST NOT hold secrets (argv is public). */
  readonly extraArgs?: readonly string[];
  /** Progress messages as restic sends them. */
  readonly onStatus?: (status: BackupStatus) => void;
  /** Items restic could not read (the run then ends "incomplete", exit 3). */
  readonly onItemError?: (error: BackupItemError) => void;
}

export interface BackupResult {
  readonly summary: BackupSummary;
  /** restic exited 3: the snapshot was made, but some source files could not be read. */
  readonly incomplete: boolean;
  readonly itemErrors: BackupItemError[];
  readonly warnings: readonly string[];
}

/** `restic backup --json PATHS`; exit 3 is a result (incomplete), not a failure. */
export async function resticBackup(repo: ResticRepo, paths: readonly string[], options: BackupOptions = {}, opts: ResticCallOptions = {}): Promise<BackupResult> {
  if (paths.length === 0) throw new ResticError('INVALID', 'backup needs at least one path');
  const args = ['--json', 'backup'];
  if (options.host !== undefined) args.push(`--host=${options.host}`);
  for (const t of options.tags ?? []) args.push(`--tag=${tagList([t])}`);
  if (options.excludeFile !== undefined) args.push(`--exclude-file=${options.excludeFile}`);
  if (options.oneFileSystem === true) args.push('--one-file-system');
  if (options.dryRun === true) args.push('--dry-run');
  args.push(...(options.extraArgs ?? []), '--', ...paths);

  let summary: BackupSummary | undefined;
  const itemErrors: BackupItemError[] = [];
  const r = await runRestic(repo, args, {
    ...opts,
    collectStdout: false,
    okExitCodes: [0, 3],
    onLine: (line, stream) => {
      opts.onLine?.(line, stream);
      if (stream !== 'stdout') return;
      let m;
      try {
        m = parseBackupLine(line);
      } catch (err) {
        throw new ResticError('BAD_OUTPUT', 'restic backup --json printed a message rwm does not understand', { command: 'backup', cause: err });
      }
      if (m === undefined) return;
      switch (m.message_type) {
        case 'status':
          options.onStatus?.(m);
          break;
        case 'error':
          itemErrors.push(m);
          options.onItemError?.(m);
          break;
        case 'summary':
          summary = m;
          break;
        case 'verbose_status':
          break;
      }
    },
  });
  if (summary === undefined) throw new ResticError('BAD_OUTPUT', 'restic backup --json ended without a summary', { command: 'backup', exitCode: r.exitCode, stderr: r.stderr });
  return { summary, incomplete: r.exitCode === 3, itemErrors, warnings: r.stderr };
}

function filterArgs(f: SnapshotFilter): string[] {
  const out: string[] = [];
  if (f.host !== undefined) out.push(`--host=${f.host}`);
  for (const tags of f.tags ?? []) out.push(`--tag=${tagList(tags)}`);
  for (const p of f.paths ?? []) out.push(`--path=${p}`);
  return out;
}

// restic splits a --tag value at commas: a tag itself cannot hold one.
function tagList(tags: readonly string[]): string {
  for (const t of tags) if (t === '' || t.includes(',')) throw new ResticError('INVALID', `a tag must be non-empty and without commas: ${JSON.stringify(t)}`);
  return tags.join(',');
}

function snapshotIds(ids: readonly string[]): string[] {
  for (const id of ids) if (id !== 'latest' && !/^[0-9a-f]{8,64}$/.test(id)) throw new ResticError('INVALID', `not a snapshot id: ${JSON.stringify(id)}`);
  return ids.length === 0 ? [] : ['--', ...ids];
}
