// Reporting for the benchmarks: settings from the environment, medians, ratios, aligned tables, the
// git state of the build that was measured, and the raw results under bench/out/.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { childEnv, execFileAsync } from './proc.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const OUT_DIR = join(ROOT, 'bench', 'out');

export function createLog(tag: string): (message: string) => void {
  return (message) => process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** A comma-separated subset of `known` from the environment (all of them when unset), in `known`'s order. */
export function envList<T extends string>(name: string, known: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...known];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) if (!(known as readonly string[]).includes(n)) throw new Error(`${name}: unknown "${n}" (known: ${known.join(', ')})`);
  return known.filter((k) => names.includes(k));
}

/** Extra node flags for the rwm process from BENCH_RWM_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=bench/out/prof". */
export function rwmNodeArgs(): string[] {
  return (process.env.BENCH_RWM_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
}

/** A count such as 10000 or 10k, at least `min`. */
export function parseCount(flag: string, s: string, min: number): number {
  const m = /^([0-9]+)(k?)$/i.exec(s.trim());
  const n = m ? Number(m[1]) * (m[2] ? 1000 : 1) : NaN;
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: "${s}" is not a count of at least ${min} such as 10000 or 10k`);
  return n;
}

/** The kernel's clock ticks per second, the unit of /proc's CPU times. */
export async function clockTicks(): Promise<number> {
  return Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim());
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `v` (divided by `per`, e.g. GiB processed) with `digits` decimals; '-' when there is none. */
export function fmt(v: number | undefined, digits = 2, per = 1): string {
  return v === undefined || !Number.isFinite(v / per) ? '-' : (v / per).toFixed(digits);
}

/** Which rwm was measured: the commit, and whether src/ had uncommitted changes (dist/ is built from them). */
export async function gitState(): Promise<{ commit: string; srcModified: boolean } | undefined> {
  try {
    const commit = (await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
    const status = (await execFileAsync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT })).stdout.trim();
    return { commit, srcModified: status !== '' };
  } catch {
    return undefined; // not a git checkout
  }
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** An aligned text table; columns for which rightAligned(i) is true are padded on the left. */
export function renderTable(header: readonly string[], cells: readonly (readonly string[])[], rightAligned: (col: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (rightAligned(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The first line a command prints for its version, or "unknown". */
export async function versionOf(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { env: childEnv() });
    return stdout.split('\n')[0]?.trim() ?? '';
  } catch {
    return 'unknown';
  }
}

/** The machine and the versions measured, for the raw results. */
export async function machineInfo(clkTck: number, tools: Readonly<Record<string, readonly string[]>>): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const versions: Record<string, string> = {};
  for (const [name, [cmd, ...args]] of Object.entries(tools)) versions[name] = await versionOf(cmd!, args);
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: totalmem() / 1024 ** 3, loadavg: loadavg(), node: process.version, rwm: pkg.version, rwmGit: await gitState(), ...versions, clkTck };
}

/** Writes bench/out/<name>-<timestamp>.json and returns its path. */
export async function writeResults(name: string, data: Record<string, unknown>): Promise<string> {
  await mkdir(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
