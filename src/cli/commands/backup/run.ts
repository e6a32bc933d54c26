// `rwm backup [PROFILE...]`: the backup host's run of each profile (src/backup/run.ts), one lock per
// profile, a status file and a Prometheus textfile, notifications; exit 1 if any profile failed.
import type { Command } from 'commander';
import { join } from 'node:path';
import { acquireLock, LockedError } from '../../../backup/lock.js';
import { notify } from '../../../backup/notify.js';
import type { ResolvedProfile } from '../../../backup/profile.js';
import { runProfile } from '../../../backup/run.js';
import { readStatus, writePrometheus, writeStatus, type ProfileReport } from '../../../backup/status.js';
import { CommandExit, EXIT } from '../../exit.js';
import type { StorageDeps } from '../storage/common.js';
import { writeJson } from '../storage/common.js';
import { createOps, hostName, loadBackup, type BackupContext } from './common.js';

export interface BackupFlags {
  config?: string;
  json?: boolean;
}

function summary(r: ProfileReport): string {
  const lines = [`${r.profile}: ${r.result} (${(r.durationMs / 1000).toFixed(1)} s)${r.repositories.length === 0 && r.error !== undefined ? `  ${r.error}` : ''}`];
  for (const x of r.repositories) {
    const detail = x.result === 'success'
      ? `snapshot ${x.snapshotId?.slice(0, 8) ?? '-'}, ${x.filesNew ?? 0} new / ${x.filesChanged ?? 0} changed of ${x.filesTotal ?? 0} files, ${x.bytesAdded ?? 0} bytes added${x.state !== undefined ? `, state ${x.state}` : ''}${x.forget !== undefined ? `, forget kept ${x.forget.kept} removed ${x.forget.removed}` : ''}`
      : x.error ?? 'failed';
    lines.push(`  ${x.result.padEnd(8)} ${x.name.padEnd(12)} ${(x.durationMs / 1000).toFixed(1)} s  ${detail}`);
    for (const w of x.warnings) lines.push(`           warning: ${w}`);
  }
  return `${lines.join('\n')}\n`;
}

async function runOne(p: ResolvedProfile, ctx: BackupContext, opts: BackupFlags, d: StorageDeps, log: string[]): Promise<ProfileReport> {
  const started = new Date().toISOString();
  const logLine = (l: string): void => {
    log.push(l);
    if (opts.json !== true) d.stderr.write(`${p.name}: ${l}\n`);
  };
  let release: (() => Promise<void>) | undefined;
  try {
    release = await acquireLock(join(ctx.statusDir, 'locks', `${p.name}.lock`));
  } catch (err) {
    // Not written to the status file: that belongs to the run holding the lock (or cannot be written).
    if (err instanceof LockedError) return { profile: p.name, result: 'failure', startedAt: started, durationMs: 0, repositories: [], error: `already running: ${err.message}` };
    // A full disk or a broken status directory must not stop the backups silently: say so where it is heard.
    const r: ProfileReport = { profile: p.name, result: 'failure', startedAt: started, durationMs: 0, repositories: [], error: `cannot take the lock in ${ctx.statusDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    for (const w of await notify(p.notify, { event: 'failure', profile: p.name, host: hostName(), text: r.error ?? '', report: r })) logLine(`warning: ${w}`);
    return r;
  }
  const ops = createOps(ctx, d, p.name);
  try {
    for (const w of await notify(p.notify, { event: 'start', profile: p.name, host: hostName(), text: `backup ${p.name} started` })) logLine(`warning: ${w}`);
    const tty = (d.stderr as { isTTY?: boolean }).isTTY === true && opts.json !== true;
    const report = await runProfile(p, {
      ops,
      env: d.env,
      log: logLine,
      ...(tty ? { onProgress: (repo: string, s: { percent_done: number }) => d.stderr.write(`\r${p.name}/${repo}: ${(s.percent_done * 100).toFixed(1)}%   `) } : {}),
    });
    if (tty) d.stderr.write('\r\x1b[K');
    let saved: ProfileReport;
    try {
      saved = await writeStatus(ctx.statusDir, report);
    } catch (err) {
      const why = `cannot write the status file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      saved = { ...report, result: 'failure', error: report.error !== undefined ? `${report.error}; ${why}` : why };
    }
    const text = `${summary(saved)}${log.length > 0 ? `\n${log.slice(-50).join('\n')}\n` : ''}`;
    for (const w of await notify(p.notify, { event: saved.result === 'success' ? 'success' : 'failure', profile: p.name, host: hostName(), text, report: saved })) logLine(`warning: ${w}`);
    return saved;
  } finally {
    await ops.close();
    await release();
  }
}

export async function runBackupCommand(names: string[], opts: BackupFlags, d: StorageDeps): Promise<void> {
  const ctx = await loadBackup(opts.config, names, d);
  const reports: ProfileReport[] = [];
  for (const p of ctx.profiles) {
    const r = await runOne(p, ctx, opts, d, []);
    reports.push(r);
    if (opts.json !== true) d.stdout.write(summary(r));
  }
  let failed = false;
  if (ctx.config.backup.prometheusFile !== undefined) {
    const all = await Promise.all(Object.keys(ctx.config.backup.profiles).map((n) => readStatus(ctx.statusDir, n)));
    try {
      await writePrometheus(ctx.config.backup.prometheusFile, all.filter((x): x is ProfileReport => x !== undefined));
    } catch (err) {
      failed = true;
      d.stderr.write(`rwm: cannot write the Prometheus textfile ${ctx.config.backup.prometheusFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    }
  }
  if (opts.json === true) writeJson(d, reports);
  if (failed || reports.some((r) => r.result !== 'success')) throw new CommandExit(EXIT.FAILURE);
}

export function registerBackupRun(backup: Command, deps: () => StorageDeps): void {
  backup
    .argument('[profiles...]', 'profiles from backup.profiles (default: all)')
    .option('--config <file>', 'rwm config file (YAML) with backup.profiles (env RWM_CONFIG)')
    .option('--json', 'print the reports as JSON (no progress)')
    .action(async (names: string[], opts: BackupFlags) => runBackupCommand(names, opts, deps()));
}
