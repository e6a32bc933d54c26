// Processes for the benchmarks: /proc CPU and memory readings, a clean child environment, waiting
// for exits, running a command with its output captured.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { KiB } from './data.js';

export const execFileAsync = promisify(execFile);

export interface ProcStats {
  readonly cpuSec: number;
  /** The thread whose id is the PID: node's event loop; for Go just one of many threads. */
  readonly mainThreadCpuSec: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
}

/** Fields of a /proc stat file from field 3 (state) on: fields[0] is proc(5)'s field 3. */
async function statFields(path: string): Promise<string[]> {
  const stat = await readFile(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime from a /proc stat file, in seconds (proc(5) fields 14 and 15). */
async function statCpuSec(path: string, clkTck: number): Promise<number> {
  const f = await statFields(path);
  return (Number(f[11]) + Number(f[12])) / clkTck;
}

/** CPU time of the whole process (all threads) and of its main thread, and its current and peak resident memory. */
export async function readProcStats(pid: number, clkTck: number): Promise<ProcStats> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSec: await statCpuSec(`/proc/${pid}/stat`, clkTck),
    mainThreadCpuSec: await statCpuSec(`/proc/${pid}/task/${pid}/stat`, clkTck),
    rssMiB: statusKiB(status, 'VmRSS') / KiB,
    peakRssMiB: statusKiB(status, 'VmHWM') / KiB,
  };
}

/**
 * CPU time (cutime + cstime) of this process's children that have exited and been waited for. Taken
 * just before and after a `restic` run, the difference is restic's own CPU when no other child exits
 * in between.
 */
export async function childrenCpuSec(clkTck: number): Promise<number> {
  const f = await statFields('/proc/self/stat');
  return (Number(f[13]) + Number(f[14])) / clkTck;
}

export function statusKiB(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/PID/status`);
  return Number(m[1]);
}

/** A minimal environment for children: no proxies, no AWS_CA_BUNDLE, no RCLONE_* or RESTIC_* leaking in. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

export async function waitForExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function syncDisks(): Promise<void> {
  await execFileAsync('sync');
}

/** Collects a child's stdout and stderr (both piped) until it closes; rejects if it cannot start. */
export async function collectOutput(proc: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  return { code, stdout, stderr };
}

/**
 * Runs a command to completion with its output captured; resolves with stdout, rejects with stdout
 * and stderr when it fails. `onStart` gets the child (e.g. to kill it on interruption).
 */
export async function runCapture(cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; what?: string }, onStart?: (proc: ChildProcess) => () => Promise<void>): Promise<string> {
  const proc = spawn(cmd, args, { ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = onStart?.(proc);
  const { code, stdout, stderr } = await collectOutput(proc).finally(() => done?.());
  if (code !== 0) throw new Error(`${opts.what ?? cmd} ${args.join(' ')} failed (${code}):\n${stderr}${stdout}`);
  return stdout;
}
