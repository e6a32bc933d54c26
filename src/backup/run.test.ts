// One profile's run with real restic on a local repository and stand-in S3 operations: the order of
// the steps per repository, check: fail/warn/off, and what a failing before-hook skips.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResticRepo } from '../restic/env.js';
import type { ResolvedProfile, ResolvedRepository } from './profile.js';
import { runProfile, type RepositoryOps } from './run.js';

describe('runProfile', () => {
  let dir: string;
  let repo: ResticRepo;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-run-'));
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a'), 'hello');
    await writeFile(join(dir, 'pw'), 'run-test-password\n', { mode: 0o600 });
    repo = { repository: join(dir, 'repo'), passwordFile: join(dir, 'pw'), cacheDir: join(dir, 'cache') };
    execFileSync('restic', ['init'], { env: { PATH: process.env.PATH, RESTIC_REPOSITORY: repo.repository, RESTIC_PASSWORD_FILE: repo.passwordFile, RESTIC_CACHE_DIR: join(dir, 'cache') }, stdio: 'ignore' });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const hook = (event: string): { command: string[]; timeoutSeconds: number } => ({ command: ['sh', '-c', `echo "${event} $RWM_REPOSITORY $RWM_RESULT $RWM_ERROR" >> ${join(dir, 'steps.log')}`], timeoutSeconds: 10 });
  const profile = (repos: ResolvedRepository[], before: { command: string[]; timeoutSeconds: number }[] = [hook('before')]): ResolvedProfile => ({
    name: 'p', repositories: repos, paths: [join(dir, 'src')], excludes: [], excludeFiles: [], tags: [], oneFileSystem: false, extraArgs: [],
    hooks: { before, after: [hook('after')], failure: [hook('failure')], always: [hook('always')] },
  });
  const bucket = (check: 'fail' | 'warn' | 'off'): ResolvedRepository => ({ name: `b-${check}`, kind: 's3', repository: 's3:https://s3.example/b', passwordFile: '/unused', s3Profile: 'backup', check });
  const ops = (policed: boolean, calls: string[]): RepositoryOps => ({
    restic: (r) => (calls.push(`restic ${r.name}`), Promise.resolve(repo)),
    policedCheck: (r) => (calls.push(`check ${r.name}`), Promise.resolve({ ok: policed, findings: policed ? [] : ['POLICY: the deny statement is missing'] })),
    saveState: (r) => (calls.push(`state ${r.name}`), Promise.resolve('state-1')),
  });
  const steps = async (): Promise<string[]> => {
    const text = await readFile(join(dir, 'steps.log'), 'utf8').catch(() => '');
    await rm(join(dir, 'steps.log'), { force: true });
    return text.trim().split('\n').map((l) => l.trim());
  };
  const deps = (o: RepositoryOps): Parameters<typeof runProfile>[1] => ({ ops: o, env: { PATH: process.env.PATH }, log: () => undefined });

  test('s3: before-hooks, the policed check, backup, a state, after/always hooks; no forget off-site', async () => {
    const calls: string[] = [];
    const r = await runProfile({ ...profile([bucket('fail')]), forget: { keepLast: 1 } }, deps(ops(true, calls)));
    assert.equal(r.result, 'success', r.error);
    assert.deepEqual(calls, ['check b-fail', 'restic b-fail', 'state b-fail']);
    assert.deepEqual(await steps(), ['before b-fail', 'after b-fail success', 'always b-fail success']);
    assert.equal(r.repositories[0]?.state, 'state-1');
    assert.equal(r.repositories[0]?.forget, undefined);
  });

  test('a bucket that is not policed: check fail stops before restic; warn backs up with a warning; off does not check', async () => {
    const calls: string[] = [];
    const r = await runProfile(profile([bucket('fail'), bucket('warn'), bucket('off')]), deps(ops(false, calls)));
    assert.equal(r.result, 'failure');
    assert.deepEqual(calls, ['check b-fail', 'check b-warn', 'restic b-warn', 'state b-warn', 'restic b-off', 'state b-off']);
    const [failed, warned, off] = r.repositories;
    assert.match(failed?.error ?? '', /the bucket is not policed: POLICY: the deny statement is missing/);
    assert.equal(warned?.result, 'success');
    assert.match(warned?.warnings.join() ?? '', /not policed/);
    assert.equal(off?.check, undefined);
    assert.deepEqual((await steps()).slice(0, 3), ['before b-fail', 'failure b-fail failure the bucket is not policed: POLICY: the deny statement is missing', 'always b-fail failure the bucket is not policed: POLICY: the deny statement is missing']);
  });

  test('a failing before-hook skips that repository (no check, no backup) and fails the run; failure and always hooks run', async () => {
    const calls: string[] = [];
    const r = await runProfile(profile([bucket('fail')], [{ command: ['false'], timeoutSeconds: 10 }]), deps(ops(true, calls)));
    assert.equal(r.result, 'failure');
    assert.deepEqual(calls, []);
    assert.match(r.error ?? '', /b-fail: before hook false failed/);
    assert.deepEqual(await steps(), ['failure b-fail failure before hook false failed (exit 1)', 'always b-fail failure before hook false failed (exit 1)']);
  });
});
