// Serving the REST handler on a TCP address: plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from '../app.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

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

export async function listenTcp(handler: RequestHandler, listen: string, tls: TlsFiles | undefined): Promise<Listening> {
  const { host, port } = parseListen(listen);
  const server: HttpServer | Http2SecureServer = tls
    ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true, minVersion: 'TLSv1.2' }, handler)
    : createHttpServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, handler);
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
