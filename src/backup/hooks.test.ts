// Hooks as real processes (/bin/sh): the environment they get, the timeout, failures.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hookEnv, runHook } from './hooks.js';

describe('backup hooks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-hooks-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the environment holds PATH, HOME and the RWM_* contract, nothing else from rwm', () => {
    const env = hookEnv({ event: 'after', profile: 'p', repository: 'r', result: 'success', snapshotId: 'abc' }, { PATH: '/bin', HOME: '/h', AWS_SECRET_ACCESS_KEY: 'k', RESTIC_PASSWORD: 'pw', RWM_CONFIG: '/c' });
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h', RWM_HOOK: 'after', RWM_PROFILE: 'p', RWM_REPOSITORY: 'r', RWM_RESULT: 'success', RWM_SNAPSHOT_ID: 'abc' });
  });

  test('argv without a shell: a word with spaces and $ stays one argument', async () => {
    const out = join(dir, 'argv');
    await runHook({ command: ['sh', '-c', 'printf "%s|" "$@" > "$0"', out, 'a b', '$HOME'], timeoutSeconds: 10 }, { event: 'before', profile: 'p', repository: 'r' }, { PATH: process.env.PATH }, () => undefined);
    assert.equal(await readFile(out, 'utf8'), 'a b|$HOME|');
  });

  test('a non-zero exit and a missing program are HookErrors', async () => {
    await assert.rejects(runHook({ command: ['false'], timeoutSeconds: 10 }, { event: 'before', profile: 'p', repository: 'r' }, { PATH: process.env.PATH }, () => undefined), /before hook false failed \(exit 1\)/);
    await assert.rejects(runHook({ command: ['/nonexistent/x'], timeoutSeconds: 10 }, { event: 'before', profile: 'p', repository: 'r' }, { PATH: process.env.PATH }, () => undefined), /could not start: ENOENT/);
  });

  test('the timeout ends the hook and what it started (a grandchild holding the output pipe)', async () => {
    const started = Date.now();
    await assert.rejects(
      runHook({ command: ['sh', '-c', 'sleep 30; true'], timeoutSeconds: 0.5 }, { event: 'before', profile: 'p', repository: 'r' }, { PATH: process.env.PATH }, () => undefined),
      /timed out after 0.5 s/,
    );
    assert.ok(Date.now() - started < 10_000, `the hook ended ${Date.now() - started} ms after it started`);
  });

  test('a hook that exits but leaves a background child does not hold the run up', async () => {
    const started = Date.now();
    await runHook({ command: ['sh', '-c', 'sleep 30 & echo started'], timeoutSeconds: 60 }, { event: 'after', profile: 'p', repository: 'r' }, { PATH: process.env.PATH }, () => undefined);
    assert.ok(Date.now() - started < 10_000, `the hook returned ${Date.now() - started} ms after it started`);
  });
});
