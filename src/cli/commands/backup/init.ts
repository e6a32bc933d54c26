// `rwm backup init PROFILE`: restic init where a repository does not exist yet, and the management key
// in every off-site repository (restic key add). The management password is read once (a file or a
// prompt), handed to restic in a private temporary file, and never stored on the backup host.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isOffSite } from '../../../backup/profile.js';
import { createPrivateDir } from '../../../backup/secrets.js';
import { resticInit, resticSnapshots } from '../../../restic/commands.js';
import type { ResticRepo } from '../../../restic/env.js';
import { isResticError } from '../../../restic/errors.js';
import { runRestic } from '../../../restic/run.js';
import { CommandExit, EXIT, UserError } from '../../exit.js';
import { writeJson, type StorageDeps } from '../storage/common.js';
import { createOps, loadBackup } from './common.js';

interface InitFlags {
  config?: string;
  managementPasswordFile?: string;
  json?: boolean;
}

interface InitResult {
  repository: string;
  initialised: boolean;
  managementKey: 'added' | 'present' | 'not-off-site' | 'failed';
  error?: string;
}

/**
 * Asks each question on the terminal in turn (no echo) and resolves with the answers. Input is read as
 * one stream: a paste of both lines at once answers both questions.
 */
function promptSecrets(d: StorageDeps, questions: readonly string[]): Promise<string[]> {
  const input = d.stdin as NodeJS.ReadStream;
  return new Promise((resolve, reject) => {
    const answers: string[] = [];
    let s = '';
    const done = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
    };
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\u0003') {
          done();
          reject(new UserError('interrupted', EXIT.INTERRUPTED));
          return;
        }
        if (ch === '\r' || ch === '\n') {
          d.stderr.write('\n');
          answers.push(s);
          s = '';
          if (answers.length === questions.length) {
            done();
            resolve(answers);
            return;
          }
          d.stderr.write(questions[answers.length] ?? '');
        } else if (ch === '\u007f') s = s.slice(0, -1);
        else s += ch;
      }
    };
    d.stderr.write(questions[0] ?? '');
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}

async function managementPassword(opts: InitFlags, d: StorageDeps): Promise<string> {
  let pw: string;
  if (opts.managementPasswordFile !== undefined) {
    try {
      pw = (await readFile(opts.managementPasswordFile, 'utf8')).trim();
    } catch (err) {
      throw new UserError(`cannot read the management password file ${opts.managementPasswordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.FAILURE, { cause: err });
    }
  } else {
    if ((d.stdin as { isTTY?: boolean }).isTTY !== true) throw new UserError('give --management-password-file FILE, or run on a terminal to be asked for the management password');
    const [first = '', again] = await promptSecrets(d, ['management password (not stored on this host): ', 'again: ']);
    if (again !== first) throw new UserError('the two passwords differ');
    pw = first;
  }
  if (pw.length < 8) throw new UserError('the management password is empty or shorter than 8 characters');
  return pw;
}

async function exists(repo: ResticRepo): Promise<boolean> {
  try {
    await resticSnapshots(repo);
    return true;
  } catch (err) {
    if (isResticError(err, 'NOT_FOUND')) return false;
    throw err;
  }
}

export function registerBackupInit(backup: Command, deps: () => StorageDeps): void {
  backup
    .command('init')
    .argument('<profile>', 'a profile from backup.profiles')
    .description('restic init where needed, and add the management key to every off-site repository of the profile')
    .option('--management-password-file <file>', 'read the management password from this file once (default: ask on the terminal); it is never stored')
        .action(async (name: string, _opts: InitFlags, cmd: Command) => {
      const opts = cmd.optsWithGlobals<InitFlags>();
      const d = deps();
      const ctx = await loadBackup(opts.config, [name], d);
      const profile = ctx.profiles[0];
      if (profile === undefined) throw new UserError(`no backup profile "${name}"`);
      const offSite = profile.repositories.filter(isOffSite);
      const pw = offSite.length > 0 ? await managementPassword(opts, d) : undefined;
      const secrets = await createPrivateDir('rwm-init-');
      const mgmtFile = join(secrets.dir, 'management');
      const ops = createOps(ctx, d, profile.name);
      const results: InitResult[] = [];
      try {
        if (pw !== undefined) await writeFile(mgmtFile, `${pw}\n`, { mode: 0o600 });
        for (const repo of profile.repositories) {
          const r: InitResult = { repository: repo.name, initialised: false, managementKey: isOffSite(repo) ? 'failed' : 'not-off-site' };
          try {
            const restic = await ops.restic(repo);
            if (isOffSite(repo) && (await readFile(restic.passwordFile, 'utf8')).trim() === pw) {
              throw new UserError('the management password is this repository\'s own password: it must be a second, different one');
            }
            if (!(await exists(restic))) {
              await resticInit(restic);
              r.initialised = true;
            }
            if (isOffSite(repo)) {
              const asManager: ResticRepo = { ...restic, passwordFile: mgmtFile };
              const present = await resticSnapshots(asManager).then(() => true, (err: unknown) => {
                if (isResticError(err, 'WRONG_PASSWORD')) return false;
                throw err;
              });
              if (!present) await runRestic(restic, ['key', 'add', `--new-password-file=${mgmtFile}`, '--user=rwm-management']);
              r.managementKey = present ? 'present' : 'added';
            }
          } catch (err) {
            r.error = (err as Error).message;
          }
          results.push(r);
        }
      } finally {
        await ops.close();
        await secrets.cleanup();
      }
      if (opts.json === true) writeJson(d, results);
      else for (const r of results) d.stdout.write(`${profile.name}/${r.repository}: ${r.error !== undefined ? `failed: ${r.error}` : `${r.initialised ? 'initialised' : 'exists'}, management key ${r.managementKey}`}\n`);
      if (results.some((r) => r.error !== undefined)) throw new CommandExit(EXIT.FAILURE);
    });
}
