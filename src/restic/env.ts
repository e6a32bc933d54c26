// The environment restic runs in: empty, plus PATH/HOME/TMPDIR and the repository's settings. Secrets
// reach restic only through its environment (readable by its owner alone, unlike argv in /proc) and
// the password only as RESTIC_PASSWORD_FILE, so no password ever sits in rwm's env, argv or logs.
import { resolve } from 'node:path';
import { ResticError } from './errors.js';

export interface ResticS3Settings {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** AWS_DEFAULT_REGION for restic (RGW accepts any; AWS needs the bucket's). */
  readonly region?: string;
  /**
   * The S3 endpoint URL (`https://rgw.example:7480`). When set, `repository` may be just
   * `BUCKET[/PREFIX]` and becomes `s3:ENDPOINT/BUCKET[/PREFIX]`; a full `s3:` repository MUST then
   * name the same endpoint.
   */
  readonly endpoint?: string;
}

export interface ResticRestCredentials {
  /** User name and password for a rest-server / `rwm serve` with htpasswd. They go into the
   * repository URL inside restic's environment only (restic 0.14 reads them nowhere else). */
  readonly username: string;
  readonly password: string;
}

/** Where a repository is and how to open it. Contains secrets: MUST NOT be logged as a whole. */
export interface ResticRepo {
  /** restic's repository string (`/srv/repo`, `s3:https://host/bucket/prefix`, `rest:https://host/user/`).
   * MUST NOT carry credentials (`user:password@`); use `rest` or `s3` for those. */
  readonly repository: string;
  /** A file holding the repository password (restic trims surrounding whitespace). */
  readonly passwordFile: string;
  readonly s3?: ResticS3Settings;
  readonly rest?: ResticRestCredentials;
  /** restic's cache (RESTIC_CACHE_DIR); without it restic uses $HOME/.cache/restic. */
  readonly cacheDir?: string;
  /** More variables for restic (RESTIC_CACERT, SSH_AUTH_SOCK, ...); MUST NOT set what the fields above set. */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** What restic takes from rwm's own environment. */
export interface InheritedEnv {
  readonly PATH?: string | undefined;
  readonly HOME?: string | undefined;
  readonly TMPDIR?: string | undefined;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** PATH, HOME and TMPDIR (restic spools packs there) from an environment (default: rwm's). */
export function inheritedEnv(source: NodeJS.ProcessEnv = process.env): InheritedEnv {
  return { PATH: source.PATH, HOME: source.HOME, TMPDIR: source.TMPDIR };
}

// Variables the typed settings own, or that would give restic a password by another way.
const RESERVED = new Set([
  'RESTIC_REPOSITORY',
  'RESTIC_REPOSITORY_FILE',
  'RESTIC_PASSWORD',
  'RESTIC_PASSWORD_FILE',
  'RESTIC_PASSWORD_COMMAND',
  'RESTIC_CACHE_DIR',
  'RESTIC_REST_USERNAME',
  'RESTIC_REST_PASSWORD',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_DEFAULT_REGION',
]);

// `scheme://user:password@host`, anywhere in the string (`rest:https://u:p@h/`, `s3:https://u:p@h/b`).
const URL_CREDENTIALS = /\/\/[^/?#@\s]*:[^/?#@\s]*@/;

/** Throws INVALID if the repository string carries a user:password; the message never echoes it. */
export function assertNoCredentials(repository: string): void {
  if (URL_CREDENTIALS.test(repository)) {
    throw new ResticError(
      'INVALID',
      `the repository ${redactRepository(repository)} carries a user name and password in its URL; ` +
        'rwm does not take secrets in repository strings (they end up in configs and logs): ' +
        'give them as the rest or s3 credentials instead',
    );
  }
}

/** The repository string with any URL user info replaced by `***`, for messages. */
export function redactRepository(repository: string): string {
  return repository.replace(/\/\/[^/?#@\s]*@/g, '//***@');
}

/** The repository string restic gets in RESTIC_REPOSITORY (with the endpoint and REST credentials applied). */
export function resolveRepository(repo: ResticRepo): string {
  const r = repo.repository;
  if (r.trim() === '' || /[\0\n\r]/.test(r)) throw new ResticError('INVALID', 'the repository string is empty or has control characters');
  assertNoCredentials(r);
  let out = r;
  const endpoint = repo.s3?.endpoint?.replace(/\/+$/, '');
  if (endpoint !== undefined) {
    if (!/^https?:\/\/[^/]+$/.test(endpoint)) throw new ResticError('INVALID', `the S3 endpoint must be http(s)://HOST[:PORT], not ${redactRepository(endpoint)}`);
    assertNoCredentials(endpoint);
    if (r.startsWith('s3:')) {
      if (!r.startsWith(`s3:${endpoint}/`)) {
        throw new ResticError('INVALID', `the repository ${redactRepository(r)} does not name the S3 endpoint ${endpoint}`);
      }
    } else {
      out = `s3:${endpoint}/${r.replace(/^\/+/, '')}`;
    }
  }
  if (repo.rest !== undefined) {
    if (!out.startsWith('rest:')) throw new ResticError('INVALID', 'REST credentials need a rest: repository');
    let url: URL;
    try {
      url = new URL(out.slice('rest:'.length));
    } catch (err) {
      throw new ResticError('INVALID', `the repository ${redactRepository(out)} is not a rest: URL`, { cause: err });
    }
    url.username = repo.rest.username;
    url.password = repo.rest.password;
    out = `rest:${url.toString()}`;
  }
  return out;
}

/**
 * restic's whole environment for one repository. MUST be used as the child's env as it is (never
 * merged into process.env): nothing from rwm's environment reaches restic but PATH, HOME and TMPDIR.
 */
export function createResticEnv(repo: ResticRepo, inherited: InheritedEnv = inheritedEnv()): Record<string, string> {
  const env = baseEnv(inherited);
  for (const [k, v] of Object.entries(repo.extraEnv ?? {})) {
    if (RESERVED.has(k)) throw new ResticError('INVALID', `extraEnv must not set ${k}: use the repository settings for it`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v.includes('\0')) throw new ResticError('INVALID', `extraEnv has an invalid variable name or value: ${JSON.stringify(k)}`);
    env[k] = v;
  }
  env.RESTIC_REPOSITORY = resolveRepository(repo);
  if (repo.passwordFile.trim() === '') throw new ResticError('INVALID', 'a password file is required');
  // absolute, so a cwd given to the child cannot change which file restic reads
  env.RESTIC_PASSWORD_FILE = resolve(repo.passwordFile);
  if (repo.cacheDir !== undefined) env.RESTIC_CACHE_DIR = resolve(repo.cacheDir);
  if (repo.s3 !== undefined) {
    env.AWS_ACCESS_KEY_ID = repo.s3.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = repo.s3.secretAccessKey;
    if (repo.s3.sessionToken !== undefined) env.AWS_SESSION_TOKEN = repo.s3.sessionToken;
    if (repo.s3.region !== undefined) env.AWS_DEFAULT_REGION = repo.s3.region;
  }
  return env;
}

/** The environment for restic commands without a repository (`restic version`). */
export function baseEnv(inherited: InheritedEnv = inheritedEnv()): Record<string, string> {
  const env: Record<string, string> = { PATH: inherited.PATH ?? DEFAULT_PATH };
  if (inherited.HOME !== undefined) env.HOME = inherited.HOME;
  if (inherited.TMPDIR !== undefined) env.TMPDIR = inherited.TMPDIR;
  return env;
}

/** The secrets of a repository's settings (not the password file's contents), longest first, for redaction. */
export function settingsSecrets(repo: ResticRepo): string[] {
  const s = [repo.s3?.secretAccessKey, repo.s3?.sessionToken, repo.rest?.password];
  if (repo.rest !== undefined) s.push(encodeURIComponent(repo.rest.password));
  return s.filter((x): x is string => x !== undefined && x.length >= MIN_REDACTED).sort((a, b) => b.length - a.length);
}

// Shorter "secrets" would garble every message they occur in and protect nothing.
export const MIN_REDACTED = 3;

/** Replaces every occurrence of each secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= MIN_REDACTED) out = out.split(s).join('***');
  return out;
}
