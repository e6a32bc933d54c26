// The REST app in process, on the in-memory store, over HTTP/1.1 and HTTP/2 (h2c): table-driven
// protocol cases (statuses, audit events, logs, metrics) in rest-server's handlers_test.go style.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { connect as connectH2, createServer as createH2Server, constants as h2c, type Http2Server } from 'node:http2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { MemoryBackend, MemoryStore } from '../backend/memory.js';
import type { FileInfo, Store } from '../backend/backend.js';
import { BackendError } from '../backend/errors.js';
import { delegate } from '../backend/wrap/delegate.js';
import { Htpasswd, type HtpasswdOptions } from '../auth/htpasswd.js';
import type { UserRule } from '../auth/access.js';
import { Quota } from '../backend/wrap/quota.js';
import { createApp, type AppOptions } from './app.js';
import { createRestMetrics, MAX_BLOB_SERIES, statusLabel } from './metrics.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

interface Harness {
  readonly store: MemoryStore;
  readonly logs: Record<string, unknown>[];
  readonly metrics: ReturnType<typeof createRestMetrics>;
  /** With `chunked`, the body is sent without a Content-Length, in chunks of 64 KiB. */
  http1(method: string, path: string, opts?: { body?: Buffer; headers?: Record<string, string>; chunked?: boolean }): Promise<Reply>;
  http2(method: string, path: string, opts?: { body?: Buffer; headers?: Record<string, string>; timeoutMs?: number }): Promise<Reply>;
  audits(): Record<string, unknown>[];
  close(): Promise<void>;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** An htpasswd file in a temp directory (cost 4: fast tests), opened. */
async function tempHtpasswd(users: Record<string, string>, cost = 4, opts: HtpasswdOptions = {}): Promise<{ h: Htpasswd; file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rwm-app-'));
  const file = join(dir, '.htpasswd');
  await writeFile(file, Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, cost)}\n`).join(''));
  return { h: await Htpasswd.open(file, undefined, opts), file, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function listen(server: Server | Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The app on a memory store, served over HTTP/1.1 and h2c on two loopback ports; logs collected. */
async function startApp(opts: Partial<AppOptions> & { users?: Record<string, UserRule>; privateRepos?: boolean } = {}): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const store = opts.store instanceof MemoryStore ? opts.store : new MemoryStore();
  const metrics = createRestMetrics();
  const { users, privateRepos, ...rest } = opts;
  const handler = createApp({
    store, htpasswd: undefined, logger, metrics, prometheus: false, metricsNoAuth: false, maxUploadSize: 1 << 20,
    access: { privateRepos: privateRepos ?? false, appendOnly: true, users: new Map(Object.entries(users ?? {})) },
    ...rest,
  });
  const s1 = createHttpServer(handler);
  const s2 = createH2Server(handler);
  const [p1, p2] = await Promise.all([listen(s1), listen(s2)]);
  const session = connectH2(`http://127.0.0.1:${p2}`);
  session.on('error', () => undefined);
  return {
    store, logs, metrics,
    audits: () => logs.filter((l) => l.audit === true),
    http1: (method, path, o = {}) =>
      new Promise((resolve, reject) => {
        const headers = o.body && o.chunked !== true ? { 'Content-Length': String(o.body.length), ...o.headers } : { ...o.headers };
        const req = request({ host: '127.0.0.1', port: p1, method, path, headers, agent: false }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        if (o.chunked === true && o.body) {
          for (let i = 0; i < o.body.length; i += 65536) req.write(o.body.subarray(i, i + 65536));
          req.end();
        } else {
          req.end(o.body);
        }
      }),
    http2: (method, path, o = {}) =>
      new Promise((resolve, reject) => {
        const stream = session.request({ [h2c.HTTP2_HEADER_METHOD]: method, [h2c.HTTP2_HEADER_PATH]: path, ...o.headers }, { endStream: o.body === undefined });
        const timer = setTimeout(() => {
          stream.close(h2c.NGHTTP2_CANCEL);
          reject(new Error(`no answer to ${method} ${path.slice(0, 80)} within ${o.timeoutMs ?? 2000} ms`));
        }, o.timeoutMs ?? 2000);
        let status = 0;
        let headers: Record<string, string | string[] | undefined> = {};
        const parts: Buffer[] = [];
        stream.on('response', (h) => {
          status = Number(h[h2c.HTTP2_HEADER_STATUS]);
          headers = h;
        });
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          clearTimeout(timer);
          resolve({ status, headers, body: Buffer.concat(parts) });
        });
        stream.on('error', (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
        if (o.body !== undefined) stream.end(o.body);
      }),
    close: async () => {
      session.destroy();
      await Promise.all([
        new Promise((r) => s1.close(r)),
        new Promise((r) => s2.close(r)),
      ]);
      s1.closeAllConnections();
    },
  };
}

describe('methods', () => {
  let app: Harness;
  const data = randomBytes(100);
  const id = sha(data);
  before(async () => {
    app = await startApp();
    assert.equal((await app.http1('POST', '/r/?create=true')).status, 200);
    assert.equal((await app.http1('POST', `/r/data/${id}`, { body: data })).status, 200);
  });
  after(() => app.close());

  // Over HTTP/2 any token is a method; names of Object.prototype's properties once found a "handler" there.
  const odd = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__', '__defineGetter__', 'isPrototypeOf', 'FOO', 'get'];
  const paths = ['/r/', '/r/config', '/r/data/', `/r/data/${id}`];
  for (const method of odd) {
    test(`HTTP/2 method ${method} is answered 405 (or 404 on a repository) on every kind of path`, async () => {
      for (const path of paths) {
        const res = await app.http2(method, path);
        assert.ok([404, 405].includes(res.status), `${method} ${path}: ${res.status}`);
        if (res.status === 405) assert.match(String(res.headers.allow), /^[A-Z, ]+$/, `${method} ${path}: Allow header`);
      }
    });
  }
});

describe('metrics', () => {
  test('unknown methods and statuses are counted as "other", not as label values of their own', async () => {
    const app = await startApp();
    try {
      const long = 'X'.repeat(2000);
      for (let i = 0; i < 20; i++) await app.http2(`${long}${i}`, '/r/config');
      await app.http2('toString', '/r/');
      await app.http1('GET', '/r/config');
      await new Promise((r) => setTimeout(r, 20)); // the counters are updated on 'close'
      const series = [...(await app.metrics.requests.get()).values, ...(await app.metrics.duration.get()).values];
      const methods = new Set(series.map((v) => String(v.labels.method)));
      assert.deepEqual([...methods].sort(), ['GET', 'other']);
      const statuses = new Set((await app.metrics.requests.get()).values.map((v) => String(v.labels.status)));
      for (const s of statuses) assert.match(s, /^(\d{3}|other)$/);
      assert.equal(statusLabel(299), 'other');
      assert.equal(statusLabel(507), '507');
      const text = await app.metrics.registry.metrics();
      assert.ok(!text.includes(long), 'a client-chosen method appears in /metrics');
    } finally {
      await app.close();
    }
  });

  test('rest-server\'s metrics: blobs and bytes read, written and deleted by user, repository and type; repository labels are capped', async () => {
    const app = await startApp({ access: { privateRepos: false, appendOnly: false, users: new Map() } });
    try {
      const data = randomBytes(3000);
      const lock = randomBytes(100);
      assert.equal((await app.http1('POST', `/a/b/data/${sha(data)}`, { body: data })).status, 200);
      assert.equal((await app.http1('POST', `/a/b/locks/${sha(lock)}`, { body: lock })).status, 200);
      assert.equal((await app.http1('GET', `/a/b/data/${sha(data)}`, { headers: { range: 'bytes=0-99' } })).status, 206);
      assert.equal((await app.http1('DELETE', `/a/b/locks/${sha(lock)}`)).status, 200);
      await new Promise((r) => setTimeout(r, 20));
      const text = await app.metrics.registry.metrics();
      for (const line of [
        'rest_server_blob_write_total{user="",repo="a/b",type="data"} 1',
        'rest_server_blob_write_bytes_total{user="",repo="a/b",type="data"} 3000',
        'rest_server_blob_read_total{user="",repo="a/b",type="data"} 1',
        'rest_server_blob_read_bytes_total{user="",repo="a/b",type="data"} 100',
        'rest_server_blob_delete_total{user="",repo="a/b",type="locks"} 1',
        'rest_server_blob_delete_bytes_total{user="",repo="a/b",type="locks"} 100',
      ]) assert.ok(text.includes(line), `missing: ${line}`);
      for (let i = 0; i < MAX_BLOB_SERIES + 5; i++) app.metrics.blob('read', { user: 'u', repo: `r${i}`, type: 'data' }, 1);
      const repos = new Set((await app.metrics.registry.getSingleMetric('rest_server_blob_read_total')?.get())?.values.map((v) => String(v.labels.repo)));
      assert.ok(repos.has('other') && repos.size <= MAX_BLOB_SERIES + 1, `${repos.size} repository labels`);
    } finally {
      await app.close();
    }
  });
});

describe('log flooding', () => {
  test('client-chosen paths, user names and methods are logged clipped, with a marker', async () => {
    const logs: Record<string, unknown>[] = [];
    const htpasswd = await tempHtpasswd({ alice: 'pw' });
    const app = await startApp({ htpasswd: htpasswd.h, accessLog: pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) }) });
    try {
      const longPath = `/${'a'.repeat(40_000)}/config`;
      assert.equal((await app.http2('GET', longPath, { headers: { authorization: basic('alice', 'pw') } })).status, 400);
      assert.equal((await app.http2('GET', '/r/config', { headers: { authorization: basic('u'.repeat(10_000), 'x') } })).status, 401);
      assert.equal((await app.http2('M'.repeat(10_000), '/r/config', { headers: { authorization: basic('alice', 'pw') } })).status, 405);
      assert.equal((await app.http1('GET', `/${'b'.repeat(8000)}/`, { headers: { Authorization: basic('alice', 'pw') } })).status, 400);
      await new Promise((r) => setTimeout(r, 20));
      const all = [...app.logs, ...logs];
      assert.ok(app.audits().length >= 3, JSON.stringify(app.audits()).slice(0, 500));
      for (const line of all) {
        const text = JSON.stringify(line);
        assert.ok(text.length < 1500, `a log line of ${text.length} characters: ${text.slice(0, 300)}`);
      }
      const clipped = app.audits().filter((e) => typeof e.path === 'string' && e.path.includes('more chars]'));
      assert.ok(clipped.length >= 1, 'the marker says the path was clipped');
      assert.ok(app.audits().some((e) => typeof e.user === 'string' && e.user.startsWith('uuu') && e.user.includes('more chars]')));
    } finally {
      await app.close();
      await htpasswd.remove();
    }
  });

  test('repeated audit events from one address are summarised with a count', async () => {
    const app = await startApp({ auditLimit: { burst: 3, windowMs: 1500 } });
    try {
      for (let i = 0; i < 25; i++) assert.equal((await app.http1('GET', `/r/../${i}/config`)).status, 400);
      assert.equal((await app.http1('DELETE', '/r/config')).status, 405); // another reason: logged
      const logged = app.audits().filter((e) => e.reason === 'bad-path');
      assert.equal(logged.length, 3);
      assert.equal(app.audits().filter((e) => e.reason === 'delete-refused').length, 1);
      await new Promise((r) => setTimeout(r, 1600));
      const summary = app.audits().filter((e) => e.reason === 'bad-path' && e.suppressed !== undefined);
      assert.equal(summary.length, 1);
      assert.equal(summary[0]?.suppressed, 22);
      assert.equal(summary[0]?.addr, '127.0.0.1');
      // a new window logs again
      assert.equal((await app.http1('GET', '/r/../x/config')).status, 400);
      assert.equal(app.audits().filter((e) => e.reason === 'bad-path' && e.path !== undefined).length, 4);
      // the metrics count every refusal
      const refusals = (await app.metrics.refusals.get()).values.find((v) => v.labels.reason === 'bad-path');
      assert.equal(refusals?.value, 26);
    } finally {
      await app.close();
    }
  });
});

describe('authentication', () => {
  test('when too many password checks run, requests fail fast with 503 and Retry-After; the valid user gets through after', async () => {
    const htpasswd = await tempHtpasswd({ alice: 'pw' }, 8, { maxConcurrent: 2 });
    const app = await startApp({ htpasswd: htpasswd.h });
    try {
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => app.http2('GET', '/r/config', { headers: { authorization: basic(`mallory${i}`, `pw${i}`) }, timeoutMs: 10_000 })));
      const statuses = replies.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 401 || s === 503), statuses.join(' '));
      assert.ok(statuses.includes(503), statuses.join(' '));
      assert.equal(replies.find((r) => r.status === 503)?.headers['retry-after'], '1');
      assert.ok(app.audits().some((e) => e.reason === 'auth-busy' && typeof e.user === 'string' && e.user.startsWith('mallory')));
      assert.equal((await app.http2('POST', '/alice/?create=true', { headers: { authorization: basic('alice', 'pw') } })).status, 200);
    } finally {
      await app.close();
      await htpasswd.remove();
    }
  });
});

describe('ranges', () => {
  let app: Harness;
  const data = randomBytes(100);
  const path = `/r/data/${sha(data)}`;
  before(async () => {
    app = await startApp();
    assert.equal((await app.http1('POST', '/r/?create=true')).status, 200);
    assert.equal((await app.http1('POST', path, { body: data })).status, 200);
  });
  after(() => app.close());

  const cases: { range: string; status: number; bytes?: [number, number] }[] = [
    { range: 'bytes=0-1', status: 206, bytes: [0, 2] },
    { range: 'BYTES=0-1', status: 206, bytes: [0, 2] },
    { range: 'Bytes=90-', status: 206, bytes: [90, 100] },
    { range: 'bytes=95-99999999999999999999', status: 206, bytes: [95, 100] },
    { range: 'bytes=-99999999999999999999', status: 206, bytes: [0, 100] },
    { range: 'bytes=100-', status: 416 },
    { range: 'items=0-1', status: 200, bytes: [0, 100] },
  ];
  for (const c of cases) {
    test(`Range: ${c.range} → ${c.status}`, async () => {
      const res = await app.http1('GET', path, { headers: { Range: c.range } });
      assert.equal(res.status, c.status);
      if (c.bytes) assert.deepEqual(res.body, data.subarray(...c.bytes));
      if (c.status === 206 && c.bytes) assert.equal(res.headers['content-range'], `bytes ${c.bytes[0]}-${c.bytes[1] - 1}/100`);
    });
  }
});

describe('lock deletes', () => {
  test('are audited at info level with user, address and path', async () => {
    const htpasswd = await tempHtpasswd({ alice: 'pw' });
    const app = await startApp({ htpasswd: htpasswd.h });
    try {
      const lock = randomBytes(50);
      const path = `/r/locks/${sha(lock)}`;
      const auth = { authorization: basic('alice', 'pw') };
      assert.equal((await app.http2('POST', '/r/?create=true', { headers: auth })).status, 200);
      assert.equal((await app.http2('POST', path, { headers: auth, body: lock })).status, 200);
      assert.equal(app.audits().length, 0, 'creating files is not audited');
      assert.equal((await app.http2('DELETE', path, { headers: auth })).status, 200);
      const events = app.audits().filter((e) => e.reason === 'lock-deleted');
      assert.equal(events.length, 1, JSON.stringify(app.audits()));
      assert.deepEqual({ ...events[0], time: undefined, pid: undefined, hostname: undefined }, {
        level: 30, time: undefined, pid: undefined, hostname: undefined, audit: true, reason: 'lock-deleted', user: 'alice', addr: '127.0.0.1', method: 'DELETE', path, status: 200, msg: 'lock deleted',
      });
      assert.equal((await app.http2('DELETE', path, { headers: auth })).status, 404, 'a lock that is gone');
      assert.equal(app.audits().filter((e) => e.reason === 'lock-deleted').length, 1, 'a failed delete is not a deleted lock');
    } finally {
      await app.close();
      await htpasswd.remove();
    }
  });
});

describe('key files', () => {
  const key = Buffer.from(JSON.stringify({
    created: '2026-01-02T03:04:05.123456789Z', username: 'root', hostname: 'web1', kdf: 'scrypt', N: 32768, r: 8, p: 7,
    salt: randomBytes(64).toString('base64'), data: randomBytes(160).toString('base64'),
  }));
  const cases: { name: string; body: Buffer; status: number }[] = [
    { name: 'a restic key file', body: key, status: 200 },
    { name: 'junk bytes', body: randomBytes(300), status: 400 },
    { name: 'JSON that is not a key', body: Buffer.from('{"hello":"world"}'), status: 400 },
    { name: 'a key with another kdf', body: Buffer.from(key.toString().replace('"scrypt"', '"argon2"')), status: 400 },
    { name: 'an empty body', body: Buffer.alloc(0), status: 400 },
    { name: 'a body larger than any key file', body: Buffer.from(JSON.stringify({ ...JSON.parse(key.toString()) as object, pad: 'x'.repeat(70_000) })), status: 400 },
  ];
  test('a keys/ upload that does not hash to its name is refused as an integrity failure', async () => {
    const app = await startApp();
    try {
      const path = `/r/keys/${sha(key)}`;
      assert.equal((await app.http1('POST', path, { body: randomBytes(key.length) })).status, 400);
      assert.ok(app.audits().some((e) => e.reason === 'integrity' && e.path === path));
    } finally {
      await app.close();
    }
  });
  for (const c of cases) {
    test(`an upload to keys/ of ${c.name}: ${c.status}${c.status === 400 ? ', audited, nothing stored' : ''}`, async () => {
      const app = await startApp();
      try {
        const path = `/r/keys/${sha(c.body)}`;
        assert.equal((await app.http1('POST', '/r/?create=true')).status, 200);
        assert.equal((await app.http1('POST', path, { body: c.body })).status, c.status);
        assert.equal((await app.http1('HEAD', path)).status, c.status === 200 ? 200 : 404);
        if (c.status === 400) assert.ok(app.audits().some((e) => e.reason === 'invalid' && e.method === 'POST' && e.path === path), JSON.stringify(app.audits()));
        // the same bytes elsewhere are not key files and are stored as usual
        if (c.body.length > 0) assert.equal((await app.http1('POST', `/r/data/${sha(c.body)}`, { body: c.body })).status, 200);
      } finally {
        await app.close();
      }
    });
  }
});

describe('quotas', () => {
  const KiB = 1024;
  const files = async (store: MemoryStore): Promise<number> => {
    let n = 0;
    for await (const f of store.repo(['r']).list('data')) n += f.size > 0 ? 1 : 0;
    return n;
  };
  const withQuota = async (limit: number, quotaOpts = {}): Promise<{ app: Harness; store: MemoryStore; q: Quota }> => {
    const store = new MemoryStore();
    const q = new Quota('server', limit, () => store.usage([]), quotaOpts);
    const app = await startApp({ store, storeQuota: q, maxUploadSize: 8 << 20 });
    assert.equal((await app.http1('POST', '/r/?create=true')).status, 200);
    return { app, store, q };
  };

  test('8 parallel uploads of 400 KiB under a 1 MiB limit: 2 are stored, the others get 507', async () => {
    const { app, store, q } = await withQuota(1024 * KiB);
    try {
      const blobs = Array.from({ length: 8 }, () => randomBytes(400 * KiB));
      const replies = await Promise.all(blobs.map((b, i) => (i % 2 === 0 ? app.http1('POST', `/r/data/${sha(b)}`, { body: b }) : app.http2('POST', `/r/data/${sha(b)}`, { body: b }))));
      const statuses = replies.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 507, 507, 507, 507, 507, 507]);
      assert.equal(await files(store), 2);
      assert.ok((await store.usage([])) <= 1024 * KiB);
      assert.equal(q.inFlight, 0);
      assert.ok(app.audits().some((e) => e.reason === 'no-space'));
    } finally {
      await app.close();
    }
  });

  for (const proto of ['http1', 'http2'] as const) {
    test(`an upload without Content-Length (${proto === 'http1' ? 'chunked' : 'HTTP/2'}) is counted: 3 MiB under 1 MiB gets 507, nothing stored`, async () => {
      const { app, store, q } = await withQuota(1024 * KiB);
      try {
        const big = randomBytes(3072 * KiB);
        const res = await app[proto]('POST', `/r/data/${sha(big)}`, { body: big, chunked: true, timeoutMs: 10_000 });
        assert.equal(res.status, 507);
        assert.equal(await files(store), 0);
        assert.equal(q.inFlight, 0);
        const small = randomBytes(100 * KiB);
        assert.equal((await app[proto]('POST', `/r/data/${sha(small)}`, { body: small, chunked: true })).status, 200);
        assert.equal(await q.usage(), 100 * KiB, 'counted for what streamed');
      } finally {
        await app.close();
      }
    });
  }

  test('files removed on the storage behind the server\'s back stop counting: no more 507 after the trusted host pruned', async () => {
    const { app, store } = await withQuota(1024 * KiB, { remeasureWhenFullMs: 0 });
    try {
      const a = randomBytes(900 * KiB);
      assert.equal((await app.http1('POST', `/r/data/${sha(a)}`, { body: a })).status, 200);
      const b = randomBytes(300 * KiB);
      assert.equal((await app.http1('POST', `/r/data/${sha(b)}`, { body: b })).status, 507);
      await store.repo(['r']).remove({ type: 'data', name: sha(a) }); // a prune on the trusted host
      assert.equal((await app.http1('POST', `/r/data/${sha(b)}`, { body: b })).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('deleteLocks: own', () => {
  test('a user with the rule deletes the locks it created, not another user\'s (the trusted host\'s prune lock) nor one the server did not see created', async () => {
    const htpasswd = await tempHtpasswd({ alice: 'a', host: 'h', trusted: 't' });
    const app = await startApp({ htpasswd: htpasswd.h, users: { alice: { deleteLocks: 'own' }, trusted: { appendOnly: false } } });
    try {
      const as = (u: string, p: string): { headers: Record<string, string> } => ({ headers: { authorization: basic(u, p) } });
      const lock = (): { body: Buffer; path: string } => {
        const body = randomBytes(60);
        return { body, path: `/r/locks/${sha(body)}` };
      };
      assert.equal((await app.http2('POST', '/r/?create=true', as('alice', 'a'))).status, 200);
      const mine = lock();
      const prune = lock();
      const planted = lock();
      assert.equal((await app.http2('POST', mine.path, { ...as('alice', 'a'), body: mine.body })).status, 200);
      assert.equal((await app.http2('POST', prune.path, { ...as('trusted', 't'), body: prune.body })).status, 200);
      await app.store.repo(['r']).save({ type: 'locks', name: sha(planted.body) }, [planted.body]); // e.g. before a restart
      const cases: { who: [string, string]; path: string; status: number }[] = [
        { who: ['alice', 'a'], path: prune.path, status: 403 },
        { who: ['alice', 'a'], path: planted.path, status: 403 },
        { who: ['alice', 'a'], path: mine.path, status: 200 },
        { who: ['host', 'h'], path: planted.path, status: 200 }, // without the rule: any lock, as before
        { who: ['trusted', 't'], path: prune.path, status: 200 },
      ];
      for (const c of cases) assert.equal((await app.http2('DELETE', c.path, as(...c.who))).status, c.status, `${c.who[0]} DELETE ${c.path}`);
      const refused = app.audits().filter((e) => e.reason === 'delete-refused');
      assert.equal(refused.length, 2);
      assert.ok(refused.every((e) => e.user === 'alice' && e.status === 403));
      assert.equal(app.audits().filter((e) => e.reason === 'lock-deleted').length, 3);
    } finally {
      await app.close();
      await htpasswd.remove();
    }
  });
});

describe('lists', () => {
  /** A store whose every repository lists `n` data files, failing after `failAfter` of them. */
  const listingStore = (n: number, failAfter = Infinity): Store => ({
    capabilities: { atomicCreate: true, verifiesSha256: true },
    location: 'listing',
    repo: () => ({
      ...delegate(new MemoryBackend()),
      async *list(): AsyncIterable<FileInfo> {
        for (let i = 0; i < n; i++) {
          if (i === failAfter) throw new BackendError('UNAVAILABLE', 'disk went away');
          yield { name: i.toString(16).padStart(64, '0'), size: i };
        }
      },
    }),
    usage: async () => 0,
    close: async () => undefined,
  });

  test('200k-file lists are streamed whole, v1 and v2, over HTTP/1.1 and HTTP/2', { timeout: 60_000 }, async () => {
    const app = await startApp({ store: listingStore(200_000) });
    try {
      for (const send of [(m: string, p: string, o?: Parameters<Harness['http2']>[2]) => app.http1(m, p, o), (m: string, p: string, o?: Parameters<Harness['http2']>[2]) => app.http2(m, p, o)]) {
        const v1 = await send('GET', '/r/data/', { timeoutMs: 30_000 });
        assert.equal(v1.status, 200);
        const names = JSON.parse(v1.body.toString()) as string[];
        assert.equal(names.length, 200_000);
        assert.equal(names[199_999], (199_999).toString(16).padStart(64, '0'));
        const v2 = await send('GET', '/r/data/', { headers: { accept: 'application/vnd.x.restic.rest.v2' }, timeoutMs: 30_000 });
        const files = JSON.parse(v2.body.toString()) as { name: string; size: number }[];
        assert.equal(v2.headers['content-type'], 'application/vnd.x.restic.rest.v2');
        assert.deepEqual(files[12345], { name: (12345).toString(16).padStart(64, '0'), size: 12345 });
        assert.equal(files.length, 200_000);
      }
    } finally {
      await app.close();
    }
  });

  test('a list that fails at once is a 5xx; one that fails part-way is cut off, never a short list that parses', { timeout: 60_000 }, async () => {
    const early = await startApp({ store: listingStore(10, 0) });
    try {
      assert.equal((await early.http1('GET', '/r/data/')).status, 503, 'storage unavailable: restic retries');
    } finally {
      await early.close();
    }
    const late = await startApp({ store: listingStore(100_000, 50_000) });
    try {
      const r = await late.http1('GET', '/r/index/').then((x) => x, () => undefined);
      if (r !== undefined) assert.throws(() => JSON.parse(r.body.toString()), 'a cut-off list must not parse');
    } finally {
      await late.close();
    }
  });
});
