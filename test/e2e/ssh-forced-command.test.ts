// The SSH forced-command setup, for real: an OpenSSH server on loopback whose authorized_keys entry
// forces `rwm serve --stdio --path <repo>`, and restic using `-o rclone.program="ssh ..."`. The key
// can back up, and cannot delete.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile, readFile, chmod } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, removeDir, tempDir } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { treeDigest } from '../helpers/tree.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('SSH forced command (OpenSSH on loopback)', () => {
  let dir: string;
  let sshd: ChildProcess;
  let program: string;
  let repo: string;

  before(async () => {
    dir = await tempDir();
    repo = join(dir, 'repos', 'host1');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'clientkey')]);
    const pub = (await readFile(join(dir, 'clientkey.pub'), 'utf8')).trim();
    await writeFile(join(dir, 'authorized_keys'), `command="${process.execPath} ${CLI} serve --stdio --path ${repo}",restrict ${pub}\n`);
    await chmod(join(dir, 'authorized_keys'), 0o600);
    await mkdir('/run/sshd', { recursive: true });
    // A random port may be taken, and a loaded machine can take seconds to start sshd: try a few
    // ports, each until sshd listens or exits, and say why when none worked.
    let port = 0;
    let why = '';
    for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
      const p = 20000 + Math.floor(Math.random() * 30000);
      await writeFile(join(dir, 'sshd_config'), [
        'ListenAddress 127.0.0.1', `Port ${p}`, `HostKey ${join(dir, 'hostkey')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password',
        `PidFile ${join(dir, 'sshd.pid')}`, '',
      ].join('\n'));
      const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let exited = false;
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('exit', () => (exited = true));
      const deadline = Date.now() + 30_000;
      while (!exited && Date.now() < deadline && !(await portOpen(p))) await new Promise((r) => setTimeout(r, 100));
      if (!exited && (await portOpen(p))) {
        sshd = child;
        port = p;
      } else {
        child.kill();
        why = `sshd on port ${p}: ${exited ? 'exited' : 'not listening after 30 s'}: ${stderr.trim()}`;
      }
    }
    assert.notEqual(port, 0, why);
    const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    program = `ssh -p ${port} -i ${join(dir, 'clientkey')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR ${user}@127.0.0.1`;
  });
  after(async () => {
    sshd.kill();
    await removeDir(dir);
  });

  test('restic backs up through the forced command, and forget is refused', async () => {
    const args = ['-r', 'rclone:anything', '-o', `rclone.program=${program}`];
    await resticOk([...args, 'init']);
    await resticOk([...args, 'backup', import.meta.dirname]);
    const snaps = JSON.parse((await resticOk([...args, 'snapshots', '--json'])).stdout) as { id: string }[];
    assert.equal(snaps.length, 1);
    // the forced command decides where the data goes, whatever the client asked for
    assert.equal((JSON.parse((await resticOk(['-r', repo, 'snapshots', '--json'])).stdout) as unknown[]).length, 1);
    const ignoreLocks = (r: string): boolean => r.startsWith('.rwm-tmp') || r.startsWith('locks');
    const before = await treeDigest(repo, ignoreLocks);
    const f = await restic([...args, 'forget', snaps[0]!.id]);
    assert.notEqual(f.code, 0);
    assert.deepEqual(await treeDigest(repo, ignoreLocks), before);
  });
});
