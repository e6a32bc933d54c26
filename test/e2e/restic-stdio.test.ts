// End to end with the real restic over stdio: restic's rclone backend starts `rwm serve restic
// --stdio --b2-hard-delete <name>` as its child and speaks HTTP/2 to it on stdin/stdout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, removeDir, tempDir } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { treeDigest } from '../helpers/tree.js';
import { makeTree } from '../helpers/data.js';

describe('restic over stdio (rclone backend, HTTP/2)', () => {
  let dir: string;
  let src: string;
  let data: string;
  const program = `${process.execPath} ${CLI}`;
  const args = (): string[] => ['-r', 'rclone:host1/main', '-o', `rclone.program=${program}`];
  const env = (): NodeJS.ProcessEnv => ({ RWM_PATH: data });

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    data = join(dir, 'data');
    await makeTree(src, 300, 2 << 20);
  });
  after(async () => removeDir(dir));

  test('init, backup, restore byte-identical, check --read-data', async () => {
    await resticOk([...args(), 'init'], env());
    await resticOk([...args(), 'backup', src], env());
    const target = join(dir, 'restore');
    await resticOk([...args(), 'restore', 'latest', '--target', target], env());
    assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src));
    assert.match((await resticOk([...args(), 'check', '--read-data'], env())).stdout, /no errors were found/);
    // the repository is where the rclone remote name says, in restic's layout
    assert.equal((JSON.parse((await resticOk(['-r', join(data, 'host1', 'main'), 'snapshots', '--json'])).stdout) as unknown[]).length, 1);
  });

  test('forget is refused and every file is still there', async () => {
    const repo = join(data, 'host1', 'main');
    const before = await treeDigest(repo, (r) => r.startsWith('.rwm-tmp') || r.startsWith('locks'));
    const snaps = JSON.parse((await resticOk([...args(), 'snapshots', '--json'], env())).stdout) as { id: string }[];
    const r = await restic([...args(), 'forget', snaps[0]!.id], env());
    assert.notEqual(r.code, 0);
    assert.deepEqual(await treeDigest(repo, (x) => x.startsWith('.rwm-tmp') || x.startsWith('locks')), before);
    assert.equal((await treeDigest(join(repo, 'locks'))).size, 0, 'no stale lock');
  });

  test('rclone.args can choose the directory (the SSH forced-command form)', async () => {
    const base = join(dir, 'forced');
    const repo = join(base, 'myrepo'); // restic appends the remote name to the arguments
    const a = ['-r', 'rclone:myrepo', '-o', `rclone.program=${program}`, '-o', `rclone.args=serve --stdio --path ${base}`];
    await resticOk([...a, 'init'], {});
    await resticOk([...a, 'backup', join(src, 'd1')], {});
    assert.equal((JSON.parse((await resticOk(['-r', repo, 'snapshots', '--json'])).stdout) as unknown[]).length, 1);
  });

  test('refuses to run on a terminal, and stdout carries nothing but the protocol', () => {
    const r = spawnSync('script', ['-qec', `${program} serve --stdio --path ${dir}/tty`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /refuses to run on a terminal/);
    // stdin closed at once: exits cleanly; stdout holds only HTTP/2 frames (the server's SETTINGS), no log text
    const closed = spawnSync(process.execPath, [CLI, 'serve', '--stdio', '--path', join(dir, 'x'), '--log-level', 'debug'], { input: '', timeout: 20_000 });
    assert.equal(closed.status, 0, closed.stderr.toString());
    assert.ok(closed.stdout.length >= 9 && closed.stdout[3] === 0x04, 'first bytes are an HTTP/2 SETTINGS frame');
    assert.ok(!closed.stdout.toString('latin1').includes('level'), 'no log line on stdout');
    assert.match(closed.stderr.toString(), /stdio/);
  });
});
