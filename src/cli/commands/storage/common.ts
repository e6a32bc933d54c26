// What every `rwm storage` subcommand shares: the connection options (profile, endpoint, region,
// addressing), loading the config file, building the S3 client, and turning option values into
// checked settings (bucket names, lock modes, user names).
import { Command, Option } from 'commander';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../../config/load.js';
import type { RwmConfig } from '../../../config/schema.js';
import { BUCKET_RE, normalisePrefix } from '../../../backend/s3/settings.js';
import { StorageError } from '../../../storage/errors.js';
import { isBackendError } from '../../../backend/errors.js';
import { StateFormatError } from '../../../state/format.js';
import type { LockSpec } from '../../../storage/policy.js';
import { userArn } from '../../../storage/principal.js';
import { retentionProblem } from '../../../storage/retain-until.js';
import { EXIT, UserError } from '../../exit.js';
import { resolveS3Connection, type S3Connection } from '../../s3-connection.js';

export interface StorageDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface ConnectionOptions {
  config?: string;
  profile?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

/** Adds the connection options every subcommand takes. */
export function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--config <file>', 'rwm config file (YAML) with S3 profiles').env('RWM_CONFIG'))
    .option('--profile <name>', 'S3 profile from the config file (default: s3.defaultProfile, or the only one; env RWM_S3_PROFILE)')
    .option('--endpoint <url>', 'S3 endpoint (default: the profile\'s, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS)')
    .option('--region <region>', 'S3 region (default: the profile\'s, AWS_REGION, or us-east-1)')
    .option('--path-style', 'path-style addressing (the default when an endpoint is set)')
    .option('--no-path-style', 'virtual-hosted addressing');
}

export interface Storage {
  readonly config: RwmConfig;
  readonly connection: S3Connection;
  readonly client: S3Client;
  /** Clients made for other profiles, destroyed with this one. */
  clientFor(profile: string): Promise<S3Client>;
  close(): void;
}

/** Loads the config, resolves the connection, prints warnings, and makes the client. */
export async function openStorage(opts: ConnectionOptions, cmd: Command, deps: StorageDeps): Promise<Storage> {
  const { config, warnings } = await loadConfig(opts.config);
  const flags = {
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(cmd.getOptionValueSource('pathStyle') === 'cli' && opts.pathStyle !== undefined ? { pathStyle: opts.pathStyle } : {}),
  };
  const main = await resolveS3Connection(flags, deps.env, config, { useEnvKeys: true });
  for (const w of [...warnings, ...main.warnings]) deps.stderr.write(`rwm: warning: ${w}\n`);
  // Loaded here, not at start-up: the AWS SDK is a fifth of a second that `scrub --path` never needs.
  const { createStorageClient } = await import('../../../storage/client.js');
  const client = createStorageClient(main.connection);
  const others: S3Client[] = [];
  return {
    config,
    connection: main.connection,
    client,
    async clientFor(profile: string): Promise<S3Client> {
      const { profile: _ignored, ...rest } = flags;
      const r = await resolveS3Connection({ ...rest, profile }, deps.env, config, { useEnvKeys: false });
      for (const w of r.warnings) deps.stderr.write(`rwm: warning: ${w}\n`);
      const c = createStorageClient(r.connection);
      others.push(c);
      return c;
    },
    close(): void {
      client.destroy();
      for (const c of others) c.destroy();
    },
  };
}

/** Runs a subcommand body with an open connection; S3 failures become exit 1 with their message. */
export async function withStorage<T>(opts: ConnectionOptions, cmd: Command, deps: StorageDeps, run: (s: Storage) => Promise<T>): Promise<T> {
  const s = await openStorage(opts, cmd, deps);
  try {
    return await run(s);
  } catch (err) {
    // S3 and state-file failures are the command's result, not a crash: one line, exit 1.
    if (err instanceof StorageError || isBackendError(err) || err instanceof StateFormatError) throw new UserError(err.message, EXIT.FAILURE, { cause: err });
    throw err;
  } finally {
    s.close();
  }
}

export function parseBucket(name: string): string {
  if (!BUCKET_RE.test(name)) throw new UserError(`invalid bucket name "${name}" (3-63 characters: lowercase letters, digits, "." and "-")`);
  return name;
}

export function parsePrefix(prefix: string | undefined): string {
  try {
    return normalisePrefix(prefix ?? '');
  } catch (err) {
    throw new UserError(`--prefix: ${(err as Error).message}`, undefined, { cause: err });
  }
}

export function parseUser(flag: string, user: string): string {
  try {
    userArn(user);
    return user;
  } catch (err) {
    throw new UserError(`${flag}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** --object-lock MODE --retention DAYS: both or neither. */
export function parseLock(mode: string | undefined, retention: string | undefined): LockSpec | undefined {
  if (mode === undefined && retention === undefined) return undefined;
  if (mode === undefined) throw new UserError('--retention needs --object-lock governance|compliance');
  if (retention === undefined) throw new UserError('--object-lock needs --retention DAYS (the default retention of every new version)');
  const m = mode.toLowerCase();
  if (m !== 'governance' && m !== 'compliance') throw new UserError(`--object-lock must be governance or compliance, not "${mode}"`);
  if (!/^[1-9][0-9]{0,4}$/.test(retention)) throw new UserError(`--retention must be a whole number of days from 1 to 99999, not "${retention}"`);
  const late = retentionProblem(Number(retention));
  if (late !== undefined) throw new UserError(`--retention: ${late}`);
  return { mode: m === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE', days: Number(retention) };
}

export function writeJson(deps: StorageDeps, value: unknown): void {
  deps.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
