// Three ways for restic to reach the same S3 server (a Ceph RGW this benchmark starts itself with
// scripts/s3-test-server.sh), measured in one run on the same generated data:
//   rwm     restic -> rest:http://127.0.0.1 -> rwm serve --s3 BUCKET/restic -> RGW
//   rclone  restic -> rest:http://127.0.0.1 -> rclone serve restic --append-only s3:BUCKET/restic -> RGW
//   direct  restic -> s3:http://127.0.0.1:RGW/BUCKET/restic/bench (no server in between)
// Each run gets a fresh bucket (created and afterwards emptied of every version and deleted as the
// RGW admin user, whose keys all three variants use), then `restic init` (not timed) and a timed
// `restic backup`. Measured: wall time, restic's CPU, the server's CPU and peak RSS (rwm or rclone,
// from /proc), and RGW's and the OSD's CPU. BENCH_ROUNDS rounds, the order rotated every round; the
// table shows medians with the ratios rwm / rclone and rwm / direct. Not a test: it only reports.
// Raw results go to bench/out/serve-s3-<timestamp>.json. See bench/README.md.
//
// Usage: npm run bench:s3   (or, with dist/ built: node --import tsx bench/serve-s3.ts)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateTree, MiB, GiB } from './lib/data.js';
import { runCapture, childEnv, childrenCpuSec, execFileAsync, readProcStats, rwmReadyUrl, syncDisks, waitForExit } from './lib/proc.js';
import { cleanUpOnSignals, onCleanup, runCleanups, wasInterrupted } from './lib/cleanup.js';
import { adminClient, createBucket, emptyAndDeleteBucket, REGION, s3Script, startRgw, warmUp, type BucketContents, type Rgw } from './lib/rgw.js';
import { createLog, envInt, fmt, gitState, median, ratio, renderTable, ROOT, versionOf, writeResults } from './lib/report.js';

const log = createLog('bench-s3');
cleanUpOnSignals('the servers and the RGW');


const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** Key prefix in every bucket (rwm's --s3 BUCKET/PREFIX, rclone's s3:BUCKET/PREFIX) ... */
const PREFIX = 'restic';
/** ... and the repository below it: every variant stores under PREFIX/REPO/{config,data/..,...}. */
const REPO = 'bench';
const RESTIC_PASSWORD = 'rwm-bench-password';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

const VARIANTS = ['rwm', 'rclone', 'direct'] as const;
type Variant = (typeof VARIANTS)[number];
type ServerKind = Exclude<Variant, 'direct'>;
type Metrics = Record<string, number>;


// ---------------------------------------------------------------------------------------------
// Configuration (environment variables)

interface BenchConfig {
  readonly sizeMb: number;
  readonly rounds: number;
  readonly variants: readonly Variant[];
  readonly store: 'memstore' | 'bluestore';
  /** OSD capacity handed to scripts/s3-test-server.sh as RWM_S3_SIZE. */
  readonly osdSize: string;
  readonly versioned: boolean;
  readonly tmp: string;
  readonly keep: boolean;
  /** Extra node flags for the rwm process, e.g. "--cpu-prof --cpu-prof-dir=bench/out/prof". */
  readonly rwmNodeArgs: readonly string[];
}


function envVariants(): Variant[] {
  const raw = process.env.BENCH_VARIANTS;
  if (raw === undefined || raw === '') return [...VARIANTS];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(VARIANTS as readonly string[]).includes(n)) throw new Error(`BENCH_VARIANTS: unknown variant "${n}" (known: ${VARIANTS.join(', ')})`);
  }
  return VARIANTS.filter((v) => names.includes(v));
}

function envStore(): BenchConfig['store'] {
  const raw = process.env.BENCH_S3_STORE ?? 'memstore';
  if (raw !== 'memstore' && raw !== 'bluestore') throw new Error(`BENCH_S3_STORE must be memstore or bluestore, got "${raw}"`);
  return raw;
}

/**
 * memstore holds ~2.2× the bytes stored in RAM. Every bucket is emptied and RGW's GC run after each
 * run, so one run's worth (plus restic's metadata and slack) is enough; never below the script's 4G.
 */
function defaultOsdSize(store: BenchConfig['store'], sizeMb: number): string {
  if (store === 'bluestore') return '64G';
  return `${Math.max(4, Math.ceil((sizeMb * MiB * 3) / GiB))}G`;
}

function readConfig(): BenchConfig {
  const sizeMb = envInt('BENCH_SIZE_MB', 256);
  const store = envStore();
  return {
    sizeMb,
    rounds: envInt('BENCH_ROUNDS', 3),
    variants: envVariants(),
    store,
    osdSize: process.env.BENCH_S3_SIZE ?? defaultOsdSize(store, sizeMb),
    versioned: process.env.BENCH_S3_VERSIONED === '1',
    tmp: process.env.BENCH_TMP ?? tmpdir(),
    keep: process.env.BENCH_KEEP === '1',
    rwmNodeArgs: (process.env.BENCH_RWM_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== ''),
  };
}

// ---------------------------------------------------------------------------------------------
// The servers and restic

interface Server {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly url: string; // ends with "/"
  /** Warnings and errors the server wrote to stderr since it started listening (the first 50). */
  readonly problems: readonly string[];
  /** How many such lines there were in all. */
  problemCount(): number;
  /** The last 40 lines of its stderr. */
  readonly tail: readonly string[];
  stop(): Promise<void>;
}

interface ServerCommand {
  readonly cmd: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** The server's URL if this stderr line says it is listening. */
  readonly readyUrl: (line: string) => string | undefined;
  /** Whether a stderr line is a warning or an error. */
  readonly isProblem: (line: string) => boolean;
}


function serverCommand(kind: ServerKind, bucket: string, rgw: Rgw, ctx: Ctx): ServerCommand {
  switch (kind) {
    case 'rwm':
      // node itself, not npx or a shell, so the PID we measure is the server's.
      return {
        cmd: process.execPath,
        args: [...ctx.cfg.rwmNodeArgs, CLI, 'serve', '--s3', `${bucket}/${PREFIX}`, '--s3-endpoint', rgw.endpoint, '--listen', '127.0.0.1:0', '--no-auth'],
        env: childEnv({ AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: REGION }),
        readyUrl: rwmReadyUrl,
        // pino levels: 40 warn, 50 error, 60 fatal
        isProblem: (line) => (/"level":\s*(4|5|6)0\b/.test(line) || !line.startsWith('{')) && !line.includes('(--no-auth)'),
      };
    case 'rclone':
      // The remote "s3" comes from the environment; the --config file is empty.
      return {
        cmd: 'rclone',
        args: ['serve', 'restic', '--append-only', '--config', ctx.rcloneConfig, '--addr', '127.0.0.1:0', `s3:${bucket}/${PREFIX}`],
        env: childEnv({
          RCLONE_CONFIG_S3_TYPE: 's3',
          RCLONE_CONFIG_S3_PROVIDER: 'Ceph',
          RCLONE_CONFIG_S3_ENDPOINT: rgw.endpoint,
          RCLONE_CONFIG_S3_REGION: REGION,
          RCLONE_CONFIG_S3_ACCESS_KEY_ID: rgw.accessKeyId,
          RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
        }),
        readyUrl: (line) => /Serving restic REST API on (http:\/\/\S+)/.exec(line)?.[1],
        isProblem: (line) => /\b(ERROR|WARNING|NOTICE|CRITICAL)\b/.test(line) && !line.includes('Serving restic REST API'),
      };
  }
}


async function startServer(kind: ServerKind, bucket: string, rgw: Rgw, ctx: Ctx): Promise<Server> {
  const { cmd, args, env, readyUrl, isProblem } = serverCommand(kind, bucket, rgw, ctx);
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  const problems: string[] = [];
  let problemCount = 0;
  let listening = false;
  const stop = onCleanup(`stop ${kind}`, async () => {
    proc.kill('SIGTERM');
    if (!(await waitForExit(proc, STOP_TIMEOUT_MS))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, STOP_TIMEOUT_MS);
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`)), START_TIMEOUT_MS);
    // Keep reading stderr for the server's whole life, so a full pipe never blocks it.
    createInterface({ input: proc.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (listening && isProblem(line)) {
        problemCount++;
        if (problems.length < 50) problems.push(line);
      }
      const u = readyUrl(line);
      if (u !== undefined && !listening) {
        listening = true;
        clearTimeout(timer);
        resolve(u.endsWith('/') ? u : `${u}/`);
      }
    });
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`${kind} exited (${code ?? signal}) before listening:\n${tail.join('\n')}`)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  if (proc.pid === undefined) throw new Error(`${kind}: no pid`);
  return { kind, pid: proc.pid, url, problems, problemCount: () => problemCount, tail, stop };
}

/** Runs restic with a fresh cache directory and only the environment it needs; returns stdout. */
async function runRestic(args: string[], cacheDir: string, extraEnv: Record<string, string> = {}): Promise<string> {
  // If we are interrupted (SIGTERM, or SIGINT sent to this process alone), restic goes too.
  return runCapture('restic', args, { env: childEnv({ RESTIC_PASSWORD, RESTIC_CACHE_DIR: cacheDir, ...extraEnv }) }, (proc) =>
    onCleanup('stop restic', async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    }),
  );
}


// ---------------------------------------------------------------------------------------------
// One run: fresh bucket, (server), restic init, timed restic backup, cleanup

/** Everything a run needs. */
interface Ctx {
  readonly cfg: BenchConfig;
  readonly work: string;
  readonly clkTck: number;
  readonly rcloneConfig: string;
  readonly rgw: Rgw;
  readonly s3: S3Client;
  readonly source: { readonly dir: string; readonly bytes: number };
}

async function cpuOf(pid: number | undefined, clkTck: number): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return (await readProcStats(pid, clkTck)).cpuSec;
  } catch {
    return undefined;
  }
}

async function rssOf(pid: number | undefined, clkTck: number): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return (await readProcStats(pid, clkTck)).rssMiB;
  } catch {
    return undefined;
  }
}

function defined(m: Record<string, number | undefined>): Metrics {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => e[1] !== undefined));
}

async function runOnce(variant: Variant, round: number, ctx: Ctx): Promise<Metrics> {
  const { cfg, clkTck, rgw, s3 } = ctx;
  const bucket = `rwm-bench-${variant}-${round}-${randomBytes(4).toString('hex')}`;
  const cache = await mkdtemp(join(ctx.work, `restic-cache-${variant}-`));
  let contents: BucketContents | undefined;
  await createBucket(s3, bucket, cfg.versioned);
  const dropBucket = onCleanup(`delete bucket ${bucket}`, async () => {
    contents = await emptyAndDeleteBucket(s3, bucket);
  });
  let server: Server | undefined;
  try {
    let repo: string;
    let resticEnv: Record<string, string> = {};
    if (variant === 'direct') {
      repo = `s3:${rgw.endpoint}/${bucket}/${PREFIX}/${REPO}`;
      resticEnv = { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey };
    } else {
      server = await startServer(variant, bucket, rgw, ctx);
      repo = `rest:${server.url}${REPO}/`;
    }
    const idle = server ? await readProcStats(server.pid, clkTck) : undefined;
    await runRestic(['-r', repo, 'init'], cache, resticEnv);
    await syncDisks(); // the previous run's writeback must not land in this run
    const before = {
      server: server ? await readProcStats(server.pid, clkTck) : undefined,
      rgw: await cpuOf(rgw.rgwPid, clkTck),
      osd: await cpuOf(rgw.osdPid, clkTck),
      restic: await childrenCpuSec(clkTck),
    };
    const t0 = performance.now();
    const out = await runRestic(['-r', repo, 'backup', '--json', '--quiet', '--host', 'bench', ctx.source.dir], cache, resticEnv);
    const wallSec = (performance.now() - t0) / 1000;
    const after = {
      restic: await childrenCpuSec(clkTck),
      server: server ? await readProcStats(server.pid, clkTck) : undefined,
      rgw: await cpuOf(rgw.rgwPid, clkTck),
      osd: await cpuOf(rgw.osdPid, clkTck),
    };
    const summary = out
      .split('\n')
      .filter((l) => l.includes('"summary"'))
      .map((l) => JSON.parse(l) as { data_added: number; total_files_processed: number })[0];
    if (!summary) throw new Error(`restic backup printed no summary:\n${out}`);
    const diff = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined ? a - b : undefined);
    const serverCpu = diff(after.server?.cpuSec, before.server?.cpuSec);
    const resticCpu = after.restic - before.restic;
    const rgwCpu = diff(after.rgw, before.rgw);
    const osdCpu = diff(after.osd, before.osd);
    const problems = server ? server.problemCount() : undefined;
    for (const l of server?.problems ?? []) log(`${variant} stderr: ${l}`);
    if (server) {
      await server.stop();
      server = undefined;
    }
    await dropBucket();
    return defined({
      wall_s: wallSec,
      throughput_mibs: ctx.source.bytes / MiB / wallSec,
      restic_cpu_s: resticCpu,
      server_cpu_s: serverCpu,
      server_idle_rss_mib: idle?.rssMiB,
      server_peak_rss_mib: after.server?.peakRssMiB,
      server_problem_lines: problems,
      rgw_cpu_s: rgwCpu,
      osd_cpu_s: osdCpu,
      total_cpu_s: resticCpu + (serverCpu ?? 0) + (rgwCpu ?? 0) + (osdCpu ?? 0),
      restic_data_added_mib: summary.data_added / MiB,
      restic_files: summary.total_files_processed,
      s3_objects: contents?.objects,
      s3_stored_mib: contents !== undefined ? contents.bytes / MiB : undefined,
      s3_delete_markers: contents?.deleteMarkers,
      s3_incomplete_multipart_uploads: contents?.multipartUploads,
    });
  } catch (err) {
    // restic's error alone rarely says what went wrong behind the REST server: add the server's side.
    if (server === undefined || !(err instanceof Error)) throw err;
    throw new Error(`${err.message}\n--- last lines of ${variant}'s stderr ---\n${server.tail.join('\n')}`, { cause: err });
  } finally {
    if (server) await server.stop();
    await dropBucket().catch((err: unknown) => log(`deleting bucket ${bucket} failed: ${err instanceof Error ? err.message : String(err)}`));
    await rm(cache, { recursive: true, force: true });
    // Free the deleted objects' space now (memstore keeps them in RAM until GC).
    await s3Script(['gc', rgw.dir]).catch((err: unknown) => log(`RGW gc failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}

interface RunResult {
  readonly variant: Variant;
  readonly round: number;
  readonly metrics: Metrics;
}

/** Round r starts with the variant r places further along, so none always runs first (or last). */
function variantOrder(variants: readonly Variant[], round: number): Variant[] {
  const k = round % variants.length;
  return [...variants.slice(k), ...variants.slice(0, k)];
}

// ---------------------------------------------------------------------------------------------
// Report

interface RowSpec {
  readonly metric: string;
  readonly key: string;
  /** Which ratio is good for rwm: 'lower' (≤ 1), or just information. */
  readonly better: 'lower' | 'higher' | 'info';
  /** Counts and sizes: a ratio says nothing. */
  readonly noRatio?: true;
}

const ROWS: readonly RowSpec[] = [
  { metric: 'restic backup wall time, s', key: 'wall_s', better: 'lower' },
  { metric: 'backup throughput, MiB/s', key: 'throughput_mibs', better: 'higher' },
  { metric: 'restic CPU (user+sys), s', key: 'restic_cpu_s', better: 'info' },
  { metric: 'server CPU (rwm/rclone), s', key: 'server_cpu_s', better: 'lower' },
  { metric: 'server peak RSS, MiB', key: 'server_peak_rss_mib', better: 'lower' },
  { metric: 'RGW (radosgw) CPU, s', key: 'rgw_cpu_s', better: 'info' },
  { metric: 'OSD CPU, s', key: 'osd_cpu_s', better: 'info' },
  { metric: 'total CPU (restic+server+RGW+OSD), s', key: 'total_cpu_s', better: 'lower' },
  { metric: 'S3 objects stored', key: 's3_objects', better: 'info', noRatio: true },
  { metric: 'S3 bytes stored, MiB', key: 's3_stored_mib', better: 'info', noRatio: true },
];


function medianOf(runs: readonly RunResult[], variant: Variant, key: string): number | undefined {
  const values = runs.filter((r) => r.variant === variant).map((r) => r.metrics[key]).filter((v) => v !== undefined);
  return values.length === 0 ? undefined : median(values);
}

interface SummaryRow extends RowSpec {
  readonly values: Partial<Record<Variant, number>>;
  readonly rwmVsRclone: number | undefined;
  readonly rwmVsDirect: number | undefined;
}

function summarize(runs: readonly RunResult[]): SummaryRow[] {
  return ROWS.map((spec) => {
    const values: Partial<Record<Variant, number>> = {};
    for (const v of VARIANTS) {
      const m = medianOf(runs, v, spec.key);
      if (m !== undefined) values[v] = m;
    }
    return {
      ...spec,
      values,
      rwmVsRclone: spec.noRatio ? undefined : ratio(values.rwm, values.rclone),
      rwmVsDirect: spec.noRatio ? undefined : ratio(values.rwm, values.direct),
    };
  });
}


function renderSummary(rows: readonly SummaryRow[], cfg: BenchConfig): string {
  const shown = cfg.variants;
  const header = ['metric', ...shown, 'rwm/rclone', 'rwm/direct'];
  const serverOnly = new Set(['server_cpu_s', 'server_peak_rss_mib']);
  const cells = rows.map((r) => [
    r.metric,
    ...shown.map((v) => (v === 'direct' && serverOnly.has(r.key) ? 'n/a' : fmt(r.values[v], r.noRatio && r.key === 's3_objects' ? 0 : 2))),
    fmt(r.rwmVsRclone),
    serverOnly.has(r.key) ? 'n/a' : fmt(r.rwmVsDirect),
  ]);
  return renderTable(header, cells, (i) => i >= 1);
}

function renderRounds(runs: readonly RunResult[], cfg: BenchConfig): string {
  const header = ['round', 'order', ...cfg.variants.map((v) => `${v} wall s`)];
  const cells = Array.from({ length: cfg.rounds }, (_, round) => [
    String(round + 1),
    variantOrder(cfg.variants, round).join(' → '),
    ...cfg.variants.map((v) => fmt(runs.find((r) => r.round === round && r.variant === v)?.metrics.wall_s)),
  ]);
  return renderTable(header, cells, (i) => i >= 2);
}

function verdicts(rows: readonly SummaryRow[]): string[] {
  const wall = rows.find((r) => r.key === 'wall_s');
  const out: string[] = [];
  if (wall?.rwmVsRclone !== undefined) {
    out.push(`vs rclone: rwm takes ${fmt(wall.rwmVsRclone)}× rclone's backup wall time → ${wall.rwmVsRclone <= 1.05 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  }
  if (wall?.rwmVsDirect !== undefined) {
    out.push(`vs direct S3: rwm takes ${fmt(wall.rwmVsDirect)}× restic's direct wall time → ${wall.rwmVsDirect <= 1.1 ? 'within 10%' : 'MORE than 10% slower'}`);
  }
  const cpu = rows.find((r) => r.key === 'server_cpu_s');
  const rss = rows.find((r) => r.key === 'server_peak_rss_mib');
  if (cpu?.rwmVsRclone !== undefined && rss?.rwmVsRclone !== undefined) {
    out.push(`server resources: rwm uses ${fmt(cpu.rwmVsRclone)}× rclone's CPU and ${fmt(rss.rwmVsRclone)}× its peak RSS`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main


/** Source files changed after dist/ was built: then the commit above is not what was measured. */
async function srcNewerThanDist(): Promise<string[]> {
  const built = (await stat(CLI)).mtimeMs;
  const newer: string[] = [];
  for (const e of await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
    const file = join(e.parentPath, e.name);
    if ((await stat(file)).mtimeMs > built) newer.push(file.slice(ROOT.length + 1));
  }
  return newer;
}

async function machineInfo(clkTck: number): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: totalmem() / GiB,
    node: process.version,
    rwm: pkg.version,
    rwmGit: await gitState(),
    rwmSrcNewerThanDist: existsSync(CLI) ? await srcNewerThanDist() : undefined,
    restic: await versionOf('restic', ['version']),
    rclone: await versionOf('rclone', ['version']),
    ceph: await versionOf('ceph', ['--version']),
    clkTck,
  };
}

async function main(): Promise<void> {
  const cfg = readConfig();
  if (cfg.variants.includes('rwm') && !existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (or "npm run bench:s3")`);
  const clkTck = Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim());
  const machine = await machineInfo(clkTck);
  const stale = machine.rwmSrcNewerThanDist as string[] | undefined;
  if (cfg.variants.includes('rwm') && stale !== undefined && stale.length > 0) {
    log(`WARNING: dist/ is older than ${stale.join(', ')}: rwm runs the older build (npm run bench:s3 rebuilds first)`);
  }
  const work = await mkdtemp(join(cfg.tmp, 'rwm-bench-s3-'));
  onCleanup('remove the scratch directory', async () => {
    if (cfg.keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  });
  const startedAt = new Date().toISOString();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}`);

  const rcloneConfig = join(work, 'rclone.conf');
  await writeFile(rcloneConfig, '');
  const sourceDir = join(work, 'source');
  log(`generating ${cfg.sizeMb} MiB of backup source files in ${sourceDir}`);
  const tree = await generateTree(sourceDir, cfg.sizeMb * MiB);
  log(`generated ${tree.files} files`);

  const rgw = await startRgw(cfg, work);
  log(`RGW ready at ${rgw.endpoint} (radosgw pid ${rgw.rgwPid ?? '?'}, ceph-osd pid ${rgw.osdPid ?? '?'})`);
  const s3 = adminClient(rgw);
  onCleanup('close the S3 client', async () => s3.destroy());
  const ctx: Ctx = { cfg, work, clkTck, rcloneConfig, rgw, s3, source: { dir: sourceDir, bytes: tree.bytes } };
  log('warming up the RGW (creating its pools)');
  await warmUp(ctx);

  const runs: RunResult[] = [];
  for (let round = 0; round < cfg.rounds; round++) {
    for (const variant of variantOrder(cfg.variants, round)) {
      log(`round ${round + 1}/${cfg.rounds}: ${variant}`);
      const metrics = await runOnce(variant, round, ctx);
      const osdRss = await rssOf(rgw.osdPid, clkTck);
      log(`round ${round + 1}/${cfg.rounds}: ${variant} done: ${Object.entries(metrics).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')}` + (osdRss !== undefined ? ` (ceph-osd RSS after gc: ${osdRss.toFixed(0)} MiB)` : ''));
      runs.push({ variant, round, metrics });
    }
  }

  const rows = summarize(runs);
  const lines = verdicts(rows);
  const paths: Record<Variant, string> = {
    rwm: 'rwm = through rwm serve --s3',
    rclone: 'rclone = through rclone serve restic --append-only',
    direct: "direct = restic's own s3 backend",
  };
  process.stdout.write(
    `\nrestic backup of ${cfg.sizeMb} MiB (${tree.files} files) to one Ceph RGW (${cfg.store}${cfg.versioned ? ', versioned buckets' : ''}); ` +
      `${cfg.variants.map((v) => paths[v]).join('; ')}\n(median of ${cfg.rounds} round(s); ratios of the medians)\n\n`,
  );
  process.stdout.write(`${renderSummary(rows, cfg)}\n\n${renderRounds(runs, cfg)}\n${lines.map((l) => `\n${l}`).join('')}\n`);
  const file = await writeResults('serve-s3', { startedAt, finishedAt: new Date().toISOString(), config: cfg, machine, source: tree, summary: rows, verdicts: lines, runs });
  process.stdout.write(`\nraw results: ${file}\n`);
}

try {
  await main();
} catch (err) {
  // After Ctrl-C the run fails wherever it was; the signal handler is cleaning up and says so.
  if (!wasInterrupted()) process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  if (!wasInterrupted()) await runCleanups();
}
