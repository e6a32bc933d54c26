// restic's view of a bucket repository for the trusted host's commands (maintain, ledger): the
// bucket owner's keys from the S3 connection go to restic in its environment, never in argv.
import type { ResticRepo } from '../../restic/env.js';
import { UserError } from '../exit.js';
import type { Storage } from './storage/common.js';

export function resticRepoForBucket(s: Storage, bucket: string, prefix: string, passwordFile: string, cacheDir: string, what: string): ResticRepo {
  const keys = s.connection.credentials;
  if (keys === undefined || typeof keys === 'function') throw new UserError(`${what}: restic needs the bucket owner's keys: give a profile with accessKeyId/secretAccessKey or credentialsFile, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  const creds = keys as { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  return {
    repository: `${bucket}${prefix === '' ? '' : `/${prefix}`}`,
    passwordFile,
    cacheDir,
    s3: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}), region: s.connection.region, endpoint: s.connection.endpoint ?? 'https://s3.amazonaws.com' },
  };
}
