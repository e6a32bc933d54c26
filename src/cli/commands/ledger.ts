// `rwm ledger verify|accept|forget`: the trusted host's snapshot ledger. verify compares what a
// repository holds (restic snapshots, with the password) with the book of every snapshot seen before
// and their trusted arrival times, and reports forged, shrunk, unexpected, vanished and unrecorded
// snapshots; accept acknowledges findings; forget removes snapshots as a trusted run (so their
// absence is never reported as vanished).
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FINDING_CODES, loadBook, saveBook, type FindingCode } from '../../ledger/book.js';
import type { Finding } from '../../ledger/findings.js';
import { bucketLedgerTarget, findingOptions, localLedgerTarget } from '../../ledger/target.js';
import { forgetAsTrusted, verifyLedger, type LedgerTarget } from '../../ledger/verify.js';
import type { ResticRepo } from '../../restic/env.js';
import { isResticError } from '../../restic/errors.js';
import { TimeError } from '../../state/time.js';
import type { LedgerOptionsConfig } from '../../config/schema.js';
import { CommandExit, EXIT, EXIT_HELP, UserError } from '../exit.js';
import { resticRepoForBucket } from './restic-repo.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './storage/common.js';
import { parseTarget, stateDirOf } from './state/common.js';

interface LedgerFlags extends ConnectionOptions {
  path?: string;
  passwordFile?: string;
  stateDir?: string;
  json?: boolean;
  dryRun?: boolean;
  timeTolerance?: string;
  clockSkew?: string;
  shrinkRatio?: string;
  flood?: string;
  served?: boolean;
  codes?: string;
  reason?: string;
  prune?: boolean;
}

const TARGET_HELP = 'the repository: BUCKET[/PREFIX] (bucket owner\'s keys), or --path DIR';

/** Opens the target (bucket or --path) and runs `body` with it. */
async function withTarget<T>(arg: string | undefined, opts: LedgerFlags, cmd: Command, d: StorageDeps, body: (t: LedgerTarget) => Promise<T>, needsPassword = true): Promise<T> {
  if ((arg === undefined) === (opts.path === undefined)) throw new UserError(`give ${TARGET_HELP} (one of them)`);
  if (opts.passwordFile === undefined && needsPassword) throw new UserError('--password-file FILE is needed: the ledger reads the snapshots with restic');
  const stateDir = stateDirOf(opts.stateDir, d.env);
  // accept only edits the book: restic is never run without a password file.
  const passwordFile = opts.passwordFile === undefined ? '' : resolve(opts.passwordFile);
  if (opts.path !== undefined) {
    const root = resolve(opts.path);
    const restic: ResticRepo = { repository: root, passwordFile, cacheDir: join(stateDir, 'cache', 'ledger') };
    return wrapErrors(() => body(localLedgerTarget(restic, root, stateDir)));
  }
  const t = parseTarget(arg as string);
  return withStorage(opts, cmd, d, async (s) => {
    const { S3Buckets } = await import('../../s3/s3-buckets.js');
    const restic = resticRepoForBucket(s, t.bucket, t.prefix, passwordFile, join(stateDir, 'cache', 'ledger'), 'rwm ledger');
    return wrapErrors(() => body(bucketLedgerTarget(restic, new S3Buckets(s.client), t, stateDir)));
  });
}

async function wrapErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (isResticError(err)) throw new UserError(`restic: ${err.message}`, EXIT.FAILURE, { cause: err });
    if (err instanceof TimeError) throw new UserError(err.message, EXIT.USAGE, { cause: err });
    throw err;
  }
}

function optionsOf(o: LedgerFlags): LedgerOptionsConfig {
  const out: LedgerOptionsConfig = {};
  if (o.timeTolerance !== undefined) out.timeTolerance = o.timeTolerance;
  if (o.clockSkew !== undefined) out.clockSkew = o.clockSkew;
  if (o.shrinkRatio !== undefined) {
    const r = Number(o.shrinkRatio);
    if (!(r > 0 && r < 1)) throw new UserError(`--shrink-ratio must be a number between 0 and 1, not "${o.shrinkRatio}"`);
    out.shrinkRatio = r;
  }
  if (o.flood !== undefined) {
    const m = /^([1-9][0-9]{0,5})\/(.+)$/.exec(o.flood);
    if (m === null) throw new UserError(`--flood must be COUNT/AGE such as 48/24h, not "${o.flood}"`);
    out.flood = { count: Number(m[1]), window: m[2] as string };
  }
  if (o.served === true) out.served = true;
  return out;
}

function printFindings(d: StorageDeps, findings: readonly Finding[]): void {
  for (const f of findings) d.stdout.write(`  [${f.code}] ${f.message}\n`);
}

export function registerLedger(program: Command, deps: () => StorageDeps): void {
  const ledger = program.command('ledger').description('trusted host: the snapshot ledger — catch forged, shrunk, unexpected, vanished and unrecorded snapshots');
  const common = (c: Command): Command =>
    withConnection(c)
      .option('--path <dir>', 'a local repository (a rwm serve --path repository, or any restic local repository) instead of a bucket')
      .option('--password-file <file>', 'the repository password (as RESTIC_PASSWORD_FILE)')
      .option('--state-dir <dir>', 'where the book is kept (default: RWM_STATE_DIR, /var/lib/rwm for root, else ~/.local/state/rwm)')
      .option('--json', 'print JSON');

  common(ledger.command('verify').argument('[bucket[/prefix]]', TARGET_HELP))
    .description('add new snapshots to the book with their trusted arrival times and sizes, and report findings (exit 1 if any)')
    .option('--time-tolerance <age>', 'restic\'s time may lie this far before the arrival (the longest backup)', '24h')
    .option('--clock-skew <age>', 'restic\'s time may lie this far after the arrival', '10m')
    .option('--shrink-ratio <r>', 'shrunk: fewer files or bytes than this share of the group\'s recent median', '0.5')
    .option('--flood <count/age>', 'unexpected: more snapshots of one host+paths group than COUNT within AGE', '48/24h')
    .option('--served', 'every snapshot must have come through rwm serve (default: those since its first record)')
    .option('--dry-run', 'do not write the book')
    .addHelpText('after', `
Findings (stable codes): vanished, time-forged, shrunk, unexpected, unrecorded.
Arrival times: rwm serve's ledger records (in the bucket under <repository>/.rwm/ledger/, or in
<served dir>/.rwm/ledger/), else the first version's LastModified in the bucket, else the file's mtime.
${EXIT_HELP.replace('1 failure', '1 findings, or failure')}`)
    .action(async (arg: string | undefined, opts: LedgerFlags, cmd: Command) => {
      const d = deps();
      const findings = findingOptions(optionsOf(opts));
      const r = await withTarget(arg, opts, cmd, d, (t) => verifyLedger(t, { findings, readOnly: opts.dryRun === true }));
      if (opts.json === true) writeJson(d, r.report);
      else {
        d.stdout.write(`${r.report.repository}: ${r.report.findings.length === 0 ? 'ok' : `${r.report.findings.length} finding(s)`} (${r.report.snapshots} snapshots, ${r.report.added.length} new)\n`);
        printFindings(d, r.report.findings);
      }
      if (r.report.findings.length > 0) throw new CommandExit(EXIT.FAILURE);
    });

  common(ledger.command('accept').argument('[bucket[/prefix]]', TARGET_HELP).argument('[ids...]', 'snapshot ids (full or a unique prefix of at least 8)'))
    .description('acknowledge findings for snapshots (they are no longer reported); recorded in the book with the reason')
    .option('--codes <list>', `which findings to accept (comma list of ${FINDING_CODES.join(', ')})`, FINDING_CODES.join(','))
    .requiredOption('--reason <text>', 'why (kept in the book)')
    .action(async (arg0: string | undefined, ids0: string[], opts: LedgerFlags, cmd: Command) => {
      const d = deps();
      const [arg, ids] = splitArgs(arg0, ids0, opts);
      const codes = (opts.codes ?? '').split(',').map((c) => c.trim()) as FindingCode[];
      for (const c of codes) if (!(FINDING_CODES as readonly string[]).includes(c)) throw new UserError(`unknown finding code "${c}" (known: ${FINDING_CODES.join(', ')})`);
      await withTarget(arg, opts, cmd, d, async (t) => {
        const now = new Date();
        const book = await loadBook(t.bookFile, t.repository, now);
        const full = ids.map((id) => resolveId(id, book.snapshots.map((e) => e.id)));
        const set = new Set(full);
        await saveBook(t.bookFile, { ...book, updated: now.toISOString(), snapshots: book.snapshots.map((e) => (set.has(e.id) ? { ...e, accepted: { at: now.toISOString(), codes, reason: opts.reason as string } } : e)) });
        d.stdout.write(`accepted ${codes.join(', ')} for ${full.map((id) => id.slice(0, 8)).join(', ')}\n`);
      }, false);
    });

  common(ledger.command('forget').argument('[bucket[/prefix]]', TARGET_HELP).argument('[ids...]', 'snapshot ids (full or a unique prefix of at least 8)'))
    .description('remove snapshots as a trusted run (restic forget ID...), recorded in the book so the ledger does not report them as vanished')
    .option('--prune', 'also restic prune')
    .option('--dry-run', 'only say what would be removed')
    .action(async (arg0: string | undefined, ids0: string[], opts: LedgerFlags, cmd: Command) => {
      const d = deps();
      const [arg, ids] = splitArgs(arg0, ids0, opts);
      await withTarget(arg, opts, cmd, d, async (t) => {
        const v = await verifyLedger(t, { findings: findingOptions(undefined) });
        const full = ids.map((id) => resolveId(id, [...v.present]));
        if (opts.dryRun === true) {
          d.stdout.write(`would remove ${full.map((id) => id.slice(0, 8)).join(', ')}\n`);
          return;
        }
        await forgetAsTrusted(t.bookFile, v.book, t.restic, full, `ledger forget ${new Date().toISOString()}`, { prune: opts.prune === true });
        d.stdout.write(`removed ${full.map((id) => id.slice(0, 8)).join(', ')}\n`);
      });
    });
}

/** With --path there is no BUCKET argument: the first positional argument is an id too. */
function splitArgs(arg: string | undefined, ids: string[], opts: LedgerFlags): [string | undefined, string[]] {
  const out: [string | undefined, string[]] = opts.path !== undefined && arg !== undefined ? [undefined, [arg, ...ids]] : [arg, ids];
  if (out[1].length === 0) throw new UserError('name at least one snapshot id');
  return out;
}

function resolveId(id: string, known: readonly string[]): string {
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw new UserError(`not a snapshot id: "${id}"`);
  const m = known.filter((k) => k.startsWith(id));
  if (m.length === 0) throw new UserError(`no snapshot ${id} in the repository's book`);
  if (m.length > 1) throw new UserError(`snapshot id ${id} is ambiguous`);
  return m[0] as string;
}
