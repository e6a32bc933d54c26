// Where `rwm serve` finds its S3 bucket: flags > environment (the AWS SDK's usual variables) > the
// config file's `serve.s3` > defaults. Credentials never come from flags (argv is world-readable).
import type { S3SectionConfig } from '../config/schema.js';
import { normalisePrefix, parseBucketAndPrefix, type S3Settings } from '../backend/s3/settings.js';
import { envEndpoint, envRegion, nonEmpty } from './aws-env.js';
import { UserError } from './exit.js';
import { parseEndpoint } from './s3-connection.js';

export interface S3Flags {
  /** --s3 bucket[/prefix] */
  readonly s3?: string;
  readonly s3Endpoint?: string;
  readonly s3Region?: string;
  readonly s3BucketLookup?: string;
  /** --no-s3-acl turns this false */
  readonly s3Acl?: boolean;
}

/** undefined when neither --s3 nor `serve.s3` asks for S3. */
export function resolveS3Settings(flags: S3Flags, env: NodeJS.ProcessEnv, file: S3SectionConfig | undefined): S3Settings | undefined {
  if (flags.s3 === undefined && file === undefined) {
    if (flags.s3Endpoint !== undefined || flags.s3Region !== undefined || flags.s3BucketLookup !== undefined) {
      throw new UserError('--s3-endpoint, --s3-region and --s3-bucket-lookup need --s3 BUCKET[/PREFIX] (or serve.s3 in the config file)');
    }
    return undefined;
  }
  let bucket: string;
  let prefix: string;
  if (flags.s3 !== undefined) {
    try {
      ({ bucket, prefix } = parseBucketAndPrefix(flags.s3));
    } catch (err) {
      throw new UserError(`--s3: ${(err as Error).message}`, undefined, { cause: err });
    }
  } else {
    bucket = file?.bucket ?? '';
    prefix = normalisePrefix(file?.prefix ?? '');
  }
  // The same rules as rwm storage's: above all, no user:password@ (it would reach the logs).
  const endpoint = parseEndpoint(flags.s3Endpoint ?? envEndpoint(env) ?? file?.endpoint);
  const region = flags.s3Region ?? envRegion(env) ?? file?.region ?? 'us-east-1';
  const lookup = flags.s3BucketLookup ?? file?.bucketLookup ?? 'auto';
  if (lookup !== 'auto' && lookup !== 'path' && lookup !== 'dns') throw new UserError(`--s3-bucket-lookup must be auto, path or dns, not "${lookup}"`);
  // Keys in the environment take precedence over keys in the file; otherwise the SDK's chain decides.
  const envHasKeys = nonEmpty(env.AWS_ACCESS_KEY_ID) !== undefined;
  const credentials =
    !envHasKeys && file?.accessKeyId !== undefined && file.secretAccessKey !== undefined
      ? { accessKeyId: file.accessKeyId, secretAccessKey: file.secretAccessKey, ...(file.sessionToken !== undefined ? { sessionToken: file.sessionToken } : {}) }
      : undefined;
  return {
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint } : {}),
    region,
    bucketLookup: lookup,
    ...(credentials !== undefined ? { credentials } : {}),
    bucketOwnerFullControl: flags.s3Acl ?? file?.bucketOwnerFullControl ?? true,
  };
}

