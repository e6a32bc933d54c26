// One profile's run on the backup host: for each repository in turn the before-hooks, the policed
// check (s3:), restic backup --json, a state of the bucket (s3:), forget --prune (local only), then
// the after/failure/always hooks. Nothing here changes or removes an object version: the S3 work is
// a read-only check and a new state object, both given by the caller.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resticBackup, resticForget, resticUnlock, type ForgetPolicy } from '../restic/commands.js';
import type { ResticRepo } from '../restic/env.js';
import { isResticError } from '../restic/errors.js';
import type { BackupStatus } from '../restic/schema/backup.js';
import { runHooks, type HookContext } from './hooks.js';
import { planRepository, type ResolvedProfile, type ResolvedRepository } from './profile.js';
import type { ProfileReport, RepositoryReport } from './status.js';

export interface RepositoryOps {
  /** How restic opens the repository (keys from the S3 profile, REST credentials). */
  restic(repo: ResolvedRepository): Promise<ResticRepo>;
  /** s3: the policed-bucket check with the backup user's keys. */
  policedCheck(repo: ResolvedRepository): Promise<{ ok: boolean; findings: string[] }>;
  /** s3: a new state of the bucket after the backup; resolves with its name. */
  saveState(repo: ResolvedRepository): Promise<string>;
}

export interface RunDeps {
  readonly ops: RepositoryOps;
  /** PATH/HOME for hooks and restic. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  readonly onProgress?: (repo: string, s: BackupStatus) => void;
  readonly signal?: AbortSignal;
}

class StepError extends Error {}

async function excludeFile(p: ResolvedProfile, dir: string): Promise<string | undefined> {
  if (p.excludes.length === 0 && p.excludeFiles.length === 0) return undefined;
  const parts = [...p.excludes];
  for (const f of p.excludeFiles) {
    try {
      parts.push(await readFile(f, 'utf8'));
    } catch (err) {
      throw new StepError(`cannot read the exclude file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const file = join(dir, 'excludes');
  await writeFile(file, `${parts.join('\n')}\n`, { mode: 0o600 });
  return file;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runRepository(p: ResolvedProfile, repo: ResolvedRepository, excludes: string | undefined, d: RunDeps): Promise<RepositoryReport> {
  const started = Date.now();
  const warnings: string[] = [];
  const r: { -readonly [K in keyof RepositoryReport]: RepositoryReport[K] } = { name: repo.name, repository: repo.repository, kind: repo.kind, result: 'failure', startedAt: new Date(started).toISOString(), durationMs: 0, warnings };
  const hookBase = { profile: p.name, repository: repo.name };
  const timeoutMs = p.timeoutMinutes !== undefined ? p.timeoutMinutes * 60_000 : undefined;
  const callOpts = { ...(d.signal ? { signal: d.signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}), inherited: { PATH: d.env.PATH, HOME: d.env.HOME, TMPDIR: d.env.TMPDIR } };
  let resticRepo: ResticRepo | undefined;
  try {
    for (const step of planRepository(p, repo)) {
      switch (step) {
        case 'before-hooks':
          await runHooks(p.hooks.before, { ...hookBase, event: 'before' }, d.env, d.log);
          break;
        case 'policed-check': {
          const c = repo.check === 'off' ? undefined : await d.ops.policedCheck(repo);
          if (c === undefined) break;
          r.check = c;
          if (!c.ok) {
            const what = `the bucket is not policed: ${c.findings.slice(0, 5).join('; ')}`;
            if (repo.check === 'warn') warnings.push(what);
            else throw new StepError(what);
          }
          break;
        }
        case 'backup': {
          resticRepo = await d.ops.restic(repo);
          const b = await resticBackup(resticRepo, p.paths, {
            ...(p.host !== undefined ? { host: p.host } : {}),
            tags: p.tags,
            ...(excludes !== undefined ? { excludeFile: excludes } : {}),
            oneFileSystem: p.oneFileSystem,
            extraArgs: p.extraArgs,
            onStatus: (s) => d.onProgress?.(repo.name, s),
            onItemError: (e) => d.log(`${repo.name}: cannot read ${e.item}: ${JSON.stringify(e.error)}`),
          }, callOpts);
          const s = b.summary;
          Object.assign(r, { snapshotId: s.snapshot_id, filesNew: s.files_new, filesChanged: s.files_changed, filesTotal: s.total_files_processed, bytesAdded: s.data_added, bytesTotal: s.total_bytes_processed, incomplete: b.incomplete });
          if (b.incomplete) warnings.push(`some files could not be read (${b.itemErrors.length}); the snapshot is incomplete`);
          break;
        }
        case 'state-save':
          r.state = await d.ops.saveState(repo);
          break;
        case 'forget': {
          const policy = p.forget as ForgetPolicy;
          try {
            // Only this profile's snapshots (its paths, host and tags): another profile sharing the
            // repository keeps its own, and the policy is not applied to them.
            const own = { paths: p.paths.map((x) => resolve(x)), ...(p.tags.length > 0 ? { tags: [p.tags] } : {}), ...(p.host !== undefined ? { host: p.host } : {}) };
            const f = await resticForget(resticRepo as ResticRepo, policy, { prune: true, ...own }, callOpts);
            r.forget = { kept: f.groups.reduce((n, g) => n + g.keep.length, 0), removed: f.groups.reduce((n, g) => n + (g.remove?.length ?? 0), 0) };
          } catch (err) {
            if (isResticError(err, 'INTERRUPTED') || isResticError(err, 'TIMEOUT')) await resticUnlock(resticRepo as ResticRepo).catch(() => undefined);
            throw err;
          }
          break;
        }
        case 'after-hooks':
          await runHooks(p.hooks.after, { ...hookBase, event: 'after', result: 'success', ...(r.snapshotId !== undefined ? { snapshotId: r.snapshotId } : {}) }, d.env, d.log);
          break;
      }
    }
    r.result = 'success';
  } catch (err) {
    r.error = message(err);
    const ctx: HookContext = { ...hookBase, event: 'failure', result: 'failure', error: r.error, ...(r.snapshotId !== undefined ? { snapshotId: r.snapshotId } : {}) };
    await runHooks(p.hooks.failure, ctx, d.env, d.log).catch((e: unknown) => warnings.push(message(e)));
  }
  const final: HookContext = { ...hookBase, event: 'always', result: r.result === 'success' ? 'success' : 'failure', ...(r.snapshotId !== undefined ? { snapshotId: r.snapshotId } : {}), ...(r.error !== undefined ? { error: r.error } : {}) };
  await runHooks(p.hooks.always, final, d.env, d.log).catch((e: unknown) => warnings.push(message(e)));
  r.durationMs = Date.now() - started;
  return r;
}

/** Runs every repository of the profile (a failed one does not stop the next) and reports. */
export async function runProfile(p: ResolvedProfile, d: RunDeps): Promise<ProfileReport> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'rwm-backup-'));
  try {
    let excludes: string | undefined;
    try {
      excludes = await excludeFile(p, dir);
    } catch (err) {
      return { profile: p.name, result: 'failure', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, repositories: [], error: message(err) };
    }
    const repos: RepositoryReport[] = [];
    for (const repo of p.repositories) repos.push(await runRepository(p, repo, excludes, d));
    const failed = repos.filter((r) => r.result !== 'success');
    return {
      profile: p.name,
      result: failed.length === 0 ? 'success' : 'failure',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      repositories: repos,
      ...(failed.length > 0 ? { error: failed.map((f) => `${f.name}: ${f.error ?? 'failed'}`).join('; ') } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
