// `rwm restore BUCKET[/PREFIX] (--state ID | --at TIME) [--to BUCKET2[/PREFIX2] | --to-dir DIR]`:
// point-in-time restore. In place it touches only keys that differ (copies the old version on top,
// or adds a delete marker) and never deletes a version, so a restore can itself be undone.
import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { S3Buckets } from '../../s3/s3-buckets.js';
import type { VersionedBuckets } from '../../s3/bucket.js';
import { pairsAt, stateAt } from '../../state/at-time.js';
import { mergeJoin, type Pair } from '../../state/merge.js';
import type { StateEntry } from '../../state/format.js';
import { restoreToDir, type ToDirReport } from '../../restore/to-dir.js';
import { applyPlan, type ApplyReport } from '../../versions/apply.js';
import { planCopy, planInPlace, type Action } from '../../versions/plan.js';
import { CommandExit, EXIT, EXIT_HELP, UserError } from '../exit.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './storage/common.js';
import { formatBytes } from './storage/format.js';
import { describeTarget, parseTarget, progressBar, resolvePoint, stateDirOf, type Point, type Target } from './state/common.js';

interface RestoreFlags extends ConnectionOptions {
  state?: string;
  at?: string;
  to?: string;
  toDir?: string;
  dryRun?: boolean;
  allowNonEmpty?: boolean;
  stateDir?: string;
  concurrency?: string;
  json?: boolean;
}

export interface RestoreResult {
  readonly source: string;
  readonly point: string;
  readonly mode: 'in-place' | 'bucket' | 'dir';
  readonly target: string;
  readonly dryRun: boolean;
  readonly report: ApplyReport | ToDirReport;
}

/** Counts the live entries that pass through. */
function counted(entries: AsyncIterable<StateEntry>, c: { n: number }): AsyncIterable<StateEntry> {
  return (async function* () {
    for await (const e of entries) {
      if (!e.deleteMarker) c.n += 1;
      yield e;
    }
  })();
}

function countedPairs(pairs: AsyncIterable<Pair>, c: { n: number }): AsyncIterable<Pair> {
  return (async function* () {
    for await (const p of pairs) {
      if (p.a !== undefined && !p.a.deleteMarker) c.n += 1;
      yield p;
    }
  })();
}

const nothingAt = (src: Target, point: Point): UserError =>
  new UserError(`nothing existed under ${describeTarget(src)} at ${point.label} (a time before the first version?): nothing to restore, nothing changed`, EXIT.FAILURE);

async function assertEmptyDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new UserError(`cannot read --to-dir ${dir}: ${err.code ?? err.message}`, EXIT.FAILURE);
  });
  if (names.length > 0) throw new UserError(`--to-dir ${dir} is not empty: restore into an empty directory, or give --allow-non-empty to finish an interrupted restore`);
}

async function hasLiveKeys(buckets: VersionedBuckets, t: Target): Promise<boolean> {
  for await (const e of stateAt(buckets.listVersions(t.bucket, t.kp), Infinity)) if (!e.deleteMarker) return true;
  return false;
}

export function registerRestore(program: Command, deps: () => StorageDeps): void {
  withConnection(program.command('restore').argument('<bucket[/prefix]>'))
    .description('point-in-time restore of a versioned bucket: in place (only keys that differ), to another bucket, or to a local directory')
    .option('--state <name>', 'go back to a saved state (rwm state list), or a state file')
    .option('--at <time>', 'go back to a time: RFC 3339 with zone, or an age (2h, 3d); needs no saved state')
    .option('--to <bucket[/prefix]>', 'copy the versions of that point into another bucket or prefix (server-side) instead of in place')
    .option('--to-dir <dir>', 'download the versions of that point into a directory in restic\'s local layout, verifying every file')
    .option('--dry-run', 'print what would be copied, hidden and left alone; change nothing')
    .option('--allow-non-empty', 'with --to/--to-dir: write into a target that already holds files (to finish an interrupted restore)')
    .option('--state-dir <dir>', 'local state directory, for states not in the bucket')
    .option('--concurrency <n>', 'copies or downloads at once', '32')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
In place, with the bucket owner's keys: a key whose current version is not the one of that point gets
it copied on top; a key that did not exist then gets a delete marker. locks/ and .rwm/ are never
touched. Nothing is deleted, so restoring to the time just before a restore undoes it.
${EXIT_HELP}`)
    .action(async (arg: string, opts: RestoreFlags, cmd: Command) => {
      const d = deps();
      const src = parseTarget(arg);
      if ((opts.state === undefined) === (opts.at === undefined)) throw new UserError('give exactly one of --state NAME and --at TIME');
      if (opts.to !== undefined && opts.toDir !== undefined) throw new UserError('--to and --to-dir exclude each other');
      if (opts.allowNonEmpty === true && opts.to === undefined && opts.toDir === undefined) throw new UserError('--allow-non-empty is for --to and --to-dir');
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UserError(`--concurrency must be a whole number from 1 to 256, not "${opts.concurrency}"`);
      const dst = opts.to !== undefined ? parseTarget(opts.to) : undefined;
      if (dst !== undefined && dst.bucket === src.bucket && (dst.kp.startsWith(src.kp) || src.kp.startsWith(dst.kp))) {
        throw new UserError(`--to ${describeTarget(dst)} overlaps ${describeTarget(src)}: restore in place (no --to), or to a prefix outside it`);
      }
      const dryRun = opts.dryRun === true;
      const json = opts.json === true;
      const stateDir = stateDirOf(opts.stateDir, d.env);

      const result = await withStorage(opts, cmd, d, async (s): Promise<RestoreResult> => {
        const buckets = new S3Buckets(s.client);
        if ((await buckets.versioning(src.bucket)) === 'Unversioned') throw new UserError(`bucket ${src.bucket} has no versioning: there are no older versions to restore`, EXIT.FAILURE);
        const point: Point = resolvePoint(buckets, src, opts.state ?? opts.at ?? '', stateDir, opts.state !== undefined ? 'state' : 'time');
        const base = { source: describeTarget(src), point: point.label, dryRun };
        const lines = (a: Action): string | undefined => (a.kind === 'copy' ? `copy ${a.key} version ${a.versionId} -> ${a.target}` : a.kind === 'hide' ? `hide ${a.target}` : undefined);

        if (opts.toDir !== undefined) {
          const dir = opts.toDir;
          if (opts.allowNonEmpty !== true) await assertEmptyDir(dir);
          const bar = progressBar(d, 'restoring files', json);
          let done = 0;
          const report = await restoreToDir(await point.entries(), {
            buckets,
            bucket: src.bucket,
            prefix: src.kp,
            dir,
            dryRun,
            concurrency,
            onFile: (key, outcome) => {
              bar.tick(++done);
              if (dryRun && !json && outcome === 'written') d.stdout.write(`download ${key}\n`);
            },
          }).finally(() => bar.stop());
          if (report.written + report.same + report.refused + report.foreign + report.failed === 0) throw nothingAt(src, point);
          return { ...base, mode: 'dir', target: dir, report };
        }

        // A dry pass first: it refuses a point at which nothing existed (in place that would hide
        // everything), and gives the progress bar its total.
        const planOf = async (wanted: { n: number }): Promise<AsyncIterable<Action>> => {
          const entries = counted(await point.entries(), wanted);
          if (dst === undefined) {
            // A time: wanted and current come from one listing. A state: merged with the current listing.
            const listing = buckets.listVersions(src.bucket, src.kp);
            const pairs = opts.at !== undefined ? countedPairs(pairsAt(listing, point.time), wanted) : mergeJoin(entries, stateAt(listing, Infinity));
            return planInPlace(pairs, src.kp);
          }
          const existing = opts.allowNonEmpty === true ? stateAt(buckets.listVersions(dst.bucket, dst.kp), Infinity) : (async function* () {})();
          return planCopy(entries, existing, src.kp, (k) => dst.kp + k.slice(src.kp.length), (k) => src.kp + k.slice(dst.kp.length));
        };
        if (dst !== undefined) {
          if (!(await buckets.exists(dst.bucket))) throw new UserError(`target bucket ${dst.bucket} does not exist (create it first, e.g. rwm storage create)`, EXIT.FAILURE);
          if (opts.allowNonEmpty !== true && (await hasLiveKeys(buckets, dst))) throw new UserError(`target ${describeTarget(dst)} is not empty: restore into an empty bucket or prefix, or give --allow-non-empty`);
        }
        const wanted = { n: 0 };
        const counts = await applyPlan(await planOf(wanted), { buckets, sourceBucket: src.bucket, targetBucket: dst?.bucket ?? src.bucket, dryRun: true, concurrency });
        if (wanted.n === 0) throw nothingAt(src, point);
        const common = { ...base, mode: dst === undefined ? ('in-place' as const) : ('bucket' as const), target: dst === undefined ? describeTarget(src) : describeTarget(dst) };
        if (dryRun) {
          const report = await applyPlan(await planOf({ n: 0 }), {
            buckets, sourceBucket: src.bucket, targetBucket: dst?.bucket ?? src.bucket, dryRun: true, concurrency,
            onAction: (a) => {
              const l = lines(a);
              if (l !== undefined && !json) d.stdout.write(`${l}\n`);
            },
          });
          return { ...common, report };
        }
        const total = counts.copied + counts.hidden;
        const bar = progressBar(d, dst === undefined ? 'restoring keys' : 'copying', json);
        let done = 0;
        const report = await applyPlan(await planOf({ n: 0 }), {
          buckets, sourceBucket: src.bucket, targetBucket: dst?.bucket ?? src.bucket, dryRun: false, concurrency,
          onAction: (a) => {
            if (a.kind === 'copy' || a.kind === 'hide') bar.tick(++done, total);
          },
        }).finally(() => bar.stop());
        return { ...common, report };
      });

      if (json) writeJson(d, result);
      else d.stdout.write(formatRestore(result));
      const r = result.report;
      if (r.failed > 0 || ('refused' in r && r.refused > 0) || ('foreign' in r && r.foreign > 0)) throw new CommandExit(EXIT.FAILURE);
    });
}

function formatRestore(x: RestoreResult): string {
  const r = x.report;
  const verb = x.dryRun ? 'would be' : '';
  const lines = [`${x.dryRun ? 'dry run: ' : ''}restore of ${x.source} to ${x.point} (${x.mode === 'in-place' ? 'in place' : x.target})`];
  if ('copied' in r) {
    lines.push(`  ${verb ? 'would copy' : 'copied'} ${r.copied} versions (${formatBytes(r.copiedBytes)}) to the top, ${verb ? 'would hide' : 'hid'} ${r.hidden} keys with a delete marker; ${r.same} keys already right, ${r.skipped} locks left alone`);
  } else {
    lines.push(`  ${verb ? 'would write' : 'wrote'} ${r.written} files (${formatBytes(r.writtenBytes)}); ${r.same} already there; ${r.refused} refused (bytes do not match their name); ${r.foreign} not restic's`);
  }
  if (r.failed > 0) lines.push(`  ${r.failed} failed`);
  for (const f of r.failures) lines.push(`  - ${f}`);
  return `${lines.join('\n')}\n`;
}
