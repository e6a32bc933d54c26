// What a route handler gets for one request: the parsed route, the repository's backend (already
// wrapped for this user's rights), and helpers to answer and to refuse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Backend } from '../backend/backend.js';
import type { Route } from './route.js';
import type { BlobOperation, RestMetrics } from './metrics.js';

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

export interface RequestContext {
  readonly req: Req;
  readonly res: Res;
  readonly method: string;
  readonly route: Route;
  readonly query: URLSearchParams;
  readonly backend: Backend;
  readonly signal: AbortSignal;
  readonly typeLabel: string;
  readonly metrics: RestMetrics;
  /** Counts a file read, written or deleted in rest-server's metrics (user, repository, type). */
  readonly blob: (op: BlobOperation, bytes: number) => void;
  /** Largest single upload accepted, in bytes. */
  readonly maxUploadSize: number;
}

export const V2_CONTENT_TYPE = 'application/vnd.x.restic.rest.v2';

/** Ends the response with a status and a short text body. */
export function sendStatus(res: Res, status: number, message?: string): void {
  const body = `${message ?? statusText(status)}\n`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendOk(res: Res): void {
  res.statusCode = 200;
  res.setHeader('Content-Length', 0);
  res.end();
}

const TEXTS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  411: 'Length Required', 413: 'Payload Too Large', 416: 'Range Not Satisfiable', 500: 'Internal Server Error',
  503: 'Service Unavailable', 507: 'Insufficient Storage',
};

export function statusText(status: number): string {
  return TEXTS[status] ?? 'Error';
}

/**
 * Before answering an error to a request whose body was not read to the end (a refused upload):
 * the client must not be left sending into a body nobody reads. HTTP/1.1 closes the connection after
 * the answer; HTTP/2 resets the stream with NO_ERROR once the answer is out ("stop sending", RFC 9113
 * section 8.1), which frees the stream and its buffered data.
 */
export function abandonUnreadBody(req: Req, res: Res): void {
  if (req.complete) return;
  if ('stream' in req) {
    const { stream } = req;
    // the stream's own 'finish' (the answer is sent): the response's comes only once the stream closed
    stream.once('finish', () => {
      if (!stream.closed) stream.close(http2constants.NGHTTP2_NO_ERROR);
    });
    return;
  }
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
