// The one place that turns Node file-system errors into typed backend errors.
import { BackendError } from '../errors.js';

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function mapFsError(err: unknown, what: string): unknown {
  if (err instanceof BackendError) return err;
  switch (errnoCode(err)) {
    case 'ENOENT':
      return new BackendError('NOT_FOUND', `${what}: not found`, { cause: err });
    case 'EEXIST':
      return new BackendError('ALREADY_EXISTS', `${what}: already exists`, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new BackendError('NO_SPACE', `${what}: no space left`, { cause: err });
    case 'ABORT_ERR':
      return new BackendError('UNAVAILABLE', `${what}: aborted`, { cause: err });
    default:
      // Permission problems, EIO, ENOTDIR, ...: a server-side fault, never reported as "not found".
      return err;
  }
}
