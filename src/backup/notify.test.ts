// Notifications against a real HTTP receiver on loopback: the URLs and bodies of each kind, retries,
// and that a receiver that never answers well only yields warnings.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { notify } from './notify.js';

interface Hit { readonly url: string; readonly body: string; readonly headers: IncomingHttpHeaders }

describe('backup notifications', () => {
  let server: Server;
  let base: string;
  const hits: Hit[] = [];
  let failFirst = 0;
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        hits.push({ url: req.url ?? '', body, headers: req.headers });
        res.statusCode = failFirst-- > 0 ? 503 : 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('healthchecks /start, URL and /fail with the log tail; ntfy with a title; a JSON webhook', async () => {
    hits.length = 0;
    const cfg = { healthchecks: `${base}/hc/uuid/`, ntfy: `${base}/topic`, webhook: `${base}/hook`, retries: 0 };
    assert.deepEqual(await notify(cfg, { event: 'start', profile: 'home', host: 'h1', text: 'started' }), []);
    assert.deepEqual(await notify(cfg, { event: 'failure', profile: 'home', host: 'h1', text: 'x'.repeat(20_000) + 'last line: wrong password', report: { result: 'failure' } }), []);
    assert.deepEqual(hits.filter((h) => h.url.startsWith('/hc/')).map((h) => h.url), ['/hc/uuid/start', '/hc/uuid/fail']);
    const fail = hits.find((h) => h.url === '/hc/uuid/fail');
    assert.ok(fail?.body.endsWith('last line: wrong password') && fail.body.length === 10_000, 'the tail of the log, at most 10 kB');
    const ntfy = hits.filter((h) => h.url === '/topic');
    assert.equal(ntfy[1]?.headers.title, 'rwm backup home on h1: failure');
    assert.equal(ntfy[1]?.headers.priority, 'high');
    const hook = hits.filter((h) => h.url === '/hook').map((h) => JSON.parse(h.body) as { event: string; profile: string; report?: unknown });
    assert.deepEqual(hook.map((h) => [h.event, h.profile]), [['start', 'home'], ['failure', 'home']]);
    assert.deepEqual(hook[1]?.report, { result: 'failure' });
  });

  test('retried after an error status; only the events in "on" are sent', async () => {
    hits.length = 0;
    failFirst = 2;
    assert.deepEqual(await notify({ webhook: `${base}/hook`, retries: 2 }, { event: 'success', profile: 'p', host: 'h', text: '' }), []);
    assert.equal(hits.length, 3, 'two 503s, then 200');
    hits.length = 0;
    assert.deepEqual(await notify({ webhook: `${base}/hook`, retries: 2, on: ['failure'] }, { event: 'success', profile: 'p', host: 'h', text: '' }), []);
    assert.equal(hits.length, 0);
  });

  test('a receiver that keeps failing or is not there gives warnings, never a throw', async () => {
    failFirst = 100;
    const w = await notify({ webhook: `${base}/hook`, healthchecks: 'http://127.0.0.1:1/hc', retries: 1 }, { event: 'failure', profile: 'p', host: 'h', text: '' });
    failFirst = 0;
    assert.equal(w.length, 2);
    assert.match(w.join('\n'), /the healthchecks notification \(failure\) failed/);
    assert.match(w.join('\n'), /the webhook notification \(failure\) failed: HTTP 503/);
  });
});
