// The one place that turns S3 SDK errors into typed backend errors: by err.name and the HTTP status,
// never by message text (RGW sends no <Message>, so the SDK's message is always "UnknownError").
import { BackendError } from '../errors.js';

/** What was being done: a 404 means "no such file" only for object reads, never for a list or a write. */
export type S3Op = 'object' | 'list' | 'write' | 'bucket';

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function s3Status(err: unknown): number | undefined {
  const s = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

export function s3Name(err: unknown): string {
  const n = (err as SdkErrorShape | null)?.name;
  return typeof n === 'string' ? n : 'Error';
}

export function isS3NotFound(err: unknown): boolean {
  const name = s3Name(err);
  return s3Status(err) === 404 && (name === 'NotFound' || name === 'NoSuchKey');
}

export function mapS3Error(err: unknown, op: S3Op, what: string): unknown {
  if (err instanceof BackendError) return err;
  const status = s3Status(err);
  const name = s3Name(err);
  const code = (err as SdkErrorShape | null)?.code;
  const detail = `${name}${status === undefined ? (typeof code === 'string' ? ` ${code}` : '') : ` ${status}`}`;
  const fail = (c: BackendError['code'], msg: string): BackendError => new BackendError(c, `${what}: ${msg} (S3 ${detail})`, { cause: err });

  if (name === 'AbortError') return fail('UNAVAILABLE', 'aborted');
  if (name === 'NoSuchBucket') return fail('UNAVAILABLE', 'the bucket does not exist');
  if (status === 404) {
    // HEAD on a missing bucket also says NotFound; the store checks the bucket when it opens.
    return op === 'object' && (name === 'NotFound' || name === 'NoSuchKey') ? fail('NOT_FOUND', 'not found') : fail('UNAVAILABLE', 'the bucket or key prefix is missing');
  }
  switch (name) {
    case 'PreconditionFailed':
      return fail('ALREADY_EXISTS', 'already exists');
    case 'InvalidRange':
      return fail('RANGE', 'range outside the file');
    case 'BadDigest':
    case 'InvalidDigest':
    case 'XAmzContentSHA256Mismatch':
      return fail('INTEGRITY', 'the storage found the body does not match its checksum');
    case 'EntityTooLarge':
      return fail('TOO_LARGE', 'too large for the storage');
    case 'QuotaExceeded':
      return fail('NO_SPACE', 'storage quota exceeded');
    default:
      break;
  }
  if (status === 412) return fail('ALREADY_EXISTS', 'already exists');
  if (status === 416) return fail('RANGE', 'range outside the file');
  // A refusal by S3 is the server's misconfiguration (credentials, bucket policy), not the client's
  // fault: answer 5xx so restic retries and the operator sees the error in the log.
  if (status === 401 || status === 403) return fail('UNAVAILABLE', 'S3 refused the server\'s request; check its credentials and the bucket policy');
  if (status === undefined || status >= 500 || name === 'TimeoutError' || name === 'SlowDown') return fail('UNAVAILABLE', 'storage unavailable');
  return new Error(`${what}: unexpected S3 error ${detail}`, { cause: err });
}
