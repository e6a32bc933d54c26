// `rwm storage drop-versions BUCKET[/PREFIX] [--keep-within AGE] [--dry-run | --yes]`: reclaim space
// by deleting old versions, only where that provably loses nothing (src/storage/drop-versions.ts and
// versions/drop.ts say when). Dry run unless --yes.
import type { Command } from 'commander';
import { S3Buckets } from '../../../s3/s3-buckets.js';
import { DEFAULT_KEEP_WITHIN, keepWithinSince, runDropVersions, type DropOutput } from '../../../storage/drop-versions.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { parseTarget, progressBar, stateDirOf } from '../state/common.js';
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
          since = keepWithinSince(keepWithin, now);
        } catch (err) {
          throw new UserError(`--keep-within: ${(err as Error).message}`, EXIT.USAGE, { cause: err });
        }
        const buckets = new S3Buckets(s.client);
        const bar = progressBar(d, dryRun ? 'planning' : 'deleting versions', json);
        let done = 0;
        return runDropVersions({ buckets, target: t, stateDir, keepWithin, now, since, dryRun, concurrency, onAction: () => bar.tick(++done, done) }).finally(() => bar.stop());
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
