// `rwm serve` on a read-only file system (a read-only bind mount in a private mount namespace, so
// that root is refused too): every write is a server error, never a 404 ("no such repository").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { CLI, removeDir, startServer, tempDir } from '../helpers/server.js';
import { http, sha256hex } from '../helpers/data.js';

/** The server on `dir` bind-mounted read-only at `mnt`, in a mount namespace of its own. */
async function startReadOnly(dir: string, mnt: string): Promise<{ url: string; stop(): Promise<void> }> {
  const script = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && exec "$3" "$4" serve --path "$2" --no-auth --listen 127.0.0.1:0';
  const proc = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, mnt, process.execPath, CLI], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH },
  });
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stderr }).on('line', (line) => {
      lines.push(line);
      const m = /"url":"([^"]+)"/.exec(line);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}: ${lines.join('\n')}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

describe('serve on a read-only file system', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => removeDir(dir));

  test('creating a repository or uploading is a 5xx, never a 404; an existing repository still answers 200 to create', async () => {
    const data = join(dir, 'data');
    const mnt = join(dir, 'mnt');
    const writable = await startServer(data, ['--no-auth']);
    assert.equal((await http('POST', `${writable.url}old/?create=true`)).status, 200);
    await writable.stop();
    await mkdir(mnt);
    const server = await startReadOnly(data, mnt);
    try {
      const created = await http('POST', `${server.url}new/?create=true`);
      assert.ok(created.status >= 500 && created.status < 600, `create on a read-only fs: ${created.status}`);
      const nested = await http('POST', `${server.url}a/b/c/?create=true`);
      assert.ok(nested.status >= 500, `nested create: ${nested.status}`);
      const body = randomBytes(100);
      const upload = await http('POST', `${server.url}old/data/${sha256hex(body)}`, body);
      assert.ok(upload.status >= 500, `upload: ${upload.status}`);
      assert.equal((await http('GET', `${server.url}old/keys/`)).status, 200);
      assert.equal((await http('POST', `${server.url}old/?create=true`)).status, 200, 'an existing repository');
    } finally {
      await server.stop();
    }
  });
});
