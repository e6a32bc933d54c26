// `rwm schedule install|remove|status [NAME...] [--maintain]`: a systemd service + timer per backup
// profile (the backup host) or, with --maintain, per maintain job (the trusted host), from
// src/backup/schedule.ts. Enables the timers when systemd runs; otherwise says what to do, with a
// crontab line.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { backupJob, createUnits, unitBase, type ScheduledJob, type ScheduledKind } from '../../backup/schedule.js';
import { readStatus } from '../../backup/status.js';
import { loadConfig } from '../../config/load.js';
import { CommandExit, EXIT, UserError } from '../exit.js';
import { loadBackup } from './backup/common.js';
import { stateDirOf } from './state/common.js';
import type { StorageDeps } from './storage/common.js';

const run = promisify(execFile);

interface ScheduleFlags {
  config?: string;
  user?: boolean;
  unitDir?: string;
  enable?: boolean;
  maintain?: boolean;
  json?: boolean;
}

interface LastRun {
  readonly lastRun: string | null;
  readonly lastResult: string | null;
  readonly lastSuccess?: string | null;
  readonly lastError?: string;
}

interface Picked {
  readonly jobs: ScheduledJob[];
  readonly stateDir: string;
  /** The last run of a job, from its status file (backup) or its newest report (maintain). */
  lastRun(name: string): Promise<LastRun>;
}

const systemdRuns = (): boolean => existsSync('/run/systemd/system');

function unitDir(opts: ScheduleFlags, env: NodeJS.ProcessEnv): string {
  if (opts.unitDir !== undefined) return opts.unitDir;
  if (opts.user === true) return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'systemd', 'user');
  return '/etc/systemd/system';
}

async function systemctl(user: boolean, args: string[]): Promise<string> {
  const r = await run('systemctl', [...(user ? ['--user'] : []), ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return r.stdout;
}

/** The next time an OnCalendar expression elapses, from systemd-analyze; undefined if it cannot say. */
async function nextElapse(schedule: string): Promise<string | undefined> {
  try {
    const r = await run('systemd-analyze', ['calendar', schedule], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    return /Next elapse: (.*)/.exec(r.stdout)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function configFile(opts: ScheduleFlags, d: StorageDeps): string | undefined {
  return opts.config ?? (d.env.RWM_CONFIG !== undefined && d.env.RWM_CONFIG !== '' ? d.env.RWM_CONFIG : undefined);
}

function chosen<T extends { schedule?: string | undefined }>(what: string, all: Readonly<Record<string, T>>, names: readonly string[]): [string, T & { schedule: string }][] {
  const picked = (names.length > 0 ? names : Object.keys(all)).map((n) => [n, all[n] as T] as const);
  const missing = picked.filter(([, v]) => v.schedule === undefined).map(([n]) => n);
  if (names.length > 0 && missing.length > 0) throw new UserError(`no schedule in ${what}.${missing.join(', ')}`);
  const out = picked.filter((x): x is [string, T & { schedule: string }] => x[1].schedule !== undefined);
  if (out.length === 0) throw new UserError(`no ${what} has a schedule`);
  return out;
}

async function pickBackup(names: string[], opts: ScheduleFlags, d: StorageDeps): Promise<Picked> {
  const ctx = await loadBackup(opts.config, names, d);
  const byName = Object.fromEntries(ctx.profiles.map((p) => [p.name, p]));
  const statusDir = resolve(ctx.statusDir);
  const prom = ctx.config.backup.prometheusFile;
  return {
    jobs: chosen('backup.profiles', byName, names).map(([, p]) => backupJob(p, statusDir, prom)),
    stateDir: resolve(stateDirOf(undefined, d.env)),
    async lastRun(name) {
      const st = await readStatus(ctx.statusDir, name);
      return { lastRun: st?.startedAt ?? null, lastResult: st?.result ?? null, lastSuccess: st?.lastSuccess ?? null, ...(st?.error !== undefined ? { lastError: st.error } : {}) };
    },
  };
}

async function pickMaintain(names: string[], opts: ScheduleFlags, d: StorageDeps): Promise<Picked> {
  const { config, warnings } = await loadConfig(configFile(opts, d));
  for (const w of warnings) d.stderr.write(`rwm: warning: ${w}\n`);
  const known = Object.keys(config.maintain);
  if (known.length === 0) throw new UserError('the config file has no maintain.<job> section (see docs/maintenance.md)');
  for (const n of names) if (!Object.hasOwn(config.maintain, n)) throw new UserError(`no maintain job "${n}" in the config file (known: ${known.join(', ')})`);
  const stateDir = resolve(stateDirOf(undefined, d.env));
  return {
    jobs: chosen('maintain', config.maintain, names).map(([name, j]) => ({
      kind: 'maintain',
      name,
      schedule: j.schedule,
      ...(j.randomizedDelay !== undefined ? { randomizedDelay: j.randomizedDelay } : {}),
      // scrub repairs and forget --prune write to a local repository
      writable: j.path !== undefined ? [resolve(j.path)] : [],
    })),
    stateDir,
    async lastRun(name) {
      // rwm maintain writes STATE_DIR/maintain/<job>/<time>.json; the newest is the last run
      const dir = join(stateDir, 'maintain', name);
      const newest = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort().at(-1);
      if (newest === undefined) return { lastRun: null, lastResult: null };
      try {
        const r = JSON.parse(await readFile(join(dir, newest), 'utf8')) as { started?: string; result?: string; steps?: { name: string; error?: string }[] };
        const err = r.steps?.find((s) => s.error !== undefined);
        return { lastRun: r.started ?? null, lastResult: r.result ?? null, ...(err?.error !== undefined ? { lastError: `${err.name}: ${err.error}` } : {}) };
      } catch {
        return { lastRun: null, lastResult: 'unreadable report' };
      }
    },
  };
}

const pick = (names: string[], opts: ScheduleFlags, d: StorageDeps): Promise<Picked> => (opts.maintain === true ? pickMaintain(names, opts, d) : pickBackup(names, opts, d));
const kindOf = (opts: ScheduleFlags): ScheduledKind => (opts.maintain === true ? 'maintain' : 'backup');

export function registerSchedule(program: Command, deps: () => StorageDeps): void {
  const schedule = program
    .command('schedule')
    .description('systemd timers for the backup profiles (backup.profiles.<name>.schedule) or, with --maintain, the maintain jobs (maintain.<job>.schedule)');
  const common = (c: Command): Command =>
    c
      .argument('[names...]', 'profiles (with --maintain: jobs) with a schedule (default: all of them)')
      .option('--config <file>', 'rwm config file (YAML) (env RWM_CONFIG)')
      .option('--maintain', 'the trusted host: timers for `rwm maintain JOB` instead of `rwm backup PROFILE`')
      .option('--user', 'user units (systemctl --user) instead of system units')
      .option('--unit-dir <dir>', 'where the unit files go (default /etc/systemd/system, with --user ~/.config/systemd/user)');

  common(schedule.command('install'))
    .description('write a service and a timer per profile or job and enable the timers (when systemd runs)')
    .option('--no-enable', 'only write the unit files')
    .action(async (names: string[], opts: ScheduleFlags) => {
      const d = deps();
      const picked = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const config = resolve(configFile(opts, d) ?? '');
      const rwm = [process.execPath, resolve(process.argv[1] ?? '')];
      await mkdir(dir, { recursive: true });
      const timers: string[] = [];
      const cron: string[] = [];
      for (const job of picked.jobs) {
        if ((await nextElapse(job.schedule)) === undefined && existsSync('/usr/bin/systemd-analyze')) {
          throw new UserError(`${job.kind === 'backup' ? 'backup.profiles' : 'maintain'}.${job.name}.schedule: systemd does not understand OnCalendar=${job.schedule}`);
        }
        const u = createUnits(job, { rwm, config, stateDir: picked.stateDir });
        await writeFile(join(dir, u.service.name), u.service.text, { mode: 0o644 });
        await writeFile(join(dir, u.timer.name), u.timer.text, { mode: 0o644 });
        d.stdout.write(`wrote ${join(dir, u.service.name)} and ${u.timer.name}\n`);
        timers.push(u.timer.name);
        cron.push(u.cron);
      }
      if (opts.enable !== false && systemdRuns()) {
        await systemctl(opts.user === true, ['daemon-reload']);
        await systemctl(opts.user === true, ['enable', '--now', ...timers]);
        d.stdout.write(`enabled ${timers.join(', ')}\n`);
        return;
      }
      const sc = `systemctl${opts.user === true ? ' --user' : ''}`;
      d.stdout.write(`${systemdRuns() ? '' : 'systemd is not running here. '}To enable: ${sc} daemon-reload && ${sc} enable --now ${timers.join(' ')}\nWithout systemd, a crontab line per ${kindOf(opts) === 'backup' ? 'profile' : 'job'}:\n${cron.join('\n')}\n`);
    });

  common(schedule.command('remove'))
    .description('disable the timers and delete the unit files')
    .action(async (names: string[], opts: ScheduleFlags) => {
      const d = deps();
      const picked = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const timers = picked.jobs.map((j) => `${unitBase(j.kind, j.name)}.timer`);
      if (systemdRuns()) await systemctl(opts.user === true, ['disable', '--now', ...timers]).catch((err: unknown) => d.stderr.write(`rwm: warning: systemctl disable: ${(err as Error).message}\n`));
      for (const j of picked.jobs) for (const ext of ['service', 'timer']) await rm(join(dir, `${unitBase(j.kind, j.name)}.${ext}`), { force: true });
      if (systemdRuns()) await systemctl(opts.user === true, ['daemon-reload']).catch(() => undefined);
      d.stdout.write(`removed ${timers.join(', ')} (and their services) from ${dir}\n`);
    });

  common(schedule.command('status'))
    .description('next run and last result of each scheduled profile or job')
    .option('--json', 'print as JSON')
    .action(async (names: string[], opts: ScheduleFlags) => {
      const d = deps();
      const picked = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const rows = [];
      for (const j of picked.jobs) {
        rows.push({
          [j.kind === 'backup' ? 'profile' : 'job']: j.name,
          name: j.name,
          schedule: j.schedule,
          installed: existsSync(join(dir, `${unitBase(j.kind, j.name)}.timer`)),
          nextRun: (await nextElapse(j.schedule)) ?? null,
          ...(await picked.lastRun(j.name)),
        });
      }
      if (opts.json === true) d.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else for (const r of rows) d.stdout.write(`${r.name}: ${r.installed ? 'installed' : 'not installed'}, schedule ${r.schedule}, next ${r.nextRun ?? '?'}, last ${r.lastResult ?? 'never'}${r.lastRun !== null ? ` at ${r.lastRun}` : ''}${r.lastError !== undefined ? ` (${r.lastError})` : ''}\n`);
      if (rows.some((r) => r.lastResult !== null && r.lastResult !== 'success' && r.lastResult !== 'ok')) throw new CommandExit(EXIT.FAILURE);
    });
}
