// Side-by-side benchmark of `rwm serve` and `rclone serve restic --append-only`: same machine, same
// data, one run. Not a test: it prints a table of medians with the ratios, and writes every raw
// measurement to bench/out/serve-<timestamp>.json.
//
// Scenarios (each server run gets a fresh, empty data directory):
//   backup   `restic backup` of BENCH_SIZE_MB of generated, incompressible files through each server,
//            and with restic's own local backend straight into the directory (no server: the floor)
//   upload   BENCH_BLOBS blobs of BENCH_BLOB_MB, BENCH_CONCURRENCY at a time, POSTed over keep-alive
//            HTTP/1.1 as /bench/data/<sha256> (server throughput)
//   bigblob  one BENCH_BIG_BLOB_MB upload vs one BENCH_BLOB_MB upload (peak memory must stay flat)
// For every run the server process's own CPU time (utime+stime, /proc/PID/stat) during the work and
// its peak RSS (VmHWM, /proc/PID/status) are read before it is stopped. See bench/README.md.
//
// Usage: npm run bench   (or, with dist/ built: node --import tsx bench/serve.ts)
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { cleanUpOnSignals, runBench, scratchDir } from './lib/cleanup.js';
import { generateTree, GiB, MiB, seededBytes } from './lib/data.js';
import { measureWindow } from './lib/measure.js';
import { childEnv, readProcStats } from './lib/proc.js';
import { clockTicks, createLog, envInt, envList, fmt, machineInfo, rwmNodeArgs, writeResults } from './lib/report.js';
import { resticBackup, runRestic } from './lib/restic.js';
import { copyRwmBuild } from './lib/rwm-build.js';
import { emptyRcloneConfig, rcloneServe, rwmServe, startServer, type Server, type ServeContext, type ServerCommand, type ServerKind } from './lib/server.js';
import { renderSummary, rotated, summarize, type Metrics, type RowSpec, type SummaryRow, type VariantRun } from './lib/summary.js';

const log = createLog('bench');
cleanUpOnSignals('the servers');

const REPO = 'bench';
const SCENARIOS = ['backup', 'upload', 'bigblob'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** direct: restic's local backend, no server (the floor; backup only). */
const VARIANTS = ['rwm', 'rclone', 'direct'] as const;
type Variant = (typeof VARIANTS)[number];
const SERVERS: readonly ServerKind[] = ['rwm', 'rclone'];

interface BenchConfig {
  readonly sizeMb: number;
  readonly blobMb: number;
  readonly blobs: number;
  readonly concurrency: number;
  readonly bigBlobMb: number;
  readonly repeat: number;
  readonly scenarios: readonly Scenario[];
  readonly keep: boolean;
  readonly rwmNodeArgs: readonly string[];
}

function readConfig(): BenchConfig {
  return {
    sizeMb: envInt('BENCH_SIZE_MB', 1024),
    blobMb: envInt('BENCH_BLOB_MB', 16),
    blobs: envInt('BENCH_BLOBS', 64),
    concurrency: envInt('BENCH_CONCURRENCY', 8),
    bigBlobMb: envInt('BENCH_BIG_BLOB_MB', 128),
    repeat: envInt('BENCH_REPEAT', 2),
    scenarios: envList('BENCH_SCENARIOS', SCENARIOS),
    keep: process.env.BENCH_KEEP === '1',
    rwmNodeArgs: rwmNodeArgs(),
  };
}

interface Ctx extends ServeContext {
  readonly cfg: BenchConfig;
}

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

function serverCommand(kind: ServerKind, dataDir: string, ctx: Ctx): ServerCommand {
  switch (kind) {
    case 'rwm':
      return rwmServe(ctx.cli, ctx.cfg.rwmNodeArgs, ['--path', dataDir], childEnv());
    case 'rclone':
      return rcloneServe(ctx.rcloneConfig, dataDir, childEnv());
  }
}

/** Bytes of regular files under dir (what the server stored). */
async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

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

async function createRepo(server: Server | undefined): Promise<void> {
  if (server === undefined) throw new Error('the HTTP scenarios need a server');
  const agent = new Agent();
  try {
    const status = await httpRequest(agent, 'POST', `${server.url}${REPO}/?create=true`);
    if (status !== 200) throw new Error(`${server.kind}: creating the repository answered ${status}`);
  } finally {
    agent.destroy();
  }
}

/** Uploads every blob, `concurrency` at a time over keep-alive connections; any non-200 fails. */
async function uploadBlobs(server: Server | undefined, blobs: readonly BlobSpec[], concurrency: number): Promise<void> {
  if (server === undefined) throw new Error('the HTTP scenarios need a server');
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

/**
 * Fresh data directory, start the server (none for direct), `prepare` (not measured), then time
 * `work`. Server CPU is what it used during `work`; peak RSS is over its whole life; restic CPU is
 * what this process's children used meanwhile.
 */
async function measureServer(variant: Variant, ctx: Ctx, bytes: number, prepare: (server: Server | undefined, dataDir: string) => Promise<void>, work: (server: Server | undefined, dataDir: string) => Promise<Metrics>): Promise<Metrics> {
  const dataDir = await mkdtemp(join(ctx.work, `${variant}-data-`));
  const server = variant === 'direct' ? undefined : await startServer(variant, serverCommand(variant, dataDir, ctx));
  try {
    const idle = server ? await readProcStats(server.pid, ctx.clkTck) : undefined;
    await prepare(server, dataDir);
    const { result, window: w } = await measureWindow(ctx, server?.pid, () => work(server, dataDir));
    const m: Record<string, number | undefined> = {
      wall_s: w.wallSec,
      throughput_mibs: bytes / MiB / w.wallSec,
      server_cpu_s: w.serverCpuSec,
      server_cpu_s_per_gib: w.serverCpuSec === undefined ? undefined : w.serverCpuSec / (bytes / GiB),
      server_main_thread_cpu_s: w.serverMainThreadCpuSec,
      server_cpu_total_s: w.serverCpuTotalSec,
      idle_rss_mib: idle?.rssMiB,
      peak_rss_mib: w.serverPeakRssMiB,
      restic_cpu_s: w.childrenCpuSec,
      total_cpu_s: w.childrenCpuSec + (w.serverCpuSec ?? 0),
      stored_mib: (await storedBytes(dataDir)) / MiB,
      ...result,
    };
    return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => e[1] !== undefined));
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchBackup(variant: Variant, ctx: Ctx, src: { dir: string; bytes: number }): Promise<Metrics> {
  const cache = await mkdtemp(join(ctx.work, 'restic-cache-'));
  const repo = (s: Server | undefined, dataDir: string): string => (s === undefined ? join(dataDir, REPO) : `rest:${s.url}${REPO}/`);
  try {
    return await measureServer(variant, ctx, src.bytes, async (s, d) => void (await runRestic(['-r', repo(s, d), 'init'], cache)), async (s, d) => resticBackup(repo(s, d), src.dir, cache));
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

async function benchUpload(kind: Variant, ctx: Ctx, blobs: readonly BlobSpec[]): Promise<Metrics> {
  const bytes = blobs.reduce((sum, b) => sum + b.size, 0);
  return measureServer(kind, ctx, bytes, createRepo, async (s) => {
    const cpu0 = process.cpuUsage();
    await uploadBlobs(s, blobs, ctx.cfg.concurrency);
    const cpu = process.cpuUsage(cpu0);
    return { client_cpu_s: (cpu.user + cpu.system) / 1e6 };
  });
}

const midBlobMb = (cfg: BenchConfig): number => Math.max(cfg.blobMb, Math.floor(cfg.bigBlobMb / 2));

/**
 * One upload each of the small, a middle (half the big) and the big blob, each to a fresh server. A
 * server that buffers bodies grows with the blob; a streaming one levels off.
 */
async function benchBigBlob(kind: Variant, ctx: Ctx, blobs: { small: BlobSpec; mid: BlobSpec; big: BlobSpec }): Promise<Metrics> {
  const once = async (blob: BlobSpec): Promise<Metrics> => measureServer(kind, ctx, blob.size, createRepo, async (s) => {
    await uploadBlobs(s, [blob], 1);
    return {};
  });
  const small = await once(blobs.small);
  const mid = await once(blobs.mid);
  const big = await once(blobs.big);
  const peak = (m: Metrics): number => m.peak_rss_mib ?? 0;
  return {
    idle_rss_mib: small.idle_rss_mib ?? 0,
    peak_rss_small_mib: peak(small),
    peak_rss_mid_mib: peak(mid),
    peak_rss_big_mib: peak(big),
    rss_growth_mib: peak(big) - peak(small),
    rss_growth_mid_big_mib: peak(big) - peak(mid),
    big_wall_s: big.wall_s ?? 0,
    big_server_cpu_s: big.server_cpu_s ?? 0,
  };
}

/** `repeat` runs of every variant, the order rotated each time, so none always runs on a warmer machine. */
async function runScenario(scenario: Scenario, ctx: Ctx, variants: readonly Variant[], once: (variant: Variant) => Promise<Metrics>): Promise<VariantRun<Variant>[]> {
  const results: VariantRun<Variant>[] = [];
  for (let repetition = 0; repetition < ctx.cfg.repeat; repetition++) {
    for (const variant of rotated(variants, repetition)) {
      log(`${scenario}: ${variant} (repetition ${repetition + 1}/${ctx.cfg.repeat})`);
      const metrics = await once(variant);
      log(`${scenario}: ${variant} done: ${Object.entries(metrics).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')}`);
      results.push({ scenario, variant, metrics });
    }
  }
  return results;
}

async function runScenarios(ctx: Ctx): Promise<VariantRun<Variant>[]> {
  const runs: VariantRun<Variant>[] = [];
  const { cfg } = ctx;
  if (cfg.scenarios.includes('backup')) {
    const dir = join(ctx.work, 'source');
    log(`generating ${cfg.sizeMb} MiB of backup source files in ${dir}`);
    const tree = await generateTree(dir, cfg.sizeMb * MiB);
    log(`generated ${tree.files} files`);
    runs.push(...(await runScenario('backup', ctx, VARIANTS, (v) => benchBackup(v, ctx, { dir, bytes: tree.bytes }))));
    await rm(dir, { recursive: true, force: true });
  }
  if (cfg.scenarios.includes('upload')) {
    log(`hashing ${cfg.blobs} blobs of ${cfg.blobMb} MiB`);
    const blobs = blobSpecs('load', cfg.blobs, cfg.blobMb * MiB);
    runs.push(...(await runScenario('upload', ctx, SERVERS, (v) => benchUpload(v, ctx, blobs))));
  }
  if (cfg.scenarios.includes('bigblob')) {
    const spec = (mb: number): BlobSpec => blobSpecs('single', 1, mb * MiB)[0]!;
    const blobs = { small: spec(cfg.blobMb), mid: spec(midBlobMb(cfg)), big: spec(cfg.bigBlobMb) };
    runs.push(...(await runScenario('bigblob', ctx, SERVERS, (v) => benchBigBlob(v, ctx, blobs))));
  }
  return runs;
}

function rowSpecs(cfg: BenchConfig): RowSpec<Variant>[] {
  const up = `${cfg.blobs}×${cfg.blobMb} MiB, ${cfg.concurrency} parallel`;
  const noServer: Variant[] = ['direct'];
  const httpOnly = { notFor: noServer };
  return [
    { scenario: 'backup', metric: 'restic backup wall time, s', key: 'wall_s', better: 'lower' },
    { scenario: 'backup', metric: 'backup throughput, MiB/s', key: 'throughput_mibs', better: 'higher' },
    { scenario: 'backup', metric: 'server CPU during backup, s', key: 'server_cpu_s', better: 'lower', notFor: noServer },
    { scenario: 'backup', metric: 'server CPU, s per GiB backed up', key: 'server_cpu_s_per_gib', better: 'lower', notFor: noServer },
    { scenario: 'backup', metric: 'restic CPU (user+sys), s', key: 'restic_cpu_s', better: 'info' },
    { scenario: 'backup', metric: 'total CPU (restic+server), s', key: 'total_cpu_s', better: 'lower' },
    { scenario: 'backup', metric: 'server peak RSS, MiB', key: 'peak_rss_mib', better: 'lower', notFor: noServer },
    { scenario: 'backup', metric: 'stored on disk, MiB', key: 'stored_mib', better: 'info', noRatio: true },
    { scenario: 'upload', metric: `throughput (${up}), MiB/s`, key: 'throughput_mibs', better: 'higher', ...httpOnly },
    { scenario: 'upload', metric: 'wall time, s', key: 'wall_s', better: 'lower', ...httpOnly },
    { scenario: 'upload', metric: 'server CPU, s per GiB', key: 'server_cpu_s_per_gib', better: 'lower', ...httpOnly },
    { scenario: 'upload', metric: 'server peak RSS, MiB', key: 'peak_rss_mib', better: 'lower', ...httpOnly },
    { scenario: 'upload', metric: 'client CPU (generate + send), s', key: 'client_cpu_s', better: 'info', ...httpOnly },
    { scenario: 'bigblob', metric: 'server RSS idle, MiB', key: 'idle_rss_mib', better: 'info', ...httpOnly },
    { scenario: 'bigblob', metric: `peak RSS, one ${cfg.blobMb} MiB upload, MiB`, key: 'peak_rss_small_mib', better: 'lower', ...httpOnly },
    { scenario: 'bigblob', metric: `peak RSS, one ${midBlobMb(cfg)} MiB upload, MiB`, key: 'peak_rss_mid_mib', better: 'lower', ...httpOnly },
    { scenario: 'bigblob', metric: `peak RSS, one ${cfg.bigBlobMb} MiB upload, MiB`, key: 'peak_rss_big_mib', better: 'lower', ...httpOnly },
    { scenario: 'bigblob', metric: `peak RSS growth ${cfg.blobMb}→${cfg.bigBlobMb} MiB, MiB`, key: 'rss_growth_mib', better: 'info', noRatio: true, ...httpOnly },
    { scenario: 'bigblob', metric: `peak RSS growth ${midBlobMb(cfg)}→${cfg.bigBlobMb} MiB, MiB`, key: 'rss_growth_mid_big_mib', better: 'info', noRatio: true, ...httpOnly },
  ];
}

function fmtSigned(v: number, digits = 1): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

function verdicts(rows: readonly SummaryRow<Variant>[], cfg: BenchConfig): string[] {
  const find = (scenario: Scenario, key: string): SummaryRow<Variant> | undefined => rows.find((r) => r.scenario === scenario && r.key === key);
  const out: string[] = [];
  const backup = find('backup', 'wall_s');
  const [vsRclone, vsDirect] = backup?.ratios ?? [];
  if (vsRclone !== undefined) out.push(`restic backup: rwm takes ${fmt(vsRclone)}× rclone's wall time → ${vsRclone <= 1.05 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  if (vsDirect !== undefined) out.push(`restic backup: rwm takes ${fmt(vsDirect)}× the wall time of restic's local backend writing the directory itself (the floor)`);
  const cpu = find('backup', 'server_cpu_s_per_gib');
  if (cpu?.ratios[0] !== undefined) out.push(`server CPU per GiB backed up: rwm ${fmt(cpu.values.rwm)} s, rclone ${fmt(cpu.values.rclone)} s (${fmt(cpu.ratios[0])}×)`);
  const upload = find('upload', 'throughput_mibs');
  if (upload?.ratios[0] !== undefined) out.push(`upload: rwm has ${fmt(upload.ratios[0])}× rclone's throughput → ${upload.ratios[0] >= 0.95 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  const small = find('bigblob', 'peak_rss_small_mib')?.values.rwm;
  const mid = find('bigblob', 'peak_rss_mid_mib')?.values.rwm;
  const big = find('bigblob', 'peak_rss_big_mib')?.values.rwm;
  if (small !== undefined && mid !== undefined && big !== undefined) {
    // A server that holds bodies in memory would add about (big - mid) MiB; allow a tenth of that.
    const midMb = midBlobMb(cfg);
    const limit = Math.max(8, (cfg.bigBlobMb - midMb) / 10);
    out.push(
      `memory: rwm peak RSS ${fmt(small, 1)} / ${fmt(mid, 1)} / ${fmt(big, 1)} MiB for one ${cfg.blobMb} / ${midMb} / ${cfg.bigBlobMb} MiB upload ` +
        `(${fmtSigned(big - small)} MiB from ${cfg.blobMb} to ${cfg.bigBlobMb} MiB, ${fmtSigned(big - mid)} MiB from ${midMb} to ${cfg.bigBlobMb} MiB) → ` +
        (big - mid <= limit ? `levels off, does not grow with blob size (≤ ${fmt(limit, 0)} MiB for the last ${cfg.bigBlobMb - midMb} MiB)` : 'GROWS with blob size'),
    );
  }
  return out;
}

async function main(): Promise<void> {
  const cfg = readConfig();
  const build = await copyRwmBuild('bench', log);
  const clkTck = await clockTicks();
  const machine = await machineInfo(clkTck, { restic: ['restic', 'version'], rclone: ['rclone', 'version'] });
  const work = await scratchDir('rwm-bench', cfg.keep);
  const startedAt = new Date().toISOString();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}`);
  const ctx: Ctx = { cfg, work, clkTck, cli: build.cli, rcloneConfig: await emptyRcloneConfig(work) };
  const runs = await runScenarios(ctx);
  const specs = rowSpecs(cfg).filter((s) => cfg.scenarios.includes(s.scenario as Scenario));
  const rows = summarize(runs, specs, VARIANTS, 'rwm', ['rclone', 'direct']);
  const lines = verdicts(rows, cfg);
  process.stdout.write(`\nrwm serve vs rclone serve restic --append-only, and restic's local backend without a server (direct, the floor; backup only)\n(median of ${cfg.repeat} run(s) each; ratios of the medians; server CPU from /proc during the work)\n\n`);
  process.stdout.write(`${renderSummary(rows, VARIANTS, 'rwm', ['rclone', 'direct'])}\n\n${lines.join('\n')}\n`);
  const file = await writeResults('serve', { startedAt, finishedAt: new Date().toISOString(), config: cfg, machine: { ...machine, rwmSrcNewerThanDist: build.stale }, summary: rows, verdicts: lines, runs });
  process.stdout.write(`\nraw results: ${file}\n`);
}

await runBench(main);
