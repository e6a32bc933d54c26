// systemd units for `rwm schedule install`: a oneshot service running `rwm backup PROFILE` (backup
// host) or `rwm maintain JOB` (trusted host) in a sandbox (read-only system, writes only where the run
// needs to) and a timer from the schedule. Pure: the caller writes the files and talks to systemctl.
import { dirname, isAbsolute } from 'node:path';
import type { ResolvedProfile } from './profile.js';

export type ScheduledKind = 'backup' | 'maintain';

/** What one timer runs: `rwm KIND NAME`, on `schedule`, writing only to `writable` and the state directory. */
export interface ScheduledJob {
  readonly kind: ScheduledKind;
  readonly name: string;
  readonly schedule: string;
  readonly randomizedDelay?: string;
  readonly writable: readonly string[];
}

export interface UnitOptions {
  /** argv of rwm itself: [node, /path/to/main.js] or [/usr/bin/rwm]. */
  readonly rwm: readonly string[];
  /** Absolute path of the config file. */
  readonly config: string;
  /** RWM_STATE_DIR for the service (caches, reports, states live there). */
  readonly stateDir: string;
}

export interface Units {
  readonly service: { readonly name: string; readonly text: string };
  readonly timer: { readonly name: string; readonly text: string };
  /** The same schedule as a crontab line, for hosts without systemd (no RandomizedDelaySec there). */
  readonly cron: string;
}

export const unitBase = (kind: ScheduledKind, name: string): string => `rwm-${kind}-${name}`;

/** A backup profile's job: it writes its status directory, the Prometheus file's and local repositories. */
export function backupJob(p: ResolvedProfile, statusDir: string, prometheusFile: string | undefined): ScheduledJob {
  if (p.schedule === undefined) throw new Error(`backup.profiles.${p.name} has no schedule`);
  const writable = [statusDir, ...(prometheusFile !== undefined ? [dirname(prometheusFile)] : [])];
  for (const r of p.repositories) if (r.kind === 'local' && isAbsolute(r.repository)) writable.push(r.repository);
  return { kind: 'backup', name: p.name, schedule: p.schedule, ...(p.randomizedDelay !== undefined ? { randomizedDelay: p.randomizedDelay } : {}), writable };
}

// systemd's quoting for ExecStart words: double quotes, with \ " and specifiers escaped.
function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) && !word.includes('%')) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** Turns the common OnCalendar shorthands into cron; undefined when there is no simple equivalent. */
export function cronSchedule(onCalendar: string): string | undefined {
  const simple: Record<string, string> = { hourly: '0 * * * *', daily: '0 0 * * *', weekly: '0 0 * * 1', monthly: '0 0 1 * *' };
  if (Object.hasOwn(simple, onCalendar)) return simple[onCalendar];
  const m = /^(?:\*-\*-\* )?([0-9]{1,2}):([0-9]{2})(?::00)?$/.exec(onCalendar);
  if (m !== null) return `${Number(m[2])} ${Number(m[1])} * * *`;
  return undefined;
}

export function createUnits(job: ScheduledJob, o: UnitOptions): Units {
  if (/[\n\r]/.test(job.schedule)) throw new Error('a schedule is one line');
  const base = unitBase(job.kind, job.name);
  const what = job.kind === 'backup' ? `rwm backup of profile ${job.name}` : `rwm maintain of job ${job.name}`;
  const argv = [...o.rwm, job.kind, job.name, '--config', o.config];
  const writable = new Set<string>([o.stateDir, ...job.writable]);
  const service = [
    '[Unit]',
    `Description=${what}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${argv.map(quote).join(' ')}`,
    `Environment=${quote(`RWM_STATE_DIR=${o.stateDir}`)}`,
    'Nice=10',
    'IOSchedulingClass=idle',
    'ProtectSystem=strict',
    'PrivateTmp=true',
    'NoNewPrivileges=true',
    // Reading everything is the point of a backup; writing only where it records its results.
    ...[...writable].sort().map((w) => `ReadWritePaths=-${quote(w)}`),
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=${what} (${job.schedule})`,
    '',
    '[Timer]',
    `OnCalendar=${job.schedule}`,
    'Persistent=true',
    `RandomizedDelaySec=${job.randomizedDelay ?? '10min'}`,
    `Unit=${base}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  const cron = cronSchedule(job.schedule);
  const sh = (w: string): string => `'${w.replace(/'/g, "'\\''")}'`;
  // cron starts with an almost empty environment: the same state directory as the service's
  const cmd = `RWM_STATE_DIR=${sh(o.stateDir)} ${argv.map(sh).join(' ')}`;
  return {
    service: { name: `${base}.service`, text: service },
    timer: { name: `${base}.timer`, text: timer },
    cron: cron === undefined ? `# no cron equivalent of OnCalendar=${job.schedule}; pick one, e.g.: 0 3 * * * ${cmd}` : `${cron} ${cmd}`,
  };
}
