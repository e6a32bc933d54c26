// `rwm storage check BUCKET`: is the bucket still policed? Exit 0 yes, 1 with findings.
import type { Command } from 'commander';
import { checkBucket, DEFAULT_MIN_LIFECYCLE_DAYS } from '../../../storage/check.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { parseBucket, parseLock, parsePrefix, parseUser, withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';
import { formatCheck } from './format.js';

interface CheckFlags extends ConnectionOptions {
  user?: string;
  prefix?: string;
  objectLock?: string | false;
  retention?: string;
  minLifecycleDays?: string;
  backupProfile?: string;
  asBackup?: boolean;
  json?: boolean;
  verbose?: boolean;
}

export function registerCheck(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('check').argument('<bucket>'))
    .description('verify that a bucket is still policed: versioning, object lock, policy, lifecycle, and (with the backup user\'s keys) that forbidden actions are refused')
    .option('--user <name>', 'the backup user (default: the one in the policy rwm wrote)')
    .option('--prefix <prefix>', 'the repository prefix (default: the one in the policy rwm wrote)')
    .option('--object-lock <mode>', 'require object lock: governance or compliance (with --retention)')
    .option('--no-object-lock', 'require no object lock expectation (default: what create recorded in the policy)')
    .option('--retention <days>', 'the minimum default retention to require')
    .option('--min-lifecycle-days <n>', `lifecycle rules may not expire anything sooner (default: storage.minLifecycleDays, else ${DEFAULT_MIN_LIFECYCLE_DAYS})`)
    .option('--backup-profile <name>', 'also try the forbidden actions with this profile\'s keys (the backup user\'s)')
    .option('--as-backup', 'the keys in use are the backup user\'s: read the configuration and try the forbidden actions with them')
    .option('--json', 'print the report as JSON')
    .option('-v, --verbose', 'list every request tried')
    .addHelpText('after', '\nExit status: 0 policed, 1 findings (or the check could not run), 2 wrong usage.')
    .action(async (bucketArg: string, opts: CheckFlags, cmd: Command) => {
      const d = deps();
      const bucket = parseBucket(bucketArg);
      if (opts.asBackup === true && opts.backupProfile !== undefined) throw new UserError('--as-backup and --backup-profile exclude each other');
      const lock = opts.objectLock === false ? null : parseLock(opts.objectLock, opts.retention);
      if (opts.objectLock === false && opts.retention !== undefined) throw new UserError('--retention needs --object-lock governance|compliance');
      const minDays = opts.minLifecycleDays === undefined ? undefined : Number(opts.minLifecycleDays);
      if (minDays !== undefined && !(Number.isInteger(minDays) && minDays >= 1)) throw new UserError(`--min-lifecycle-days must be a whole number of days (at least 1), not "${opts.minLifecycleDays}"`);
      const report = await withStorage(opts, cmd, d, async (s) => {
        const probeClient = opts.asBackup === true ? s.client : opts.backupProfile !== undefined ? await s.clientFor(opts.backupProfile) : undefined;
        return checkBucket({
          bucket,
          client: s.client,
          ...(probeClient !== undefined ? { probeClient } : {}),
          ...(opts.user !== undefined ? { user: parseUser('--user', opts.user) } : {}),
          ...(opts.prefix !== undefined ? { prefix: parsePrefix(opts.prefix) } : {}),
          ...(lock !== undefined ? { lock } : {}),
          minLifecycleDays: minDays ?? s.config.storage?.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS,
        });
      });
      if (opts.json === true) writeJson(d, report);
      else d.stdout.write(formatCheck(report, opts.verbose === true));
      if (!report.ok) throw new CommandExit(EXIT.FAILURE);
    });
}
