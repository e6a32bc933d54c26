// What a run leaves behind: a JSON status file per profile and a Prometheus textfile (node_exporter's
// textfile collector) for all profiles. Both are written to a temporary file and renamed into place.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { Gauge, Registry } from 'prom-client';
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
  /** The start of this repository's last successful backup, kept across runs. */
  readonly lastSuccess?: string;
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

async function atomicWrite(file: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: mode | 0o700 | ((mode & 0o044) !== 0 ? 0o011 : 0) });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // whatever the umask
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
  const kept = (now: { result: string; startedAt: string }, before: { lastSuccess?: string } | undefined): { lastSuccess?: string } =>
    now.result === 'success' ? { lastSuccess: now.startedAt } : before?.lastSuccess !== undefined ? { lastSuccess: before.lastSuccess } : {};
  const repositories = r.repositories.map((x) => ({ ...x, ...kept(x, prev?.repositories.find((y) => y.name === x.name)) }));
  const out: ProfileReport = { ...r, repositories, ...kept(r, prev) };
  await atomicWrite(statusFile(dir, r.profile), `${JSON.stringify(out, null, 2)}\n`, 0o600);
  return out;
}

/** The textfile for a set of profiles' last reports (node_exporter's textfile collector, via prom-client). */
export async function prometheusText(reports: readonly ProfileReport[]): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[]): Gauge => new Gauge({ name, help, labelNames, registers: [registry] });
  const seconds = (iso: string): number => Date.parse(iso) / 1000;
  const profile = {
    success: gauge('rwm_backup_success', '1 if the last run of the profile succeeded', ['profile']),
    lastRun: gauge('rwm_backup_last_run_timestamp_seconds', 'Start of the last run of the profile', ['profile']),
    lastSuccess: gauge('rwm_backup_last_success_timestamp_seconds', 'Start of the last successful run of the profile', ['profile']),
    duration: gauge('rwm_backup_duration_seconds', 'Duration of the last run of the profile', ['profile']),
  };
  const repo = {
    success: gauge('rwm_backup_repository_success', '1 if the last backup to the repository succeeded', ['profile', 'repository']),
    lastSuccess: gauge('rwm_backup_repository_last_success_timestamp_seconds', 'Start of the last successful backup to the repository', ['profile', 'repository']),
    duration: gauge('rwm_backup_repository_duration_seconds', 'Duration of the last backup to the repository', ['profile', 'repository']),
    added: gauge('rwm_backup_repository_added_bytes', 'Bytes the last backup added to the repository', ['profile', 'repository']),
    files: gauge('rwm_backup_repository_files', 'Files in the last snapshot', ['profile', 'repository']),
  };
  for (const p of reports) {
    const l = { profile: p.profile };
    profile.success.set(l, p.result === 'success' ? 1 : 0);
    profile.lastRun.set(l, seconds(p.startedAt));
    if (p.lastSuccess !== undefined) profile.lastSuccess.set(l, seconds(p.lastSuccess));
    profile.duration.set(l, p.durationMs / 1000);
    for (const r of p.repositories) {
      const rl = { profile: p.profile, repository: r.name };
      repo.success.set(rl, r.result === 'success' ? 1 : 0);
      if (r.lastSuccess !== undefined) repo.lastSuccess.set(rl, seconds(r.lastSuccess));
      repo.duration.set(rl, r.durationMs / 1000);
      if (r.bytesAdded !== undefined) repo.added.set(rl, r.bytesAdded);
      if (r.filesTotal !== undefined) repo.files.set(rl, r.filesTotal);
    }
  }
  return registry.metrics();
}

/** Writes the textfile; readable by all (node_exporter runs as its own user), it holds no secrets. */
export async function writePrometheus(file: string, reports: readonly ProfileReport[]): Promise<void> {
  await atomicWrite(file, await prometheusText(reports), 0o644);
}
