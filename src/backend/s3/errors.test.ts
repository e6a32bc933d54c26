// Unit tests of the S3 error mapping, on error objects shaped like the SDK's (the real ones are
// exercised against RGW in test/conformance/s3*.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBackendError } from '../errors.js';
import { mapS3Error, type S3Op } from './errors.js';

function sdkError(name: string, status?: number, code?: string): Error {
  const e = new Error('UnknownError') as Error & { $metadata: { httpStatusCode?: number }; code?: string };
  e.name = name;
  e.$metadata = status === undefined ? {} : { httpStatusCode: status };
  if (code !== undefined) e.code = code;
  return e;
}

function codeOf(err: Error, op: S3Op): string {
  const m = mapS3Error(err, op, 'x');
  return isBackendError(m) ? m.code : 'plain';
}

test('only a missing object read is NOT_FOUND; a 404 on a list or write never is', () => {
  assert.equal(codeOf(sdkError('NoSuchKey', 404), 'object'), 'NOT_FOUND');
  assert.equal(codeOf(sdkError('NotFound', 404), 'object'), 'NOT_FOUND');
  assert.equal(codeOf(sdkError('NoSuchBucket', 404), 'object'), 'UNAVAILABLE');
  assert.equal(codeOf(sdkError('NoSuchBucket', 404), 'list'), 'UNAVAILABLE');
  assert.equal(codeOf(sdkError('NotFound', 404), 'list'), 'UNAVAILABLE');
  assert.equal(codeOf(sdkError('NoSuchKey', 404), 'write'), 'UNAVAILABLE');
});

test('refusals, throttling, outages and server errors are UNAVAILABLE (5xx for restic)', () => {
  for (const [name, status] of [['AccessDenied', 403], ['Unknown', 403], ['SignatureDoesNotMatch', 403], ['SlowDown', 503], ['InternalError', 500], ['TimeoutError', undefined]] as const) {
    assert.equal(codeOf(sdkError(name, status), 'list'), 'UNAVAILABLE', name);
  }
  assert.equal(codeOf(sdkError('Error', undefined, 'ECONNREFUSED'), 'object'), 'UNAVAILABLE');
  assert.match((mapS3Error(sdkError('Error', undefined, 'ECONNREFUSED'), 'object', 'load data/ab') as Error).message, /ECONNREFUSED/);
});

test('conditional, range, integrity and size errors keep their meaning', () => {
  assert.equal(codeOf(sdkError('PreconditionFailed', 412), 'write'), 'ALREADY_EXISTS');
  assert.equal(codeOf(sdkError('InvalidRange', 416), 'object'), 'RANGE');
  assert.equal(codeOf(sdkError('BadDigest', 400), 'write'), 'INTEGRITY');
  assert.equal(codeOf(sdkError('XAmzContentSHA256Mismatch', 400), 'write'), 'INTEGRITY');
  assert.equal(codeOf(sdkError('EntityTooLarge', 400), 'write'), 'TOO_LARGE');
  assert.equal(codeOf(sdkError('QuotaExceeded', 403), 'write'), 'NO_SPACE');
  assert.equal(codeOf(sdkError('MalformedXML', 400), 'write'), 'plain');
});
