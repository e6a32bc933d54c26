// `rwm serve --stdio` as a process: a stop signal ends the session and the process (it once kept
// serving after the first SIGTERM, over a store already closed).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, constants as h2c } from 'node:http2';
import { Duplex } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, removeDir, tempDir } from '../helpers/server.js';

function startStdio(path: string): { proc: ReturnType<typeof spawn>; request(method: string, url: string): Promise<number>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [CLI, 'serve', '--stdio', '--path', path], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.stderr?.resume();
  const pipe = Duplex.from({ readable: proc.stdout, writable: proc.stdin });
  const session = connect('http://stdio', { createConnection: () => pipe });
  session.on('error', () => undefined);
  return {
    proc,
    exited,
    request: (method, url) =>
      new Promise((resolve, reject) => {
        const s = session.request({ [h2c.HTTP2_HEADER_METHOD]: method, [h2c.HTTP2_HEADER_PATH]: url });
        s.on('response', (h) => resolve(Number(h[h2c.HTTP2_HEADER_STATUS])));
        s.on('error', reject);
        s.resume();
        s.end();
      }),
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

describe('serve --stdio', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => removeDir(dir));

  for (const [signal, code] of [['SIGTERM', 0], ['SIGINT', 130]] as const) {
    test(`the first ${signal} ends the session and the process (exit ${code})`, async () => {
      const s = startStdio(join(dir, signal));
      try {
        assert.equal(await within(s.request('POST', '/?create=true'), 10_000, 'create'), 200);
        s.proc.kill(signal);
        assert.equal(await within(s.exited, 8000, `exit after ${signal}`), code);
      } finally {
        s.proc.kill('SIGKILL');
      }
    });
  }
});
