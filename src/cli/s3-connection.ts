// Where `rwm storage` reaches S3 and with whose keys: flags > environment (the AWS SDK's usual
// variables) > the named profile in the config file > defaults. Keys never come from flags.
import { access, constants, stat } from 'node:fs/promises';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { looseModeWarning } from '../config/load.js';
import type { StorageConnection } from '../storage/client.js';
import type { RwmConfig, S3ProfileConfig } from '../config/schema.js';
import { envEndpoint, envRegion, nonEmpty } from './aws-env.js';
import { UserError } from './exit.js';

export interface ConnectionFlags {
  readonly profile?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
}

/** A resolved connection. `source` MUST NOT contain a secret: it is printed. */
export interface S3Connection extends StorageConnection {
  /** Where the keys came from, for messages: 'profile "admin"', 'the environment (AWS_ACCESS_KEY_ID)', ... */
  readonly source: string;
}

interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Picked {
  readonly name: string;
  readonly profile: S3ProfileConfig;
}

/**
 * Resolves the connection once, for one command. With `useEnvKeys: false` (a second profile, e.g.
 * --backup-profile) AWS_ACCESS_KEY_ID & co. are ignored and the profile MUST have keys of its own;
 * endpoint and region variables still apply. Throws UserError (exit 2) on any configuration mistake.
 */
export async function resolveS3Connection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: RwmConfig,
  opts: { readonly useEnvKeys: boolean },
): Promise<{ connection: S3Connection; warnings: string[] }> {
  const picked = pickProfile(flags, env, config);
  const p = picked?.profile;
  const endpoint = parseEndpoint(flags.endpoint ?? envEndpoint(env) ?? p?.endpoint);
  const region = flags.region ?? envRegion(env) ?? p?.region ?? 'us-east-1';
  if (region === '') throw new UserError('the S3 region must not be empty');
  const pathStyle = flags.pathStyle ?? p?.pathStyle ?? endpoint !== undefined;
  const warnings: string[] = [];
  const { credentials, source } = await resolveKeys(picked, env, opts.useEnvKeys, warnings);
  const connection: S3Connection = {
    ...(endpoint !== undefined ? { endpoint } : {}),
    region,
    pathStyle,
    ...(credentials !== undefined ? { credentials } : {}),
    source,
  };
  return { connection, warnings };
}

/** --profile, RWM_S3_PROFILE, s3.defaultProfile, the only profile, or none. */
function pickProfile(flags: ConnectionFlags, env: NodeJS.ProcessEnv, config: RwmConfig): Picked | undefined {
  const profiles = config.s3.profiles;
  const names = Object.keys(profiles);
  const name = flags.profile ?? nonEmpty(env.RWM_S3_PROFILE) ?? config.s3.defaultProfile ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) return undefined;
  // Object.hasOwn: a name like "constructor" must not find Object.prototype's.
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (profile === undefined) {
    throw new UserError(`no S3 profile "${name}" in the config file (${names.length === 0 ? 'it has none: add s3.profiles' : `known: ${names.join(', ')}`})`);
  }
  return { name, profile };
}

/** An endpoint URL: http(s), no user:password@, no query or fragment; trailing slashes removed. */
export function parseEndpoint(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`S3 endpoint "${raw}" must be an http:// or https:// URL`);
  }
  // Not echoed: it would print the password.
  if (url.username !== '' || url.password !== '') throw new UserError('the S3 endpoint must not contain user:password@ (keys never go in URLs)');
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new UserError(`S3 endpoint "${raw}" must be an http:// or https:// URL without ?query or #fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

async function resolveKeys(picked: Picked | undefined, env: NodeJS.ProcessEnv, useEnvKeys: boolean, warnings: string[]): Promise<{ credentials?: StaticKeys; source: string }> {
  if (useEnvKeys) {
    const id = nonEmpty(env.AWS_ACCESS_KEY_ID);
    const secret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
    if (id !== undefined && secret !== undefined) return { credentials: keys(id, secret, nonEmpty(env.AWS_SESSION_TOKEN)), source: 'the environment (AWS_ACCESS_KEY_ID)' };
    if (id !== undefined || secret !== undefined) {
      const [set, unset] = id !== undefined ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
      warnings.push(`${set} is set but ${unset} is not: the environment's keys are not used`);
    }
  }
  const p = picked?.profile;
  const label = picked === undefined ? '' : `profile "${picked.name}"`;
  if (p?.accessKeyId !== undefined && p.secretAccessKey !== undefined) return { credentials: keys(p.accessKeyId, p.secretAccessKey, p.sessionToken), source: label };
  if (p?.credentialsFile !== undefined) {
    const section = p.credentialsProfile ?? 'default';
    const credentials = await readCredentialsFile(p.credentialsFile, section, warnings);
    return { credentials, source: `${label} (credentials file ${p.credentialsFile}${section === 'default' ? '' : `, section [${section}]`})` };
  }
  // The SDK's chain would read AWS_ACCESS_KEY_ID after all: refuse instead.
  if (!useEnvKeys) {
    throw new UserError(`${label === '' ? 'no S3 profile was chosen, and the environment\'s keys are not used here' : `${label} has no keys`}: give the profile accessKeyId and secretAccessKey, or credentialsFile`);
  }
  return { source: 'the AWS SDK default chain' };
}

/** [section] of an AWS shared-credentials file, read by the SDK's own parser; errors name the file, never a key. */
async function readCredentialsFile(file: string, section: string, warnings: string[]): Promise<StaticKeys> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new UserError(`credentials file ${file} is not a regular file`);
    // The SDK's loader turns every read error into "no sections": find out first.
    await access(file, constants.R_OK);
    const warning = looseModeWarning('credentials file', file, st.mode);
    if (warning !== undefined) warnings.push(warning);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read credentials file ${file}: ${describeFsError(err)}`, undefined, { cause: err });
  }
  const { credentialsFile: sections } = await loadSharedConfigFiles({ filepath: file, configFilepath: file, ignoreCache: true });
  const s = Object.hasOwn(sections, section) ? sections[section] : undefined;
  if (s === undefined) {
    const names = Object.keys(sections);
    throw new UserError(`credentials file ${file} has no [${section}] section (${names.length === 0 ? 'it has none' : `it has: ${names.map((n) => `[${n}]`).join(', ')}`})`);
  }
  const id = nonEmpty(s.aws_access_key_id);
  const secret = nonEmpty(s.aws_secret_access_key);
  if (id === undefined || secret === undefined) throw new UserError(`credentials file ${file}, section [${section}]: needs aws_access_key_id and aws_secret_access_key`);
  return keys(id, secret, nonEmpty(s.aws_session_token));
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? (err as Error).message;
}

function keys(accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined): StaticKeys {
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
}

