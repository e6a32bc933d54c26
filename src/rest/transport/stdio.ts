// Serving the REST handler as HTTP/2 with prior knowledge over stdin/stdout: what restic's rclone
// backend speaks to its child process, and what an SSH forced command carries. stdout is the
// protocol, so nothing else may ever be written there.
import { createServer, type ServerHttp2Session } from 'node:http2';
import { Duplex, type Readable, type Writable } from 'node:stream';
import type { RequestHandler } from '../app.js';

export interface StdioStreams {
  readonly input: Readable;
  readonly output: Writable;
}

export interface StdioSession {
  /** Resolves when the input ends or the session closes. */
  readonly closed: Promise<void>;
  /**
   * Stops serving (a stop signal): no new requests, those in flight get `graceMs` to finish, then
   * the session and the input are destroyed. Resolves once everything is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Serves one HTTP/2 session on the streams. */
export function serveStdio(handler: RequestHandler, streams: StdioStreams): StdioSession {
  const server = createServer({ maxSessionMemory: 64, settings: { initialWindowSize: 8 << 20 } }, handler);
  const duplex = Duplex.from({ readable: streams.input, writable: streams.output });
  let session: ServerHttp2Session | undefined;
  let done = false;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const finish = (): void => {
    if (done) return;
    done = true;
    server.close();
    resolveClosed();
  };
  server.on('session', (s) => {
    session = s;
    s.setLocalWindowSize(32 << 20);
    s.on('close', finish);
    s.on('error', finish);
  });
  streams.input.on('end', finish);
  streams.input.on('close', finish);
  duplex.on('error', finish);
  server.emit('connection', duplex);
  return {
    closed,
    async close(graceMs = 10_000) {
      const s = session;
      if (s !== undefined && !s.closed && !s.destroyed) {
        const timer = setTimeout(() => s.destroy(), graceMs);
        await new Promise<void>((resolve) => {
          s.once('close', resolve);
          s.close(); // GOAWAY: the client opens no new streams; open ones may finish
        });
        clearTimeout(timer);
      }
      // Nothing more is read: without this, the open stdin keeps the process alive.
      streams.input.destroy();
      duplex.destroy();
      finish();
      await closed;
    },
  };
}
