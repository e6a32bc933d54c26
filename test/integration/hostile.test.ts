// Hostile clients against `rwm serve`: a compromised backup host that tries to delete, overwrite,
// smuggle, traverse or impersonate. Every case asserts the refusal status, that the data directory is
// byte-for-byte unchanged, and (for refusals worth one) that an audit event names reason, method and
// path. Requests node's HTTP client would refuse to send (or would normalise) go over raw sockets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { auditEvents, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { treeDigest } from '../helpers/tree.js';
import { randomKeyFile, sha256hex } from '../helpers/data.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'] as const;
type FileType = (typeof TYPES)[number];

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface ExpectedAudit {
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly user?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const basic = (user: string, password: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const audit = (reason: string, method: string, path: string, user?: string): ExpectedAudit => (user === undefined ? { reason, method, path } : { reason, method, path, user });

/** Where a file of a repository lives on disk (restic's layout: data files in 2-hex shards). */
function fileOnDisk(root: string, repo: string, type: FileType, id: string): string {
  return type === 'data' ? join(root, repo, 'data', id.slice(0, 2), id) : join(root, repo, type, id);
}

/** path -> sha256 of everything under the server's data directory, upload temp files excluded. */
function snapshot(server: RunningServer): Promise<Map<string, string>> {
  return treeDigest(server.path, (rel) => rel.split(sep).includes('.rwm-tmp'));
}

/** An ordinary request through node:http (path sent as given, no URL normalisation, no keep-alive). */
function send(server: RunningServer, method: string, path: string, opts: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers = opts.body ? { 'Content-Length': String(opts.body.length), ...opts.headers } : { ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The head of a raw HTTP/1.1 request; Host and `Connection: close` are added so the server hangs up after answering. */
function rawHead(method: string, target: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Splits what a server sent on one connection into responses (by Content-Length, else to the end). */
function parseResponses(buf: Buffer): Reply[] {
  const out: Reply[] = [];
  let rest = buf;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const colon = l.indexOf(':');
      if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
    }
    const len = headers['content-length'] === undefined ? rest.length - end - 4 : Number(headers['content-length']);
    out.push({ status: Number(m[1]), headers, body: rest.subarray(end + 4, end + 4 + len).toString() });
    rest = rest.subarray(end + 4 + len);
  }
  return out;
}

/**
 * Writes bytes as they are on a fresh TCP connection and collects every response until the server
 * hangs up. `halfClose` sends FIN right after the bytes (a client that stops mid-body).
 */
function sendRaw(server: RunningServer, bytes: string | Buffer, opts: { halfClose?: boolean } = {}): Promise<Reply[]> {
  return new Promise((resolve) => {
    const sock = connect(server.port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(), 10_000);
    sock.on('data', (c: Buffer) => parts.push(c));
    sock.on('error', () => undefined); // a reset after the answer is fine: what was received counts
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponses(Buffer.concat(parts)));
    });
    sock.write(bytes, () => {
      if (opts.halfClose) sock.end();
    });
  });
}

/** One raw request; exactly one response is expected. */
async function sendRawOne(server: RunningServer, bytes: string | Buffer, opts: { halfClose?: boolean } = {}): Promise<Reply> {
  const replies = await sendRaw(server, bytes, opts);
  assert.equal(replies.length, 1, `exactly one response expected, got ${JSON.stringify(replies)}`);
  return replies[0] as Reply;
}

/** Waits (the log arrives through a pipe) for a new audit event matching `want`. */
async function waitForAudit(server: RunningServer, countBefore: number, want: ExpectedAudit, status: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const fresh = auditEvents(server).slice(countBefore);
    const hit = fresh.find((e) => e.reason === want.reason && e.method === want.method && e.path === want.path);
    if (hit) {
      assert.equal(hit.status, status, 'audit event carries the status');
      if (want.user !== undefined) assert.equal(hit.user, want.user, 'audit event names the user');
      return;
    }
    if (Date.now() > deadline) assert.fail(`no audit event ${JSON.stringify(want)}; new audit events: ${JSON.stringify(fresh)}`);
    await sleep(20);
  }
}

/**
 * Runs one request and asserts the answer: the status, an audit event when one is expected, and
 * that nothing under the data directory changed.
 */
async function expectUnchanged(server: RunningServer, run: () => Promise<Reply>, status: number, expectedAudit?: ExpectedAudit): Promise<Reply> {
  const tree = await snapshot(server);
  const audits = auditEvents(server).length;
  const reply = await run();
  assert.equal(reply.status, status, `status (answer: ${JSON.stringify(reply.body)})`);
  if (expectedAudit) await waitForAudit(server, audits, expectedAudit, status);
  assert.deepEqual(await snapshot(server), tree, 'the data directory is byte-for-byte unchanged');
  return reply;
}

/** Waits until no upload temp file is left in a repository (an aborted upload must clean up). */
async function assertNoTempFiles(repoDir: string): Promise<void> {
  const dir = join(repoDir, '.rwm-tmp');
  const deadline = Date.now() + 5_000;
  for (;;) {
    const left = await readdir(dir).catch(() => [] as string[]);
    if (left.length === 0) return;
    if (Date.now() > deadline) assert.fail(`temp files left behind: ${left.join(', ')}`);
    await sleep(20);
  }
}

async function assertMissing(path: string): Promise<void> {
  await assert.rejects(stat(path), { code: 'ENOENT' }, `${path} must not exist`);
}

/** A repository populated through the HTTP API: config and one file of each type (and a second lock). */
interface Repo {
  readonly config: Buffer;
  readonly files: Record<FileType, { id: string; bytes: Buffer }>;
  readonly lock2: { id: string; bytes: Buffer };
}

async function populate(server: RunningServer, name: string, headers: Record<string, string> = {}): Promise<Repo> {
  const ok = async (method: string, path: string, body?: Buffer): Promise<void> => {
    const r = await send(server, method, path, body ? { body, headers } : { headers });
    assert.equal(r.status, 200, `${method} ${path}: ${r.body}`);
  };
  const make = (size: number): { id: string; bytes: Buffer } => {
    const bytes = randomBytes(size);
    return { id: sha256hex(bytes), bytes };
  };
  await ok('POST', `/${name}/?create=true`);
  const config = randomBytes(155);
  await ok('POST', `/${name}/config`, config);
  const key = randomKeyFile();
  const files = { data: make(4096), keys: { id: sha256hex(key), bytes: key }, locks: make(180), snapshots: make(300), index: make(900) };
  for (const t of TYPES) await ok('POST', `/${name}/${t}/${files[t].id}`, files[t].bytes);
  const lock2 = make(181);
  await ok('POST', `/${name}/locks/${lock2.id}`, lock2.bytes);
  return { config, files, lock2 };
}

// ---------------------------------------------------------------------------------------------
// An unauthenticated server (--no-auth), append-only, uploads limited to 1 MiB
// ---------------------------------------------------------------------------------------------

describe('hostile clients: append-only server', () => {
  let dir: string;
  let s: RunningServer;
  let repo: Repo;
  const R = 'repo';
  const path = (type: FileType, id: string): string => `/${R}/${type}/${id}`;

  before(async () => {
    dir = await tempDir('rwm-hostile-');
    s = await startServer(join(dir, 'data'), ['--no-auth', '--max-upload-size', '1MiB']);
    repo = await populate(s, R);
  });
  after(async () => {
    await s.stop();
    await removeDir(dir);
  });

  // --- deletes --------------------------------------------------------------------------------

  for (const type of ['data', 'keys', 'snapshots', 'index'] as const) {
    test(`DELETE of a ${type} file: 403, audited`, async () => {
      const p = path(type, repo.files[type].id);
      await expectUnchanged(s, () => send(s, 'DELETE', p), 403, audit('delete-refused', 'DELETE', p));
    });
  }

  // config and the type directories have no DELETE at all: 405, but audited like any other delete.
  test('DELETE of config: 405, audited', async () => {
    const p = `/${R}/config`;
    const r = await expectUnchanged(s, () => send(s, 'DELETE', p), 405, audit('delete-refused', 'DELETE', p));
    assert.equal(r.headers.allow, 'HEAD, GET, POST');
  });

  test('DELETE of the repository /repo/: 403, audited', async () => {
    const p = `/${R}/`;
    await expectUnchanged(s, () => send(s, 'DELETE', p), 403, audit('delete-refused', 'DELETE', p));
  });

  test('DELETE / (the whole store): 403, audited', async () => {
    await expectUnchanged(s, () => send(s, 'DELETE', '/'), 403, audit('delete-refused', 'DELETE', '/'));
  });

  test('DELETE of a whole type directory /repo/keys/: 405, audited', async () => {
    const p = `/${R}/keys/`;
    const r = await expectUnchanged(s, () => send(s, 'DELETE', p), 405, audit('delete-refused', 'DELETE', p));
    assert.equal(r.headers.allow, 'GET');
  });

  test('DELETE /repo/locks/<id of a key> removes nothing: 404', async () => {
    await expectUnchanged(s, () => send(s, 'DELETE', `/${R}/locks/${repo.files.keys.id}`), 404);
    await stat(fileOnDisk(s.path, R, 'keys', repo.files.keys.id));
  });

  test('a lock delete redirected with .. to a key (/repo/locks/../keys/<id>): 400, audited', async () => {
    const p = `/${R}/locks/../keys/${repo.files.keys.id}`;
    await expectUnchanged(s, () => sendRawOne(s, rawHead('DELETE', p)), 400, audit('bad-path', 'DELETE', p));
  });

  test('X-HTTP-Method-Override: DELETE is ignored (an empty POST that fails verification): 400, audited', async () => {
    const p = path('keys', repo.files.keys.id);
    await expectUnchanged(s, () => send(s, 'POST', p, { headers: { 'X-HTTP-Method-Override': 'DELETE', 'Content-Length': '0' } }), 400, audit('integrity', 'POST', p));
  });

  // --- overwrites -----------------------------------------------------------------------------

  // A typed file's name is the hash of its bytes, so different bytes under an existing name fail
  // verification (400) before the create-only write could refuse them (403).
  for (const type of TYPES) {
    test(`overwrite of an existing ${type} file with different bytes: 400, audited`, async () => {
      const p = path(type, repo.files[type].id);
      await expectUnchanged(s, () => send(s, 'POST', p, { body: randomBytes(repo.files[type].bytes.length) }), 400, audit('integrity', 'POST', p));
    });
  }

  test('overwrite of config with different bytes: 403, audited', async () => {
    const p = `/${R}/config`;
    await expectUnchanged(s, () => send(s, 'POST', p, { body: randomBytes(repo.config.length) }), 403, audit('overwrite-refused', 'POST', p));
  });

  test('a verified upload never replaces an existing (corrupt) file of that name: 403, audited', async () => {
    const good = randomBytes(333);
    const id = sha256hex(good);
    await writeFile(fileOnDisk(s.path, R, 'snapshots', id), randomBytes(333), { mode: 0o400 }); // planted on disk, not via HTTP
    const p = path('snapshots', id);
    await expectUnchanged(s, () => send(s, 'POST', p, { body: good }), 403, audit('overwrite-refused', 'POST', p));
  });

  test('a retried upload of identical bytes (data file and config): 200, nothing changes, not even mtime', async () => {
    const file = fileOnDisk(s.path, R, 'data', repo.files.data.id);
    const cfg = join(s.path, R, 'config');
    const before = [await stat(file), await stat(cfg)];
    await expectUnchanged(s, () => send(s, 'POST', path('data', repo.files.data.id), { body: repo.files.data.bytes }), 200);
    await expectUnchanged(s, () => send(s, 'POST', `/${R}/config`, { body: repo.config }), 200);
    const afterwards = [await stat(file), await stat(cfg)];
    for (const [i, st] of afterwards.entries()) {
      assert.equal(st.mtimeMs, before[i]?.mtimeMs, 'mtime unchanged');
      assert.equal(st.ino, before[i]?.ino, 'same inode: the file was not replaced');
    }
  });

  // --- bad names and bad bodies ---------------------------------------------------------------

  test('upload whose body does not hash to its name: 400, audited, nothing stored', async () => {
    const claimed = sha256hex(randomBytes(64));
    const p = path('data', claimed);
    await expectUnchanged(s, () => send(s, 'POST', p, { body: randomBytes(64) }), 400, audit('integrity', 'POST', p));
    await assertMissing(fileOnDisk(s.path, R, 'data', claimed));
  });

  const nameCases: [string, (id: string) => string][] = [
    ['an uppercase-hex name', (id) => id.toUpperCase()],
    ['a 63-character name', (id) => id.slice(0, 63)],
    ['a 65-character name', (id) => `${id}0`],
    ['a non-hex 64-character name', (id) => `${id.slice(0, 60)}zzzz`],
    ['an id with a trailing slash', (id) => `${id}/`],
  ];
  for (const [what, nameOf] of nameCases) {
    test(`upload to ${what}: 400, audited`, async () => {
      const body = randomBytes(32);
      const p = path('keys', nameOf(sha256hex(body)));
      await expectUnchanged(s, () => send(s, 'POST', p, { body }), 400, audit('bad-path', 'POST', p));
    });
  }

  test('truncated body (Content-Length 1000, 10 bytes sent, then FIN): 400, no file, no temp file left', async () => {
    const body = randomBytes(1000);
    const p = path('data', sha256hex(body));
    const bytes = Buffer.concat([Buffer.from(rawHead('POST', p, { 'Content-Length': '1000' })), body.subarray(0, 10)]);
    await expectUnchanged(s, () => sendRawOne(s, bytes, { halfClose: true }), 400);
    await assertMissing(fileOnDisk(s.path, R, 'data', sha256hex(body)));
    await assertNoTempFiles(join(s.path, R));
  });

  test('body longer than Content-Length: only the announced bytes count (400, audited), the rest is a separate request', async () => {
    const announced = randomBytes(10);
    // The excess is a complete pipelined request: were it taken as body, the name would match.
    const excess = Buffer.from(rawHead('GET', `/${R}/keys/`));
    const id = sha256hex(Buffer.concat([announced, excess]));
    const p = path('keys', id);
    const head = `POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n`;
    const tree = await snapshot(s);
    const audits = auditEvents(s).length;
    const replies = await sendRaw(s, Buffer.concat([Buffer.from(head), announced, excess]));
    assert.deepEqual(replies.map((r) => r.status), [400, 200], JSON.stringify(replies));
    assert.ok(!replies[1]?.body.includes(id), 'the listing does not contain the smuggled name');
    await waitForAudit(s, audits, audit('integrity', 'POST', p), 400);
    assert.deepEqual(await snapshot(s), tree, 'the data directory is byte-for-byte unchanged');
    await assertMissing(fileOnDisk(s.path, R, 'keys', id));
  });

  test('Content-Length above --max-upload-size (2 MiB > 1 MiB): 413 before reading the body, audited', async () => {
    const p = path('data', sha256hex(randomBytes(8)));
    await expectUnchanged(s, () => sendRawOne(s, rawHead('POST', p, { 'Content-Length': String(2 << 20) })), 413, audit('too-large', 'POST', p));
  });

  test('chunked upload (no Content-Length) growing past --max-upload-size: 413, audited, nothing stored', async () => {
    const body = randomBytes((1 << 20) + 4096);
    const p = path('data', sha256hex(body));
    const run = (): Promise<Reply> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', path: p, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
        });
        req.on('error', reject);
        for (let off = 0; off < body.length; off += 64 * 1024) req.write(body.subarray(off, off + 64 * 1024));
        req.end();
      });
    await expectUnchanged(s, run, 413, audit('too-large', 'POST', p));
    await assertMissing(fileOnDisk(s.path, R, 'data', sha256hex(body)));
    await assertNoTempFiles(join(s.path, R));
  });

  test('non-numeric Content-Length: 400', async () => {
    const p = path('keys', sha256hex(randomBytes(8)));
    await expectUnchanged(s, () => sendRawOne(s, `${rawHead('POST', p, { 'Content-Length': 'abc' })}0123456789`), 400);
  });

  test('Content-Length of 17 digits (10^16 bytes): 400, audited', async () => {
    const p = path('keys', sha256hex(randomBytes(8)));
    await expectUnchanged(s, () => sendRawOne(s, rawHead('POST', p, { 'Content-Length': '10000000000000000' })), 400, audit('invalid', 'POST', p));
  });

  test('Content-Length together with Transfer-Encoding (request smuggling): 400', async () => {
    const body = Buffer.from('0123456789');
    const p = path('keys', sha256hex(body));
    await expectUnchanged(s, () => sendRawOne(s, `${rawHead('POST', p, { 'Content-Length': '10', 'Transfer-Encoding': 'chunked' })}a\r\n0123456789\r\n0\r\n\r\n`), 400);
    await assertMissing(fileOnDisk(s.path, R, 'keys', sha256hex(body)));
  });

  // --- malformed and escaping paths -------------------------------------------------------------

  const pathCases: [string, string, string][] = [
    ['traversal to /etc/passwd', 'GET', '/../etc/passwd'],
    ['traversal into another repository', 'GET', `/${R}/../other/config`],
    ['traversal from data to keys', 'POST', `/${R}/data/../keys/${'0'.repeat(64)}`],
    ['percent-encoded dots %2e%2e', 'GET', `/${R}/%2e%2e/%2e%2e/etc/passwd`],
    ['an encoded slash %2f', 'GET', `/${R}%2fconfig`],
    ['a double slash', 'GET', `//${R}/config`],
    ['backslashes', 'GET', `/${R}\\..\\..\\config`],
    ['an encoded NUL %00', 'GET', `/${R}/config%00.txt`],
    ['a path 5 levels deep', 'POST', '/a/b/c/d/e/?create=true'],
    ['a repository segment starting with "."', 'POST', '/.ssh/?create=true'],
    ['a repository segment starting with "-"', 'POST', '/-rf/?create=true'],
    ['the temp directory as a repository segment', 'POST', `/${R}/.rwm-tmp/config`],
    ['a repository named config', 'POST', '/config/?create=true'],
    ['a repository named data (inside the path)', 'GET', '/data/config'],
    ['an absolute-form request target', 'GET', `http://127.0.0.1/${R}/config`],
  ];
  for (const [what, method, target] of pathCases) {
    test(`${what} (${method} ${target}): 400, audited`, async () => {
      await expectUnchanged(s, () => sendRawOne(s, rawHead(method, target)), 400, audit('bad-path', method, target));
    });
  }

  test('a raw NUL byte in the request line: 400', async () => {
    await expectUnchanged(s, () => sendRawOne(s, rawHead('GET', `/${R}/con\0fig`)), 400);
  });

  test('POST /data/?create=true (a repository named after a type) creates nothing: 405', async () => {
    const r = await expectUnchanged(s, () => send(s, 'POST', '/data/?create=true'), 405);
    assert.equal(r.headers.allow, 'GET');
    await assertMissing(join(s.path, 'data'));
  });

  // --- ranges ---------------------------------------------------------------------------------

  for (const range of ['bytes=5-2', 'bytes=999999-', 'bytes=abc', 'bytes=0-1,3-4', 'bytes=-0']) {
    test(`bad Range "${range}": 416 with Content-Range bytes */size`, async () => {
      const r = await expectUnchanged(s, () => send(s, 'GET', path('data', repo.files.data.id), { headers: { Range: range } }), 416);
      assert.equal(r.headers['content-range'], `bytes */${repo.files.data.bytes.length}`);
    });
  }

  // --- methods, probes, lists -----------------------------------------------------------------

  for (const method of ['PUT', 'PATCH']) {
    test(`${method} on an existing file: 405 with Allow`, async () => {
      const r = await expectUnchanged(s, () => send(s, method, path('keys', repo.files.keys.id), { body: randomBytes(450) }), 405);
      assert.equal(r.headers.allow, 'HEAD, GET, POST, DELETE');
    });
  }

  test('POST on a repository without ?create=true: 400, audited', async () => {
    const p = `/${R}/`;
    await expectUnchanged(s, () => send(s, 'POST', p), 400, audit('invalid', 'POST', p));
  });

  test('POST on a new repository with ?create=false creates nothing: 400, audited', async () => {
    const p = '/newrepo/?create=false';
    await expectUnchanged(s, () => send(s, 'POST', p), 400, audit('invalid', 'POST', p));
    await assertMissing(join(s.path, 'newrepo'));
  });

  test('GET and HEAD of a missing file: 404', async () => {
    const p = path('index', sha256hex(randomBytes(8)));
    await expectUnchanged(s, () => send(s, 'GET', p), 404);
    await expectUnchanged(s, () => send(s, 'HEAD', p), 404);
  });

  test('list of a type directory that does not exist: 200 [] (v1 and v2), nothing created', async () => {
    const v1 = await expectUnchanged(s, () => send(s, 'GET', '/never-created/locks/'), 200);
    assert.equal(v1.body, '[]');
    const v2 = await expectUnchanged(s, () => send(s, 'GET', '/never-created/snapshots/', { headers: { Accept: 'application/vnd.x.restic.rest.v2' } }), 200);
    assert.equal(v2.headers['content-type'], 'application/vnd.x.restic.rest.v2');
    assert.equal(v2.body, '[]');
    await assertMissing(join(s.path, 'never-created'));
  });

  // --- last: the one delete that is allowed ---------------------------------------------------

  test('DELETE of a lock file is allowed (200) and removes exactly that file', async () => {
    const tree = await snapshot(s);
    const target = fileOnDisk(s.path, R, 'locks', repo.files.locks.id);
    const r = await send(s, 'DELETE', path('locks', repo.files.locks.id));
    assert.equal(r.status, 200);
    const expected = new Map(tree);
    assert.ok(expected.delete(target.slice(s.path.length + 1)), 'the lock was there before');
    assert.deepEqual(await snapshot(s), expected, 'only the lock file is gone');
    await stat(fileOnDisk(s.path, R, 'locks', repo.lock2.id));
    assert.equal((await send(s, 'GET', path('locks', repo.files.locks.id))).status, 404);
  });
});

// ---------------------------------------------------------------------------------------------
// An authenticated server with --private-repos: users alice and bob
// ---------------------------------------------------------------------------------------------

describe('hostile clients: authentication and private repositories', () => {
  let dir: string;
  let s: RunningServer;
  let repo: Repo;
  const R = 'alice/r';
  const ALICE = basic('alice', 'alice-password');
  const BOB = basic('bob', 'bob-password');

  before(async () => {
    dir = await tempDir('rwm-hostile-auth-');
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `alice:${bcrypt.hashSync('alice-password', 10)}\nbob:${bcrypt.hashSync('bob-password', 10)}\n`);
    s = await startServer(join(dir, 'data'), ['--htpasswd-file', htpasswd, '--private-repos']);
    repo = await populate(s, R, ALICE);
    assert.equal((await send(s, 'POST', '/bob/mine/?create=true', { headers: BOB })).status, 200, 'bob has his own repository');
  });
  after(async () => {
    await s.stop();
    await removeDir(dir);
  });

  test("bob reads alice's config with his own valid credentials: 403, audited", async () => {
    const p = `/${R}/config`;
    await expectUnchanged(s, () => send(s, 'GET', p, { headers: BOB }), 403, audit('repo-forbidden', 'GET', p, 'bob'));
  });

  test("bob uploads a valid file into alice's repository: 403, audited", async () => {
    const body = randomBytes(100);
    const p = `/${R}/snapshots/${sha256hex(body)}`;
    await expectUnchanged(s, () => send(s, 'POST', p, { body, headers: BOB }), 403, audit('repo-forbidden', 'POST', p, 'bob'));
  });

  test("bob deletes alice's lock (a delete alice herself may do): 403, audited", async () => {
    const p = `/${R}/locks/${repo.files.locks.id}`;
    await expectUnchanged(s, () => send(s, 'DELETE', p, { headers: BOB }), 403, audit('repo-forbidden', 'DELETE', p, 'bob'));
  });

  test("bob lists alice's keys: 403, audited", async () => {
    const p = `/${R}/keys/`;
    await expectUnchanged(s, () => send(s, 'GET', p, { headers: BOB }), 403, audit('repo-forbidden', 'GET', p, 'bob'));
  });

  test("bob climbs out of his own repository into alice's (/bob/../alice/r/config): 400, audited", async () => {
    const p = `/bob/../${R}/config`;
    await expectUnchanged(s, () => sendRawOne(s, rawHead('GET', p, BOB)), 400, audit('bad-path', 'GET', p));
  });

  test('wrong password for alice: 401 with WWW-Authenticate, audited', async () => {
    const p = `/${R}/keys/${repo.files.keys.id}`;
    const r = await expectUnchanged(s, () => send(s, 'DELETE', p, { headers: basic('alice', 'guess') }), 401, audit('auth-failed', 'DELETE', p, 'alice'));
    assert.equal(r.headers['www-authenticate'], 'Basic realm="restic"');
  });

  test('unknown user: 401, audited', async () => {
    const p = `/${R}/config`;
    await expectUnchanged(s, () => send(s, 'GET', p, { headers: basic('mallory', 'x') }), 401, audit('auth-failed', 'GET', p, 'mallory'));
  });

  test('no Authorization header: 401 with WWW-Authenticate, audited', async () => {
    const p = `/${R}/data/${repo.files.data.id}`;
    const r = await expectUnchanged(s, () => send(s, 'DELETE', p), 401, audit('auth-failed', 'DELETE', p));
    assert.equal(r.headers['www-authenticate'], 'Basic realm="restic"');
  });

  const malformed: [string, string][] = [
    ['a Bearer token', 'Bearer alice-password'],
    ['"Basic" without credentials', 'Basic'],
    ['Basic with non-base64 characters', 'Basic !!!$$$'],
    ['Basic without a colon in the credentials', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['Basic with an empty user name', `Basic ${Buffer.from(':alice-password').toString('base64')}`],
    ['Digest', 'Digest username="alice", realm="restic"'],
  ];
  for (const [what, value] of malformed) {
    test(`malformed Authorization header (${what}): 401, audited`, async () => {
      const p = `/${R}/config`;
      const body = randomBytes(repo.config.length);
      await expectUnchanged(s, () => send(s, 'POST', p, { body, headers: { Authorization: value } }), 401, audit('auth-failed', 'POST', p));
    });
  }

  test('alice herself cannot delete her keys (append-only applies to the owner): 403, audited', async () => {
    const p = `/${R}/keys/${repo.files.keys.id}`;
    await expectUnchanged(s, () => send(s, 'DELETE', p, { headers: ALICE }), 403, audit('delete-refused', 'DELETE', p, 'alice'));
  });
});
