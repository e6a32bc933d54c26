// What a run leaves behind: a JSON status file per profile and a Prometheus textfile (node_exporter's
// textfile collector) for all profiles. Both are written to a temporary file and renamed into place.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface RepositoryReport {
  readonly name: string;
  /** The repository string (never holds credentials: the config refuses those). */
  readonly repository: string;
  readonly kind: string;
  readonly result: 'success' | 'failure' | 'skipped';
  readonly startedAt: string;
  readonly durationMs: number;
  readonly snapshotId?: string;
  readonly filesNew?: number;
  readonly filesChanged?: number;
  readonly filesTotal?: number;
  readonly bytesAdded?: number;
  readonly bytesTotal?: number;
  readonly incomplete?: boolean;
  readonly check?: { readonly ok: boolean; readonly findings: readonly string[] };
  readonly state?: string;
  readonly forget?: { readonly kept: number; readonly removed: number };
  readonly error?: string;
  readonly warnings: readonly string[];
}

export interface ProfileReport {
  readonly profile: string;
  readonly result: 'success' | 'failure';
  readonly startedAt: string;
  readonly durationMs: number;
  readonly repositories: readonly RepositoryReport[];
  readonly error?: string;
  /** The last successful run's time, kept across runs. */
  readonly lastSuccess?: string;
}

async function atomicWrite(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

export const statusFile = (dir: string, profile: string): string => join(dir, `${profile}.status.json`);

export async function readStatus(dir: string, profile: string): Promise<ProfileReport | undefined> {
  try {
    return JSON.parse(await readFile(statusFile(dir, profile), 'utf8')) as ProfileReport;
  } catch {
    return undefined;
  }
}

export async function writeStatus(dir: string, r: ProfileReport): Promise<ProfileReport> {
  const prev = await readStatus(dir, r.profile);
  const out: ProfileReport = { ...r, ...(r.result === 'success' ? { lastSuccess: r.startedAt } : prev?.lastSuccess !== undefined ? { lastSuccess: prev.lastSuccess } : {}) };
  await atomicWrite(statusFile(dir, r.profile), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The textfile for a set of profiles' last reports (pure). */
export function prometheusText(reports: readonly ProfileReport[]): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, rows: [Record<string, string>, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [l, v] of rows) lines.push(`${name}{${Object.entries(l).map(([k, x]) => `${k}="${label(x)}"`).join(',')}} ${v}`);
  };
  const repos = reports.flatMap((p) => p.repositories.map((r) => [{ profile: p.profile, repository: r.name }, r, p] as const));
  metric('rwm_backup_success', '1 if the last run of the profile succeeded', reports.map((p) => [{ profile: p.profile }, p.result === 'success' ? 1 : 0]));
  metric('rwm_backup_last_run_timestamp_seconds', 'start of the last run', reports.map((p) => [{ profile: p.profile }, Date.parse(p.startedAt) / 1000]));
  metric('rwm_backup_last_success_timestamp_seconds', 'start of the last successful run', reports.filter((p) => p.lastSuccess !== undefined).map((p) => [{ profile: p.profile }, Date.parse(p.lastSuccess as string) / 1000]));
  metric('rwm_backup_duration_seconds', 'duration of the last run', reports.map((p) => [{ profile: p.profile }, p.durationMs / 1000]));
  metric('rwm_backup_repository_success', '1 if the repository\'s last backup succeeded', repos.map(([l, r]) => [l, r.result === 'success' ? 1 : 0]));
  metric('rwm_backup_repository_duration_seconds', 'duration of the repository\'s last backup', repos.map(([l, r]) => [l, r.durationMs / 1000]));
  metric('rwm_backup_repository_bytes_added', 'bytes the last backup added to the repository', repos.filter(([, r]) => r.bytesAdded !== undefined).map(([l, r]) => [l, r.bytesAdded as number]));
  metric('rwm_backup_repository_files_total', 'files in the last snapshot', repos.filter(([, r]) => r.filesTotal !== undefined).map(([l, r]) => [l, r.filesTotal as number]));
  return `${lines.join('\n')}\n`;
}

export async function writePrometheus(file: string, reports: readonly ProfileReport[]): Promise<void> {
  await atomicWrite(file, prometheusText(reports));
}
