// Crash safety and racing writers: a server killed with SIGKILL in the middle of many concurrent
// uploads leaves no partial file visible, and restic can carry on; two server processes racing on
// the same id store exactly one intact file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, startServer, tempDir } from '../helpers/server.js';
import { http, makeTree, sha256hex } from '../helpers/data.js';
import { resticOk, restic } from '../helpers/restic.js';

/** Every file under <repo>/<type> (data: its shards) must hash to its own name. */
async function assertAllVerified(repo: string): Promise<number> {
  let n = 0;
  for (const type of ['data', 'keys', 'locks', 'snapshots', 'index']) {
    const dirs = type === 'data' ? (await readdir(join(repo, type)).catch(() => [])).map((s) => join(repo, type, s)) : [join(repo, type)];
    for (const d of dirs) {
      for (const name of await readdir(d).catch(() => [] as string[])) {
        const digest = createHash('sha256').update(await readFile(join(d, name))).digest('hex');
        assert.equal(digest, name, `${d}/${name} is partial or corrupt`);
        n++;
      }
    }
  }
  return n;
}

async function countDataFiles(repo: string): Promise<number> {
  let n = 0;
  for (const s of await readdir(join(repo, 'data')).catch(() => [] as string[])) n += (await readdir(join(repo, 'data', s))).length;
  return n;
}

describe('crash safety', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => removeDir(dir));

  test('SIGKILL during 48 concurrent uploads leaves only whole, verified files', async () => {
    const data = join(dir, 'kill');
    const server = await startServer(data, ['--no-auth']);
    assert.equal((await http('POST', `${server.url}r/?create=true`)).status, 200);
    const blobs = Array.from({ length: 48 }, () => randomBytes(4 << 20));
    const uploads = blobs.map((b) => http('POST', `${server.url}r/data/${sha256hex(b)}`, b).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    await server.stop('SIGKILL');
    const results = await Promise.all(uploads);
    const ok = results.filter((r) => r?.status === 200).length;
    const stored = await assertAllVerified(join(data, 'r'));
    assert.ok(stored >= ok, `every acknowledged upload is stored (${stored} >= ${ok})`);
    assert.ok(stored < blobs.length, 'the kill interrupted some uploads');

    // a restarted server accepts the re-uploads, and already stored ones are acknowledged as such
    const again = await startServer(data, ['--no-auth']);
    for (const b of blobs) assert.equal((await http('POST', `${again.url}r/data/${sha256hex(b)}`, b)).status, 200);
    assert.equal(await assertAllVerified(join(data, 'r')), blobs.length);
    await again.stop();
  });

  test('restic carries on when the server is SIGKILLed mid-backup and comes back', async () => {
    const data = join(dir, 'restic');
    const src = join(dir, 'src');
    await makeTree(src, 300, 16 << 20);
    const first = await startServer(data, ['--no-auth']);
    const url = `rest:${first.url}repo/`;
    await resticOk(['-r', url, 'init']);
    const backup = restic(['-r', url, 'backup', src]);
    while ((await countDataFiles(join(data, 'repo'))) < 2) await new Promise((r) => setTimeout(r, 20));
    await first.stop('SIGKILL');
    await assertAllVerified(join(data, 'repo'));
    // restic retries; the server comes back on the same port and the backup completes
    const second = await startServer(data, ['--no-auth', '--listen', `127.0.0.1:${first.port}`]);
    const result = await backup;
    assert.equal(result.code, 0, result.stderr);
    assert.match((await resticOk(['-r', url, 'check', '--read-data'])).stdout, /no errors were found/);
    await assertAllVerified(join(data, 'repo'));
    await second.stop();
  });

  test('two server processes racing uploads of the same ids store one intact file each', async () => {
    const data = join(dir, 'race');
    const a = await startServer(data, ['--no-auth']);
    const b = await startServer(data, ['--no-auth']);
    await http('POST', `${a.url}r/?create=true`);
    const blobs = Array.from({ length: 12 }, () => randomBytes(2 << 20));
    const results = await Promise.all(
      blobs.flatMap((blob) => [a, b, a, b].map((s) => http('POST', `${s.url}r/data/${sha256hex(blob)}`, blob))),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.equal(await assertAllVerified(join(data, 'r')), blobs.length);
    // and a different body under an existing name never replaces it
    const victim = sha256hex(blobs[0]!);
    assert.equal((await http('POST', `${b.url}r/data/${victim}`, randomBytes(100))).status, 400);
    assert.equal(await assertAllVerified(join(data, 'r')), blobs.length);
    await a.stop();
    await b.stop();
  });
});
