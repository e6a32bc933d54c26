// End to end with the real restic (Debian's 0.14) over HTTP, with rest-server-style htpasswd
// credentials (written by Apache's `htpasswd -B`) and private repositories.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, startServer, tempDir, auditEvents, type RunningServer } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { treeDigest } from '../helpers/tree.js';
import { http, makeTree, sha256hex } from '../helpers/data.js';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

describe('restic over HTTP (append-only, private repos, htpasswd)', () => {
  let dir: string;
  let server: RunningServer;
  let src: string;
  let repoUrl: string;
  let repoDir: string;
  let snapshotId: string;

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeTree(src, 400, 3 << 20);
    const data = join(dir, 'data');
    execFileSync('mkdir', ['-p', data]);
    execFileSync('htpasswd', ['-B', '-b', '-c', join(data, '.htpasswd'), 'alice', 'alice-pw']);
    execFileSync('htpasswd', ['-B', '-b', join(data, '.htpasswd'), 'bob', 'bob-pw']);
    server = await startServer(data, ['--private-repos']);
    repoUrl = `rest:http://alice:alice-pw@127.0.0.1:${server.port}/alice/laptop/`;
    repoDir = join(data, 'alice', 'laptop');
  });
  after(async () => {
    await server.stop();
    await removeDir(dir);
  });

  test('init, backup, snapshots', async () => {
    await resticOk(['-r', repoUrl, 'init']);
    await resticOk(['-r', repoUrl, 'backup', src]);
    const snaps = JSON.parse((await resticOk(['-r', repoUrl, 'snapshots', '--json'])).stdout) as { id: string }[];
    assert.equal(snaps.length, 1);
    snapshotId = snaps[0]!.id;
  });

  test('restore is byte-identical to the source', async () => {
    const target = join(dir, 'restore');
    await resticOk(['-r', repoUrl, 'restore', 'latest', '--target', target]);
    assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src));
  });

  test('check --read-data passes', async () => {
    const r = await resticOk(['-r', repoUrl, 'check', '--read-data']);
    assert.match(r.stdout, /no errors were found/);
  });

  test('the directory is restic\'s own layout: restic opens it directly', async () => {
    const r = await resticOk(['-r', repoDir, 'snapshots', '--json']);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 1);
  });

  test('key add works', async () => {
    const pwFile = join(dir, 'new-password');
    await writeFile(pwFile, 'second-password\n');
    await resticOk(['-r', repoUrl, 'key', 'add', '--new-password-file', pwFile]);
    const keys = JSON.parse((await resticOk(['-r', repoUrl, 'key', 'list', '--json'])).stdout) as unknown[];
    assert.equal(keys.length, 2);
  });

  test('forget and key remove are refused and every file is still there', async () => {
    const before = await treeDigest(repoDir);
    const auditBefore = auditEvents(server).length;
    const f = await restic(['-r', repoUrl, 'forget', snapshotId]);
    assert.notEqual(f.code, 0, 'forget must fail');
    const keys = JSON.parse((await resticOk(['-r', repoUrl, 'key', 'list', '--json'])).stdout) as { id: string; current: boolean }[];
    const other = keys.find((k) => !k.current);
    assert.ok(other);
    const k = await restic(['-r', repoUrl, 'key', 'remove', other.id]);
    assert.notEqual(k.code, 0, 'key remove must fail');
    const afterDigest = await treeDigest(repoDir, (rel) => rel.startsWith('.rwm-tmp') || rel.startsWith('locks'));
    const beforeDigest = new Map([...before].filter(([k]) => !k.startsWith('locks')));
    assert.deepEqual(afterDigest, beforeDigest);
    const refusals = auditEvents(server).slice(auditBefore);
    assert.ok(refusals.some((e) => e.reason === 'delete-refused' && e.method === 'DELETE' && e.user === 'alice' && String(e.path).includes('/snapshots/')));
    assert.ok(refusals.some((e) => e.reason === 'delete-refused' && String(e.path).includes('/keys/')));
    const snaps = JSON.parse((await resticOk(['-r', repoUrl, 'snapshots', '--json'])).stdout) as unknown[];
    assert.equal(snaps.length, 1);
  });

  test('no stale lock is left, and unlock removes one', async () => {
    const locks = (await treeDigest(join(repoDir, 'locks'))).size;
    assert.equal(locks, 0, 'restic removed its own locks');
    const lock = randomBytes(200);
    const auth = { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` };
    const put = await http('POST', `${server.url}alice/laptop/locks/${sha256hex(lock)}`, lock, auth);
    assert.equal(put.status, 200);
    await resticOk(['-r', repoUrl, 'unlock', '--remove-all']);
    assert.equal((await treeDigest(join(repoDir, 'locks'))).size, 0);
  });

  test('another user cannot reach the repository', async () => {
    const r = await restic(['-r', `rest:http://bob:bob-pw@127.0.0.1:${server.port}/alice/laptop/`, 'snapshots']);
    assert.notEqual(r.code, 0);
    const w = await restic(['-r', `rest:http://alice:wrong@127.0.0.1:${server.port}/alice/laptop/`, 'snapshots']);
    assert.notEqual(w.code, 0);
    assert.ok(auditEvents(server).some((e) => e.reason === 'repo-forbidden' && e.user === 'bob'));
    assert.ok(auditEvents(server).some((e) => e.reason === 'auth-failed'));
  });
});
