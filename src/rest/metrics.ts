// Prometheus metrics of the REST server, in a registry of its own.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RestMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'type' | 'status'>;
  readonly bytesIn: Counter<'type'>;
  readonly bytesOut: Counter<'type'>;
  readonly refusals: Counter<'reason' | 'type'>;
  readonly duration: Histogram<'method' | 'type'>;
}

// Label values come only from these sets: over HTTP/2 any token is a method, and every distinct
// label value is a new time series held in memory for good.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
const STATUSES = new Set([200, 206, 400, 401, 403, 404, 405, 411, 413, 416, 500, 503, 507]);

/** The method as a label: one of the standard methods, else "other". */
export function methodLabel(method: string | undefined): string {
  const m = method ?? 'GET';
  return METHODS.has(m) ? m : 'other';
}

/** The status as a label: one the server sends, else "other". */
export function statusLabel(status: number): string {
  return STATUSES.has(status) ? String(status) : 'other';
}

export function createRestMetrics(): RestMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rwm_' });
  return {
    registry,
    requests: new Counter({ name: 'rwm_requests_total', help: 'HTTP requests by method, repository file type and status', labelNames: ['method', 'type', 'status'], registers: [registry] }),
    bytesIn: new Counter({ name: 'rwm_received_bytes_total', help: 'Bytes stored from uploads, by file type', labelNames: ['type'], registers: [registry] }),
    bytesOut: new Counter({ name: 'rwm_sent_bytes_total', help: 'Bytes of file content sent, by file type', labelNames: ['type'], registers: [registry] }),
    refusals: new Counter({ name: 'rwm_refusals_total', help: 'Refused requests by reason and file type', labelNames: ['reason', 'type'], registers: [registry] }),
    duration: new Histogram({ name: 'rwm_request_duration_seconds', help: 'Request duration', labelNames: ['method', 'type'], registers: [registry], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60] }),
  };
}
