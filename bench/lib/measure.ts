// Measuring one command: its own process under /usr/bin/time (wall time, user+sys CPU of it and its
// children, peak RSS) and, over the same interval, the CPU of other processes read from /proc (the
// RGW's radosgw and ceph-osd, a server).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { childrenCpuSec, collectOutput, readProcStats, syncDisks, type ProcStats } from './proc.js';
import { createLog, fmt, ROOT } from './report.js';

const log = createLog('bench');

/** utime + stime of a process (all threads) in seconds; undefined without a pid or once it is gone. */
export async function cpuOf(pid: number | undefined, clkTck: number): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return (await readProcStats(pid, clkTck)).cpuSec;
  } catch {
    return undefined;
  }
}

export const diff = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined ? a - b : undefined);

/**
 * Starts a CPU reading of the named processes; the function it returns gives each one's CPU seconds
 * since then (undefined for a process without a pid or gone).
 */
export async function cpuSince(pids: Readonly<Record<string, number | undefined>>, clkTck: number): Promise<() => Promise<Record<string, number | undefined>>> {
  const read = async (): Promise<Record<string, number | undefined>> =>
    Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([k, pid]) => [k, await cpuOf(pid, clkTck)] as const)));
  const before = await read();
  return async () => {
    const after = await read();
    return Object.fromEntries(Object.keys(pids).map((k) => [k, diff(after[k], before[k])]));
  };
}

export interface Measured {
  readonly wallSec: number;
  /** user + sys of the process and its children, from /usr/bin/time. */
  readonly cpuSec: number;
  readonly userSec: number;
  readonly sysSec: number;
  readonly peakRssMiB: number;
  /** radosgw's and ceph-osd's CPU over the same interval (on a shared RGW, with whatever else used it). */
  readonly rgwCpuSec: number | undefined;
  readonly osdCpuSec: number | undefined;
  readonly stdout: string;
}

export interface MeasureContext {
  /** Where /usr/bin/time writes its figures. */
  readonly work: string;
  readonly clkTck: number;
  readonly rgw?: { readonly rgwPid: number | undefined; readonly osdPid: number | undefined };
}

let timeFiles = 0;

/**
 * Runs a command under /usr/bin/time in its own process group (an interruption stops the whole
 * group); rejects when it exits non-zero. With `sync`, dirty pages are flushed first, so earlier
 * writeback does not land in this command.
 */
export async function measured(ctx: MeasureContext, what: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: { sync?: boolean } = {}): Promise<Measured> {
  if (opts.sync === true) await syncDisks();
  const timeFile = join(ctx.work, `time-${++timeFiles}.txt`);
  const cpu = await cpuSince({ rgw: ctx.rgw?.rgwPid, osd: ctx.rgw?.osdPid }, ctx.clkTck);
  const t0 = performance.now();
  const proc = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stop = onCleanup(`stop ${what}`, async () => {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid, 'SIGTERM');
  });
  const { code, stdout, stderr } = await collectOutput(proc).finally(() => stop());
  const wallSec = (performance.now() - t0) / 1000;
  const { rgw, osd } = await cpu();
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${stderr.slice(-4000)}${stdout.slice(-2000)}`);
  const last = (await readFile(timeFile, 'utf8')).trim().split('\n').pop() ?? '';
  const [, user, sys, maxKiB] = last.split(' ').map(Number);
  if (user === undefined || sys === undefined || maxKiB === undefined || [user, sys, maxKiB].some((v) => !Number.isFinite(v))) throw new Error(`${what}: cannot read /usr/bin/time's output "${last}"`);
  const m: Measured = { wallSec, cpuSec: user + sys, userSec: user, sysSec: sys, peakRssMiB: maxKiB / 1024, rgwCpuSec: rgw, osdCpuSec: osd, stdout };
  log(`${what}: ${wallSec.toFixed(2)} s wall, ${m.cpuSec.toFixed(2)} s CPU (${user.toFixed(2)} user, ${sys.toFixed(2)} sys), ${m.peakRssMiB.toFixed(0)} MiB peak` +
    (m.rgwCpuSec !== undefined ? `, radosgw ${m.rgwCpuSec.toFixed(2)} s, osd ${fmt(m.osdCpuSec)} s` : ''));
  return m;
}

/** The figures without the captured output, for the raw results file. */
export function withoutStdout({ stdout: _stdout, ...m }: Measured): Omit<Measured, 'stdout'> {
  return m;
}

/** What a server and the RGW spent while `work` ran (undefined where there is no such process). */
export interface Window {
  readonly wallSec: number;
  /** utime + stime of the server (all threads) during `work`, and of its main thread (node's event loop). */
  readonly serverCpuSec: number | undefined;
  readonly serverMainThreadCpuSec: number | undefined;
  /** The server's CPU over its whole life and its peak RSS (VmHWM) so far. */
  readonly serverCpuTotalSec: number | undefined;
  readonly serverPeakRssMiB: number | undefined;
  readonly rgwCpuSec: number | undefined;
  readonly osdCpuSec: number | undefined;
  /** cutime + cstime of this process's children that exited meanwhile (e.g. the one restic run). */
  readonly childrenCpuSec: number;
}

/**
 * Flushes the disks (the previous run's writeback must not land in this one), then times `work` and
 * reads the CPU of the server (`serverPid`), the RGW's processes and this process's children around it.
 */
export async function measureWindow<T>(ctx: Omit<MeasureContext, 'work'>, serverPid: number | undefined, work: () => Promise<T>): Promise<{ result: T; window: Window }> {
  await syncDisks();
  const stats = async (): Promise<ProcStats | undefined> => (serverPid === undefined ? undefined : readProcStats(serverPid, ctx.clkTck));
  const before = await stats();
  const rgw = await cpuSince({ rgw: ctx.rgw?.rgwPid, osd: ctx.rgw?.osdPid }, ctx.clkTck);
  const children0 = await childrenCpuSec(ctx.clkTck);
  const t0 = performance.now();
  const result = await work();
  const wallSec = (performance.now() - t0) / 1000;
  const children1 = await childrenCpuSec(ctx.clkTck);
  const after = await stats();
  const { rgw: rgwCpuSec, osd: osdCpuSec } = await rgw();
  return {
    result,
    window: {
      wallSec,
      serverCpuSec: diff(after?.cpuSec, before?.cpuSec),
      serverMainThreadCpuSec: diff(after?.mainThreadCpuSec, before?.mainThreadCpuSec),
      serverCpuTotalSec: after?.cpuSec,
      serverPeakRssMiB: after?.peakRssMiB,
      rgwCpuSec,
      osdCpuSec,
      childrenCpuSec: children1 - children0,
    },
  };
}
