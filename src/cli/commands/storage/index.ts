// `rwm storage ...`: policed S3 buckets. One file per subcommand; connection handling in common.ts.
import type { Command } from 'commander';
import { EXIT_HELP } from '../../exit.js';
import { registerCheck } from './check.js';
import type { StorageDeps } from './common.js';
import { registerCreate } from './create.js';
import { registerDelete } from './delete.js';
import { registerInfo } from './info.js';
import { registerList } from './list.js';
import { registerPolicy } from './policy.js';
import { registerDropVersions } from './drop-versions.js';
import { registerExtendRetention } from './extend-retention.js';

export function registerStorage(program: Command, deps: () => StorageDeps): void {
  const storage = program
    .command('storage')
    .description('policed S3 buckets: versioned, and a policy that lets the backup user add but never destroy')
    .addHelpText('after', `
Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a profile in the config file (s3.profiles).
Run create, list, info and delete with the admin's keys; check also with the backup user's.
${EXIT_HELP}`);
  registerCreate(storage, deps);
  registerCheck(storage, deps);
  registerList(storage, deps);
  registerInfo(storage, deps);
  registerDelete(storage, deps);
  registerPolicy(storage, deps);
  registerDropVersions(storage, deps);
  registerExtendRetention(storage, deps);
}
