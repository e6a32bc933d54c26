// `rwm backup`: the backup host's side (docs/backup.md). `rwm backup [PROFILE...]` runs profiles;
// `rwm backup init PROFILE` prepares their repositories and adds the management key.
import type { Command } from 'commander';
import type { StorageDeps } from '../storage/common.js';
import { registerBackupInit } from './init.js';
import { registerBackupRun } from './run.js';

export function registerBackup(program: Command, deps: () => StorageDeps): void {
  const backup = program
    .command('backup')
    .description('backup host: run restic backup for the profiles in backup.profiles (all when none is named), with hooks, checks, states and notifications')
    .addHelpText('after', `
For each repository: before-hooks, the policed-bucket check (s3:), restic backup, a bucket state (s3:),
forget --prune (local repositories only), after/failure/always hooks. One lock per profile.
Status files: STATUS_DIR/<profile>.status.json (backup.statusDir, default STATE_DIR/backup).
Exit status: 0 every profile succeeded, 1 a profile failed (or was already running), 2 wrong usage.`);
  registerBackupInit(backup, deps);
  registerBackupRun(backup, deps);
}
