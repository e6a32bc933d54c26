// `rwm scrub BUCKET[/PREFIX] | --path DIR [--repair] [--full | --sample PERCENT] [--password-file FILE]`:
// verify every file restic names by its SHA-256, without the repository password; on a versioned
// bucket name (and with --repair put back) the newest good version. Incremental by default: the
// verified state of the last scrub (kept in the trusted host's state directory, never taken from the
// bucket, where the backup user could write one) says which versions need no reading. With the
// password, index and snapshot files are also decrypted, and junk among them hidden by --repair.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FAILING } from '../../scrub/findings.js';
import { looseModeWarning } from '../../config/load.js';
import type { ScrubMode, ScrubSource } from '../../scrub/scrub.js';
import { runScrub, type ScrubOutput, type ScrubWhere } from '../../scrub/run.js';
import { HashPool } from '../../scrub/hash-pool.js';
import { bucketSource, localSource } from '../../scrub/sources.js';
import type { VersionedBuckets } from '../../s3/bucket.js';
import { CommandExit, EXIT, EXIT_HELP, UserError } from '../exit.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './storage/common.js';
import { formatBytes } from './storage/format.js';
import { describeTarget, parseTarget, progressBar, stateDirOf, writerOf } from './state/common.js';

interface ScrubFlags extends ConnectionOptions {
  path?: string;
  repair?: boolean;
  full?: boolean;
  sample?: string;
  stateDir?: string;
  concurrency: string;
  json?: boolean;
  passwordFile?: string;
}

/** The password as restic reads RESTIC_PASSWORD_FILE (surrounding white space trimmed); a loose file mode is warned about. */
async function readPasswordFile(file: string, warn: (w: string) => void): Promise<string> {
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new UserError(`password file ${file} is not a regular file`);
    const w = looseModeWarning('password file', file, st.mode);
    if (w !== undefined) warn(w);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.USAGE, { cause: err });
  }
  const password = text.trim();
  if (password === '') throw new UserError(`password file ${file} is empty`);
  return password;
}

function parseMode(o: ScrubFlags): { mode: (cycle: number) => ScrubMode; slots: number } {
  if (o.full === true && o.sample !== undefined) throw new UserError('--full and --sample exclude each other');
  if (o.full === true) return { mode: () => ({ kind: 'full' }), slots: 1 };
  if (o.sample === undefined) return { mode: () => ({ kind: 'incremental' }), slots: 1 };
  const m = /^([0-9]{1,3}(?:\.[0-9]+)?)%?$/.exec(o.sample);
  const pct = m === null ? NaN : Number(m[1]);
  if (!(pct > 0 && pct <= 100)) throw new UserError(`--sample must be a percentage from 1 to 100 (e.g. 10%), not "${o.sample}"`);
  const slots = Math.max(1, Math.round(100 / pct));
  return { mode: (cycle) => ({ kind: 'sample', slots, cycle }), slots };
}

export function registerScrub(program: Command, deps: () => StorageDeps): void {
  withConnection(program.command('scrub').argument('[bucket[/prefix]]'))
    .description('verify every restic file against the SHA-256 in its name (no repository password needed); on a versioned bucket find, and with --repair restore, the newest good version')
    .option('--path <dir>', 'scrub a local directory (a rwm serve --path tree or a restic local repository) instead of a bucket')
    .option('--repair', 'bucket only, owner\'s keys: copy the newest good version of each bad file back on top, hide junk key files with a delete marker (never deletes a version)')
    .option('--full', 'read every file again, also those an earlier scrub verified (bit rot)')
    .option('--sample <percent>', 'read only a rotating share of the files not yet verified (10%: ten runs cover everything)')
    .option('--state-dir <dir>', 'where verified states are kept (default: RWM_STATE_DIR, /var/lib/rwm for root, else ~/.local/state/rwm)')
    .option('--concurrency <n>', 'files read at once', '8')
    .option('--json', 'print the report as JSON')
    .option('--password-file <file>', 'the repository password (the file RESTIC_PASSWORD_FILE names): also decrypt every index/ and snapshots/ file read, and report those restic cannot use as junk (--repair hides them)')
    .addHelpText('after', `
Findings: corrupt, empty, misplaced, foreign, junk, unreadable (exit 1); deleted (reported only:
a delete marker on top is a prune's doing, and rwm restore undoes it).
With --password-file, index/ and snapshots/ files are also decrypted: those an earlier scrub only
hashed (without the password) are read again to be opened; a repository whose key the password does not open
makes the scrub fail (exit 1). One password per run: scrub a tree of repositories one by one.
${EXIT_HELP}`)
    .action(async (arg: string | undefined, opts: ScrubFlags, cmd: Command) => {
      const d = deps();
      if ((arg === undefined) === (opts.path === undefined)) throw new UserError('give a BUCKET[/PREFIX] or --path DIR (one of them)');
      if (opts.path !== undefined && opts.repair === true) throw new UserError('--repair needs a versioned bucket: a local directory has no older versions to go back to');
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UserError(`--concurrency must be a whole number from 1 to 256, not "${opts.concurrency}"`);
      const { mode, slots } = parseMode(opts);
      // Read once, here; it goes nowhere but the key derivation.
      const password = opts.passwordFile === undefined ? undefined : await readPasswordFile(opts.passwordFile, (w) => d.stderr.write(`rwm: warning: ${w}\n`));
      const stateDir = stateDirOf(opts.stateDir, d.env);
      const json = opts.json === true;
      const bar = progressBar(d, 'scrubbing files', json);

      const run = (buckets: VersionedBuckets | undefined, where: ScrubWhere, source: ScrubSource, keysOf: (repo: string) => ScrubSource): Promise<ScrubOutput> =>
        runScrub({ buckets, where, source, keysOf, password, stateDir, full: opts.full === true, mode, slots, repair: opts.repair === true, concurrency, writer: writerOf('scrub'), onProgress: (r) => bar.tick(r.keys, r.keys) }).finally(() => bar.stop());

      let out: ScrubOutput;
      if (opts.path !== undefined) {
        const root = resolve(opts.path);
        const pool = new HashPool(Math.min(availableParallelism(), concurrency));
        const source = localSource(root, pool);
        out = await run(undefined, { bucket: '', prefix: root, dirBucket: '_local', dirPrefix: createHash('sha256').update(root).digest('hex').slice(0, 16), label: root }, source, (repo) => localSource(join(root, repo, 'keys'), pool))
          .catch((err: unknown) => {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`--path ${opts.path}: no such directory`, EXIT.FAILURE, { cause: err });
            throw err;
          })
          .finally(() => pool.close());
      } else {
        const t = parseTarget(arg as string);
        out = await withStorage(opts, cmd, d, async (s) => {
          const { S3Buckets } = await import('../../s3/s3-buckets.js');
          const buckets = new S3Buckets(s.client);
          if (opts.repair === true && (await buckets.versioning(t.bucket)) === 'Unversioned') throw new UserError(`bucket ${t.bucket} has no versioning: there are no older versions to repair from`, EXIT.FAILURE);
          return run(buckets, { bucket: t.bucket, prefix: t.prefix, dirBucket: t.bucket, dirPrefix: t.prefix, label: describeTarget(t) }, bucketSource(buckets, t.bucket, t.kp), (repo) => bucketSource(buckets, t.bucket, `${t.kp}${repo}keys/`));
        });
      }
      if (json) writeJson(d, out);
      else d.stdout.write(formatScrub(out, opts.repair === true));
      if (!out.ok) throw new CommandExit(EXIT.FAILURE);
    });
}

function formatScrub(o: ScrubOutput, repair: boolean): string {
  const r = o.report;
  const unopened = (o.keys ?? []).filter((k) => !k.opened);
  const lines = [
    `${o.target}: ${o.ok ? 'ok' : `${r.findings.filter((f) => FAILING.has(f.code)).length + unopened.length} problem(s)`} (${o.mode}${o.previous !== null ? `, after ${o.previous}` : ''})`,
    `  ${r.keys} files: ${r.hashed} hashed (${formatBytes(r.hashedBytes)}), ${r.carried} verified earlier, ${r.notSampled} not in this sample, ${r.notHashable} config/locks`,
  ];
  const deleted = r.findings.filter((f) => f.code === 'deleted').length;
  if (deleted > 0) lines.push(`  ${deleted} deleted (a delete marker on top, e.g. from a prune; --json lists them; rwm restore undoes deletes)`);
  for (const f of r.findings) {
    if (f.code === 'deleted') continue;
    const fix = f.goodVersion !== undefined ? (f.repair === 'restored' ? `; restored version ${f.goodVersion}` : `; good version ${f.goodVersion}${repair ? '' : ' (--repair puts it back)'}`) : f.repair !== undefined ? `; ${f.repair}` : f.code === 'junk' && !repair ? ' (--repair hides it)' : '';
    lines.push(`  [${f.code}] ${f.key}: ${f.message}${fix}`);
  }
  for (const k of unopened) lines.push(`  [password] ${k.repo === '' ? 'the repository' : `repository ${k.repo}`}: ${k.reason ?? 'not opened'}; its index and snapshot files were not decrypted`);
  if (o.state !== null) lines.push(`  verified state: ${o.state}`);
  return `${lines.join('\n')}\n`;
}
