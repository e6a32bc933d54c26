// `rwm storage create BUCKET --user BACKUP_USER`: a policed bucket (admin keys).
import { constants } from 'node:os';
import type { Command } from 'commander';
import { checkBucket, DEFAULT_MIN_LIFECYCLE_DAYS } from '../../../storage/check.js';
import { createPolicedBucket } from '../../../storage/create.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { parseBucket, parseLock, parsePrefix, parseUser, withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';
import { formatCheck } from './format.js';

interface CreateFlags extends ConnectionOptions {
  user?: string;
  adminUser?: string;
  prefix?: string;
  objectLock?: string;
  retention?: string;
  json?: boolean;
}

export function registerCreate(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('create').argument('<bucket>'))
    .description('create a versioned bucket (object lock optional) whose policy lets the backup user add and read, never destroy')
    .option('--user <name>', 'the backup user (an RGW uid, tenant$uid, or an IAM ARN)')
    .option('--admin-user <name>', 'the user given full access (default: the bucket owner)')
    .option('--prefix <prefix>', 'the repository prefix inside the bucket (default: the bucket root)')
    .option('--object-lock <mode>', 'enable object lock: governance or compliance (only possible at creation)')
    .option('--retention <days>', 'with --object-lock: the default retention of every new version, in days')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  rwm storage create backups-host1 --user backup
  rwm storage create backups-host1 --user backup --object-lock governance --retention 30
Then, on the backup host: restic -r s3:https://s3.example.org/backups-host1 init`)
    .action(async (bucketArg: string, opts: CreateFlags, cmd: Command) => {
      const d = deps();
      const bucket = parseBucket(bucketArg);
      if (opts.user === undefined) throw new UserError('create needs --user: the backup user the policy is for');
      const user = parseUser('--user', opts.user);
      const adminUser = opts.adminUser === undefined ? undefined : parseUser('--admin-user', opts.adminUser);
      const prefix = parsePrefix(opts.prefix);
      const lock = parseLock(opts.objectLock, opts.retention);
      const json = opts.json === true;
      const interrupt = onStopSignals();
      const { result, report } = await withStorage(opts, cmd, d, async (s) => {
        const result = await createPolicedBucket({
          signal: interrupt.signal,
          client: s.client,
          bucket,
          user,
          prefix,
          region: s.connection.region,
          ...(lock !== undefined ? { lock } : {}),
          ...(adminUser !== undefined ? { adminUser } : {}),
          ...(json ? {} : { say: (line: string) => void d.stdout.write(`${line}\n`) }),
        }).catch((err: unknown) => {
          throw interrupt.signal.aborted ? new UserError((err as Error).message, interrupt.exitCode(), { cause: err }) : err;
        }).finally(() => interrupt.release());
        const report = await checkBucket({ bucket, client: s.client, minLifecycleDays: s.config.storage?.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS });
        return { result, report };
      });
      if (json) writeJson(d, { ...result, check: report });
      else d.stdout.write(formatCheck(report));
      if (!report.ok) throw new CommandExit(EXIT.FAILURE);
    });
}

/**
 * SIGINT and SIGTERM abort the creation, which then removes the new bucket before rwm exits (128 +
 * the signal's number); a second signal ends rwm at once. Released once the bucket is complete.
 */
function onStopSignals(): { signal: AbortSignal; exitCode: () => number; release: () => void } {
  const ac = new AbortController();
  let received: NodeJS.Signals = 'SIGINT';
  const handler = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) process.exit(128 + constants.signals[sig]);
    received = sig;
    ac.abort(new Error(sig));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const sig of signals) process.on(sig, handler);
  return {
    signal: ac.signal,
    exitCode: () => 128 + constants.signals[received],
    release: () => {
      for (const sig of signals) process.off(sig, handler);
    },
  };
}
