// What unauthenticated clients can hold on the TCP transport: slowloris heads, idle sockets and
// sessions, connections and HTTP/2 streams, over plain HTTP and TLS (HTTP/1.1 and HTTP/2). The limits
// are injected small so that each case takes about a second.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { connect as connectNet, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { RequestHandler } from '../app.js';
import { listenTcp, type Listening, type TcpLimits, type TlsFiles } from './tcp.js';

const LIMITS: Partial<TcpLimits> = { headersTimeoutMs: 600, keepAliveTimeoutMs: 400, idleTimeoutMs: 700, maxConnections: 4, maxConcurrentStreams: 5 };

/** Answers 200 with the number of body bytes it read. */
const handler: RequestHandler = (req, res) => {
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => {
    res.statusCode = 200;
    res.end(String(n));
  });
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the milliseconds until the server closed the socket (or `maxMs` if it did not). */
function closedWithin(sock: Socket, maxMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(maxMs);
    }, maxMs);
    sock.on('error', () => undefined);
    sock.resume(); // read, so that the server's FIN (or TLS close_notify) is seen
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** Sends a header line every `everyMs`, never ending the head. */
function trickleHeaders(sock: Socket, everyMs: number): void {
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const t = setInterval(() => {
    if (sock.destroyed) clearInterval(t);
    else sock.write('X: y\r\n');
  }, everyMs);
  sock.on('close', () => clearInterval(t));
}

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connectNet(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function tls(port: number, alpn: string[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: alpn }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('TCP transport limits', () => {
  let dir: string;
  let files: TlsFiles;
  let plain: Listening;
  let secure: Listening;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-tcp-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key'), '-out', join(dir, 'cert')], { stdio: 'ignore' });
    files = { cert: await readFile(join(dir, 'cert')), key: await readFile(join(dir, 'key')) };
    plain = await listenTcp(handler, '127.0.0.1:0', undefined, LIMITS);
    secure = await listenTcp(handler, '127.0.0.1:0', files, LIMITS);
  });
  after(async () => {
    await plain.close();
    await secure.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('HTTP: a slowloris (headers trickled, never ended) is closed after the headers timeout', async () => {
    const sock = await tcp(plain.address.port);
    trickleHeaders(sock, 100);
    const ms = await closedWithin(sock, 3000);
    assert.ok(ms < 2000, `closed after ${ms} ms`);
  });

  test('HTTPS (HTTP/1.1): a slowloris is closed after the headers timeout', async () => {
    const sock = await tls(secure.address.port, ['http/1.1']);
    trickleHeaders(sock, 100);
    const ms = await closedWithin(sock, 3000);
    assert.ok(ms < 2000, `closed after ${ms} ms`);
  });

  test('an idle connection is closed, over HTTP and TLS', async () => {
    for (const sock of [await tcp(plain.address.port), await tls(secure.address.port, ['http/1.1']), await tls(secure.address.port, ['h2'])]) {
      const ms = await closedWithin(sock, 3000);
      assert.ok(ms < 2000, `closed after ${ms} ms`);
    }
  });

  test('a keep-alive connection waiting for its next request is closed', async () => {
    const sock = await tcp(plain.address.port);
    let answer = '';
    sock.on('data', (c: Buffer) => (answer += c.toString()));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await closedWithin(sock, 3000);
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.ok(ms < 1500, `closed after ${ms} ms`);
  });

  test('an upload that keeps sending data outlives every timeout', async () => {
    for (const open of [() => tcp(plain.address.port), () => tls(secure.address.port, ['http/1.1'])]) {
      const sock = await open();
      let answer = '';
      sock.on('data', (c: Buffer) => (answer += c.toString()));
      sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n');
      for (let i = 0; i < 20; i++) {
        await sleep(100); // 2 s in all: longer than the headers, keep-alive and idle timeouts
        sock.write('x');
      }
      await sleep(100);
      assert.match(answer, /^HTTP\/1\.1 200[\s\S]*\r\n\r\n20$/);
      sock.destroy();
    }
  });

  test('connections beyond maxConnections are closed as they arrive', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => tcp(plain.address.port)));
    await sleep(50);
    const extra = await tcp(plain.address.port);
    const ms = await closedWithin(extra, 500);
    assert.ok(ms < 300, `the fifth connection stayed open for ${ms} ms`);
    for (const s of held) s.destroy();
    await sleep(50);
  });

  test('HTTP/2: maxConcurrentStreams is advertised and an idle session is closed', async () => {
    const session: ClientHttp2Session = connectH2(`https://127.0.0.1:${secure.address.port}`, { rejectUnauthorized: false });
    session.on('error', () => undefined);
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    assert.equal(session.remoteSettings.maxConcurrentStreams, 5);
    const started = Date.now();
    await new Promise<void>((resolve) => session.once('close', () => resolve()));
    assert.ok(Date.now() - started < 2000, `session closed after ${Date.now() - started} ms`);
  });
});
