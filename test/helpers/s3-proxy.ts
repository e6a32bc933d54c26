// A loopback TCP proxy in front of the S3 test server that can stop one chosen request: hold it
// (and everything after it) until resumed, or answer it with an error itself. For tests of what a
// command does when a given S3 step hangs (a signal arrives) or fails.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface S3Proxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Resolves when the chosen request arrived (and was held or answered). */
  readonly caught: Promise<void>;
  /** Forwards what was held, and everything from now on. */
  resume(): void;
  close(): Promise<void>;
}

export interface S3ProxyOptions {
  /** Picks the request to stop, by its first bytes ("PUT /bucket?policy HTTP/1.1 ..."). */
  readonly match: (head: string) => boolean;
  /** 'hold' it until resume(), or answer it with this HTTP status and S3 error code. */
  readonly action: 'hold' | { readonly status: number; readonly code: string };
}

export async function startS3Proxy(target: string, o: S3ProxyOptions): Promise<S3Proxy> {
  const url = new URL(target);
  let holding = false;
  let fire: () => void = () => undefined;
  const caught = new Promise<void>((resolve) => (fire = resolve));
  const held: { upstream: Socket; data: Buffer }[] = [];
  const sockets = new Set<Socket>();
  const answered = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect(Number(url.port), url.hostname);
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', () => {
      if (!answered.has(client)) end();
    });
    upstream.pipe(client);
    client.on('data', (data: Buffer) => {
      if (answered.has(client)) return;
      if (!holding && o.match(data.toString('latin1', 0, 200))) {
        fire();
        if (o.action === 'hold') holding = true;
        else {
          const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${o.action.code}</Code><Message>from the test proxy</Message></Error>`;
          // The request's body may still be on its way: close the connection rather than forward it.
          answered.add(client);
          client.end(`HTTP/1.1 ${o.action.status} Stopped\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
          upstream.destroy();
          return;
        }
      }
      if (holding) held.push({ upstream, data });
      else upstream.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    caught,
    resume(): void {
      holding = false;
      for (const h of held.splice(0)) if (!h.upstream.destroyed) h.upstream.write(h.data);
    },
    close(): Promise<void> {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
