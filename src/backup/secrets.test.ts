// Password commands and files on the backup host, with real processes.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { join } from 'node:path';
import { checkPasswordFile, createPrivateDir, passwordCommandFile, runPasswordCommand } from './secrets.js';

const inherited = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_SECRET_ACCESS_KEY: 'aws-secret-123', RESTIC_PASSWORD: 'other-pw' };

describe('backup secrets', () => {
  test('a password command: argv without a shell, its output trimmed, an environment of PATH and HOME only', async () => {
    assert.equal(await runPasswordCommand(['printf', '  s3cret pw \\n'], inherited), 's3cret pw');
    const env = await runPasswordCommand(['env'], inherited);
    assert.deepEqual(env.split('\n').map((l) => l.split('=')[0]).sort(), ['HOME', 'PATH']);
  });

  test('a failing, silent, missing or slow command is an error that holds no output', async () => {
    await assert.rejects(runPasswordCommand(['sh', '-c', 'echo leaked-pw; echo "vault sealed" >&2; exit 3'], inherited), (err: Error) => /failed \(exit 3\): vault sealed/.test(err.message) && !err.message.includes('leaked-pw'));
    await assert.rejects(runPasswordCommand(['true'], inherited), /printed nothing/);
    await assert.rejects(runPasswordCommand(['/nonexistent/pass'], inherited), /could not start: ENOENT/);
    const t = Date.now();
    await assert.rejects(runPasswordCommand(['sh', '-c', 'sleep 30; echo pw'], inherited, 300), /timed out/);
    assert.ok(Date.now() - t < 5000);
  });

  test('its output goes to a file only this user can read, in a private directory that is removed', async () => {
    const p = await createPrivateDir('rwm-test-');
    try {
      assert.equal((await stat(p.dir)).mode & 0o777, 0o700);
      const f = await passwordCommandFile(['echo', 'pw-from-command'], p.dir, 'offsite', inherited);
      assert.equal((await stat(f)).mode & 0o777, 0o600);
    } finally {
      await p.cleanup();
    }
    await assert.rejects(stat(p.dir), { code: 'ENOENT' });
  });

  test('a password file that is missing or empty is named in the error', async () => {
    const p = await createPrivateDir('rwm-test-');
    try {
      await assert.rejects(checkPasswordFile(join(p.dir, 'nope')), /cannot read the password file .*nope: ENOENT/);
      await writeFile(join(p.dir, 'empty'), '\n');
      await assert.rejects(checkPasswordFile(join(p.dir, 'empty')), /is empty/);
    } finally {
      await p.cleanup();
    }
  });
});
