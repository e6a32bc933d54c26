// The profile lock: held → reported at once; released, crashed or reused-pid owners → taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { acquireLock, LockedError, processStart } from './lock.js';

describe('backup profile lock', () => {
  let dir: string;
  let n = 0;
  const lockFile = (): string => join(dir, 'locks', `p${n++}.lock`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a held lock is reported with its owner at once; released, it can be taken again', async () => {
    const f = lockFile();
    const release = await acquireLock(f);
    await assert.rejects(acquireLock(f), (err: unknown) => err instanceof LockedError && err.pid === process.pid);
    await release();
    await (await acquireLock(f))();
    assert.deepEqual((await readdir(join(dir, 'locks'))).filter((x) => x.startsWith('p0')), [], 'no lock or temporary file is left');
  });

  test('the lock of a process killed with SIGKILL is taken over', async () => {
    const f = lockFile();
    const child = spawn('sleep', ['30']);
    const pid = child.pid as number;
    await writeFile(f, `${pid} ${processStart(pid) ?? '-'} -\n`);
    await assert.rejects(acquireLock(f), LockedError, 'a live owner holds it');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await (await acquireLock(f))();
  });

  test('a pid that was reused by another process since (other start time, other boot) does not hold the lock', async () => {
    const f = lockFile();
    await writeFile(f, `${process.pid} 1 -\n`);
    await (await acquireLock(f))();
    const g = lockFile();
    await writeFile(g, `${process.pid} ${processStart(process.pid) ?? '-'} 00000000-0000-0000-0000-000000000000\n`);
    await (await acquireLock(g))();
  });

  test('of several runs finding the same stale lock, exactly one takes it', async () => {
    const f = lockFile();
    await writeFile(f, '999999999 1 -\n');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(f)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.match(await readFile(f, 'utf8'), new RegExp(`^${process.pid} `));
  });

  test('a release does not remove a lock another run holds now', async () => {
    const f = lockFile();
    const release = await acquireLock(f);
    await writeFile(f, '999999998 1 -\n'); // as if our lock had been judged stale and taken over
    await release();
    assert.equal(await readFile(f, 'utf8'), '999999998 1 -\n');
  });
});
