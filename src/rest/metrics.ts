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
