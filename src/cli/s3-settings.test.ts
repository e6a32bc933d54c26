import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveS3Settings } from './s3-settings.js';
import { UserError } from './exit.js';

test('no --s3 and no serve.s3: local storage', () => {
  assert.equal(resolveS3Settings({}, {}, undefined), undefined);
  assert.throws(() => resolveS3Settings({ s3Endpoint: 'http://x' }, {}, undefined), UserError);
});

test('flags beat the environment, which beats the config file', () => {
  const file = { bucket: 'from-file', prefix: 'f', endpoint: 'http://file:1', region: 'file-region', accessKeyId: 'AK', secretAccessKey: 'SK' };
  const fromFile = resolveS3Settings({}, {}, file);
  assert.deepEqual(fromFile, {
    bucket: 'from-file',
    prefix: 'f',
    endpoint: 'http://file:1',
    region: 'file-region',
    bucketLookup: 'auto',
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    bucketOwnerFullControl: true,
  });
  const s = resolveS3Settings({ s3: 'flag-bucket/a/b/', s3Region: 'flag-region' }, { AWS_ENDPOINT_URL: 'http://env:2/', AWS_REGION: 'env-region', AWS_ACCESS_KEY_ID: 'ENVKEY' }, file);
  assert.equal(s?.bucket, 'flag-bucket');
  assert.equal(s?.prefix, 'a/b');
  assert.equal(s?.endpoint, 'http://env:2');
  assert.equal(s?.region, 'flag-region');
  assert.equal(s?.credentials, undefined, 'keys in the environment win over keys in the file (the SDK reads them)');
  assert.equal(resolveS3Settings({ s3: 'b-1' }, { AWS_ENDPOINT_URL: 'http://e', AWS_ENDPOINT_URL_S3: 'http://s3e' }, undefined)?.endpoint, 'http://s3e');
  assert.equal(resolveS3Settings({ s3: 'b-1', s3Acl: false }, {}, { bucket: 'x-y', prefix: '', bucketOwnerFullControl: true })?.bucketOwnerFullControl, false);
});

test('bad buckets, prefixes, endpoints and lookup modes are usage errors', () => {
  for (const s3 of ['B', 'ab', 'a_b', 'bucket/../x', 'bucket/a//b']) assert.throws(() => resolveS3Settings({ s3 }, {}, undefined), UserError, s3);
  assert.throws(() => resolveS3Settings({ s3: 'bucket', s3Endpoint: 'ftp://x' }, {}, undefined), UserError);
  assert.throws(() => resolveS3Settings({ s3: 'bucket', s3BucketLookup: 'sideways' }, {}, undefined), UserError);
  // user:password@ is refused wherever the endpoint comes from, and the message does not repeat it
  const withUser = 'http://user:SECRET@127.0.0.1:7480';
  for (const [flags, env, file] of [
    [{ s3: 'bucket', s3Endpoint: withUser }, {}, undefined],
    [{ s3: 'bucket' }, { AWS_ENDPOINT_URL_S3: withUser }, undefined],
    [{}, {}, { bucket: 'bucket', prefix: '', endpoint: withUser }],
  ] as const) {
    assert.throws(() => resolveS3Settings(flags, env, file), (e: Error) => e instanceof UserError && /must not contain user:password@/.test(e.message) && !e.message.includes('SECRET'));
  }
});
