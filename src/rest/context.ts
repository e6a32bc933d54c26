// What a route handler gets for one request: the parsed route, the repository's backend (already
// wrapped for this user's rights), and helpers to answer and to refuse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Backend } from '../backend/backend.js';
import type { Route } from './route.js';
import type { RestMetrics } from './metrics.js';

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
