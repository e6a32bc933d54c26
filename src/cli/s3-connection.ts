// Where the storage commands reach S3 and with whose keys: flags > environment (the AWS SDK's usual
// variables) > the named profile in the config file > defaults. Keys never come from flags.
import { readFile, stat } from 'node:fs/promises';
import { parse as parseIni } from 'ini';
import type { RwmConfig, S3ProfileConfig } from '../config/schema.js';
import type { StorageConnection } from '../storage/client.js';
import { UserError } from './exit.js';

export interface ConnectionFlags {
  readonly profile?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
}

export interface S3Connection extends StorageConnection {
  /** Where the keys came from, for messages; never a secret. */
  readonly source: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** The profile to use: --profile, RWM_S3_PROFILE, s3.defaultProfile, or the only one. */
function pickProfile(flags: ConnectionFlags, env: NodeJS.ProcessEnv, config: RwmConfig): { name: string; profile: S3ProfileConfig } | undefined {
  const profiles = config.s3.profiles;
  const names = Object.keys(profiles);
  const name = flags.profile ?? nonEmpty(env.RWM_S3_PROFILE) ?? config.s3.defaultProfile ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) return undefined;
  const profile = profiles[name];
  if (profile === undefined) {
    throw new UserError(`no S3 profile "${name}" in the config file (${names.length === 0 ? 'it has none: add s3.profiles' : `known: ${names.join(', ')}`})`);
  }
  return { name, profile };
}

export async function resolveS3Connection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: RwmConfig,
  opts: { readonly useEnvKeys: boolean },
): Promise<{ connection: S3Connection; warnings: string[] }> {
  const picked = pickProfile(flags, env, config);
  const p = picked?.profile;
  const endpoint = flags.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL) ?? p?.endpoint;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) throw new UserError(`S3 endpoint "${endpoint}" must be an http:// or https:// URL`);
  const region = flags.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? p?.region ?? 'us-east-1';
  const pathStyle = flags.pathStyle ?? p?.pathStyle ?? endpoint !== undefined;
  const warnings: string[] = [];
  const base = { ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/+$/, '') } : {}), region, pathStyle };
  const profileLabel = picked === undefined ? '' : `profile "${picked.name}"`;

  const envKey = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const envSecret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (opts.useEnvKeys && envKey !== undefined && envSecret !== undefined) {
    const token = nonEmpty(env.AWS_SESSION_TOKEN);
    return { connection: { ...base, credentials: { accessKeyId: envKey, secretAccessKey: envSecret, ...(token !== undefined ? { sessionToken: token } : {}) }, source: 'environment (AWS_ACCESS_KEY_ID)' }, warnings };
  }
  if (p?.accessKeyId !== undefined && p.secretAccessKey !== undefined) {
    return {
      connection: { ...base, credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, ...(p.sessionToken !== undefined ? { sessionToken: p.sessionToken } : {}) }, source: profileLabel },
      warnings,
    };
  }
  if (p?.credentialsFile !== undefined) {
    const section = p.credentialsProfile ?? 'default';
    const credentials = await readCredentialsFile(p.credentialsFile, section, warnings);
    return { connection: { ...base, credentials, source: `${profileLabel} (credentials file ${p.credentialsFile} [${section}])` }, warnings };
  }
  if (!opts.useEnvKeys) throw new UserError(`${profileLabel === '' ? 'the profile' : profileLabel} has no keys: add accessKeyId/secretAccessKey or credentialsFile`);
  return { connection: { ...base, source: 'the AWS SDK default chain (AWS_PROFILE, instance role, ...)' }, warnings };
}

/** Reads [section] of an AWS shared-credentials file, with clear errors and a warning on loose permissions. */
export async function readCredentialsFile(file: string, section: string, warnings: string[]): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read credentials file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined, { cause: err });
  }
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) warnings.push(`credentials file ${file} is readable or writable by group or others (mode ${mode.toString(8)}): chmod 600 ${file}`);
  const parsed = parseIni(text) as Record<string, unknown>;
  const s = parsed[section];
  if (typeof s !== 'object' || s === null) throw new UserError(`credentials file ${file} has no [${section}] section`);
  const v = s as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const x = v[k];
    return typeof x === 'string' && x !== '' ? x : undefined;
  };
  const accessKeyId = str('aws_access_key_id');
  const secretAccessKey = str('aws_secret_access_key');
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new UserError(`credentials file ${file} [${section}] needs aws_access_key_id and aws_secret_access_key`);
  const sessionToken = str('aws_session_token');
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
}
