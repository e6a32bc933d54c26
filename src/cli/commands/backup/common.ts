// What `rwm backup` and `rwm backup init` share: the config, resolved profiles, and how each
// repository is opened (restic's settings, the backup user's S3 client for the check and the state).
import { readFile, stat } from 'node:fs/promises';
import { checkPasswordFile, createPrivateDir, passwordCommandFile } from '../../../backup/secrets.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, looseModeWarning } from '../../../config/load.js';
import type { RwmConfig } from '../../../config/schema.js';
import { ProfileError, resolveProfile, runnableProfiles, type ResolvedProfile, type ResolvedRepository } from '../../../backup/profile.js';
import type { RepositoryOps } from '../../../backup/run.js';
import type { ResticRepo } from '../../../restic/env.js';
import { EXIT, UserError } from '../../exit.js';
import { resolveS3Connection, type S3Connection } from '../../s3-connection.js';
import type { StorageDeps } from '../storage/common.js';
import { stateDirOf, writerOf } from '../state/common.js';

export interface BackupContext {
  readonly config: RwmConfig;
  readonly profiles: ResolvedProfile[];
  readonly statusDir: string;
  readonly cacheDir: string;
}

export async function loadBackup(configFlag: string | undefined, names: readonly string[], d: StorageDeps): Promise<BackupContext> {
  const file = configFlag ?? (d.env.RWM_CONFIG !== undefined && d.env.RWM_CONFIG !== '' ? d.env.RWM_CONFIG : undefined);
  if (file === undefined) throw new UserError('rwm backup needs a config file with backup.profiles (--config or RWM_CONFIG; see docs/backup.md)');
  const { config, warnings } = await loadConfig(file);
  for (const w of warnings) d.stderr.write(`rwm: warning: ${w}\n`);
  const all = config.backup.profiles;
  const known = Object.keys(all);
  if (known.length === 0) throw new UserError('the config file has no backup.profiles (see docs/backup.md)');
  for (const n of names) if (!Object.hasOwn(all, n)) throw new UserError(`no backup profile "${n}" in the config file (known: ${known.join(', ')})`);
  let profiles: ResolvedProfile[];
  try {
    profiles = (names.length > 0 ? names : runnableProfiles(all)).map((n) => resolveProfile(n, all));
  } catch (err) {
    if (err instanceof ProfileError) throw new UserError(err.message, EXIT.USAGE, { cause: err });
    throw err;
  }
  for (const p of profiles) for (const r of p.repositories) for (const f of [r.passwordFile, r.restPasswordFile]) {
    if (f === undefined) continue;
    const st = await stat(f).catch(() => undefined);
    const w = st === undefined ? undefined : looseModeWarning('password file', f, st.mode);
    if (w !== undefined) d.stderr.write(`rwm: warning: ${w}\n`);
  }
  const state = stateDirOf(undefined, d.env);
  return { config, profiles, statusDir: config.backup.statusDir ?? join(state, 'backup'), cacheDir: join(state, 'cache') };
}

/** s3:https://host[:port]/bucket[/prefix] (or s3:host/bucket/prefix, https implied) split up. */
export function parseS3Repository(repository: string): { endpoint: string; bucket: string; prefix: string } {
  const rest = repository.slice('s3:'.length);
  const withScheme = /^https?:\/\//.test(rest) ? rest : `https://${rest}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (err) {
    throw new UserError(`not an s3: repository: ${repository}`, EXIT.USAGE, { cause: err });
  }
  const parts = url.pathname.split('/').filter((x) => x !== '');
  const bucket = parts[0];
  if (bucket === undefined) throw new UserError(`the s3: repository ${repository} names no bucket`);
  return { endpoint: `${url.protocol}//${url.host}`, bucket, prefix: parts.slice(1).join('/') };
}

async function readSecret(file: string, what: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new UserError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.FAILURE, { cause: err });
  }
}

/** Opens repositories for one command; close() destroys the S3 clients and the password commands' files. */
export function createOps(ctx: BackupContext, d: StorageDeps, profile: string): RepositoryOps & { close(): Promise<void> } {
  let secrets: Promise<{ dir: string; cleanup(): Promise<void> }> | undefined;
  const fromCommand = new Map<string, Promise<string>>();
  const passwordFile = async (repo: ResolvedRepository): Promise<string> => {
    if (repo.passwordFile !== undefined) {
      await checkPasswordFile(repo.passwordFile);
      return repo.passwordFile;
    }
    let f = fromCommand.get(repo.name);
    if (f === undefined) {
      secrets ??= createPrivateDir('rwm-backup-secrets-');
      const { dir } = await secrets;
      f = passwordCommandFile(repo.passwordCommand as string[], dir, repo.name, d.env);
      fromCommand.set(repo.name, f);
    }
    return f;
  };
  const clients = new Map<string, { connection: S3Connection; client: S3Client }>();
  const s3 = async (repo: ResolvedRepository): Promise<{ connection: S3Connection; client: S3Client }> => {
    const name = repo.s3Profile as string;
    let c = clients.get(name);
    if (c === undefined) {
      const { endpoint } = parseS3Repository(repo.repository);
      const r = await resolveS3Connection({ profile: name, endpoint }, {}, ctx.config, { useEnvKeys: false });
      for (const w of r.warnings) d.stderr.write(`rwm: warning: ${w}\n`);
      const { createStorageClient } = await import('../../../storage/client.js');
      c = { connection: r.connection, client: createStorageClient(r.connection) };
      clients.set(name, c);
    }
    return c;
  };
  return {
    async restic(repo): Promise<ResticRepo> {
      const base = { repository: repo.repository, passwordFile: await passwordFile(repo), cacheDir: join(ctx.cacheDir, profile, repo.name) };
      if (repo.kind === 's3') {
        const { connection } = await s3(repo);
        const k = connection.credentials;
        if (k === undefined || typeof k === 'function') throw new UserError(`s3 profile "${repo.s3Profile ?? ''}" has no keys of its own`);
        return { ...base, s3: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, ...(k.sessionToken !== undefined ? { sessionToken: k.sessionToken } : {}), region: connection.region } };
      }
      if (repo.restUser !== undefined) return { ...base, rest: { username: repo.restUser, password: await readSecret(repo.restPasswordFile as string, 'REST password file') } };
      return base;
    },
    async policedCheck(repo) {
      const { client } = await s3(repo);
      const { bucket, prefix } = parseS3Repository(repo.repository);
      const { checkBucket, DEFAULT_MIN_LIFECYCLE_DAYS } = await import('../../../storage/check.js');
      const r = await checkBucket({ bucket, client, probeClient: client, prefix, minLifecycleDays: ctx.config.storage.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS });
      return { ok: r.ok, findings: r.findings.map((f) => `${f.code}: ${f.message}`) };
    },
    async saveState(repo) {
      const { client } = await s3(repo);
      const { bucket, prefix } = parseS3Repository(repo.repository);
      const [{ S3Buckets }, { saveState }] = await Promise.all([import('../../../s3/s3-buckets.js'), import('../../../state/save.js')]);
      const s = await saveState({ buckets: new S3Buckets(client), bucket, prefix, writer: writerOf(`backup ${profile}`) });
      return s.name;
    },
    async close() {
      for (const c of clients.values()) c.client.destroy();
      if (secrets !== undefined) await (await secrets).cleanup();
    },
  };
}

export const hostName = (): string => hostname();
