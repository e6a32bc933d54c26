// Typed storage errors. Every backend throws only these; the REST layer maps them to HTTP statuses
// in exactly one place (src/rest/status.ts).

export type BackendErrorCode =
  | 'NOT_FOUND' // the file or repository really does not exist (never used for auth or I/O failures)
  | 'ALREADY_EXISTS' // a create-only write met an existing file with different content
  | 'INTEGRITY' // the body does not hash to its name, or is shorter/longer than announced
  | 'RANGE' // a read outside the file
  | 'NO_SPACE' // disk full or quota exceeded
  | 'TOO_LARGE' // a single upload above the configured maximum
  | 'FORBIDDEN' // refused by policy (append-only, authorisation)
  | 'INVALID' // a malformed request that reached the storage layer
  | 'UNAVAILABLE'; // the storage is unreachable or failing; the client may retry

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export function isBackendError(err: unknown, code?: BackendErrorCode): err is BackendError {
  return err instanceof BackendError && (code === undefined || err.code === code);
}
