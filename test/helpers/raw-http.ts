// A raw HTTP/1.1 client over a TCP socket, for requests node's http client refuses to send:
// unnormalised paths, NUL bytes, lying Content-Length, bodies cut short.
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** Close the socket right after sending (e.g. a body shorter than its Content-Length). */
  readonly hangUp?: boolean;
}

export function rawRequest(port: number, r: RawRequest): Promise<RawResponse | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(parse(chunks)) : reject(err)));
    sock.on('close', () => resolve(parse(chunks)));
    const headers = { Host: `127.0.0.1:${port}`, Connection: 'close', ...(r.headers ?? {}) };
    const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    sock.write(Buffer.concat([Buffer.from(head, 'latin1'), r.body ?? Buffer.alloc(0)]));
    if (r.hangUp) setTimeout(() => sock.destroy(), 100);
  });
}

function parse(chunks: Buffer[]): RawResponse | undefined {
  const text = Buffer.concat(chunks).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m?.[1]) return undefined;
  const sep = text.indexOf('\r\n\r\n');
  return { status: Number(m[1]), head: text.slice(0, sep), body: text.slice(sep + 4) };
}
