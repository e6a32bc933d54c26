// `rwm maintain [JOB...] [--dry-run] [--yes]`: the trusted host's maintenance of the repositories in
// `maintain.<job>` of the config file, as a pipeline of steps (src/maintain/): storage check → scrub
// with repair → restic forget --prune → restic check → verified state → drop versions → extend
// retention. Stops at the first step that fails or finds something; one JSON report per run.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { MAINTAIN_STEPS, type MaintainJobConfig, type RwmConfig } from '../../config/schema.js';
import { runPipeline, type PipelineReport } from '../../maintain/pipeline.js';
import { STEPS, type JobContext } from '../../maintain/steps.js';
import type { ResticRepo } from '../../restic/env.js';
import { keyPrefix } from '../../s3/names.js';
import { S3Buckets } from '../../s3/s3-buckets.js';
import { runScrub } from '../../scrub/run.js';
import { bucketSource, localSource } from '../../scrub/sources.js';
import { DEFAULT_MIN_LIFECYCLE_DAYS } from '../../storage/check.js';
import { runExtendRetention } from '../../storage/extend-retention.js';
import { CommandExit, EXIT, UserError } from '../exit.js';
import { bucketLedgerTarget, findingOptions, localLedgerTarget } from '../../ledger/target.js';
import { verifyLedger, type LedgerTarget, type Verified } from '../../ledger/verify.js';
import { openStorage, writeJson, type StorageDeps } from './storage/common.js';
import { resticRepoForBucket } from './restic-repo.js';
import { stateDirOf, writerOf } from './state/common.js';

interface MaintainFlags {
  config?: string;
  dryRun?: boolean;
  yes?: boolean;
  forceForget?: boolean;
  stateDir?: string;
  json?: boolean;
}

/** Exit status when a step found problems (the pipeline stopped there), as opposed to 1: could not run. */
export const EXIT_FINDINGS = 3;

async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new UserError(`cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.FAILURE, { cause: err });
  }
}

/** The ledger of a job, verified at most once per run (its book is not written in a dry run). */
function ledgerOf(target: LedgerTarget, name: string, job: MaintainJobConfig, opts: MaintainFlags): Pick<JobContext, 'ledger' | 'force' | 'run'> {
  let once: Promise<Verified> | undefined;
  return {
    force: opts.forceForget === true,
    run: `maintain ${name} ${new Date().toISOString()}`,
    ledger: () => (once ??= verifyLedger(target, { findings: findingOptions(job.ledger), readOnly: opts.dryRun === true })),
  };
}

async function runJob(name: string, job: MaintainJobConfig, config: RwmConfig, opts: MaintainFlags, cmd: Command, d: StorageDeps): Promise<PipelineReport> {
  const stateDir = stateDirOf(opts.stateDir, d.env);
  const dryRun = opts.dryRun === true;
  const steps = MAINTAIN_STEPS.filter((s) => job.steps === undefined || job.steps.includes(s)).map((s) => STEPS[s]);
  const cacheDir = join(stateDir, 'cache', name);
  const minLifecycleDays = config.storage?.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS;
  const password = job.passwordFile;
  if (job.path !== undefined) {
    const root = resolve(job.path);
    const restic: ResticRepo = { repository: root, passwordFile: password, cacheDir };
    const pw = await readPassword(password);
    const ctx: JobContext = {
      name, job, dryRun, yes: opts.yes === true, restic, stateDir, minLifecycleDays, ...ledgerOf(localLedgerTarget(restic, root, stateDir), name, job, opts),
      scrub: (repair) => runScrub({ buckets: undefined, where: { bucket: '', prefix: root, dirBucket: '_local', dirPrefix: createHash('sha256').update(root).digest('hex').slice(0, 16), label: root }, source: localSource(root), keysOf: (repo) => localSource(join(root, repo, 'keys')), password: pw, stateDir, full: false, mode: () => ({ kind: 'incremental' }), slots: 1, repair, concurrency: 8, writer: writerOf('scrub') }),
      extendRetention: () => Promise.reject(new Error('not a bucket')),
    };
    return runPipeline(name, dryRun, steps, ctx);
  }
  const s = await openStorage({ ...(opts.config !== undefined ? { config: opts.config } : {}), ...(job.profile !== undefined ? { profile: job.profile } : {}) }, cmd, d);
  try {
    const bucket = job.bucket as string;
    const prefix = (job.prefix ?? '').replace(/^\/+|\/+$/g, '');
    const kp = keyPrefix(prefix);
    const buckets = new S3Buckets(s.client);
    const restic = resticRepoForBucket(s, bucket, prefix, password, cacheDir, `maintain.${name}`);
    const pw = await readPassword(password);
    const ctx: JobContext = {
      name, job, dryRun, yes: opts.yes === true, restic, stateDir, minLifecycleDays, ...ledgerOf(bucketLedgerTarget(restic, buckets, { bucket, prefix, kp }, stateDir), name, job, opts),
      s3: { client: s.client, buckets, bucket, prefix, kp },
      scrub: (repair) => runScrub({ buckets, where: { bucket, prefix, dirBucket: bucket, dirPrefix: prefix, label: `${bucket}/${prefix}` }, source: bucketSource(buckets, bucket, kp), keysOf: (repo) => bucketSource(buckets, bucket, `${kp}${repo}keys/`), password: pw, stateDir, full: false, mode: () => ({ kind: 'incremental' }), slots: 1, repair, concurrency: 8, writer: writerOf('scrub') }),
      extendRetention: (days) => runExtendRetention({ client: s.client, bucket, kp, days, dryRun, concurrency: 16 }),
    };
    return await runPipeline(name, dryRun, steps, ctx);
  } finally {
    s.close();
  }
}

export function registerMaintain(program: Command, deps: () => StorageDeps): void {
  program
    .command('maintain')
    .argument('[jobs...]', 'jobs from maintain.<job> in the config file (default: all)')
    .description('trusted host: storage check, scrub with repair, restic forget --prune, restic check, a verified state, drop old versions, extend retention — stopping at the first step that fails')
    .option('--config <file>', 'rwm config file (YAML) with maintain.<job> and s3.profiles (env RWM_CONFIG)')
    .option('--dry-run', 'forget --dry-run, no repairs, no deletes, no retention changes (checks still run)')
    .option('--yes', 'drop-versions deletes even where the job does not say dropVersions: true')
    .option('--force-forget', 'go on despite snapshot ledger findings, and let forget remove snapshots while a kept one has a finding (logged in the report)')
    .option('--state-dir <dir>', 'state directory (verified states, reports; default: RWM_STATE_DIR, /var/lib/rwm for root, else ~/.local/state/rwm)')
    .option('--json', 'print the reports as JSON')
    .addHelpText('after', `
Reports are written to STATE_DIR/maintain/<job>/<time>.json.
Exit status: 0 every job passed, 1 a step could not run, ${EXIT_FINDINGS} a step found problems (the job stopped there), 2 wrong usage.`)
    .action(async (names: string[], opts: MaintainFlags, cmd: Command) => {
      const d = deps();
      const file = opts.config ?? (d.env.RWM_CONFIG !== undefined && d.env.RWM_CONFIG !== '' ? d.env.RWM_CONFIG : undefined);
      const { config, warnings } = await loadConfig(file);
      for (const w of warnings) d.stderr.write(`rwm: warning: ${w}\n`);
      const all = Object.keys(config.maintain);
      if (all.length === 0) throw new UserError('the config file has no maintain.<job> section (see docs/maintenance.md)');
      for (const n of names) if (!Object.hasOwn(config.maintain, n)) throw new UserError(`no maintain job "${n}" in the config file (known: ${all.join(', ')})`);
      const stateDir = stateDirOf(opts.stateDir, d.env);
      const reports: PipelineReport[] = [];
      for (const name of names.length > 0 ? names : all) {
        const report = await runJob(name, config.maintain[name] as MaintainJobConfig, config, { ...opts, ...(file !== undefined ? { config: file } : {}) }, cmd, d);
        reports.push(report);
        const dir = join(stateDir, 'maintain', name);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await writeFile(join(dir, `${report.started.replace(/[-:]/g, '')}.json`), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
        if (opts.json !== true) d.stdout.write(formatReport(report));
      }
      if (opts.json === true) writeJson(d, reports);
      if (reports.some((r) => r.result === 'failed')) throw new CommandExit(EXIT.FAILURE);
      if (reports.some((r) => r.result === 'findings')) throw new CommandExit(EXIT_FINDINGS);
    });
}

function formatReport(r: PipelineReport): string {
  const lines = [`${r.job}: ${r.result}${r.dryRun ? ' (dry run)' : ''}`];
  for (const s of r.steps) {
    lines.push(`  ${s.status.padEnd(8)} ${s.name.padEnd(16)} ${(s.durationMs / 1000).toFixed(1)} s${s.error !== undefined ? `  ${s.error}` : s.details !== undefined ? `  ${JSON.stringify(s.details)}` : ''}`);
    for (const w of s.warnings ?? []) lines.push(`           warning: ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
