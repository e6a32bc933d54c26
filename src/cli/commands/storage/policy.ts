// `rwm storage policy BUCKET --user U`: print the policy create would apply, for other tools.
import type { Command } from 'commander';
import { buildPolicy } from '../../../storage/policy.js';
import { OPTIONAL_DENIES } from '../../../storage/actions.js';
import { userArn } from '../../../storage/principal.js';
import { UserError } from '../../exit.js';
import { parseBucket, parseLock, parsePrefix, parseUser, writeJson, type StorageDeps } from './common.js';

interface PolicyFlags {
  user?: string;
  adminUser?: string;
  prefix?: string;
  objectLock?: string;
  retention?: string;
  portable?: boolean;
}

export function registerPolicy(storage: Command, deps: () => StorageDeps): void {
  storage
    .command('policy')
    .argument('<bucket>')
    .description('print the bucket policy create applies (no S3 access needed)')
    .option('--user <name>', 'the backup user (an RGW uid, tenant$uid, or an IAM ARN)')
    .option('--admin-user <name>', 'the user given full access (the bucket owner); left out if not given')
    .option('--prefix <prefix>', 'the repository prefix inside the bucket')
    .option('--object-lock <mode>', 'recorded in the policy Id: governance or compliance (with --retention)')
    .option('--retention <days>', 'with --object-lock: the default retention in days')
    .option('--portable', `leave out actions some servers reject in a policy (Ceph RGW: ${OPTIONAL_DENIES.join(', ')}); create does this by itself when the server refuses`)
    .addHelpText('after', `
MinIO takes no user principals in bucket policies: give the backup user an IAM policy with the same
Allow and Deny statements instead (drop "Principal", e.g. mc admin policy create ALIAS rwm-backup FILE).`)
    .action((bucketArg: string, opts: PolicyFlags) => {
      const d = deps();
      const bucket = parseBucket(bucketArg);
      if (opts.user === undefined) throw new UserError('policy needs --user: the backup user the policy is for');
      const user = parseUser('--user', opts.user);
      const lock = parseLock(opts.objectLock, opts.retention);
      const admin = opts.adminUser === undefined ? undefined : { AWS: [userArn(parseUser('--admin-user', opts.adminUser))] };
      if (admin === undefined) {
        d.stderr.write('rwm: note: no --admin-user: the owner gets no statement; on Ceph RGW the owner then cannot read what the backup user wrote\n');
        d.stderr.write('rwm: note: no --admin-user: the Deny to everyone but the owner and the backup user is left out too (it would lock the owner out), so an ACL header on an upload could publish the backups; `check` reports others-not-denied\n');
      }
      writeJson(d, buildPolicy({ bucket, prefix: parsePrefix(opts.prefix), user, ...(admin !== undefined ? { admin } : {}), ...(lock !== undefined ? { lock } : {}), portable: opts.portable === true }));
    });
}
