// Serving the REST handler as HTTP/2 with prior knowledge over stdin/stdout: what restic's rclone
// backend speaks to its child process, and what an SSH forced command carries. stdout is the
// protocol, so nothing else may ever be written there.
import { createServer } from 'node:http2';
import { Duplex, type Readable, type Writable } from 'node:stream';
import type { RequestHandler } from '../app.js';

export interface StdioStreams {
  readonly input: Readable;
  readonly output: Writable;
}

/** Serves one HTTP/2 session on the streams; resolves when the input ends or the session closes. */
export function serveStdio(handler: RequestHandler, streams: StdioStreams): Promise<void> {
  const server = createServer({ maxSessionMemory: 64, settings: { initialWindowSize: 8 << 20 } }, handler);
  const duplex = Duplex.from({ readable: streams.input, writable: streams.output });
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      server.close();
      resolve();
    };
    server.on('session', (session) => {
      session.setLocalWindowSize(32 << 20);
      session.on('close', finish);
      session.on('error', finish);
    });
    streams.input.on('end', finish);
    streams.input.on('close', finish);
    duplex.on('error', finish);
    server.emit('connection', duplex);
  });
}
