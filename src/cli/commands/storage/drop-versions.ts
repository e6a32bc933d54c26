// `rwm storage drop-versions BUCKET[/PREFIX] [--keep-within AGE] [--dry-run | --yes]`: reclaim space
// by deleting old versions, only where that provably loses nothing (versions/drop.ts says when).
// Dry run unless --yes; the manifest of what was deleted is kept in the state directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { S3Buckets } from '../../../s3/s3-buckets.js';
import type { VersionedBuckets } from '../../../s3/bucket.js';
import { latestVerifiedState, listLocalStates, STATE_SUFFIX } from '../../../state/catalog.js';
import { openState, STATE_NAME_RE, stateNameTime, type StateEntry } from '../../../state/format.js';
import { parseTime, TimeError } from '../../../state/time.js';
import { groupBy } from '../../../util/ordered.js';
import { applyPlan, type ApplyReport } from '../../../versions/apply.js';
import { planDrop, type DropDecision, type KeepReason } from '../../../versions/drop.js';
import type { Action } from '../../../versions/plan.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { describeTarget, parseTarget, progressBar, stateDirOf } from '../state/common.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';
import { formatBytes } from './format.js';

interface DropFlags extends ConnectionOptions {
  keepWithin?: string;
  dryRun?: boolean;
  yes?: boolean;
  stateDir?: string;
  concurrency: string;
  json?: boolean;
}

export const DEFAULT_KEEP_WITHIN = '30d';

export interface DropOutput {
  readonly target: string;
  readonly dryRun: boolean;
  readonly keepWithin: string;
  readonly verifiedState: string;
  readonly statesInWindow: number;
  readonly report: ApplyReport;
  readonly kept: { keys: number; versions: number; bytes: number; byReason: Record<KeepReason, number> };
  /** Keys that keep versions for a reason other than the window (each named). */
  readonly refused: { key: string; versions: number; reasons: readonly KeepReason[] }[];
  readonly manifest: string | null;
}

/** The states whose name says they were made inside the window: every `.rwm/state/` under the prefix, and local ones. */
async function statesInWindow(buckets: VersionedBuckets, bucket: string, kp: string, prefix: string, stateDir: string, since: number, tmp: string): Promise<string[]> {
  const files: string[] = [];
  let n = 0;
  for await (const r of buckets.listVersions(bucket, kp)) {
    const m = /(?:^|\/)\.rwm\/state\/([^/]+)$/.exec(r.key);
    const name = m?.[1]?.slice(0, -STATE_SUFFIX.length);
    if (r.deleteMarker || name === undefined || !m?.[1]?.endsWith(STATE_SUFFIX) || !STATE_NAME_RE.test(name) || !(stateNameTime(name) >= since)) continue;
    // Every version counts: an overwritten state protects what either version names.
    const file = join(tmp, `${n++}${STATE_SUFFIX}`);
    await pipeline(await buckets.read({ bucket, key: r.key, versionId: r.versionId }), createWriteStream(file));
    files.push(file);
  }
  for (const l of await listLocalStates(stateDir, bucket, prefix)) if (l.file !== undefined && stateNameTime(l.name) >= since) files.push(l.file);
  return files;
}

export function registerDropVersions(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('drop-versions').argument('<bucket[/prefix]>'))
    .description('delete noncurrent versions and stale delete markers, only where a scrub verified the current version, outside the restore window, named by no recent state, and not locked')
    .option('--keep-within <age>', `keep versions that became noncurrent less than this long ago (default: storage.keepWithin, else ${DEFAULT_KEEP_WITHIN})`)
    .option('--dry-run', 'say what would be deleted (the default without --yes)')
    .option('--yes', 'delete')
    .option('--state-dir <dir>', 'where the scrub\'s verified states are, and where the manifest of deleted versions goes')
    .option('--concurrency <n>', 'deletes at once', '16')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Run rwm scrub first: a key whose current version the last scrub did not hash and find good keeps all
its versions. Never deletes a current version or anything under .rwm/; locked versions are kept.
Exit status: 0 done (or dry run), 1 some deletes failed, 2 wrong usage.`)
    .action(async (arg: string, opts: DropFlags, cmd: Command) => {
      const d = deps();
      const t = parseTarget(arg);
      if (opts.dryRun === true && opts.yes === true) throw new UserError('--dry-run and --yes exclude each other');
      const dryRun = opts.yes !== true;
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UserError(`--concurrency must be a whole number from 1 to 256, not "${opts.concurrency}"`);
      const stateDir = stateDirOf(opts.stateDir, d.env);
      const json = opts.json === true;
      const out = await withStorage(opts, cmd, d, async (s): Promise<DropOutput> => {
        const keepWithin = opts.keepWithin ?? s.config.storage?.keepWithin ?? DEFAULT_KEEP_WITHIN;
        const now = Date.now();
        let since: number;
        try {
          if (!/^[1-9][0-9]*[smhdw]$/.test(keepWithin)) throw new TimeError(`"${keepWithin}" is not an age`);
          since = parseTime(keepWithin, now);
        } catch {
          throw new UserError(`--keep-within must be an age such as 30d, 12h or 2w, not "${keepWithin}"`);
        }
        const buckets = new S3Buckets(s.client);
        if ((await buckets.versioning(t.bucket)) === 'Unversioned') throw new UserError(`bucket ${t.bucket} has no versioning: it has no old versions to drop`, EXIT.FAILURE);
        const verified = await latestVerifiedState(stateDir, t.bucket, t.prefix);
        if (verified === undefined) throw new UserError(`no verified state of ${describeTarget(t)} in ${stateDir}: run "rwm scrub ${describeTarget(t)}" first (nothing was deleted)`, EXIT.FAILURE);
        const tmp = await mkdtemp(join(tmpdir(), 'rwm-drop-'));
        const manifestDir = join(stateDir, 'drops', t.bucket, ...(t.prefix === '' ? [] : t.prefix.split('/')));
        const manifest = dryRun ? null : join(manifestDir, `${new Date(now).toISOString().replace(/[-:]/g, '')}.jsonl`);
        try {
          const files = await statesInWindow(buckets, t.bucket, t.kp, t.prefix, stateDir, since, tmp);
          const recent: AsyncIterable<StateEntry>[] = [];
          for (const f of files) recent.push((await openState(createReadStream(f), f)).entries);
          const kept = { keys: 0, versions: 0, bytes: 0, byReason: { 'not-verified': 0, 'in-window': 0, 'in-state': 0 } as Record<KeepReason, number> };
          const refused: DropOutput['refused'] = [];
          const decisions = planDrop({ groups: groupBy(buckets.listVersions(t.bucket, t.kp), (r) => r.key), verified: verified.state.entries, recentStates: recent, prefix: t.kp, now, keepWithinMs: now - since });
          async function* actions(): AsyncGenerator<Action> {
            for await (const dd of decisions as AsyncIterable<DropDecision>) {
              if (dd.kind === 'drop') {
                yield { kind: 'drop', target: dd.key, versionId: dd.versionId, size: dd.size };
                continue;
              }
              kept.keys += 1;
              kept.versions += dd.versions;
              kept.bytes += dd.bytes;
              for (const r of dd.reasons) kept.byReason[r] += 1;
              if (dd.reasons.some((r) => r !== 'in-window')) refused.push({ key: dd.key, versions: dd.versions, reasons: dd.reasons });
            }
          }
          if (manifest !== null) await mkdir(manifestDir, { recursive: true, mode: 0o700 });
          const log = manifest === null ? undefined : createWriteStream(manifest, { flags: 'wx', mode: 0o600 });
          const bar = progressBar(d, dryRun ? 'planning' : 'deleting versions', json);
          let done = 0;
          const report = await applyPlan(actions(), {
            buckets,
            sourceBucket: t.bucket,
            targetBucket: t.bucket,
            dryRun,
            checkLocks: await buckets.objectLockEnabled(t.bucket),
            concurrency,
            onAction: (a, err) => {
              bar.tick(++done, done);
              if (a.kind === 'drop' && err === undefined && log !== undefined) log.write(`${JSON.stringify({ key: a.target, versionId: a.versionId, size: a.size })}\n`);
            },
          }).finally(() => bar.stop());
          if (log !== undefined) await new Promise<void>((r) => log.end(r));
          return { target: describeTarget(t), dryRun, keepWithin, verifiedState: verified.name, statesInWindow: files.length, report, kept, refused, manifest };
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      });
      if (json) writeJson(d, out);
      else d.stdout.write(formatDrop(out));
      if (out.report.failed > 0) throw new CommandExit(EXIT.FAILURE);
    });
}

function formatDrop(o: DropOutput): string {
  const r = o.report;
  const k = o.kept;
  const lines = [
    `${o.dryRun ? 'dry run (nothing deleted; --yes deletes): ' : ''}${o.target}, keeping ${o.keepWithin}, after scrub ${o.verifiedState}, ${o.statesInWindow} states in the window`,
    `  ${o.dryRun ? 'would delete' : 'deleted'} ${r.dropped} old versions and delete markers (${formatBytes(r.droppedBytes)})${r.locked > 0 ? `; ${r.locked} locked, kept` : ''}${r.failed > 0 ? `; ${r.failed} failed` : ''}`,
    `  kept ${k.versions} old versions (${formatBytes(k.bytes)}) of ${k.keys} keys: ${k.byReason['in-window']} inside the window, ${k.byReason['not-verified']} not verified by the last scrub, ${k.byReason['in-state']} named by a recent state`,
  ];
  for (const x of o.refused.slice(0, 100)) lines.push(`  kept ${x.key} (${x.versions} versions): ${x.reasons.join(', ')}`);
  if (o.refused.length > 100) lines.push(`  ... and ${o.refused.length - 100} more keys (--json lists them)`);
  for (const f of r.failures) lines.push(`  - ${f}`);
  if (o.manifest !== null) lines.push(`  manifest: ${o.manifest}`);
  return `${lines.join('\n')}\n`;
}
