// S3 answers as the storage commands need them: a readable "403 AccessDenied", and which 404s mean
// "this configuration is not set" rather than "no such bucket".
import { s3Name, s3Status } from '../backend/s3/errors.js';

/** "403 AccessDenied", "404 NoSuchBucket", or the network error's name. */
export function describeS3Error(err: unknown): string {
  const status = s3Status(err);
  const name = s3Name(err);
  if (status === undefined) return `${name}: ${(err as Error).message}`;
  return `${status} ${name === 'Unknown' || name === 'Error' ? statusText(status) : name}`;
}

function statusText(status: number): string {
  return ({ 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 501: 'Not Implemented' } as Record<number, string>)[status] ?? 'error';
}

/** NoSuchBucket (a HEAD on a missing bucket says 404 NotFound: check that where HeadBucket is used). */
const isNoSuchBucket = (err: unknown): boolean => s3Name(err) === 'NoSuchBucket';

/** A 404 that means "no such configuration on this bucket" (policy, lifecycle, lock, key), not a missing bucket. */
export const isAbsent = (err: unknown): boolean => s3Status(err) === 404 && !isNoSuchBucket(err);

/** Wraps a failed S3 call in a message for the user (the error stays the cause). */
export class StorageError extends Error {
  override readonly name = 'StorageError';
}
