// Bucket state and point-in-time restore on one Ceph RGW, in one run (issue 10, "Benchmark"):
//   1. versioned buckets with N objects in restic's layout (PREFIX/data/<2hex>/<64hex> mostly, plus
//      index/, snapshots/, keys/, config); tiny bodies, filled 64 at a time (not measured);
//   2. `rwm state save BUCKET/PREFIX --no-local --json` vs one sequential ListObjectVersions
//      pagination of the same prefix (bench/lib/list-versions-sequential.mjs), at every N; peak RSS,
//      also with node's young generation capped (--max-semi-space-size=1) to tell retained memory
//      from GC sizing; and, for information, a sketch of listing by key ranges
//      (bench/lib/list-versions-ranges.mjs);
//   3. after 1% of the objects got a garbage version on top: `rwm restore --at T --to` a new bucket vs
//      `rclone copy` from a remote with `version_at = T` into another new bucket (defaults, and with
//      --transfers 16 like rwm's default concurrency); every target is checked key by key;
//   4. `rwm restore --at T` in place: time and copies (which must equal the tampered keys), against
//      the full copy of step 3.
// Every measured command is its own process under /usr/bin/time: wall time, user+sys CPU, peak RSS.
// Not a test: it reports, and fails only when a restore's result is wrong. See bench/README.md.
//
// Usage: npm run bench:state -- [--objects 10000,100000] [--repeat 3] [--keep]
//   (or, with dist/ built: node --import tsx bench/state.ts ...)
import { createHash, randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { cleanUpOnSignals, onCleanup, runBench, scratchDir } from './lib/cleanup.js';
import { seededBytes } from './lib/data.js';
import { measured, withoutStdout, type Measured, type MeasureContext } from './lib/measure.js';
import { childEnv } from './lib/proc.js';
import { adminClient, adminEnv, connectRgw, createBucket, emptyAndDeleteBucket, rcloneRemoteEnv, warmUp, type Rgw } from './lib/rgw.js';
import { clockTicks, createLog, fmt, gitState, median, parseCount, ratio, renderTable, ROOT, rwmNodeArgs, versionOf, writeResults } from './lib/report.js';
import { copyRwmBuild, type RwmBuild } from './lib/rwm-build.js';
import { emptyRcloneConfig } from './lib/server.js';
import { deleteVersions, listVersions, pool, type Version } from './lib/versions.js';

const log = createLog('bench-state');
/** Set when the run finished: only then are the filled source buckets deleted (without --keep). */
let succeeded = false;
cleanUpOnSignals('the benchmark (deleting its buckets)');

const SEQUENTIAL = join(ROOT, 'bench', 'lib', 'list-versions-sequential.mjs');
const RANGES = join(ROOT, 'bench', 'lib', 'list-versions-ranges.mjs');
/** Every bucket holds the repository under this prefix. */
const PREFIX = 'repo';
const KP = `${PREFIX}/`;
/** At the bucket's root (outside PREFIX): written when a fill completed, so a later run can reuse it. */
const MARKER_KEY = 'bench-state-filled.json';
/** Bump when layoutKeys() or the bodies change: older filled buckets are then refilled. */
const LAYOUT_VERSION = 1;
const FILL_CONCURRENCY = 64;
const RESTORE_OBJECTS = 10_000;
/** One key in TAMPER_EVERY gets a garbage version on top (1%). */
const TAMPER_EVERY = 100;

// ---------------------------------------------------------------------------------------------
// Configuration (command line)

interface BenchConfig {
  /** Object counts for the state save vs sequential listing comparison. */
  readonly objects: readonly number[];
  readonly repeat: number;
  /** Objects in the bucket the restore scenarios run on. */
  readonly restoreObjects: number;
  /** Keep the filled source buckets (reset to their filled state) for the next run. */
  readonly keep: boolean;
  /** Which scenarios run: the state save vs listing comparison, the restores, or both. */
  readonly scenarios: ReadonlySet<'listing' | 'restore'>;
  readonly rwmNodeArgs: readonly string[];
}

function readConfig(): BenchConfig {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: String(RESTORE_OBJECTS) },
      repeat: { type: 'string', default: '3' },
      'restore-objects': { type: 'string', default: String(RESTORE_OBJECTS) },
      keep: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: 'listing,restore' },
    },
    strict: true,
  });
  const count = (flag: string, s: string): number => parseCount(flag, s, 100);
  const objects = values.objects.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => count('--objects', s));
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive whole number, not "${values.repeat}"`);
  const scenarios = new Set(values.scenarios.split(',').map((s) => s.trim()));
  for (const sc of scenarios) if (sc !== 'listing' && sc !== 'restore') throw new Error(`--scenarios: "${sc}" is neither listing nor restore`);
  return {
    scenarios: scenarios as Set<'listing' | 'restore'>,
    objects: [...new Set(objects)].sort((a, b) => a - b),
    repeat,
    restoreObjects: count('--restore-objects', values['restore-objects']),
    keep: values.keep,
    rwmNodeArgs: rwmNodeArgs(),
  };
}

// ---------------------------------------------------------------------------------------------
// Measured processes

/** The built CLI, started by node itself (no npx, no shell), with the admin's keys in its environment. */
async function rwm(ctx: Ctx, what: string, args: readonly string[], nodeArgs: readonly string[] = []): Promise<Measured> {
  return measured(ctx, what, process.execPath, [...ctx.cfg.rwmNodeArgs, ...nodeArgs, ctx.cli, ...args, '--endpoint', ctx.rgw.endpoint], adminEnv(ctx.rgw));
}

// ---------------------------------------------------------------------------------------------
// Buckets: restic's layout, filling, listing, resetting, deleting

/** N keys (relative to PREFIX) in restic's layout: config, keys/, snapshots/, index/, and data/<2hex>/<id> for the rest. */
function layoutKeys(n: number): string[] {
  const id = (s: string): string => createHash('sha256').update(s).digest('hex');
  const snapshots = Math.max(1, Math.floor(n / 1000));
  const index = Math.max(1, Math.floor(n / 100));
  const data = n - 2 - snapshots - index;
  const keys = ['config', `keys/${id('key-0')}`];
  for (let i = 0; i < snapshots; i++) keys.push(`snapshots/${id(`snapshot-${i}`)}`);
  for (let i = 0; i < index; i++) keys.push(`index/${id(`index-${i}`)}`);
  for (let i = 0; i < data; i++) {
    const h = id(`data-${i}`);
    keys.push(`data/${h.slice(0, 2)}/${h}`);
  }
  return keys.sort();
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

interface Marker {
  readonly layout: number;
  readonly objects: number;
  readonly prefix: string;
}

async function readMarker(s3: S3Client, bucket: string): Promise<Marker | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: MARKER_KEY }));
    return JSON.parse((await r.Body?.transformToString()) ?? '') as Marker;
  } catch {
    return undefined;
  }
}

const bodyOf = (rel: string): Buffer => Buffer.from(`${rel}\n`);

interface Source {
  readonly bucket: string;
  readonly objects: number;
  readonly keys: readonly string[];
  /** Seconds the fill took; undefined when a filled bucket was reused. */
  readonly fillSec: number | undefined;
}

/**
 * Back to the state right after the fill: per key only its oldest version (the fill's), and no
 * saved states under PREFIX/.rwm/. Cheap when nothing changed; run on reuse and before keeping.
 */
async function resetSource(ctx: Ctx, bucket: string): Promise<number> {
  const all = await listVersions(ctx.s3, bucket, KP);
  const oldest = new Map<string, Version>();
  for (const v of all) {
    if (v.deleteMarker || v.key.startsWith(`${KP}.rwm/`)) continue;
    const o = oldest.get(v.key);
    if (o === undefined || v.lastModified < o.lastModified) oldest.set(v.key, v);
  }
  const extra = all.filter((v) => oldest.get(v.key) !== v);
  await deleteVersions(ctx.s3, bucket, extra);
  return extra.length;
}

async function ensureSource(ctx: Ctx, n: number): Promise<Source> {
  const bucket = `rwm-bench-state-${n}`;
  const keys = layoutKeys(n);
  const registerCleanup = (): void => {
    onCleanup(`reset or delete bucket ${bucket}`, async () => {
      if (ctx.cfg.keep || !succeeded) {
        const n = await resetSource(ctx, bucket);
        log(`kept ${bucket} for the next run (${ctx.cfg.keep ? '--keep' : 'this run did not finish; the next one reuses it and deletes it at its end'})${n > 0 ? `; deleted the ${n} versions this run added` : ''}`);
      } else {
        log(`deleting bucket ${bucket}`);
        await emptyAndDeleteBucket(ctx.s3, bucket);
      }
    });
  };
  if (await bucketExists(ctx.s3, bucket)) {
    const m = await readMarker(ctx.s3, bucket);
    if (m !== undefined && m.layout === LAYOUT_VERSION && m.objects === n && m.prefix === PREFIX) {
      registerCleanup();
      const extra = await resetSource(ctx, bucket);
      log(`reusing ${bucket} (${n} objects, filled by an earlier run${extra > 0 ? `; deleted ${extra} versions it left behind` : ''})`);
      return { bucket, objects: n, keys, fillSec: undefined };
    }
    log(`${bucket} exists without a complete fill marker: deleting it and filling it again`);
    await emptyAndDeleteBucket(ctx.s3, bucket);
  }
  await createBucket(ctx.s3, bucket, true);
  registerCleanup();
  log(`filling ${bucket} with ${n} objects, ${FILL_CONCURRENCY} at a time`);
  const t0 = performance.now();
  let done = 0;
  await pool(keys, FILL_CONCURRENCY, async (rel) => {
    await ctx.fill.send(new PutObjectCommand({ Bucket: bucket, Key: KP + rel, Body: bodyOf(rel) }));
    if (++done % 10_000 === 0) log(`  ${done}/${n} (${(done / ((performance.now() - t0) / 1000)).toFixed(0)} objects/s)`);
  });
  const fillSec = (performance.now() - t0) / 1000;
  const marker: Marker = { layout: LAYOUT_VERSION, objects: n, prefix: PREFIX };
  await ctx.s3.send(new PutObjectCommand({ Bucket: bucket, Key: MARKER_KEY, Body: JSON.stringify(marker) }));
  log(`filled ${bucket} in ${fillSec.toFixed(1)} s (${(n / fillSec).toFixed(0)} objects/s)`);
  return { bucket, objects: n, keys, fillSec };
}

/** A new, empty, versioned bucket, deleted (every version) at the latest when the run ends. */
async function scratchBucket(ctx: Ctx, tag: string): Promise<{ bucket: string; drop: () => Promise<void> }> {
  const bucket = `rwm-bench-state-${tag}-${randomBytes(4).toString('hex')}`;
  await createBucket(ctx.s3, bucket, true);
  // Stays registered while it runs, so an interruption during the purge waits for it to finish.
  let purging: Promise<void> | undefined;
  const drop = (): Promise<void> => (purging ??= emptyAndDeleteBucket(ctx.s3, bucket).then(() => undefined));
  onCleanup(`delete bucket ${bucket}`, drop);
  return { bucket, drop };
}

// ---------------------------------------------------------------------------------------------
// Checking restores

/** What every key was at `t` (newest version or marker with LastModified ≤ t), as key → ETag; absent keys left out. */
function stateAtTime(versions: readonly Version[], t: number): Map<string, string> {
  const newest = new Map<string, Version>();
  for (const v of versions) {
    if (v.lastModified > t) continue;
    const o = newest.get(v.key);
    if (o === undefined || v.lastModified > o.lastModified) newest.set(v.key, v);
  }
  const out = new Map<string, string>();
  for (const [k, v] of newest) if (!v.deleteMarker) out.set(k.slice(KP.length), v.etag);
  return out;
}

interface Check {
  readonly ok: boolean;
  readonly missing: number;
  readonly extra: number;
  readonly wrong: number;
}

/** Compares what is current under PREFIX in `bucket` with `expected` (relative key → ETag). */
async function checkBucket(ctx: Ctx, bucket: string, expected: ReadonlyMap<string, string>): Promise<Check> {
  const current = new Map<string, string>();
  for (const v of await listVersions(ctx.s3, bucket, KP)) if (v.isLatest && !v.deleteMarker) current.set(v.key.slice(KP.length), v.etag);
  let missing = 0;
  let wrong = 0;
  for (const [k, etag] of expected) {
    const c = current.get(k);
    if (c === undefined) missing++;
    else if (c !== etag) wrong++;
  }
  const extra = [...current.keys()].filter((k) => !expected.has(k)).length;
  return { ok: missing === 0 && wrong === 0 && extra === 0, missing, extra, wrong };
}

const describeCheck = (c: Check): string => (c.ok ? 'every key holds the version of T' : `WRONG: ${c.missing} keys missing, ${c.wrong} hold another version, ${c.extra} extra`);

// ---------------------------------------------------------------------------------------------
// The scenarios

interface Ctx extends MeasureContext {
  readonly cfg: BenchConfig;
  /** main.js in this run's copy of dist/. */
  readonly cli: string;
  readonly rgw: Rgw;
  readonly s3: S3Client;
  readonly fill: S3Client;
  readonly rcloneConfig: string;
}

interface ListingRun {
  readonly objects: number;
  readonly repetition: number;
  readonly rwm: Measured;
  readonly sequential: Measured;
  /** The sequential lister's own timing of the listing, without node's start-up. */
  readonly sequentialListSec: number;
  readonly sequentialPages: number;
  readonly ranges: Measured;
  readonly rangesRequests: number;
}

interface LimitedGcRun {
  readonly objects: number;
  readonly rwm: Measured;
}

interface ListerOutput {
  readonly live: number;
  readonly deleteMarkers: number;
  readonly listSec: number;
  readonly pages?: number;
  readonly requests?: number;
}

/** `rwm state save`, checked against the bucket, and its state deleted again so every run lists the same keys. */
async function saveState(ctx: Ctx, src: Source, nodeArgs: readonly string[] = []): Promise<Measured> {
  const m = await rwm(ctx, 'rwm state save', ['state', 'save', `${src.bucket}/${PREFIX}`, '--no-local', '--json'], nodeArgs);
  const saved = JSON.parse(m.stdout) as { header: { objects: number; deleteMarkers: number } };
  if (saved.header.objects !== src.objects || saved.header.deleteMarkers !== 0) throw new Error(`rwm state save of ${src.bucket} recorded ${saved.header.objects} objects and ${saved.header.deleteMarkers} delete markers, not ${src.objects} and 0`);
  await deleteVersions(ctx.s3, src.bucket, await listVersions(ctx.s3, src.bucket, `${KP}.rwm/`));
  return m;
}

async function lister(ctx: Ctx, src: Source, what: string, script: string): Promise<{ m: Measured; out: ListerOutput }> {
  const m = await measured(ctx, what, process.execPath, [script, ctx.rgw.endpoint, src.bucket, PREFIX], adminEnv(ctx.rgw));
  const out = JSON.parse(m.stdout) as ListerOutput;
  if (out.live !== src.objects || out.deleteMarkers !== 0) throw new Error(`${what} of ${src.bucket} saw ${out.live} objects and ${out.deleteMarkers} delete markers, not ${src.objects} and 0`);
  return { m, out };
}

/** `rwm state save`, the sequential pagination and the range sketch, `repeat` times each, the order rotated every run. */
async function listingScenario(ctx: Ctx, src: Source): Promise<ListingRun[]> {
  const runs: ListingRun[] = [];
  for (let r = 0; r < ctx.cfg.repeat; r++) {
    let rwmRun: Measured | undefined;
    let seq: Awaited<ReturnType<typeof lister>> | undefined;
    let ranges: Awaited<ReturnType<typeof lister>> | undefined;
    const steps = [
      async () => (rwmRun = await saveState(ctx, src)),
      async () => (seq = await lister(ctx, src, 'sequential ListObjectVersions', SEQUENTIAL)),
      async () => (ranges = await lister(ctx, src, 'range-split listing sketch', RANGES)),
    ];
    for (let i = 0; i < steps.length; i++) await steps[(i + r) % steps.length]!();
    if (rwmRun === undefined || seq === undefined || ranges === undefined) throw new Error('a listing step did not run');
    log(`${src.objects} objects, run ${r + 1}/${ctx.cfg.repeat}: rwm state save ${rwmRun.wallSec.toFixed(2)} s wall, ${rwmRun.cpuSec.toFixed(2)} s CPU, ${rwmRun.peakRssMiB.toFixed(0)} MiB; ` +
      `sequential ${seq.m.wallSec.toFixed(2)} s wall, ${seq.m.cpuSec.toFixed(2)} s CPU (${seq.out.pages ?? '?'} pages, listing ${seq.out.listSec.toFixed(2)} s); ` +
      `ranges sketch ${ranges.m.wallSec.toFixed(2)} s wall, ${ranges.m.cpuSec.toFixed(2)} s CPU (${ranges.out.requests ?? '?'} requests)`);
    runs.push({ objects: src.objects, repetition: r, rwm: rwmRun, sequential: seq.m, sequentialListSec: seq.out.listSec, sequentialPages: seq.out.pages ?? 0, ranges: ranges.m, rangesRequests: ranges.out.requests ?? 0 });
  }
  return runs;
}

interface RestoreResults {
  readonly objects: number;
  readonly tampered: number;
  readonly at: string;
  readonly toBucket: { readonly rwm: Measured; readonly copied: number; readonly check: Check };
  readonly rclone: readonly { readonly label: string; readonly args: readonly string[]; readonly m: Measured; readonly check: Check }[];
  readonly inPlace: { readonly m: Measured; readonly copied: number; readonly hidden: number; readonly same: number; readonly check: Check };
}

interface ApplyJson {
  readonly report: { readonly copied: number; readonly hidden: number; readonly same: number; readonly failed: number };
}

function rcloneEnv(ctx: Ctx, at: string): NodeJS.ProcessEnv {
  // The source remote shows the versions of T; the target is a plain remote (a remote with
  // version_at refuses writes), so the copy needs --server-side-across-configs to stay server-side.
  return childEnv({ ...rcloneRemoteEnv('SRC', ctx.rgw), RCLONE_CONFIG_SRC_VERSION_AT: at, ...rcloneRemoteEnv('DST', ctx.rgw) });
}

async function restoreScenario(ctx: Ctx, src: Source): Promise<RestoreResults> {
  // T: a whole second (rclone parses RFC 3339 without fractions), at least a second after the
  // last version of the fill and a second before the first tampered version.
  await sleep(1100);
  const t = Math.floor(Date.now() / 1000) * 1000;
  const at = new Date(t).toISOString().replace(/\.000Z$/, 'Z');
  while (Date.now() < t + 1100) await sleep(100);
  const tampered = src.keys.filter((_, i) => i % TAMPER_EVERY === 0);
  log(`T = ${at}; overwriting ${tampered.length} of ${src.objects} keys with garbage (a new version on top)`);
  await pool(tampered.entries(), 16, async ([i, rel]) => {
    await ctx.fill.send(new PutObjectCommand({ Bucket: src.bucket, Key: KP + rel, Body: seededBytes(`garbage-${i}`, 64) }));
  });
  const versions = await listVersions(ctx.s3, src.bucket, KP);
  const expected = stateAtTime(versions, t);
  if (expected.size !== src.objects) throw new Error(`${src.bucket}: ${expected.size} keys at ${at}, expected ${src.objects}`);
  const changed = [...stateAtTime(versions, Infinity)].filter(([k, e]) => expected.get(k) !== e).length;
  if (changed !== tampered.length) throw new Error(`${changed} keys differ from T after tampering ${tampered.length}`);

  // Restore to a new bucket: rwm.
  const rwmTarget = await scratchBucket(ctx, 'to-rwm');
  log(`rwm restore --at ${at} --to ${rwmTarget.bucket}/${PREFIX}`);
  const rwmRun = await rwm(ctx, 'rwm restore --to', ['restore', `${src.bucket}/${PREFIX}`, '--at', at, '--to', `${rwmTarget.bucket}/${PREFIX}`, '--json']);
  const rwmReport = (JSON.parse(rwmRun.stdout) as ApplyJson).report;
  const rwmCheck = await checkBucket(ctx, rwmTarget.bucket, expected);
  log(`  ${rwmRun.wallSec.toFixed(2)} s wall, ${rwmRun.cpuSec.toFixed(2)} s CPU; copied ${rwmReport.copied}; ${describeCheck(rwmCheck)}`);
  await rwmTarget.drop();

  // The same with rclone, with its defaults and with rwm's default concurrency.
  const rclone: RestoreResults['rclone'][number][] = [];
  for (const [label, extra] of [['rclone copy (defaults)', []], ['rclone copy --transfers 16 --checkers 16', ['--transfers', '16', '--checkers', '16']]] as const) {
    const target = await scratchBucket(ctx, 'to-rclone');
    const args = ['copy', '--config', ctx.rcloneConfig, '--server-side-across-configs', ...extra, `SRC:${src.bucket}/${PREFIX}`, `DST:${target.bucket}/${PREFIX}`];
    log(`${label}: rclone ${args.join(' ')} (SRC with version_at = ${at})`);
    const m = await measured(ctx, label, 'rclone', args, rcloneEnv(ctx, at));
    const check = await checkBucket(ctx, target.bucket, expected);
    log(`  ${m.wallSec.toFixed(2)} s wall, ${m.cpuSec.toFixed(2)} s CPU; ${describeCheck(check)}`);
    await target.drop();
    rclone.push({ label, args, m, check });
  }

  // In place: only the tampered keys should be copied.
  log(`rwm restore --at ${at} in place`);
  const inPlace = await rwm(ctx, 'rwm restore in place', ['restore', `${src.bucket}/${PREFIX}`, '--at', at, '--json']);
  const ip = (JSON.parse(inPlace.stdout) as ApplyJson).report;
  const ipCheck = await checkBucket(ctx, src.bucket, expected);
  log(`  ${inPlace.wallSec.toFixed(2)} s wall, ${inPlace.cpuSec.toFixed(2)} s CPU; copied ${ip.copied}, hid ${ip.hidden}, ${ip.same} already right; ${describeCheck(ipCheck)}`);
  return {
    objects: src.objects,
    tampered: tampered.length,
    at,
    toBucket: { rwm: rwmRun, copied: rwmReport.copied, check: rwmCheck },
    rclone,
    inPlace: { m: inPlace, copied: ip.copied, hidden: ip.hidden, same: ip.same, check: ipCheck },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly subject: number | undefined;
  readonly baseline: number | undefined;
  readonly goal: string;
  readonly digits?: number;
  /** Counts: no ratio. */
  readonly noRatio?: true;
}

const med = (values: readonly (number | undefined)[]): number | undefined => {
  const v = values.filter((x): x is number => x !== undefined);
  return v.length === 0 ? undefined : median(v);
};
const kObjects = (n: number): string => (n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** The usual rows for two measured processes: wall, CPU, peak RSS, RGW and OSD CPU. */
function processRows(scenario: string, a: readonly Measured[], b: readonly Measured[], wallGoal: string, rss = true): Row[] {
  const m = (xs: readonly Measured[], f: (x: Measured) => number | undefined): number | undefined => med(xs.map(f));
  const rows: Row[] = [
    { scenario, metric: 'wall time, s', subject: m(a, (x) => x.wallSec), baseline: m(b, (x) => x.wallSec), goal: wallGoal },
    { scenario: '', metric: 'CPU (user+sys), s', subject: m(a, (x) => x.cpuSec), baseline: m(b, (x) => x.cpuSec), goal: 'info' },
  ];
  if (rss) rows.push({ scenario: '', metric: 'peak RSS, MiB', subject: m(a, (x) => x.peakRssMiB), baseline: m(b, (x) => x.peakRssMiB), goal: 'info', digits: 0 });
  rows.push(
    { scenario: '', metric: 'radosgw CPU, s', subject: m(a, (x) => x.rgwCpuSec), baseline: m(b, (x) => x.rgwCpuSec), goal: 'info' },
    { scenario: '', metric: 'ceph-osd CPU, s', subject: m(a, (x) => x.osdCpuSec), baseline: m(b, (x) => x.osdCpuSec), goal: 'info' },
  );
  return rows;
}

function listingRows(runs: readonly ListingRun[], limited: readonly LimitedGcRun[], objects: readonly number[]): Row[] {
  const rows: Row[] = [];
  for (const n of objects) {
    const r = runs.filter((x) => x.objects === n);
    rows.push(...processRows(`rwm state save ${kObjects(n)} vs sequential list`, r.map((x) => x.rwm), r.map((x) => x.sequential), '≤ 0.5'));
    const l = limited.find((x) => x.objects === n);
    rows.push(
      { scenario: '', metric: 'rwm peak RSS, node --max-semi-space-size=1, MiB', subject: l?.rwm.peakRssMiB, baseline: undefined, goal: 'info', digits: 0 },
      { scenario: '', metric: 'sequential: the listing alone (no start-up), s', subject: undefined, baseline: med(r.map((x) => x.sequentialListSec)), goal: 'info' },
    );
    rows.push(...processRows(`range-split sketch ${kObjects(n)} vs sequential list`, r.map((x) => x.ranges), r.map((x) => x.sequential), 'info', false));
    rows.push({ scenario: '', metric: 'ListObjectVersions requests', subject: med(r.map((x) => x.rangesRequests)), baseline: med(r.map((x) => x.sequentialPages)), goal: 'info', digits: 0 });
  }
  return rows;
}

function restoreRows(x: RestoreResults): Row[] {
  const rows: Row[] = [];
  for (const [i, rc] of x.rclone.entries()) {
    rows.push(...processRows(`rwm restore ${kObjects(x.objects)} --to a new bucket vs ${rc.label.replace(/^rclone copy /, 'rclone ')}`, [x.toBucket.rwm], [rc.m], i === 0 ? '≤ 0.33 (3× faster)' : 'info'));
  }
  rows.push(...processRows(`rwm restore in place (${x.tampered} tampered) vs rwm restore --to (all ${kObjects(x.objects)})`, [x.inPlace.m], [x.toBucket.rwm], 'info', false));
  rows.push({ scenario: '', metric: 'versions copied', subject: x.inPlace.copied, baseline: x.toBucket.copied, goal: `= ${x.tampered}`, digits: 0, noRatio: true });
  return rows;
}

function renderRows(rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.scenario, r.metric, fmt(r.subject, r.digits ?? 2), fmt(r.baseline, r.digits ?? 2), r.noRatio ? '-' : fmt(ratio(r.subject, r.baseline)), r.goal]);
  return renderTable(['scenario (subject vs baseline)', 'metric', 'subject', 'baseline', 'ratio', 'goal'], cells, (i) => i >= 2 && i <= 4);
}

function verdicts(runs: readonly ListingRun[], limited: readonly LimitedGcRun[], objects: readonly number[], restore: RestoreResults | undefined): { lines: string[]; failed: boolean } {
  const lines: string[] = [];
  let failed = false;
  const medOf = (n: number, f: (r: ListingRun) => number | undefined): number | undefined => med(runs.filter((x) => x.objects === n).map(f));
  for (const n of objects) {
    const wall = ratio(medOf(n, (x) => x.rwm.wallSec), medOf(n, (x) => x.sequential.wallSec));
    const cpu = ratio(medOf(n, (x) => x.rwm.cpuSec), medOf(n, (x) => x.sequential.cpuSec));
    const sketch = ratio(medOf(n, (x) => x.ranges.wallSec), medOf(n, (x) => x.sequential.wallSec));
    if (wall !== undefined) lines.push(`state save, ${kObjects(n)} objects: ${fmt(wall)}× the sequential listing's wall time (goal ≤ 0.5: ${wall <= 0.5 ? 'met' : 'NOT met'}), ${fmt(cpu)}× its CPU; the range-split sketch: ${fmt(sketch)}× its wall time`);
  }
  if (objects.length >= 2) {
    const lo = objects[0]!;
    const hi = objects[objects.length - 1]!;
    const flat = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '-' : `${fmt(a, 0)} → ${fmt(b, 0)} MiB (${b - a <= Math.max(8, a / 10) ? 'flat' : 'grows'})`);
    const limitedOf = (n: number): number | undefined => limited.find((x) => x.objects === n)?.rwm.peakRssMiB;
    lines.push(`state save peak RSS from ${kObjects(lo)} to ${kObjects(hi)} objects: ${flat(medOf(lo, (x) => x.rwm.peakRssMiB), medOf(hi, (x) => x.rwm.peakRssMiB))} with node's defaults, ` +
      `${flat(limitedOf(lo), limitedOf(hi))} with --max-semi-space-size=1 (flat = within max(8 MiB, 10%); flat only with the cap means V8 sizing its young generation, not retained memory)`);
  }
  if (restore === undefined) return { lines, failed };
  const rwm = restore.toBucket.rwm;
  for (const rc of restore.rclone) {
    lines.push(`restore to a new bucket: rwm takes ${fmt(rwm.wallSec / rc.m.wallSec)}× the wall time of ${rc.label} (${fmt(rc.m.wallSec / rwm.wallSec)}× as fast; goal ≥ 3 against the defaults) and ${fmt(rwm.cpuSec / rc.m.cpuSec)}× its CPU; rclone's result: ${describeCheck(rc.check)}`);
  }
  lines.push(`rwm restore --to: copied ${restore.toBucket.copied}; ${describeCheck(restore.toBucket.check)}`);
  const ip = restore.inPlace;
  const exact = ip.copied === restore.tampered && ip.hidden === 0;
  lines.push(`in place: copied ${ip.copied} versions and hid ${ip.hidden} keys for ${restore.tampered} tampered (${exact ? 'exactly the changed keys' : 'NOT exactly the changed keys'}), ${ip.same} left alone; ` +
    `${fmt(ip.m.wallSec / rwm.wallSec)}× the wall time and ${fmt(ip.m.cpuSec / rwm.cpuSec)}× the CPU of the full copy; ${describeCheck(ip.check)}`);
  if (!exact || !ip.check.ok || !restore.toBucket.check.ok) failed = true;
  return { lines, failed };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const cfg = readConfig();
  const build: RwmBuild = await copyRwmBuild('bench:state', log);
  const clkTck = await clockTicks();
  const work = await scratchDir('rwm-bench-state');
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  log(`config ${JSON.stringify(cfg)}; scratch ${work}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const rcloneConfig = await emptyRcloneConfig(work);

  const { rgw, own } = await connectRgw(work);
  log(`RGW ${own ? 'started' : 'reused'} at ${rgw.endpoint} (radosgw pid ${rgw.rgwPid ?? '?'})`);
  const s3 = adminClient(rgw);
  const fill = adminClient(rgw, FILL_CONCURRENCY);
  onCleanup('close the S3 clients', async () => {
    s3.destroy();
    fill.destroy();
  });
  const ctx: Ctx = { cfg, cli: build.cli, work, clkTck, rgw, s3, fill, rcloneConfig };
  if (own) await warmUp(ctx);

  const sources = new Map<number, Source>();
  const wanted = [...(cfg.scenarios.has('listing') ? cfg.objects : []), ...(cfg.scenarios.has('restore') ? [cfg.restoreObjects] : [])];
  for (const n of [...new Set(wanted)].sort((a, b) => a - b)) sources.set(n, await ensureSource(ctx, n));

  const runs: ListingRun[] = [];
  const limited: LimitedGcRun[] = [];
  for (const n of cfg.scenarios.has('listing') ? cfg.objects : []) {
    log(`state save vs sequential listing: ${n} objects, ${cfg.repeat} run(s) each`);
    runs.push(...(await listingScenario(ctx, sources.get(n)!)));
    const m = await saveState(ctx, sources.get(n)!, ['--max-semi-space-size=1']);
    log(`${n} objects: rwm state save with node --max-semi-space-size=1: peak RSS ${m.peakRssMiB.toFixed(0)} MiB`);
    limited.push({ objects: n, rwm: m });
  }
  let restore: RestoreResults | undefined;
  if (cfg.scenarios.has('restore')) {
    log(`restores: ${cfg.restoreObjects} objects`);
    restore = await restoreScenario(ctx, sources.get(cfg.restoreObjects)!);
  }

  const rows = [...listingRows(runs, limited, cfg.objects), ...(restore !== undefined ? restoreRows(restore) : [])];
  const { lines, failed } = verdicts(runs, limited, cfg.objects, restore);
  const loadAfter = loadavg();
  const rcloneVersion = await versionOf('rclone', ['version']);
  process.stdout.write(
    `\nrwm state save and restore vs a sequential ListObjectVersions and ${rcloneVersion}, one Ceph RGW (${own ? 'started for this run' : rgw.endpoint}), ` +
      `${cpus().length} cores, load average ${loadBefore[0]!.toFixed(2)} at the start, ${loadAfter[0]!.toFixed(2)} at the end\n` +
      `(listing: median of ${cfg.repeat} run(s); restores: one run each; wall, CPU (user+sys) and peak RSS of each measured process from /usr/bin/time; ` +
      `radosgw and ceph-osd CPU over the same interval from /proc${own ? '' : ', including whatever else used that RGW meanwhile'}; ratio = subject / baseline)\n\n`,
  );
  const fills = [...sources.values()].map((s) => `${kObjects(s.objects)}: ${s.fillSec === undefined ? 'reused' : `filled in ${s.fillSec.toFixed(1)} s`}`).join(', ');
  process.stdout.write(`source buckets: ${fills} (not measured)\n${restore !== undefined ? `T = ${restore.at}; tampered ${restore.tampered} keys after T\n` : ''}\n`);
  process.stdout.write(`${renderRows(rows)}\n\n${lines.join('\n')}\n`);
  const file = await writeResults('state', {
    startedAt,
    finishedAt: new Date().toISOString(),
    config: cfg,
    machine: { cpus: cpus().length, node: process.version, rclone: rcloneVersion, rwmGit: await gitState(), rwmSrcNewerThanDist: build.stale, loadBefore, loadAfter, rgw: own ? 'own' : rgw.endpoint },
    fills: [...sources.values()].map((s) => ({ objects: s.objects, bucket: s.bucket, fillSec: s.fillSec })),
    rows,
    verdicts: lines,
    listing: runs.map((r) => ({ ...r, rwm: withoutStdout(r.rwm), sequential: withoutStdout(r.sequential), ranges: withoutStdout(r.ranges) })),
    limitedGc: limited.map((l) => ({ ...l, rwm: withoutStdout(l.rwm) })),
    restore: restore === undefined ? undefined : { ...restore, toBucket: { ...restore.toBucket, rwm: withoutStdout(restore.toBucket.rwm) }, rclone: restore.rclone.map((r) => ({ ...r, m: withoutStdout(r.m) })), inPlace: { ...restore.inPlace, m: withoutStdout(restore.inPlace.m) } },
  });
  process.stdout.write(`\nraw results: ${file}\n`);
  if (failed) throw new Error('a restore did not give the state of T (see above)');
  succeeded = true;
}

await runBench(main);
