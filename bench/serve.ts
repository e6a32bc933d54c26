// Side-by-side benchmark of `rwm serve` and `rclone serve restic --append-only`: same machine, same
// data, one run. Not a test: it prints a table of medians with the ratio rwm / rclone, and writes every
// raw measurement to bench/out/serve-<timestamp>.json.
//
// Scenarios (each server run gets a fresh, empty data directory):
//   backup   `restic backup` of BENCH_SIZE_MB of generated, incompressible files (wall time)
//   upload   BENCH_BLOBS blobs of BENCH_BLOB_MB, BENCH_CONCURRENCY at a time, POSTed over keep-alive
//            HTTP/1.1 as /bench/data/<sha256> (server throughput)
//   bigblob  one BENCH_BIG_BLOB_MB upload vs one BENCH_BLOB_MB upload (peak memory must stay flat)
// For every run the server process's own CPU time (utime+stime, /proc/PID/stat) and peak RSS
// (VmHWM, /proc/PID/status) are read just before it is stopped. See bench/README.md.
//
// Usage: npm run bench   (or, with dist/ built: node --import tsx bench/serve.ts)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateTree, MiB, seededBytes } from './lib/data.js';
import { runCapture, childEnv, execFileAsync, readProcStats, rwmReadyUrl, syncDisks, waitForExit } from './lib/proc.js';
import { createLog, envInt, fmt, gitState, median, renderTable, ROOT, versionOf, writeResults } from './lib/report.js';

const log = createLog('bench');


const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const REPO = 'bench';
const RESTIC_PASSWORD = 'rwm-bench-password';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

const SCENARIOS = ['backup', 'upload', 'bigblob'] as const;
type Scenario = (typeof SCENARIOS)[number];
const SERVERS = ['rwm', 'rclone'] as const;
type ServerKind = (typeof SERVERS)[number];
type Metrics = Record<string, number>;


// ---------------------------------------------------------------------------------------------
// Configuration (environment variables)

interface BenchConfig {
  readonly sizeMb: number;
  readonly blobMb: number;
  readonly blobs: number;
  readonly concurrency: number;
  readonly bigBlobMb: number;
  readonly repeat: number;
  readonly scenarios: readonly Scenario[];
  readonly tmp: string;
  readonly keep: boolean;
  /** Extra node flags for the rwm process, e.g. "--cpu-prof --cpu-prof-dir=bench/out/prof". */
  readonly rwmNodeArgs: readonly string[];
}


function envScenarios(): Scenario[] {
  const raw = process.env.BENCH_SCENARIOS;
  if (raw === undefined || raw === '') return [...SCENARIOS];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`BENCH_SCENARIOS: unknown scenario "${n}" (known: ${SCENARIOS.join(', ')})`);
  }
  return SCENARIOS.filter((s) => names.includes(s));
}

function readConfig(): BenchConfig {
  return {
    sizeMb: envInt('BENCH_SIZE_MB', 1024),
    blobMb: envInt('BENCH_BLOB_MB', 16),
    blobs: envInt('BENCH_BLOBS', 64),
    concurrency: envInt('BENCH_CONCURRENCY', 8),
    bigBlobMb: envInt('BENCH_BIG_BLOB_MB', 128),
    repeat: envInt('BENCH_REPEAT', 2),
    scenarios: envScenarios(),
    tmp: process.env.BENCH_TMP ?? tmpdir(),
    keep: process.env.BENCH_KEEP === '1',
    rwmNodeArgs: (process.env.BENCH_RWM_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== ''),
  };
}

/** Everything a scenario needs: the configuration, the scratch directory, the clock tick rate. */
interface Ctx {
  readonly cfg: BenchConfig;
  readonly work: string;
  readonly clkTck: number;
  readonly rcloneConfig: string;
}

// ---------------------------------------------------------------------------------------------
// Generated data: deterministic, incompressible bytes





interface BlobSpec {
  readonly id: string; // SHA-256 of the content, as restic names files
  readonly seed: string;
  readonly size: number;
}

/** Names `count` blobs by their hashes; the bytes are generated again, one blob at a time, to upload. */
function blobSpecs(tag: string, count: number, size: number): BlobSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const seed = `blob-${tag}-${size}-${i}`;
    return { id: createHash('sha256').update(seededBytes(seed, size)).digest('hex'), seed, size };
  });
}

// ---------------------------------------------------------------------------------------------
// Processes: the servers, restic, /proc



interface Server {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly url: string; // ends with "/"
  stop(): Promise<void>;
}

interface ServerCommand {
  readonly cmd: string;
  readonly args: string[];
  /** The server's URL if this stderr line says it is listening. */
  readonly readyUrl: (line: string) => string | undefined;
}


function serverCommand(kind: ServerKind, dataDir: string, ctx: Ctx): ServerCommand {
  switch (kind) {
    case 'rwm':
      // node itself, not npx or a shell, so the PID we measure is the server's.
      return {
        cmd: process.execPath,
        args: [...ctx.cfg.rwmNodeArgs, CLI, 'serve', '--path', dataDir, '--listen', '127.0.0.1:0', '--no-auth'],
        readyUrl: rwmReadyUrl,
      };
    case 'rclone':
      return {
        cmd: 'rclone',
        args: ['serve', 'restic', '--append-only', '--config', ctx.rcloneConfig, '--addr', '127.0.0.1:0', dataDir],
        readyUrl: (line) => /Serving restic REST API on (http:\/\/\S+)/.exec(line)?.[1],
      };
  }
}


async function startServer(kind: ServerKind, dataDir: string, ctx: Ctx): Promise<Server> {
  const { cmd, args, readyUrl } = serverCommand(kind, dataDir, ctx);
  const proc = spawn(cmd, args, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    if (!(await waitForExit(proc, STOP_TIMEOUT_MS))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, STOP_TIMEOUT_MS);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`)), START_TIMEOUT_MS);
    // Keep reading stderr for the server's whole life, so a full pipe never blocks it.
    createInterface({ input: proc.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const u = readyUrl(line);
      if (u !== undefined) {
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
  return { kind, pid: proc.pid, url, stop };
}

/** Runs restic with a fresh cache directory and only the environment it needs; returns stdout. */
async function runRestic(args: string[], cacheDir: string): Promise<string> {
  return runCapture('restic', args, { env: childEnv({ RESTIC_PASSWORD, RESTIC_CACHE_DIR: cacheDir }) });
}


/** Bytes of regular files under dir (what the server stored). */
async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// HTTP client

/** One request; resolves with the status once the response is fully read. */
function httpRequest(agent: Agent, method: string, url: string, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = body ? { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) } : {};
    const req = request(url, { method, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function createRepo(server: Server): Promise<void> {
  const agent = new Agent();
  try {
    const status = await httpRequest(agent, 'POST', `${server.url}${REPO}/?create=true`);
    if (status !== 200) throw new Error(`${server.kind}: creating the repository answered ${status}`);
  } finally {
    agent.destroy();
  }
}

/** Uploads every blob, `concurrency` at a time over keep-alive connections; any non-200 fails. */
async function uploadBlobs(server: Server, blobs: readonly BlobSpec[], concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < blobs.length; i = next++) {
      const blob = blobs[i]!;
      const status = await httpRequest(agent, 'POST', `${server.url}${REPO}/data/${blob.id}`, seededBytes(blob.seed, blob.size));
      if (status !== 200) throw new Error(`${server.kind}: upload of ${blob.id} answered ${status}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, blobs.length) }, worker));
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement harness and scenarios

interface Measurement {
  readonly wallSec: number;
  readonly metrics: Metrics;
}

/**
 * Fresh data directory, start the server, `prepare` (not measured), flush the disks, then time
 * `work`. Server CPU is what it used during `work`; peak RSS is over its whole life.
 */
async function measureServer(
  kind: ServerKind,
  ctx: Ctx,
  prepare: (server: Server) => Promise<void>,
  work: (server: Server) => Promise<Metrics>,
): Promise<Measurement> {
  const dataDir = await mkdtemp(join(ctx.work, `${kind}-data-`));
  const server = await startServer(kind, dataDir, ctx);
  try {
    const idle = await readProcStats(server.pid, ctx.clkTck);
    await prepare(server);
    await syncDisks(); // the previous run's writeback must not land in this run
    const before = await readProcStats(server.pid, ctx.clkTck);
    const t0 = performance.now();
    const extra = await work(server);
    const wallSec = (performance.now() - t0) / 1000;
    const after = await readProcStats(server.pid, ctx.clkTck);
    return {
      wallSec,
      metrics: {
        wall_s: wallSec,
        server_cpu_s: after.cpuSec - before.cpuSec,
        server_main_thread_cpu_s: after.mainThreadCpuSec - before.mainThreadCpuSec,
        server_cpu_total_s: after.cpuSec,
        idle_rss_mib: idle.rssMiB,
        peak_rss_mib: after.peakRssMiB,
        stored_mib: (await storedBytes(dataDir)) / MiB,
        ...extra,
      },
    };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchBackup(kind: ServerKind, ctx: Ctx, src: { dir: string; bytes: number }): Promise<Metrics> {
  const cache = await mkdtemp(join(ctx.work, 'restic-cache-'));
  const repo = (s: Server): string => `rest:${s.url}${REPO}/`;
  try {
    const init = async (s: Server): Promise<void> => {
      await runRestic(['-r', repo(s), 'init'], cache);
    };
    const m = await measureServer(kind, ctx, init, async (s) => {
      const out = await runRestic(['-r', repo(s), 'backup', '--json', '--quiet', '--host', 'bench', src.dir], cache);
      const summary = out.split('\n').filter((l) => l.includes('"summary"')).map((l) => JSON.parse(l) as { data_added: number; total_files_processed: number })[0];
      if (!summary) throw new Error(`restic backup printed no summary:\n${out}`);
      return { restic_data_added_mib: summary.data_added / MiB, restic_files: summary.total_files_processed };
    });
    return { ...m.metrics, throughput_mibs: src.bytes / MiB / m.wallSec };
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

async function benchUpload(kind: ServerKind, ctx: Ctx, blobs: readonly BlobSpec[]): Promise<Metrics> {
  const bytes = blobs.reduce((sum, b) => sum + b.size, 0);
  const m = await measureServer(kind, ctx, createRepo, async (s) => {
    const cpu0 = process.cpuUsage();
    await uploadBlobs(s, blobs, ctx.cfg.concurrency);
    const cpu = process.cpuUsage(cpu0);
    return { client_cpu_s: (cpu.user + cpu.system) / 1e6 };
  });
  const serverCpu = m.metrics.server_cpu_s ?? 0;
  return { ...m.metrics, throughput_mibs: bytes / MiB / m.wallSec, server_cpu_s_per_gib: serverCpu / (bytes / (1024 * MiB)) };
}

/**
 * One upload each of the small, a middle (half the big) and the big blob, each to a fresh server. A
 * server that buffers bodies grows with the blob; a streaming one levels off.
 */
async function benchBigBlob(kind: ServerKind, ctx: Ctx, blobs: { small: BlobSpec; mid: BlobSpec; big: BlobSpec }): Promise<Metrics> {
  const peakRss = async (blob: BlobSpec): Promise<Measurement> => measureServer(kind, ctx, createRepo, async (s) => {
    await uploadBlobs(s, [blob], 1);
    return {};
  });
  const small = await peakRss(blobs.small);
  const mid = await peakRss(blobs.mid);
  const big = await peakRss(blobs.big);
  const peak = (m: Measurement): number => m.metrics.peak_rss_mib ?? 0;
  return {
    idle_rss_mib: small.metrics.idle_rss_mib ?? 0,
    peak_rss_small_mib: peak(small),
    peak_rss_mid_mib: peak(mid),
    peak_rss_big_mib: peak(big),
    rss_growth_mib: peak(big) - peak(small),
    rss_growth_mid_big_mib: peak(big) - peak(mid),
    big_wall_s: big.wallSec,
    big_server_cpu_s: big.metrics.server_cpu_s ?? 0,
  };
}

interface RunResult {
  readonly scenario: Scenario;
  readonly server: ServerKind;
  readonly repetition: number;
  readonly metrics: Metrics;
}

/** rwm first in even repetitions, rclone first in odd ones, so neither always runs on a warmer machine. */
function serverOrder(repetition: number): readonly ServerKind[] {
  return repetition % 2 === 0 ? SERVERS : [...SERVERS].reverse();
}

async function runScenario(scenario: Scenario, ctx: Ctx, once: (kind: ServerKind) => Promise<Metrics>): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let repetition = 0; repetition < ctx.cfg.repeat; repetition++) {
    for (const server of serverOrder(repetition)) {
      log(`${scenario}: ${server} (repetition ${repetition + 1}/${ctx.cfg.repeat})`);
      const metrics = await once(server);
      log(`${scenario}: ${server} done: ${Object.entries(metrics).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')}`);
      results.push({ scenario, server, repetition, metrics });
    }
  }
  return results;
}

async function runBackupScenario(ctx: Ctx): Promise<RunResult[]> {
  const dir = join(ctx.work, 'source');
  log(`generating ${ctx.cfg.sizeMb} MiB of backup source files in ${dir}`);
  const tree = await generateTree(dir, ctx.cfg.sizeMb * MiB);
  log(`generated ${tree.files} files`);
  try {
    return await runScenario('backup', ctx, (kind) => benchBackup(kind, ctx, { dir, bytes: tree.bytes }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runUploadScenario(ctx: Ctx): Promise<RunResult[]> {
  log(`hashing ${ctx.cfg.blobs} blobs of ${ctx.cfg.blobMb} MiB`);
  const blobs = blobSpecs('load', ctx.cfg.blobs, ctx.cfg.blobMb * MiB);
  return runScenario('upload', ctx, (kind) => benchUpload(kind, ctx, blobs));
}

function midBlobMb(cfg: BenchConfig): number {
  return Math.max(cfg.blobMb, Math.floor(cfg.bigBlobMb / 2));
}

async function runBigBlobScenario(ctx: Ctx): Promise<RunResult[]> {
  const spec = (mb: number): BlobSpec => blobSpecs('single', 1, mb * MiB)[0]!;
  const blobs = { small: spec(ctx.cfg.blobMb), mid: spec(midBlobMb(ctx.cfg)), big: spec(ctx.cfg.bigBlobMb) };
  return runScenario('bigblob', ctx, (kind) => benchBigBlob(kind, ctx, blobs));
}

// ---------------------------------------------------------------------------------------------
// Report

interface RowSpec {
  readonly scenario: Scenario;
  readonly metric: string;
  readonly key: string;
  /** Which ratio is good for rwm: 'lower' (≤ 1), 'higher' (≥ 1), or just information. */
  readonly better: 'lower' | 'higher' | 'info';
  /** A difference near zero for both servers: a ratio would be noise. */
  readonly noRatio?: true;
}

function rowSpecs(cfg: BenchConfig): RowSpec[] {
  const up = `${cfg.blobs}×${cfg.blobMb} MiB, ${cfg.concurrency} parallel`;
  return [
    { scenario: 'backup', metric: 'restic backup wall time, s', key: 'wall_s', better: 'lower' },
    { scenario: 'backup', metric: 'backup throughput, MiB/s', key: 'throughput_mibs', better: 'higher' },
    { scenario: 'backup', metric: 'server CPU during backup, s', key: 'server_cpu_s', better: 'lower' },
    { scenario: 'backup', metric: 'server peak RSS, MiB', key: 'peak_rss_mib', better: 'lower' },
    { scenario: 'backup', metric: 'stored on disk, MiB', key: 'stored_mib', better: 'info' },
    { scenario: 'upload', metric: `throughput (${up}), MiB/s`, key: 'throughput_mibs', better: 'higher' },
    { scenario: 'upload', metric: 'wall time, s', key: 'wall_s', better: 'lower' },
    { scenario: 'upload', metric: 'server CPU, s per GiB', key: 'server_cpu_s_per_gib', better: 'lower' },
    { scenario: 'upload', metric: 'server peak RSS, MiB', key: 'peak_rss_mib', better: 'lower' },
    { scenario: 'upload', metric: 'client CPU (generate + send), s', key: 'client_cpu_s', better: 'info' },
    { scenario: 'bigblob', metric: 'server RSS idle, MiB', key: 'idle_rss_mib', better: 'info' },
    { scenario: 'bigblob', metric: `peak RSS, one ${cfg.blobMb} MiB upload, MiB`, key: 'peak_rss_small_mib', better: 'lower' },
    { scenario: 'bigblob', metric: `peak RSS, one ${midBlobMb(cfg)} MiB upload, MiB`, key: 'peak_rss_mid_mib', better: 'lower' },
    { scenario: 'bigblob', metric: `peak RSS, one ${cfg.bigBlobMb} MiB upload, MiB`, key: 'peak_rss_big_mib', better: 'lower' },
    { scenario: 'bigblob', metric: `peak RSS growth ${cfg.blobMb}→${cfg.bigBlobMb} MiB, MiB`, key: 'rss_growth_mib', better: 'info', noRatio: true },
    { scenario: 'bigblob', metric: `peak RSS growth ${midBlobMb(cfg)}→${cfg.bigBlobMb} MiB, MiB`, key: 'rss_growth_mid_big_mib', better: 'info', noRatio: true },
  ];
}


function medianOf(runs: readonly RunResult[], scenario: Scenario, server: ServerKind, key: string): number | undefined {
  const values = runs.filter((r) => r.scenario === scenario && r.server === server).map((r) => r.metrics[key]).filter((v) => v !== undefined);
  return values.length === 0 ? undefined : median(values);
}

interface SummaryRow {
  readonly scenario: Scenario;
  readonly metric: string;
  readonly key: string;
  readonly better: RowSpec['better'];
  readonly rwm: number | undefined;
  readonly rclone: number | undefined;
  readonly ratio: number | undefined;
}

function summarize(runs: readonly RunResult[], cfg: BenchConfig): SummaryRow[] {
  return rowSpecs(cfg)
    .filter((spec) => cfg.scenarios.includes(spec.scenario))
    .map((spec) => {
      const rwm = medianOf(runs, spec.scenario, 'rwm', spec.key);
      const rclone = medianOf(runs, spec.scenario, 'rclone', spec.key);
      const ratio = rwm !== undefined && rclone !== undefined && rclone !== 0 && spec.noRatio !== true ? rwm / rclone : undefined;
      return { ...spec, rwm, rclone, ratio };
    });
}


function fmtSigned(v: number, digits = 1): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

function renderSummary(rows: readonly SummaryRow[]): string {
  const header = ['scenario', 'metric', 'rwm', 'rclone', 'ratio', 'rwm better if'];
  const goal = { lower: 'ratio ≤ 1', higher: 'ratio ≥ 1', info: '' } as const;
  const cells = rows.map((r) => [r.scenario, r.metric, fmt(r.rwm), fmt(r.rclone), fmt(r.ratio), goal[r.better]]);
  return renderTable(header, cells, (i) => i >= 2 && i <= 4);
}

function verdicts(rows: readonly SummaryRow[], cfg: BenchConfig): string[] {
  const find = (scenario: Scenario, key: string): SummaryRow | undefined => rows.find((r) => r.scenario === scenario && r.key === key);
  const out: string[] = [];
  const backup = find('backup', 'wall_s');
  if (backup?.ratio !== undefined) {
    out.push(`restic backup: rwm takes ${fmt(backup.ratio)}× rclone's wall time → ${backup.ratio <= 1.05 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  }
  const upload = find('upload', 'throughput_mibs');
  if (upload?.ratio !== undefined) {
    out.push(`upload: rwm has ${fmt(upload.ratio)}× rclone's throughput → ${upload.ratio >= 0.95 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  }
  const small = find('bigblob', 'peak_rss_small_mib')?.rwm;
  const mid = find('bigblob', 'peak_rss_mid_mib')?.rwm;
  const big = find('bigblob', 'peak_rss_big_mib')?.rwm;
  if (small !== undefined && mid !== undefined && big !== undefined) {
    // A server that holds bodies in memory would add about (big - mid) MiB; allow a tenth of that.
    const midMb = midBlobMb(cfg);
    const limit = Math.max(8, (cfg.bigBlobMb - midMb) / 10);
    const flat = big - mid <= limit;
    out.push(
      `memory: rwm peak RSS ${fmt(small, 1)} / ${fmt(mid, 1)} / ${fmt(big, 1)} MiB for one ${cfg.blobMb} / ${midMb} / ${cfg.bigBlobMb} MiB upload ` +
        `(${fmtSigned(big - small)} MiB from ${cfg.blobMb} to ${cfg.bigBlobMb} MiB, ${fmtSigned(big - mid)} MiB from ${midMb} to ${cfg.bigBlobMb} MiB) → ` +
        (flat ? `levels off, does not grow with blob size (≤ ${fmt(limit, 0)} MiB for the last ${cfg.bigBlobMb - midMb} MiB)` : 'GROWS with blob size'),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main


async function machineInfo(clkTck: number): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: totalmem() / 1024 ** 3,
    node: process.version,
    rwm: pkg.version,
    rwmGit: await gitState(),
    restic: await versionOf('restic', ['version']),
    rclone: await versionOf('rclone', ['version']),
    clkTck,
  };
}

async function main(): Promise<void> {
  const cfg = readConfig();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (or "npm run bench")`);
  const clkTck = Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim());
  const machine = await machineInfo(clkTck);
  const work = await mkdtemp(join(cfg.tmp, 'rwm-bench-'));
  const startedAt = new Date().toISOString();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}`);
  try {
    const rcloneConfig = join(work, 'rclone.conf');
    await writeFile(rcloneConfig, '');
    const ctx: Ctx = { cfg, work, clkTck, rcloneConfig };
    const runs: RunResult[] = [];
    if (cfg.scenarios.includes('backup')) runs.push(...(await runBackupScenario(ctx)));
    if (cfg.scenarios.includes('upload')) runs.push(...(await runUploadScenario(ctx)));
    if (cfg.scenarios.includes('bigblob')) runs.push(...(await runBigBlobScenario(ctx)));
    const rows = summarize(runs, cfg);
    const lines = verdicts(rows, cfg);
    process.stdout.write(`\nrwm serve vs rclone serve restic --append-only (median of ${cfg.repeat} run(s) each; ratio = rwm / rclone)\n\n`);
    process.stdout.write(`${renderSummary(rows)}\n\n${lines.join('\n')}\n`);
    const file = await writeResults('serve', { startedAt, finishedAt: new Date().toISOString(), config: cfg, machine, summary: rows, verdicts: lines, runs });
    process.stdout.write(`\nraw results: ${file}\n`);
  } finally {
    if (cfg.keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
