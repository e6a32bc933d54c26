// `rwm storage extend-retention BUCKET[/PREFIX] --days N`: keep live data locked. For every current
// version whose retain-until falls within N days, extend it to N days from now (its own mode, else
// the bucket's default), so data old snapshots still need stays locked past the default retention.
import type { Command } from 'commander';
import { runExtendRetention } from '../../../storage/extend-retention.js';
import { retentionProblem } from '../../../storage/retain-until.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { describeTarget, parseTarget, progressBar } from '../state/common.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';

interface ExtendFlags extends ConnectionOptions {
  days: string;
  dryRun?: boolean;
  concurrency: string;
  json?: boolean;
}

export function registerExtendRetention(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('extend-retention').argument('<bucket[/prefix]>'))
    .description('object-lock buckets: extend the retain-until of current versions that would be unlocked within --days, to --days from now')
    .requiredOption('--days <n>', 'keep every current version locked at least this many days from now')
    .option('--dry-run', 'say what would be extended; change nothing')
    .option('--concurrency <n>', 'requests at once', '16')
    .option('--json', 'print the report as JSON')
    .action(async (arg: string, opts: ExtendFlags, cmd: Command) => {
      const d = deps();
      const t = parseTarget(arg);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new UserError(`--days must be a whole number from 1 to 36500, not "${opts.days}"`);
      const late = retentionProblem(days);
      if (late !== undefined) throw new UserError(`--days: ${late}`);
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UserError(`--concurrency must be a whole number from 1 to 256, not "${opts.concurrency}"`);
      const json = opts.json === true;
      const report = await withStorage(opts, cmd, d, async (s) => {
        const bar = progressBar(d, 'checking retention', json);
        let n = 0;
        return runExtendRetention({ client: s.client, bucket: t.bucket, kp: t.kp, days, dryRun: opts.dryRun === true, concurrency, onChecked: () => bar.tick(++n, n) }).finally(() => bar.stop());
      });
      if (json) writeJson(d, report);
      else {
        d.stdout.write(`${opts.dryRun === true ? 'dry run: ' : ''}${describeTarget(t)}: ${report.checked} current versions, ${report.retained} ${opts.dryRun === true ? 'would be' : ''} locked until ${days} days from now${report.failed > 0 ? `, ${report.failed} failed` : ''}\n`);
        for (const f of report.failures) d.stdout.write(`  - ${f}\n`);
      }
      if (report.failed > 0) throw new CommandExit(EXIT.FAILURE);
    });
}
