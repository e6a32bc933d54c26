// Serving the REST handler on a TCP address: plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1.
// Unauthenticated clients reach this layer, so it bounds what they can hold: time to send the
// request head, idle connections and sessions, connections in all, streams per HTTP/2 session.
// There is deliberately no limit on a whole request's duration (a 128 MiB pack on a slow link takes
// long); instead a connection on which no data moves either way for `idleTimeoutMs` is closed.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from '../app.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The oldest TLS version accepted (default TLSv1.2). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface TcpLimits {
  /** Time a client has to send a request's whole head (request line and headers). */
  readonly headersTimeoutMs: number;
  /** How long an HTTP/1.1 connection may wait for its next request. */
  readonly keepAliveTimeoutMs: number;
  /** A connection (or HTTP/2 session) on which no data moves either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Connections beyond this many are closed as they arrive. */
  readonly maxConnections: number;
  /** Streams an HTTP/2 client may have open at once on one session. */
  readonly maxConcurrentStreams: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  headersTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
  maxConnections: 1024,
  maxConcurrentStreams: 100,
};

export interface Listening {
  readonly url: string;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Splits "host:port", "[v6]:port" or ":port" (all interfaces, as rest-server writes it). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`invalid listen address "${listen}" (expected host:port, e.g. 127.0.0.1:8000)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

export async function listenTcp(handler: RequestHandler, listen: string, tls: TlsFiles | undefined, limits: Partial<TcpLimits> = {}): Promise<Listening> {
  const { host, port } = parseListen(listen);
  const l: TcpLimits = { ...DEFAULT_TCP_LIMITS, ...limits };
  // How often node looks for connections past headersTimeout (its default, 30 s, is too coarse for short timeouts).
  const connectionsCheckingInterval = Math.min(30_000, Math.max(10, Math.floor(l.headersTimeoutMs / 4)));
  // requestTimeout 0: no limit on a whole request (see above). Node derives headersTimeout from it
  // unless it is given, so both are always set.
  const http1 = { requestTimeout: 0, headersTimeout: l.headersTimeoutMs, keepAliveTimeout: l.keepAliveTimeoutMs, connectionsCheckingInterval };
  let server: HttpServer | Http2SecureServer;
  if (tls) {
    const secure = createSecureServer(
      { cert: tls.cert, key: tls.key, allowHTTP1: true, minVersion: tls.minVersion ?? 'TLSv1.2', handshakeTimeout: l.headersTimeoutMs, settings: { maxConcurrentStreams: l.maxConcurrentStreams } },
      handler,
    );
    // The HTTP/1.1 fallback of an HTTP/2 server reads these from the server object, not from options.
    Object.assign(secure, http1);
    server = secure;
  } else {
    server = createHttpServer(http1, handler);
  }
  // HTTP/1.1 sockets and HTTP/2 sessions alike: destroyed when idle this long (no 'timeout' listener).
  server.setTimeout(l.idleTimeoutMs);
  server.maxConnections = l.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${shownHost}:${address.port}/`,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
