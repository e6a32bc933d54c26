// Many restic repositories in one S3 bucket: repository /a/b is stored under `<prefix>/a/b/`.
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Backend, CallOptions, Store } from '../backend.js';
import { BackendError } from '../errors.js';
import { assertRepoSegments } from '../repo-path.js';
import { createS3Clients } from './client.js';
import { s3Name, s3Status } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { UploadBudget } from './upload-budget.js';
import { prefixUsage, S3_CAPABILITIES, S3Backend, type S3Context } from './s3.js';
import { describeS3, type S3Settings } from './settings.js';

export interface S3StoreOptions {
  readonly onSnapshot?: (root: string) => void;
  /** Bytes of memory for buffered uploads (default 256 MiB); uploads beyond get UNAVAILABLE. */
  readonly uploadBuffer?: number;
  /** How long an upload waits for another upload of the same file (default 30 s). */
  readonly keyWaitMs?: number;
}

export class S3Store implements Store {
  readonly capabilities = S3_CAPABILITIES;

  private constructor(
    private readonly ctx: S3Context,
    readonly prefix: string,
  ) {}

  /** Connects and checks that the bucket exists and the credentials may use it. */
  static async open(settings: S3Settings, opts: CallOptions & S3StoreOptions = {}): Promise<S3Store> {
    const clients = createS3Clients(settings);
    const describe = describeS3(settings);
    try {
      await clients.client.send(new HeadBucketCommand({ Bucket: settings.bucket }), opts.signal ? { abortSignal: opts.signal } : {});
    } catch (err) {
      clients.destroy();
      const status = s3Status(err);
      const why =
        s3Name(err) === 'CredentialsProviderError'
          ? 'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or accessKeyId and secretAccessKey under serve.s3 in the config file'
          : status === 404
          ? `bucket "${settings.bucket}" does not exist (create it with the admin account)`
          : status === 403 || status === 401
            ? `access to bucket "${settings.bucket}" denied: check the credentials`
            : `cannot reach S3 (${s3Name(err)}${status === undefined ? '' : ` ${status}`})`;
      throw new BackendError('UNAVAILABLE', `${describe}: ${why}`, { cause: err });
    }
    const uploads = new UploadBudget(opts.uploadBuffer);
    return new S3Store({ clients, bucket: settings.bucket, acl: settings.bucketOwnerFullControl, writes: new KeyedMutex(), keyWaitMs: opts.keyWaitMs, uploads, describe, onSnapshot: opts.onSnapshot }, settings.prefix);
  }

  /** The S3 clients, for work beside the repositories (states). */
  get clients(): S3Context['clients'] {
    return this.ctx.clients;
  }

  get bucket(): string {
    return this.ctx.bucket;
  }

  get location(): string {
    return this.ctx.describe;
  }

  /** The key prefix of a repository: '' or ending in '/'. */
  rootOf(segments: readonly string[]): string {
    assertRepoSegments(segments);
    const parts = [...(this.prefix === '' ? [] : [this.prefix]), ...segments];
    return parts.length === 0 ? '' : `${parts.join('/')}/`;
  }

  repo(segments: readonly string[]): Backend {
    return new S3Backend(this.ctx, this.rootOf(segments));
  }

  async usage(prefix: readonly string[], opts?: CallOptions): Promise<number> {
    return prefixUsage(this.ctx, this.rootOf(prefix), opts);
  }

  async close(): Promise<void> {
    this.ctx.clients.destroy();
  }
}
