// The S3 backend against the conformance suite, on the real Ceph RGW: an unversioned bucket (where
// RGW honours If-None-Match), a versioned one and an object-lock one (where it does not).
import { S3Store } from '../../src/backend/s3/store.js';
import { bucketName, createBucket, deleteBucket, s3TestEnv, type BucketOptions } from '../helpers/s3.js';
import { runBackendConformance } from './backend.js';

const env = s3TestEnv();

function openOn(kind: string, o: BucketOptions): void {
  runBackendConformance(`s3 (${kind} bucket)`, async () => {
    const bucket = bucketName();
    await createBucket(env, bucket, o);
    const store = await S3Store.open({
      bucket,
      prefix: 'some/prefix',
      endpoint: env.endpoint,
      region: env.region,
      bucketLookup: 'path',
      credentials: env.admin,
      bucketOwnerFullControl: true,
    });
    return {
      backend: store.repo(['repo']),
      cleanup: async () => {
        await store.close();
        await deleteBucket(env, bucket);
      },
    };
  });
}

openOn('unversioned', {});
openOn('versioned', { versioned: true });
openOn('object-lock', { objectLock: true });
