// Running restic for the benchmarks: only the environment it needs, a cache directory of the caller's
// choosing, stopped when the run is interrupted; and the summary of a `restic backup --json`.
import { onCleanup } from './cleanup.js';
import { MiB } from './data.js';
import { childEnv, runCapture } from './proc.js';

const RESTIC_PASSWORD = 'rwm-bench-password';

/** Runs restic to completion; returns stdout. */
export async function runRestic(args: readonly string[], cacheDir: string, extraEnv: Record<string, string> = {}): Promise<string> {
  // If we are interrupted (SIGTERM, or SIGINT sent to this process alone), restic goes too.
  return runCapture('restic', args, { env: childEnv({ RESTIC_PASSWORD, RESTIC_CACHE_DIR: cacheDir, ...extraEnv }) }, (proc) =>
    onCleanup('stop restic', async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    }),
  );
}

/** `restic backup --json --quiet --host bench DIR`; returns what its summary says. */
export async function resticBackup(repo: string, dir: string, cacheDir: string, extraEnv: Record<string, string> = {}): Promise<{ restic_data_added_mib: number; restic_files: number }> {
  const out = await runRestic(['-r', repo, 'backup', '--json', '--quiet', '--host', 'bench', dir], cacheDir, extraEnv);
  const summary = out.split('\n').filter((l) => l.includes('"summary"')).map((l) => JSON.parse(l) as { data_added: number; total_files_processed: number })[0];
  if (!summary) throw new Error(`restic backup printed no summary:\n${out}`);
  return { restic_data_added_mib: summary.data_added / MiB, restic_files: summary.total_files_processed };
}
