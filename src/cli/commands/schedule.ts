// `rwm schedule install|remove|status [PROFILE...]`: systemd service + timer per backup profile
// (src/backup/schedule.ts). Enables the timers when systemd runs; otherwise says what to do, with a
// crontab line.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { createUnits, unitBase } from '../../backup/schedule.js';
import { readStatus } from '../../backup/status.js';
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

export function registerSchedule(program: Command, deps: () => StorageDeps): void {
  const schedule = program.command('schedule').description('systemd timers for the backup profiles (backup.profiles.<name>.schedule)');
  const common = (c: Command): Command =>
    c
      .argument('[profiles...]', 'profiles with a schedule (default: all of them)')
      .option('--config <file>', 'rwm config file (YAML) with backup.profiles (env RWM_CONFIG)')
      .option('--user', 'user units (systemctl --user) instead of system units')
      .option('--unit-dir <dir>', 'where the unit files go (default /etc/systemd/system, with --user ~/.config/systemd/user)');

  const pick = async (names: string[], opts: ScheduleFlags, d: StorageDeps): Promise<Awaited<ReturnType<typeof loadBackup>>> => {
    const ctx = await loadBackup(opts.config, names, d);
    const missing = ctx.profiles.filter((p) => p.schedule === undefined);
    if (names.length > 0 && missing.length > 0) throw new UserError(`no schedule in backup.profiles.${missing.map((p) => p.name).join(', ')}`);
    const withSchedule = ctx.profiles.filter((p) => p.schedule !== undefined);
    if (withSchedule.length === 0) throw new UserError('no backup profile has a schedule');
    return { ...ctx, profiles: withSchedule };
  };

  common(schedule.command('install'))
    .description('write a service and a timer per profile and enable the timers (when systemd runs)')
    .option('--no-enable', 'only write the unit files')
    .action(async (names: string[], opts: ScheduleFlags) => {
      const d = deps();
      const ctx = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const config = resolve(opts.config ?? d.env.RWM_CONFIG ?? '');
      const rwm = [process.execPath, resolve(process.argv[1] ?? '')];
      await mkdir(dir, { recursive: true });
      const timers: string[] = [];
      const cron: string[] = [];
      for (const p of ctx.profiles) {
        if ((await nextElapse(p.schedule as string)) === undefined && existsSync('/usr/bin/systemd-analyze')) throw new UserError(`backup.profiles.${p.name}.schedule: systemd does not understand OnCalendar=${p.schedule ?? ''}`);
        const u = createUnits(p, { rwm, config, statusDir: resolve(ctx.statusDir), stateDir: resolve(stateDirOf(undefined, d.env)), ...(ctx.config.backup.prometheusFile !== undefined ? { prometheusFile: resolve(ctx.config.backup.prometheusFile) } : {}), user: opts.user === true });
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
      d.stdout.write(`${systemdRuns() ? '' : 'systemd is not running here. '}To enable: ${sc} daemon-reload && ${sc} enable --now ${timers.join(' ')}\nWithout systemd, a crontab line per profile:\n${cron.join('\n')}\n`);
    });

  common(schedule.command('remove'))
    .description('disable the timers and delete the unit files')
    .action(async (names: string[], opts: ScheduleFlags) => {
      const d = deps();
      const ctx = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const timers = ctx.profiles.map((p) => `${unitBase(p.name)}.timer`);
      if (systemdRuns()) await systemctl(opts.user === true, ['disable', '--now', ...timers]).catch((err: unknown) => d.stderr.write(`rwm: warning: systemctl disable: ${(err as Error).message}\n`));
      for (const p of ctx.profiles) for (const ext of ['service', 'timer']) await rm(join(dir, `${unitBase(p.name)}.${ext}`), { force: true });
      if (systemdRuns()) await systemctl(opts.user === true, ['daemon-reload']).catch(() => undefined);
      d.stdout.write(`removed ${timers.join(', ')} (and their services) from ${dir}\n`);
    });

  common(schedule.command('status'))
    .description('next run and last result of each scheduled profile')
    .option('--json', 'print as JSON')
    .action(async (names: string[], opts: ScheduleFlags & { json?: boolean }) => {
      const d = deps();
      const ctx = await pick(names, opts, d);
      const dir = unitDir(opts, d.env);
      const rows = [];
      for (const p of ctx.profiles) {
        const st = await readStatus(ctx.statusDir, p.name);
        rows.push({
          profile: p.name,
          schedule: p.schedule,
          installed: existsSync(join(dir, `${unitBase(p.name)}.timer`)),
          nextRun: (await nextElapse(p.schedule as string)) ?? null,
          lastRun: st?.startedAt ?? null,
          lastResult: st?.result ?? null,
          lastSuccess: st?.lastSuccess ?? null,
          ...(st?.error !== undefined ? { lastError: st.error } : {}),
        });
      }
      if (opts.json === true) d.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else for (const r of rows) d.stdout.write(`${r.profile}: ${r.installed ? 'installed' : 'not installed'}, schedule ${r.schedule ?? '-'}, next ${r.nextRun ?? '?'}, last ${r.lastResult ?? 'never'}${r.lastRun !== null ? ` at ${r.lastRun}` : ''}${r.lastError !== undefined ? ` (${r.lastError})` : ''}\n`);
      if (rows.some((r) => r.lastResult === 'failure')) throw new CommandExit(EXIT.FAILURE);
    });
}
