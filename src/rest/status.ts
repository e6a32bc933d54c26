// The one place that maps errors to HTTP statuses. Internals never reach the client: anything
// unexpected is a bare 500.
import { BackendError, type BackendErrorCode } from '../backend/errors.js';

export interface HttpFailure {
  readonly status: number;
  /** A refusal worth an audit event (someone tried something the server forbids). */
  readonly auditReason?: string;
  /** Safe to show the client. */
  readonly message: string;
}

const BY_CODE: Record<BackendErrorCode, { status: number; audit?: string }> = {
  NOT_FOUND: { status: 404 },
  ALREADY_EXISTS: { status: 403, audit: 'overwrite-refused' },
  INTEGRITY: { status: 400, audit: 'integrity' },
  RANGE: { status: 416 },
  NO_SPACE: { status: 507, audit: 'no-space' },
  TOO_LARGE: { status: 413, audit: 'too-large' },
  FORBIDDEN: { status: 403, audit: 'forbidden' },
  INVALID: { status: 400, audit: 'invalid' },
  UNAVAILABLE: { status: 503 },
};

export function failureFor(err: unknown): HttpFailure {
  if (err instanceof BackendError) {
    const m = BY_CODE[err.code];
    return m.audit === undefined ? { status: m.status, message: err.message } : { status: m.status, auditReason: m.audit, message: err.message };
  }
  return { status: 500, message: 'internal server error' };
}
