// rwm scrub vs restic check --read-data, on one restic repository, in one run (issue 11, "Benchmark"):
//   1. a restic 0.14 repository (`restic init` + `restic backup` of --mib MiB of incompressible files of
//      a few MiB each) in a local temp directory, and the same files copied into a versioned bucket
//      on the running RGW (RWM_S3_ENDPOINT, admin keys; else one it starts) under PREFIX;
//   2. local: `rwm scrub --path DIR --full` vs `restic -r DIR check --read-data` vs the floor, plain
//      `sha256sum` of every data/ file, two at a time (`find DIR/data -type f | xargs -P 2 -n 50`);
//   3. RGW: `rwm scrub BUCKET/PREFIX --full` vs `restic -r s3:... check --read-data`;
//   4. an incremental scrub of the unchanged repository (local and RGW) vs the full one.
// Every measured command is its own process under /usr/bin/time: wall time, user+sys CPU of it and its
// children, peak RSS; plus radosgw's and ceph-osd's CPU over the same interval. Not a test: it reports.
//
// Usage: npm run bench:scrub -- [--mib 1024] [--repeat 1] [--concurrency 8]
//   (or, with dist/ built: node --import tsx bench/scrub.ts ...)
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { cleanUpOnSignals, onCleanup, runBench, scratchDir } from './lib/cleanup.js';
import { MiB, prng, seededBytes } from './lib/data.js';
import { measured as measure, withoutStdout, type Measured } from './lib/measure.js';
import { childEnv, execFileAsync } from './lib/proc.js';
import { adminClient, adminEnv, connectRgw, createBucket, emptyAndDeleteBucket, type Rgw } from './lib/rgw.js';
import { clockTicks, createLog, fmt, gitState, median, ratio, renderTable, rwmNodeArgs, versionOf, writeResults } from './lib/report.js';
import { copyRwmBuild } from './lib/rwm-build.js';

const log = createLog('bench-scrub');
cleanUpOnSignals('the benchmark (deleting its bucket and scratch directory)');

const PREFIX = 'restic';
const UPLOAD_CONCURRENCY = 8;

interface BenchConfig {
  readonly mib: number;
  readonly repeat: number;
  readonly concurrency: number | undefined;
  readonly rwmNodeArgs: readonly string[];
}

function readConfig(): BenchConfig {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '1024' },
      repeat: { type: 'string', default: '1' },
      concurrency: { type: 'string' },
    },
    strict: true,
  });
  const int = (flag: string, s: string, min: number): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: "${s}" is not a whole number of at least ${min}`);
    return n;
  };
  return {
    mib: int('--mib', values.mib, 8),
    repeat: int('--repeat', values.repeat, 1),
    concurrency: values.concurrency === undefined ? undefined : int('--concurrency', values.concurrency, 1),
    rwmNodeArgs: rwmNodeArgs(),
  };
}

// ---------------------------------------------------------------------------------------------
// Measured processes

interface Ctx {
  readonly cfg: BenchConfig;
  readonly cli: string;
  readonly work: string;
  readonly clkTck: number;
  readonly rgw: Rgw;
}

/** Every measured command runs after a sync, so the repository's writeback does not land in it. */
const measured = async (ctx: Ctx, what: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measured> => measure(ctx, what, cmd, args, env, { sync: true });

function resticEnv(ctx: Ctx, s3: boolean): NodeJS.ProcessEnv {
  const extra = { RESTIC_PASSWORD_FILE: join(ctx.work, 'password'), RESTIC_CACHE_DIR: join(ctx.work, 'restic-cache') };
  return s3 ? adminEnv(ctx.rgw, extra) : childEnv(extra);
}

const resticS3Repo = (ctx: Ctx, bucket: string): string => `s3:${ctx.rgw.endpoint}/${bucket}/${PREFIX}`;

/** What rwm's JSON report says it read (for the table's sanity columns). */
function scrubSummary(stdout: string): string {
  try {
    const r = JSON.parse(stdout) as Record<string, unknown>;
    const pick = (o: unknown, depth = 0): string[] => {
      if (o === null || typeof o !== 'object' || depth > 1) return [];
      return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (typeof v === 'number' ? [`${k}=${v}`] : Array.isArray(v) ? [`${k}=${v.length}`] : pick(v, depth + 1).map((s) => `${k}.${s}`)));
    };
    return pick(r).join(' ');
  } catch {
    return stdout.trim().split('\n').slice(-3).join(' | ');
  }
}

async function rwmScrub(ctx: Ctx, what: string, target: readonly string[], stateDir: string, full: boolean): Promise<Measured> {
  const args = [...ctx.cfg.rwmNodeArgs, ctx.cli, 'scrub', ...target, '--state-dir', stateDir, '--json', ...(full ? ['--full'] : []),
    ...(ctx.cfg.concurrency !== undefined ? ['--concurrency', String(ctx.cfg.concurrency)] : [])];
  const m = await measured(ctx, what, process.execPath, args, adminEnv(ctx.rgw));
  log(`${what}: ${scrubSummary(m.stdout).slice(0, 400)}`);
  return m;
}

// ---------------------------------------------------------------------------------------------
// The repository

/** Files of 1 to 6 MiB adding up to `mib` MiB, incompressible and the same in every run. */
async function generateSource(dir: string, mib: number): Promise<{ files: number; bytes: number }> {
  const rand = prng(0x5c2b);
  let left = mib * MiB;
  let i = 0;
  for (; left > 0; i++) {
    const size = Math.min(left, Math.round((1 + 5 * rand()) * MiB));
    const sub = join(dir, `d${i % 8}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${i}.bin`), seededBytes(`scrub-${i}`, size));
    left -= size;
  }
  return { files: i, bytes: mib * MiB };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

/** Copies the local repository into the bucket under PREFIX, byte for byte (not measured). */
async function uploadRepo(ctx: Ctx, repo: string, bucket: string): Promise<{ objects: number; bytes: number }> {
  const s3 = adminClient(ctx.rgw);
  try {
    const files = await listFiles(repo);
    let bytes = 0;
    let next = 0;
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < files.length; i = next++) {
        const body = await readFile(files[i]!);
        bytes += body.length;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${relative(repo, files[i]!)}`, Body: body }));
      }
    }));
    return { objects: files.length, bytes };
  } finally {
    s3.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

interface Runs {
  localRwmFull: Measured[];
  localRwmIncr: Measured[];
  localRestic: Measured[];
  localFloor: Measured[];
  s3RwmFull: Measured[];
  s3RwmIncr: Measured[];
  s3Restic: Measured[];
}

const med = (ms: readonly Measured[], f: (m: Measured) => number | undefined): number | undefined => {
  const v = ms.map(f).filter((x): x is number => x !== undefined);
  return v.length === 0 ? undefined : median(v);
};

async function main(): Promise<void> {
  const cfg = readConfig();
  const build = await copyRwmBuild('bench:scrub', log);
  const work = await scratchDir('rwm-bench-scrub');
  const { rgw } = await connectRgw(work);
  const ctx: Ctx = { cfg, cli: build.cli, work, clkTck: await clockTicks(), rgw };
  const rwmVersion = build.version;
  const loadBefore = loadavg();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}; RGW ${rgw.endpoint}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  // The repository: local, then the same files into a versioned bucket.
  const source = join(work, 'source');
  const repo = join(work, 'repo');
  await writeFile(join(work, 'password'), `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  const src = await generateSource(source, cfg.mib);
  log(`source: ${src.files} files, ${cfg.mib} MiB`);
  await execFileAsync('restic', ['-r', repo, 'init'], { env: resticEnv(ctx, false) });
  const backup = await measured(ctx, 'restic backup (setup)', 'restic', ['-r', repo, 'backup', '--quiet', '--no-cache', source], resticEnv(ctx, false));
  await rm(source, { recursive: true, force: true });
  const dataFiles = (await listFiles(join(repo, 'data'))).length;
  const bucket = `rwm-bench-scrub-${randomBytes(4).toString('hex')}`;
  const s3 = adminClient(rgw);
  onCleanup('delete the bucket', async () => {
    const c = await emptyAndDeleteBucket(s3, bucket).catch((err: unknown) => log(`deleting ${bucket}: ${String(err)}`));
    if (c) log(`deleted ${bucket} (${c.objects} versions, ${(c.bytes / MiB).toFixed(0)} MiB)`);
    s3.destroy();
  });
  await createBucket(s3, bucket, true);
  const up = await uploadRepo(ctx, repo, bucket);
  log(`repository: ${up.objects} files (${dataFiles} packs), ${(up.bytes / MiB).toFixed(1)} MiB; copied to ${bucket}/${PREFIX}`);

  const runs: Runs = { localRwmFull: [], localRwmIncr: [], localRestic: [], localFloor: [], s3RwmFull: [], s3RwmIncr: [], s3Restic: [] };
  const floorCmd = `find "$1/data" -type f | xargs -P 2 -n 50 sha256sum > /dev/null`;
  for (let r = 0; r < cfg.repeat; r++) {
    const tag = cfg.repeat > 1 ? ` #${r + 1}` : '';
    const localState = join(work, `state-local-${r}`);
    const s3State = join(work, `state-s3-${r}`);
    // Local: the floor, rwm full, rwm incremental, restic check; rotated per repetition.
    const local: (() => Promise<void>)[] = [
      async () => void runs.localFloor.push(await measured(ctx, `local sha256sum floor${tag}`, 'sh', ['-c', floorCmd, 'sh', repo], childEnv())),
      async () => {
        runs.localRwmFull.push(await rwmScrub(ctx, `local rwm scrub --full${tag}`, ['--path', repo], localState, true));
        runs.localRwmIncr.push(await rwmScrub(ctx, `local rwm scrub incremental${tag}`, ['--path', repo], localState, false));
      },
      async () => void runs.localRestic.push(await measured(ctx, `local restic check --read-data${tag}`, 'restic', ['-r', repo, 'check', '--read-data'], resticEnv(ctx, false))),
    ];
    const remote: (() => Promise<void>)[] = [
      async () => {
        runs.s3RwmFull.push(await rwmScrub(ctx, `RGW rwm scrub --full${tag}`, [`${bucket}/${PREFIX}`, '--endpoint', rgw.endpoint], s3State, true));
        runs.s3RwmIncr.push(await rwmScrub(ctx, `RGW rwm scrub incremental${tag}`, [`${bucket}/${PREFIX}`, '--endpoint', rgw.endpoint], s3State, false));
      },
      async () => void runs.s3Restic.push(await measured(ctx, `RGW restic check --read-data${tag}`, 'restic', ['-r', resticS3Repo(ctx, bucket), 'check', '--read-data'], resticEnv(ctx, true))),
    ];
    for (let i = 0; i < local.length; i++) await local[(i + r) % local.length]!();
    for (let i = 0; i < remote.length; i++) await remote[(i + r) % remote.length]!();
  }

  // The table.
  const mb = up.bytes / MiB;
  const gib = mb / 1024;
  const row = (name: string, ms: readonly Measured[]): string[] => {
    const wall = med(ms, (m) => m.wallSec);
    const total = (m: Measured): number => m.cpuSec + (m.rgwCpuSec ?? 0) + (m.osdCpuSec ?? 0);
    return [name, fmt(wall), fmt(med(ms, (m) => m.cpuSec)), fmt(med(ms, (m) => m.peakRssMiB), 0), fmt(med(ms, (m) => m.rgwCpuSec)), fmt(med(ms, (m) => m.rgwCpuSec), 2, gib), fmt(med(ms, (m) => m.osdCpuSec)), fmt(med(ms, total)), fmt(med(ms, total), 2, gib), wall ? fmt(mb / wall, 0) : '-'];
  };
  const table = renderTable(
    ['command', 'wall s', 'CPU s', 'RSS MiB', 'radosgw s', 'radosgw s/GiB', 'osd s', 'total CPU s', 'total CPU s/GiB', 'MiB/s'],
    [
      row('local: sha256sum floor (xargs -P 2)', runs.localFloor),
      row('local: rwm scrub --path --full', runs.localRwmFull),
      row('local: rwm scrub --path (incremental)', runs.localRwmIncr),
      row('local: restic check --read-data', runs.localRestic),
      row('RGW: rwm scrub --full', runs.s3RwmFull),
      row('RGW: rwm scrub (incremental)', runs.s3RwmIncr),
      row('RGW: restic check --read-data', runs.s3Restic),
    ],
    (i) => i > 0,
  );
  const w = (ms: readonly Measured[]): number | undefined => med(ms, (m) => m.wallSec);
  const c = (ms: readonly Measured[]): number | undefined => med(ms, (m) => m.cpuSec);
  const ratios: [string, number | undefined, number | undefined, string][] = [
    ['local: restic check / rwm --full (goal ≥ 3)', ratio(w(runs.localRestic), w(runs.localRwmFull)), ratio(c(runs.localRestic), c(runs.localRwmFull)), 'higher is better for rwm'],
    ['local: floor / rwm --full (goal ≥ 0.8)', ratio(w(runs.localFloor), w(runs.localRwmFull)), ratio(c(runs.localFloor), c(runs.localRwmFull)), 'higher is better for rwm'],
    ['local: rwm incremental / rwm --full', ratio(w(runs.localRwmIncr), w(runs.localRwmFull)), ratio(c(runs.localRwmIncr), c(runs.localRwmFull)), 'lower is better'],
    ['RGW: restic check / rwm --full (goal ≥ 3)', ratio(w(runs.s3Restic), w(runs.s3RwmFull)), ratio(c(runs.s3Restic), c(runs.s3RwmFull)), 'higher is better for rwm'],
    ['RGW: rwm incremental / rwm --full', ratio(w(runs.s3RwmIncr), w(runs.s3RwmFull)), ratio(c(runs.s3RwmIncr), c(runs.s3RwmFull)), 'lower is better'],
  ];
  const ratioTable = renderTable(['ratio', 'wall', 'CPU', ''], ratios.map(([n, a, b, s]) => [n, fmt(a), fmt(b), s]), (i) => i === 1 || i === 2);
  const verdict = (name: string, v: number | undefined, goal: number): string => `${name}: ${fmt(v)} (goal ≥ ${goal}) ${v !== undefined && v >= goal ? 'MET' : 'NOT MET'}`;
  const loadAfter = loadavg();
  const resticVersion = await versionOf('restic', ['version']);
  process.stdout.write(
    `\nrwm scrub (${rwmVersion}) vs ${resticVersion} check --read-data; repository of ${up.objects} files (${dataFiles} packs, ${mb.toFixed(1)} MiB) from ${cfg.mib} MiB of source in ${src.files} files; ` +
      `RGW ${rgw.endpoint}; ${cpus().length} cores, load average ${loadBefore[0]!.toFixed(2)} at the start, ${loadAfter[0]!.toFixed(2)} at the end; ${cfg.repeat} run(s), medians; ` +
      `CPU = user+sys of the command and its children; total = CPU + radosgw + osd\n\n${table}\n\n${ratioTable}\n\n` +
      `${verdict('local: rwm --full faster than restic check --read-data', ratio(w(runs.localRestic), w(runs.localRwmFull)), 3)}\n` +
      `${verdict('local: rwm --full vs the sha256sum floor', ratio(w(runs.localFloor), w(runs.localRwmFull)), 0.8)}\n` +
      `${verdict('RGW: rwm --full faster than restic check --read-data', ratio(w(runs.s3Restic), w(runs.s3RwmFull)), 3)}\n` +
      `(setup: restic backup took ${backup.wallSec.toFixed(1)} s)\n`,
  );
  const file = await writeResults('scrub', {
    config: cfg, rwm: rwmVersion, restic: resticVersion, git: await gitState(), loadBefore, loadAfter,
    repository: { files: up.objects, packs: dataFiles, bytes: up.bytes, sourceFiles: src.files },
    runs: Object.fromEntries((Object.entries(runs) as [string, Measured[]][]).map(([k, v]) => [k, v.map(withoutStdout)])),
  });
  log(`raw results: ${file}`);
}

await runBench(main);
