// Three ways for restic to reach the same S3 server (a Ceph RGW this benchmark starts itself with
// scripts/s3-test-server.sh), measured in one run on the same generated data:
//   rwm     restic -> rest:http://127.0.0.1 -> rwm serve --s3 BUCKET/restic -> RGW
//   rclone  restic -> rest:http://127.0.0.1 -> rclone serve restic --append-only s3:BUCKET/restic -> RGW
//   direct  restic -> s3:http://127.0.0.1:RGW/BUCKET/restic/bench (no server in between: the floor)
// Each run gets a fresh bucket (created and afterwards emptied of every version and deleted as the
// RGW admin user, whose keys all three variants use), then `restic init` (not timed) and a timed
// `restic backup`. Measured: wall time, restic's CPU, the server's CPU (also per GiB) and peak RSS
// (rwm or rclone, from /proc), and RGW's and the OSD's CPU. BENCH_ROUNDS rounds, the order rotated
// every round; the table shows medians with the ratios rwm / rclone and rwm / direct. Not a test: it
// only reports. Raw results go to bench/out/serve-s3-<timestamp>.json. See bench/README.md.
//
// Usage: npm run bench:s3   (or, with dist/ built: node --import tsx bench/serve-s3.ts)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { cleanUpOnSignals, onCleanup, runBench, scratchDir } from './lib/cleanup.js';
import { generateTree, GiB, MiB } from './lib/data.js';
import { measureWindow } from './lib/measure.js';
import { childEnv, readProcStats } from './lib/proc.js';
import { adminClient, adminEnv, createBucket, emptyAndDeleteBucket, rcloneRemoteEnv, s3Script, startRgw, warmUp, type BucketContents, type Rgw } from './lib/rgw.js';
import { clockTicks, createLog, envInt, envList, fmt, machineInfo, renderTable, rwmNodeArgs, writeResults } from './lib/report.js';
import { resticBackup, runRestic } from './lib/restic.js';
import { copyRwmBuild } from './lib/rwm-build.js';
import { emptyRcloneConfig, rcloneServe, rwmServe, startServer, type Server, type ServeContext, type ServerCommand, type ServerKind } from './lib/server.js';
import { renderSummary, rotated, summarize, type Metrics, type RowSpec, type SummaryRow, type VariantRun } from './lib/summary.js';

const log = createLog('bench-s3');
cleanUpOnSignals('the servers and the RGW');

/** Key prefix in every bucket (rwm's --s3 BUCKET/PREFIX, rclone's s3:BUCKET/PREFIX) ... */
const PREFIX = 'restic';
/** ... and the repository below it: every variant stores under PREFIX/REPO/{config,data/..,...}. */
const REPO = 'bench';

const VARIANTS = ['rwm', 'rclone', 'direct'] as const;
type Variant = (typeof VARIANTS)[number];

interface BenchConfig {
  readonly sizeMb: number;
  readonly rounds: number;
  readonly variants: readonly Variant[];
  readonly store: 'memstore' | 'bluestore';
  /** OSD capacity handed to scripts/s3-test-server.sh as RWM_S3_SIZE. */
  readonly osdSize: string;
  readonly versioned: boolean;
  readonly keep: boolean;
  readonly rwmNodeArgs: readonly string[];
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
  const store = process.env.BENCH_S3_STORE ?? 'memstore';
  if (store !== 'memstore' && store !== 'bluestore') throw new Error(`BENCH_S3_STORE must be memstore or bluestore, got "${store}"`);
  return {
    sizeMb,
    rounds: envInt('BENCH_ROUNDS', 3),
    variants: envList('BENCH_VARIANTS', VARIANTS),
    store,
    osdSize: process.env.BENCH_S3_SIZE ?? defaultOsdSize(store, sizeMb),
    versioned: process.env.BENCH_S3_VERSIONED === '1',
    keep: process.env.BENCH_KEEP === '1',
    rwmNodeArgs: rwmNodeArgs(),
  };
}

interface Ctx extends ServeContext {
  readonly cfg: BenchConfig;
  readonly rgw: Rgw;
  readonly s3: S3Client;
  readonly source: { readonly dir: string; readonly bytes: number };
}

function serverCommand(kind: ServerKind, bucket: string, ctx: Ctx): ServerCommand {
  switch (kind) {
    case 'rwm':
      return rwmServe(ctx.cli, ctx.cfg.rwmNodeArgs, ['--s3', `${bucket}/${PREFIX}`, '--s3-endpoint', ctx.rgw.endpoint], adminEnv(ctx.rgw));
    case 'rclone':
      // The remote "s3" comes from the environment; the --config file is empty.
      return rcloneServe(ctx.rcloneConfig, `s3:${bucket}/${PREFIX}`, childEnv(rcloneRemoteEnv('S3', ctx.rgw)));
  }
}

function defined(m: Record<string, number | undefined>): Metrics {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => e[1] !== undefined));
}

/** One run: fresh bucket, (server), restic init, timed restic backup, then stop, count, delete, gc. */
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
      server = await startServer(variant, serverCommand(variant, bucket, ctx));
      repo = `rest:${server.url}${REPO}/`;
    }
    const idle = server ? await readProcStats(server.pid, clkTck) : undefined;
    await runRestic(['-r', repo, 'init'], cache, resticEnv);
    const { result: summary, window: w } = await measureWindow(ctx, server?.pid, () => resticBackup(repo, ctx.source.dir, cache, resticEnv));
    const problems = server ? server.problemCount() : undefined;
    for (const l of server?.problems ?? []) log(`${variant} stderr: ${l}`);
    if (server) {
      await server.stop();
      server = undefined;
    }
    await dropBucket();
    const gib = ctx.source.bytes / GiB;
    const totalCpu = w.childrenCpuSec + (w.serverCpuSec ?? 0) + (w.rgwCpuSec ?? 0) + (w.osdCpuSec ?? 0);
    return defined({
      wall_s: w.wallSec,
      throughput_mibs: ctx.source.bytes / MiB / w.wallSec,
      restic_cpu_s: w.childrenCpuSec,
      server_cpu_s: w.serverCpuSec,
      server_cpu_s_per_gib: w.serverCpuSec === undefined ? undefined : w.serverCpuSec / gib,
      server_idle_rss_mib: idle?.rssMiB,
      server_peak_rss_mib: w.serverPeakRssMiB,
      server_problem_lines: problems,
      rgw_cpu_s: w.rgwCpuSec,
      osd_cpu_s: w.osdCpuSec,
      total_cpu_s: totalCpu,
      total_cpu_s_per_gib: totalCpu / gib,
      ...summary,
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

const NO_SERVER: Variant[] = ['direct'];
const ROWS: readonly RowSpec<Variant>[] = [
  { metric: 'restic backup wall time, s', key: 'wall_s', better: 'lower' },
  { metric: 'backup throughput, MiB/s', key: 'throughput_mibs', better: 'higher' },
  { metric: 'restic CPU (user+sys), s', key: 'restic_cpu_s', better: 'info' },
  { metric: 'server CPU (rwm/rclone), s', key: 'server_cpu_s', better: 'lower', notFor: NO_SERVER },
  { metric: 'server CPU, s per GiB backed up', key: 'server_cpu_s_per_gib', better: 'lower', notFor: NO_SERVER },
  { metric: 'server peak RSS, MiB', key: 'server_peak_rss_mib', better: 'lower', notFor: NO_SERVER },
  { metric: 'RGW (radosgw) CPU, s', key: 'rgw_cpu_s', better: 'info' },
  { metric: 'OSD CPU, s', key: 'osd_cpu_s', better: 'info' },
  { metric: 'total CPU (restic+server+RGW+OSD), s', key: 'total_cpu_s', better: 'lower' },
  { metric: 'total CPU, s per GiB backed up', key: 'total_cpu_s_per_gib', better: 'lower' },
  { metric: 'S3 objects stored', key: 's3_objects', better: 'info', noRatio: true, digits: 0 },
  { metric: 'S3 bytes stored, MiB', key: 's3_stored_mib', better: 'info', noRatio: true },
];

function renderRounds(runs: readonly VariantRun<Variant>[], cfg: BenchConfig): string {
  const header = ['round', 'order', ...cfg.variants.map((v) => `${v} wall s`)];
  const cells = Array.from({ length: cfg.rounds }, (_, round) => [
    String(round + 1),
    rotated(cfg.variants, round).join(' → '),
    ...cfg.variants.map((v) => fmt(runs.filter((r) => r.variant === v)[round]?.metrics.wall_s)),
  ]);
  return renderTable(header, cells, (i) => i >= 2);
}

function verdicts(rows: readonly SummaryRow<Variant>[]): string[] {
  const find = (key: string): SummaryRow<Variant> | undefined => rows.find((r) => r.key === key);
  const [vsRclone, vsDirect] = find('wall_s')?.ratios ?? [];
  const out: string[] = [];
  if (vsRclone !== undefined) out.push(`vs rclone: rwm takes ${fmt(vsRclone)}× rclone's backup wall time → ${vsRclone <= 1.05 ? 'as fast or faster (within 5%)' : 'SLOWER'}`);
  if (vsDirect !== undefined) out.push(`vs direct S3 (the floor): rwm takes ${fmt(vsDirect)}× restic's direct wall time → ${vsDirect <= 1.1 ? 'within 10%' : 'MORE than 10% slower'}`);
  const cpu = find('server_cpu_s_per_gib');
  const rss = find('server_peak_rss_mib');
  if (cpu?.ratios[0] !== undefined && rss?.ratios[0] !== undefined) {
    out.push(`server resources: rwm uses ${fmt(cpu.values.rwm)} CPU-s per GiB, ${fmt(cpu.ratios[0])}× rclone's (${fmt(cpu.values.rclone)}), and ${fmt(rss.ratios[0])}× its peak RSS`);
  }
  return out;
}

async function main(): Promise<void> {
  const cfg = readConfig();
  const build = cfg.variants.includes('rwm') ? await copyRwmBuild('bench:s3', log) : undefined;
  const clkTck = await clockTicks();
  const machine = await machineInfo(clkTck, { restic: ['restic', 'version'], rclone: ['rclone', 'version'], ceph: ['ceph', '--version'] });
  const work = await scratchDir('rwm-bench-s3', cfg.keep);
  const startedAt = new Date().toISOString();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}`);
  const sourceDir = join(work, 'source');
  log(`generating ${cfg.sizeMb} MiB of backup source files in ${sourceDir}`);
  const tree = await generateTree(sourceDir, cfg.sizeMb * MiB);
  log(`generated ${tree.files} files`);

  const rgw = await startRgw(cfg, work);
  log(`RGW ready at ${rgw.endpoint} (radosgw pid ${rgw.rgwPid ?? '?'}, ceph-osd pid ${rgw.osdPid ?? '?'})`);
  const s3 = adminClient(rgw);
  onCleanup('close the S3 client', async () => s3.destroy());
  const ctx: Ctx = { cfg, work, clkTck, cli: build?.cli ?? '', rcloneConfig: await emptyRcloneConfig(work), rgw, s3, source: { dir: sourceDir, bytes: tree.bytes } };
  log('warming up the RGW (creating its pools)');
  await warmUp(ctx);

  const runs: VariantRun<Variant>[] = [];
  for (let round = 0; round < cfg.rounds; round++) {
    for (const variant of rotated(cfg.variants, round)) {
      log(`round ${round + 1}/${cfg.rounds}: ${variant}`);
      const metrics = await runOnce(variant, round, ctx);
      const osdRss = rgw.osdPid === undefined ? undefined : await readProcStats(rgw.osdPid, clkTck).then((s) => s.rssMiB, () => undefined);
      log(`round ${round + 1}/${cfg.rounds}: ${variant} done: ${Object.entries(metrics).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')}` + (osdRss !== undefined ? ` (ceph-osd RSS after gc: ${osdRss.toFixed(0)} MiB)` : ''));
      runs.push({ variant, metrics });
    }
  }

  const rows = summarize(runs, ROWS, cfg.variants, 'rwm', ['rclone', 'direct']);
  const lines = verdicts(rows);
  const paths: Record<Variant, string> = {
    rwm: 'rwm = through rwm serve --s3',
    rclone: 'rclone = through rclone serve restic --append-only',
    direct: "direct = restic's own s3 backend (the floor)",
  };
  process.stdout.write(
    `\nrestic backup of ${cfg.sizeMb} MiB (${tree.files} files) to one Ceph RGW (${cfg.store}${cfg.versioned ? ', versioned buckets' : ''}); ` +
      `${cfg.variants.map((v) => paths[v]).join('; ')}\n(median of ${cfg.rounds} round(s); ratios of the medians)\n\n`,
  );
  process.stdout.write(`${renderSummary(rows, cfg.variants, 'rwm', ['rclone', 'direct'])}\n\n${renderRounds(runs, cfg)}\n${lines.map((l) => `\n${l}`).join('')}\n`);
  const file = await writeResults('serve-s3', { startedAt, finishedAt: new Date().toISOString(), config: cfg, machine: { ...machine, rwmSrcNewerThanDist: build?.stale }, source: tree, summary: rows, verdicts: lines, runs });
  process.stdout.write(`\nraw results: ${file}\n`);
}

await runBench(main);
