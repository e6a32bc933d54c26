// Prometheus metrics of the REST server, in a registry of its own.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RestMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'type' | 'status'>;
  readonly bytesIn: Counter<'type'>;
  readonly bytesOut: Counter<'type'>;
  readonly refusals: Counter<'reason' | 'type'>;
  readonly duration: Histogram<'method' | 'type'>;
  /** rest-server's own metrics (same names and labels), so existing dashboards keep working. */
  blob(op: BlobOperation, who: { user: string; repo: string; type: string }, bytes: number): void;
}

export type BlobOperation = 'read' | 'write' | 'delete';

/** Distinct user+repository label pairs kept for rest-server's metrics; later ones count as "other". */
export const MAX_BLOB_SERIES = 1000;

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
  const labels = ['user', 'repo', 'type'] as const;
  const counter = (name: string, help: string): Counter<'user' | 'repo' | 'type'> => new Counter({ name, help, labelNames: labels, registers: [registry] });
  const blobs = {
    read: [counter('rest_server_blob_read_total', 'Total number of blobs read'), counter('rest_server_blob_read_bytes_total', 'Total number of bytes read from blobs')],
    write: [counter('rest_server_blob_write_total', 'Total number of blobs written'), counter('rest_server_blob_write_bytes_total', 'Total number of bytes written to blobs')],
    delete: [counter('rest_server_blob_delete_total', 'Total number of blobs deleted'), counter('rest_server_blob_delete_bytes_total', 'Total number of bytes of blobs deleted')],
  } as const;
  // rest-server labels by user and repository; a client may create repositories without end, and
  // every label pair is a time series kept for good: past MAX_BLOB_SERIES pairs, they become "other".
  const seen = new Set<string>();
  return {
    blob(op, who, bytes) {
      const pair = JSON.stringify([who.user, who.repo]);
      if (!seen.has(pair) && seen.size < MAX_BLOB_SERIES) seen.add(pair);
      const l = seen.has(pair) ? who : { user: 'other', repo: 'other', type: who.type };
      const [count, total] = blobs[op];
      count.inc(l);
      total.inc(l, bytes);
    },
    registry,
    requests: new Counter({ name: 'rwm_requests_total', help: 'HTTP requests by method, repository file type and status', labelNames: ['method', 'type', 'status'], registers: [registry] }),
    bytesIn: new Counter({ name: 'rwm_received_bytes_total', help: 'Bytes stored from uploads, by file type', labelNames: ['type'], registers: [registry] }),
    bytesOut: new Counter({ name: 'rwm_sent_bytes_total', help: 'Bytes of file content sent, by file type', labelNames: ['type'], registers: [registry] }),
    refusals: new Counter({ name: 'rwm_refusals_total', help: 'Refused requests by reason and file type', labelNames: ['reason', 'type'], registers: [registry] }),
    duration: new Histogram({ name: 'rwm_request_duration_seconds', help: 'Request duration', labelNames: ['method', 'type'], registers: [registry], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60] }),
  };
}
