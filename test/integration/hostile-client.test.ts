// A hostile client holding (or guessing) the backup credentials: every destructive or malformed
// request must be refused, and the repository must be byte-for-byte unchanged afterwards.
// Refusals of destructive requests must also leave an audit event.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile, stat, access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { auditEvents, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { treeDigest } from '../helpers/tree.js';
import { http, randomKeyFile, sha256hex } from '../helpers/data.js';
import { rawRequest, type RawRequest } from '../helpers/raw-http.js';

const TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'] as const;
const auth = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ALICE = auth('alice', 'alice-pw');

interface Case {
  readonly name: string;
  readonly req: () => RawRequest;
  readonly status: number | readonly number[];
  /** An audit event with this reason must be logged. */
  readonly audit?: string;
}

describe('hostile client', () => {
  let dir: string;
  let server: RunningServer;
  let repoDir: string;
  const files = new Map<string, { id: string; data: Buffer }>();
  const cfg = Buffer.from('the repository config');
  const path = (type: string): string => `/alice/repo/${type}/${files.get(type)!.id}`;

  before(async () => {
    dir = await tempDir();
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, '.htpasswd'), `alice:${bcrypt.hashSync('alice-pw', 4)}\nbob:${bcrypt.hashSync('bob-pw', 4)}\n`);
    server = await startServer(data, ['--private-repos', '--max-upload-size', '1MiB']);
    repoDir = join(data, 'alice', 'repo');
    const h = { Authorization: ALICE };
    assert.equal((await http('POST', `${server.url}alice/repo/?create=true`, undefined, h)).status, 200);
    assert.equal((await http('POST', `${server.url}alice/repo/config`, cfg, h)).status, 200);
    for (const t of TYPES) {
      const d = t === 'keys' ? randomKeyFile() : randomBytes(1000);
      files.set(t, { id: sha256hex(d), data: d });
      assert.equal((await http('POST', `${server.url}alice/repo/${t}/${sha256hex(d)}`, d, h)).status, 200);
    }
    assert.equal((await http('POST', `${server.url}bob/repo/?create=true`, undefined, { Authorization: auth('bob', 'bob-pw') })).status, 200);
  });
  after(async () => {
    await server.stop();
    await removeDir(dir);
  });

  const other = randomBytes(1000);
  const otherId = sha256hex(other);
  const as = (method: string, p: string, body?: Buffer, headers: Record<string, string> = {}): RawRequest => ({
    method, path: p, headers: { Authorization: ALICE, ...(body ? { 'Content-Length': String(body.length) } : {}), ...headers }, ...(body ? { body } : {}),
  });

  const cases: Case[] = [
    // deletes
    ...TYPES.filter((t) => t !== 'locks').map((t): Case => ({ name: `DELETE a ${t} file`, req: () => as('DELETE', path(t)), status: 403, audit: 'delete-refused' })),
    { name: 'DELETE config', req: () => as('DELETE', '/alice/repo/config'), status: 405, audit: 'delete-refused' },
    { name: 'DELETE the repository', req: () => as('DELETE', '/alice/repo/'), status: 403, audit: 'delete-refused' },
    { name: 'DELETE the repository without trailing slash', req: () => as('DELETE', '/alice/repo'), status: 403, audit: 'delete-refused' },
    // overwrites
    ...TYPES.map((t): Case => ({ name: `overwrite a ${t} file with other bytes`, req: () => as('POST', path(t), other), status: 400, audit: 'integrity' })),
    { name: 'replace config', req: () => as('POST', '/alice/repo/config', Buffer.from('evil config')), status: 403, audit: 'overwrite-refused' },
    { name: 'replace config with an empty body', req: () => as('POST', '/alice/repo/config', Buffer.alloc(0)), status: 403, audit: 'overwrite-refused' },
    // bad names and hashes
    { name: 'upload whose hash is not its name', req: () => as('POST', `/alice/repo/data/${'0'.repeat(64)}`, other), status: 400, audit: 'integrity' },
    { name: 'upload under an uppercase id', req: () => as('POST', `/alice/repo/data/${otherId.toUpperCase()}`, other), status: 400, audit: 'bad-path' },
    { name: 'upload under a 63-char id', req: () => as('POST', `/alice/repo/data/${otherId.slice(1)}`, other), status: 400, audit: 'bad-path' },
    { name: 'upload under a 65-char id', req: () => as('POST', `/alice/repo/data/${otherId}0`, other), status: 400, audit: 'bad-path' },
    { name: 'upload under a non-hex id', req: () => as('POST', `/alice/repo/keys/${'z'.repeat(64)}`, other), status: 400, audit: 'bad-path' },
    { name: 'upload to an unknown type', req: () => as('POST', `/alice/repo/evil/${otherId}`, other), status: [400, 403, 404, 405] },
    // bodies
    { name: 'truncated body (Content-Length 1000, 10 bytes sent, hang up)', req: () => ({ ...as('POST', `/alice/repo/data/${otherId}`, other.subarray(0, 10), { 'Content-Length': '1000' }), hangUp: true }), status: [400, 0] },
    { name: 'body longer than Content-Length', req: () => as('POST', `/alice/repo/data/${otherId}`, other, { 'Content-Length': '500' }), status: 400 }, // node's parser rejects the excess as a bad next request
    { name: 'Content-Length above --max-upload-size', req: () => as('POST', `/alice/repo/data/${otherId}`, other, { 'Content-Length': String(2 << 20) }), status: 413, audit: 'too-large' },
    { name: 'absurd Content-Length', req: () => as('POST', `/alice/repo/data/${otherId}`, other, { 'Content-Length': '99999999999999999999' }), status: [400, 413] },
    { name: 'negative Content-Length', req: () => as('POST', `/alice/repo/data/${otherId}`, other, { 'Content-Length': '-5' }), status: 400 },
    { name: 'chunked body above --max-upload-size', req: () => ({ method: 'POST', path: `/alice/repo/data/${otherId}`, headers: { Authorization: ALICE, 'Transfer-Encoding': 'chunked' }, body: Buffer.concat([Buffer.from(`${(2 << 20).toString(16)}\r\n`), randomBytes(2 << 20), Buffer.from('\r\n0\r\n\r\n')]) }), status: [413, 0], audit: 'too-large' },
    // traversal and encoding tricks
    { name: 'traversal /../', req: () => as('GET', '/alice/../bob/repo/config'), status: 400, audit: 'bad-path' },
    { name: 'traversal at the root', req: () => as('GET', '/../etc/passwd'), status: 400, audit: 'bad-path' },
    { name: 'traversal inside the types', req: () => as('DELETE', `/alice/repo/data/../keys/${files.get('keys')?.id ?? ''}`), status: 400, audit: 'bad-path' },
    { name: 'encoded dots %2e%2e', req: () => as('GET', '/alice/%2e%2e/bob/repo/config'), status: 400, audit: 'bad-path' },
    { name: 'encoded slash %2f', req: () => as('GET', '/alice%2f..%2fbob/repo/config'), status: 400, audit: 'bad-path' },
    { name: 'double slash', req: () => as('GET', '//alice/repo/config'), status: 400, audit: 'bad-path' },
    { name: 'dot segment', req: () => as('GET', '/alice/./repo/config'), status: 400, audit: 'bad-path' },
    { name: 'backslash', req: () => as('GET', '/alice\\..\\bob/repo/config'), status: 400, audit: 'bad-path' },
    { name: 'encoded NUL', req: () => as('GET', '/alice/repo%00/config'), status: 400, audit: 'bad-path' },
    { name: 'five levels deep', req: () => as('POST', '/alice/a/b/c/d/?create=true'), status: 400, audit: 'bad-path' },
    { name: 'hidden repository segment', req: () => as('POST', '/alice/.rwm-tmp/?create=true'), status: 400, audit: 'bad-path' },
    { name: 'repository segment starting with "-"', req: () => as('POST', '/alice/-rf/?create=true'), status: 400, audit: 'bad-path' },
    { name: 'a repository named like a type', req: () => as('POST', '/alice/data/x/?create=true'), status: 400, audit: 'bad-path' },
    { name: 'absolute-form URL', req: () => as('GET', 'http://127.0.0.1/alice/repo/config'), status: 400, audit: 'bad-path' },
    // credentials and other users
    { name: "another user's repository", req: () => as('GET', '/bob/repo/config'), status: 403, audit: 'repo-forbidden' },
    { name: "delete in another user's repository", req: () => as('DELETE', `/bob/repo/locks/${otherId}`), status: 403, audit: 'repo-forbidden' },
    { name: 'the root repository', req: () => as('POST', '/?create=true'), status: 403, audit: 'repo-forbidden' },
    { name: 'wrong password', req: () => ({ method: 'DELETE', path: path('snapshots'), headers: { Authorization: auth('alice', 'nope') } }), status: 401, audit: 'auth-failed' },
    { name: 'no credentials', req: () => ({ method: 'DELETE', path: path('keys') }), status: 401, audit: 'auth-failed' },
    { name: 'malformed Authorization', req: () => ({ method: 'GET', path: '/alice/repo/config', headers: { Authorization: 'Basic !!!' } }), status: 401, audit: 'auth-failed' },
    { name: 'unknown user', req: () => ({ method: 'GET', path: '/mallory/repo/config', headers: { Authorization: auth('mallory', 'x') } }), status: 401, audit: 'auth-failed' },
    // methods and ranges
    { name: 'PUT a file', req: () => as('PUT', path('data'), other), status: 405 },
    { name: 'PATCH a file', req: () => as('PATCH', path('data'), other), status: 405 },
    { name: 'POST on a repository without ?create=true', req: () => as('POST', '/alice/repo/'), status: 400 },
    { name: 'POST a list', req: () => as('POST', '/alice/repo/data/', other), status: 405 },
    { name: 'Range past the end', req: () => as('GET', path('data'), undefined, { Range: 'bytes=5000-' }), status: 416 },
    { name: 'Range end before start', req: () => as('GET', path('data'), undefined, { Range: 'bytes=5-2' }), status: 416 },
    { name: 'Range garbage', req: () => as('GET', path('data'), undefined, { Range: 'bytes=abc' }), status: 416 },
    { name: 'multiple ranges', req: () => as('GET', path('data'), undefined, { Range: 'bytes=0-1,5-6' }), status: 416 },
  ];

  for (const c of cases) {
    test(`${c.name} is refused and changes nothing`, async () => {
      const before = await treeDigest(repoDir);
      const auditBefore = auditEvents(server).length;
      const res = await rawRequest(server.port, c.req());
      const expected = typeof c.status === 'number' ? [c.status] : c.status;
      assert.ok(expected.includes(res?.status ?? 0), `status ${res?.status ?? 'none (connection closed)'}, expected ${expected.join(' or ')}`);
      await new Promise((r) => setTimeout(r, 50)); // let the server finish logging and cleaning up
      assert.deepEqual(await treeDigest(repoDir), before, 'repository changed');
      if (c.audit !== undefined) {
        const events = auditEvents(server).slice(auditBefore);
        assert.ok(events.some((e) => e.reason === c.audit && typeof e.method === 'string' && typeof e.path === 'string' && 'addr' in e),
          `audit event "${c.audit}" missing; got ${JSON.stringify(events)}`);
      }
    });
  }

  test('the temp directory holds nothing left over from refused uploads', async () => {
    const leftovers = await treeDigest(join(repoDir, '.rwm-tmp'), () => false);
    assert.equal(leftovers.size, 0);
  });

  test('a retried upload of an identical file is 200 and changes nothing', async () => {
    const f = files.get('snapshots')!;
    const p = join(repoDir, 'snapshots', f.id);
    const mtime = (await stat(p)).mtimeMs;
    const before = await treeDigest(repoDir);
    const res = await rawRequest(server.port, as('POST', path('snapshots'), f.data));
    assert.equal(res?.status, 200);
    assert.equal((await stat(p)).mtimeMs, mtime);
    assert.deepEqual(await treeDigest(repoDir), before);
  });

  test('reads: exact lengths, ranges, v1 and v2 lists', async () => {
    const f = files.get('data')!;
    const head = await http('HEAD', `${server.url}${path('data').slice(1)}`, undefined, { Authorization: ALICE });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(f.data.length));
    const range = await http('GET', `${server.url}${path('data').slice(1)}`, undefined, { Authorization: ALICE, Range: 'bytes=10-19' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-length'], '10');
    assert.equal(range.headers['content-range'], `bytes 10-19/${f.data.length}`);
    assert.deepEqual(range.body, f.data.subarray(10, 20));
    const open = await http('GET', `${server.url}${path('data').slice(1)}`, undefined, { Authorization: ALICE, Range: 'bytes=990-' });
    assert.deepEqual(open.body, f.data.subarray(990));
    const v2 = await http('GET', `${server.url}alice/repo/data/`, undefined, { Authorization: ALICE, Accept: 'application/vnd.x.restic.rest.v2' });
    assert.equal(v2.headers['content-type'], 'application/vnd.x.restic.rest.v2');
    assert.deepEqual(JSON.parse(v2.body.toString()), [{ name: f.id, size: f.data.length }]);
    const v1 = await http('GET', `${server.url}alice/repo/data/`, undefined, { Authorization: ALICE });
    assert.deepEqual(JSON.parse(v1.body.toString()), [f.id]);
    const missing = await http('HEAD', `${server.url}alice/repo/keys/${otherId}`, undefined, { Authorization: ALICE });
    assert.equal(missing.status, 404);
  });

  test('deleting a lock file is allowed and removes only that file', async () => {
    const before = await treeDigest(repoDir);
    const lock = files.get('locks')!;
    const res = await rawRequest(server.port, as('DELETE', path('locks')));
    assert.equal(res?.status, 200);
    const after = await treeDigest(repoDir);
    const expected = new Map(before);
    expected.delete(join('locks', lock.id));
    assert.deepEqual(after, expected);
    await assert.rejects(access(join(repoDir, 'locks', lock.id)));
  });
});
