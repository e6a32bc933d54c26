// `rwm state ...`: records of what a bucket held (save), which exist (list), what changed (diff).
import type { Command } from 'commander';
import { EXIT_HELP } from '../../exit.js';
import type { StorageDeps } from '../storage/common.js';
import { registerStateDiff } from './diff.js';
import { registerStateList } from './list.js';
import { registerStateSave } from './save.js';

export function registerState(program: Command, deps: () => StorageDeps): void {
  const state = program
    .command('state')
    .description('bucket states: what every key of a versioned bucket held at a moment, to compare and restore')
    .addHelpText('after', `
Credentials as for "rwm storage": AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a profile in the config file.
save works with the backup user's keys too (list says who wrote each state); list and diff need the owner's.
${EXIT_HELP}`);
  registerStateSave(state, deps);
  registerStateList(state, deps);
  registerStateDiff(state, deps);
}
