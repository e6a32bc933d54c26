// rwm storage drop-versions vs a naive peer (bench/lib/drop-versions-naive.mjs: page ListObjectVersions,
// DeleteObjects every noncurrent version, no checks), on one Ceph RGW, in one run (issue 11, "Benchmark"):
//   per N (--versions 10k,100k): two versioned buckets, each with N/2 restic-named keys under repo/
//   (data/<2 hex>/<sha256 of content>, small bodies) written twice with the same content, so N/2 of
//   the N versions are noncurrent (filled 64 PUTs at a time, not measured); then, each measured as
//   its own process (bench/lib/measure.ts: wall, user+sys CPU, peak RSS, radosgw and ceph-osd CPU):
//   1. rwm scrub BUCKET/repo (drop-versions deletes only what a scrub verified);
//   2. rwm storage drop-versions --keep-within 1s --dry-run --json (must plan N/2);
//   3. rwm storage drop-versions --yes, and the peer on the second bucket, the order alternating per N;
//      each checked by listing: exactly the noncurrent versions are gone.
// Not a test: it reports, and fails only when a result is wrong. See bench/README.md.
//
// Usage: npm run bench:drop-versions -- [--versions 10k,100k] [--keep]
//   (or, with dist/ built: node --import tsx bench/drop-versions.ts ...)
import { createHash, randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { cleanUpOnSignals, onCleanup, runBench, scratchDir } from './lib/cleanup.js';
import { measured, withoutStdout, type Measured, type MeasureContext } from './lib/measure.js';
import { adminClient, adminEnv, connectRgw, createBucket, emptyAndDeleteBucket, warmUp, type Rgw } from './lib/rgw.js';
import { clockTicks, createLog, fmt, gitState, parseCount, ratio, renderTable, ROOT, rwmNodeArgs, writeResults } from './lib/report.js';
import { copyRwmBuild } from './lib/rwm-build.js';
import { listVersions, pool } from './lib/versions.js';

const log = createLog('bench-drop');
cleanUpOnSignals('the benchmark (deleting its buckets)');

const PREFIX = 'repo';
const KP = `${PREFIX}/`;
const FILL_CONCURRENCY = 64;
const KEEP_WITHIN = '1s'; // the smallest age drop-versions accepts (0 is refused)
const PEER = join(ROOT, 'bench', 'lib', 'drop-versions-naive.mjs');

interface Ctx extends MeasureContext {
  readonly cli: string;
  readonly rgw: Rgw;
  readonly s3: S3Client;
  readonly fill: S3Client;
}

/** Fills the bucket: n/2 keys, each put twice with the same body; returns key -> current version id. */
async function fill(ctx: Ctx, bucket: string, n: number, seed: string): Promise<Map<string, string>> {
  const current = new Map<string, string>();
  await pool(Array.from({ length: n / 2 }, (_, i) => i), FILL_CONCURRENCY, async (i) => {
    const body = createHash('sha256').update(`${seed}-${i}`).digest().subarray(0, 16 + (i % 16));
    const id = createHash('sha256').update(body).digest('hex');
    const key = `${KP}data/${id.slice(0, 2)}/${id}`;
    await ctx.fill.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const r = await ctx.fill.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    current.set(key, r.VersionId ?? 'null');
  });
  return current;
}

/** Every version under the prefix (but rwm's own .rwm/: states, manifests) must now be exactly the current ones from the fill. */
async function check(ctx: Ctx, bucket: string, current: ReadonlyMap<string, string>): Promise<string> {
  const all = (await listVersions(ctx.s3, bucket, KP)).filter((v) => !v.key.startsWith(`${KP}.rwm/`));
  const bad = all.filter((v) => v.deleteMarker || !v.isLatest || current.get(v.key) !== v.versionId).length;
  if (bad > 0 || all.length !== current.size) throw new Error(`${bucket}: after the drop ${all.length} versions (${bad} unexpected), expected exactly the ${current.size} current ones`);
  return `${all.length} versions left, all current`;
}

interface Run {
  readonly versions: number;
  readonly scrub: Measured;
  readonly dry: Measured;
  readonly drop: Measured;
  readonly peer: Measured;
}

/** `keep`: leave the buckets (--keep, or an RGW of our own, which goes with them). */
async function runCount(ctx: Ctx, n: number, keep: boolean, peerFirst: boolean): Promise<Run> {
  const tag = randomBytes(4).toString('hex');
  const [a, b] = [`rwm-bench-drop-${n}-rwm-${tag}`, `rwm-bench-drop-${n}-peer-${tag}`];
  for (const bucket of [a, b]) {
    await createBucket(ctx.s3, bucket, true);
    if (!keep) onCleanup(`delete ${bucket}`, async () => void (await emptyAndDeleteBucket(ctx.s3, bucket)));
  }
  const t0 = performance.now();
  const [curA, curB] = await Promise.all([fill(ctx, a, n, `a${n}`), fill(ctx, b, n, `b${n}`)]);
  log(`filled ${a} and ${b}: ${n} versions each in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  await sleep(2000); // every noncurrent version is now older than --keep-within 1s
  const env = adminEnv(ctx.rgw);
  const target = `${a}/${PREFIX}`;
  const common = ['--endpoint', ctx.rgw.endpoint, '--state-dir', join(ctx.work, `state-${n}`), '--json'];
  const rwm = async (what: string, args: readonly string[]): Promise<Measured> => measured(ctx, `${what} (${n})`, process.execPath, [...rwmNodeArgs(), ctx.cli, ...args, ...common], env);
  const scrub = await rwm('rwm scrub', ['scrub', target]);
  await sleep(1500); // the scrub's own state must be older than the 1s window too
  const dry = await rwm('rwm drop-versions --dry-run', ['storage', 'drop-versions', target, '--keep-within', KEEP_WITHIN, '--dry-run']);
  const planned = (JSON.parse(dry.stdout) as { report: { dropped: number } }).report.dropped;
  if (planned !== n / 2) throw new Error(`dry run plans ${planned} deletions, expected ${n / 2}: ${dry.stdout.slice(0, 2000)}`);
  let drop: Measured | undefined;
  let peer: Measured | undefined;
  const steps = [
    async () => {
      drop = await rwm('rwm drop-versions --yes', ['storage', 'drop-versions', target, '--keep-within', KEEP_WITHIN, '--yes']);
      const r = (JSON.parse(drop.stdout) as { report: { dropped: number; failed: number } }).report;
      if (r.dropped !== n / 2 || r.failed !== 0) throw new Error(`drop-versions dropped ${r.dropped} (${r.failed} failed), expected ${n / 2}`);
      log(`${a}: ${await check(ctx, a, curA)}`);
    },
    async () => {
      peer = await measured(ctx, `naive peer (${n})`, process.execPath, [PEER, ctx.rgw.endpoint, b, PREFIX], env);
      log(`${b}: ${await check(ctx, b, curB)}; peer says ${peer.stdout.trim()}`);
    },
  ];
  for (const step of peerFirst ? steps.reverse() : steps) await step();
  if (drop === undefined || peer === undefined) throw new Error('a step did not run');
  return { versions: n, scrub, dry, drop, peer };
}

function sum(...ms: Measured[]): Measured {
  const add = (f: (m: Measured) => number | undefined): number | undefined => ms.reduce<number | undefined>((s, m) => (s === undefined || f(m) === undefined ? undefined : s + f(m)!), 0);
  return { wallSec: add((m) => m.wallSec)!, cpuSec: add((m) => m.cpuSec)!, userSec: add((m) => m.userSec)!, sysSec: add((m) => m.sysSec)!, peakRssMiB: Math.max(...ms.map((m) => m.peakRssMiB)), rgwCpuSec: add((m) => m.rgwCpuSec), osdCpuSec: add((m) => m.osdCpuSec), stdout: '' };
}

const totalCpu = (m: Measured): number => m.cpuSec + (m.rgwCpuSec ?? 0) + (m.osdCpuSec ?? 0);

function rows(r: Run): string[][] {
  const lines: [string, Measured, boolean][] = [
    ['rwm scrub', r.scrub, false],
    ['rwm drop-versions --dry-run', r.dry, false],
    ['rwm drop-versions --yes', r.drop, true],
    ['rwm dry-run + --yes', sum(r.dry, r.drop), true],
    ['rwm scrub + dry-run + --yes', sum(r.scrub, r.dry, r.drop), true],
    ['naive peer (no checks)', r.peer, false],
  ];
  return lines.map(([name, m, vsPeer]) => [
    String(r.versions), name, fmt(m.wallSec), fmt(m.cpuSec), fmt(m.peakRssMiB, 0), fmt(m.rgwCpuSec), fmt(m.osdCpuSec), fmt(totalCpu(m)),
    vsPeer ? fmt(ratio(m.wallSec, r.peer.wallSec)) : '', vsPeer ? fmt(ratio(m.cpuSec, r.peer.cpuSec)) : '', vsPeer ? fmt(ratio(totalCpu(m), totalCpu(r.peer))) : '',
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { versions: { type: 'string', default: '10k,100k' }, keep: { type: 'boolean', default: false } }, strict: true });
  const counts = values.versions.split(',').map((s) => parseCount('--versions', s, 2));
  for (const n of counts) if (n % 2 !== 0) throw new Error(`--versions: ${n} must be even (half of the versions are noncurrent)`);
  const build = await copyRwmBuild('bench:drop-versions', log);
  const work = await scratchDir('rwm-bench-drop');
  const { rgw, own } = await connectRgw(work);
  const s3 = adminClient(rgw);
  const fillClient = adminClient(rgw, FILL_CONCURRENCY);
  onCleanup('close the S3 clients', async () => {
    s3.destroy();
    fillClient.destroy();
  });
  const ctx: Ctx = { work, clkTck: await clockTicks(), rgw, cli: build.cli, s3, fill: fillClient };
  if (own) await warmUp(ctx);
  const loadBefore = loadavg();
  const runs: Run[] = [];
  for (const [i, n] of counts.entries()) runs.push(await runCount(ctx, n, values.keep || own, i % 2 === 1));
  const loadAfter = loadavg();
  const table = renderTable(
    ['versions', 'command', 'wall s', 'CPU s', 'peak RSS MiB', 'radosgw s', 'osd s', 'total CPU s', 'wall / peer', 'CPU / peer', 'total CPU / peer'],
    runs.flatMap(rows),
    (i) => i !== 1,
  );
  process.stdout.write(
    `\nrwm storage drop-versions (${build.version}) vs the naive peer on one Ceph RGW (${own ? 'started for this run' : rgw.endpoint}); ${cpus().length} cores, ` +
      `load average ${loadBefore[0]!.toFixed(2)} at the start, ${loadAfter[0]!.toFixed(2)} at the end; half of the versions noncurrent; one run each\n` +
      `(CPU = user+sys of the command; radosgw and ceph-osd CPU over the same interval from /proc${own ? '' : ', with whatever else used that RGW'}; total = all three; ratios = rwm / peer; sums take the largest peak RSS)\n\n` +
      `${table}\n`,
  );
  const file = await writeResults('drop-versions', {
    git: await gitState(), rwm: build.version, rwmSrcNewerThanDist: build.stale, keepWithin: KEEP_WITHIN, loadBefore, loadAfter, rgw: own ? 'own' : rgw.endpoint,
    runs: runs.map((r) => ({ versions: r.versions, scrub: withoutStdout(r.scrub), dry: withoutStdout(r.dry), drop: withoutStdout(r.drop), peer: withoutStdout(r.peer) })),
  });
  process.stdout.write(`\nraw results: ${file}\n`);
}

await runBench(main);
