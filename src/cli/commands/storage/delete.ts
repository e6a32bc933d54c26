// `rwm storage delete BUCKET`: only an empty bucket, unless --purge (confirmed by typing the name on
// a terminal, or --yes). --dry-run shows what would go. Never with keys that do not own the bucket.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { deleteBucket, describeContents, isEmpty } from '../../../storage/delete.js';
import type { Inventory } from '../../../storage/inventory.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { parseBucket, withConnection, withStorage, type ConnectionOptions, type StorageDeps } from './common.js';

interface DeleteFlags extends ConnectionOptions {
  purge?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

export function registerDelete(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('delete').argument('<bucket>'))
    .description('delete a bucket you own: only when it is empty, or with --purge everything in it first')
    .option('--purge', 'delete every version, delete marker and incomplete upload first (bypassing governance retention)')
    .option('--yes', 'do not ask for confirmation (needed with --purge when not on a terminal)')
    .option('--dry-run', 'show what would be deleted; delete nothing')
    .action(async (bucketArg: string, opts: DeleteFlags, cmd: Command) => {
      const d = deps();
      const bucket = parseBucket(bucketArg);
      const out = (line: string): boolean => d.stdout.write(`${line}\n`);
      await withStorage(opts, cmd, d, async (s) => {
        const purge = opts.purge === true;
        if (opts.dryRun === true) {
          const { before } = await deleteBucket({ client: s.client, bucket, purge, dryRun: true });
          out(`dry run: ${bucket} holds ${describeContents(before)}`);
          out(isEmpty(before) ? 'it is empty: "rwm storage delete" would delete it' : purge ? 'with --purge all of it would be deleted, then the bucket' : 'without --purge it would be refused');
          return;
        }
        const bar = purge && (d.stderr as { isTTY?: boolean }).isTTY === true ? new SingleBar({ format: 'deleting versions {value} [{bar}]', clearOnComplete: true }, Presets.shades_classic) : undefined;
        try {
          const r = await deleteBucket({
            client: s.client,
            bucket,
            purge,
            dryRun: false,
            ...(opts.yes === true ? {} : { confirm: async (inv: Inventory) => confirm(d, bucket, describeContents(inv)) }),
            ...(bar !== undefined ? { onDeleted: (n: number) => showProgress(bar, n) } : {}),
          });
          bar?.stop();
          if (r.versionsDeleted > 0) out(`deleted ${r.versionsDeleted} versions and delete markers`);
          if (!r.deleted) {
            d.stderr.write(`rwm: ${r.refused.length} versions could not be deleted (e.g. compliance retention), so bucket ${bucket} was kept:\n${r.refused.slice(0, 20).map((x) => `  ${x}\n`).join('')}`);
            throw new CommandExit(EXIT.FAILURE);
          }
          out(`deleted bucket ${bucket}`);
        } finally {
          bar?.stop();
        }
      });
    });
}

/** The bar starts with the first deletion, after any confirmation prompt. */
function showProgress(bar: SingleBar, done: number): void {
  if (done === 1) bar.start(0, 0);
  bar.update(done);
}

async function confirm(d: StorageDeps, bucket: string, contents: string): Promise<void> {
  if (d.stdin.isTTY !== true) throw new UserError(`--purge deletes everything in ${bucket} (${contents}): confirm on a terminal, or add --yes`);
  const rl = createInterface({ input: d.stdin, output: d.stderr });
  try {
    const answer = await rl.question(`This deletes every version in ${bucket} (${contents}) for good.\nType the bucket name to confirm: `);
    if (answer.trim() !== bucket) throw new UserError('not confirmed: nothing deleted', EXIT.FAILURE);
  } finally {
    rl.close();
  }
}
