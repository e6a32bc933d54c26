// systemd units for `rwm schedule install`: a oneshot service running `rwm backup PROFILE` in a sandbox
// (read-only system, writes only where the backup needs to) and a timer from the profile's schedule.
// Pure: the caller writes the files and talks to systemctl.
import { dirname, isAbsolute } from 'node:path';
import type { ResolvedProfile } from './profile.js';

export interface UnitOptions {
  /** argv of rwm itself: [node, /path/to/main.js] or [/usr/bin/rwm]. */
  readonly rwm: readonly string[];
  /** Absolute path of the config file. */
  readonly config: string;
  readonly statusDir: string;
  /** RWM_STATE_DIR for the service (caches live there). */
  readonly stateDir: string;
  readonly prometheusFile?: string;
  /** A user unit (systemctl --user) instead of a system one. */
  readonly user: boolean;
}

export interface Units {
  readonly service: { readonly name: string; readonly text: string };
  readonly timer: { readonly name: string; readonly text: string };
  /** The same schedule as a crontab line, for hosts without systemd (no RandomizedDelaySec there). */
  readonly cron: string;
}

export const unitBase = (profile: string): string => `rwm-backup-${profile}`;

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

export function createUnits(p: ResolvedProfile, o: UnitOptions): Units {
  if (p.schedule === undefined) throw new Error(`backup.profiles.${p.name} has no schedule`);
  if (/[\n\r]/.test(p.schedule)) throw new Error('a schedule is one line');
  const base = unitBase(p.name);
  const argv = [...o.rwm, 'backup', p.name, '--config', o.config];
  const writable = new Set<string>([o.statusDir, o.stateDir]);
  if (o.prometheusFile !== undefined) writable.add(dirname(o.prometheusFile));
  for (const r of p.repositories) if (r.kind === 'local' && isAbsolute(r.repository)) writable.add(r.repository);
  const service = [
    '[Unit]',
    `Description=rwm backup of profile ${p.name}`,
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
    `Description=rwm backup of profile ${p.name} (${p.schedule})`,
    '',
    '[Timer]',
    `OnCalendar=${p.schedule}`,
    'Persistent=true',
    `RandomizedDelaySec=${p.randomizedDelay ?? '10min'}`,
    `Unit=${base}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  const cron = cronSchedule(p.schedule);
  const cmd = argv.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
  return {
    service: { name: `${base}.service`, text: service },
    timer: { name: `${base}.timer`, text: timer },
    cron: cron === undefined ? `# no cron equivalent of OnCalendar=${p.schedule}; pick one, e.g.: 0 3 * * * ${cmd}` : `${cron} ${cmd}`,
  };
}
