// Resolves `backup.profiles.<name>` with inheritance into complete profiles: a child's fields replace
// its parent's (lists too, so a child can drop a parent's exclude); repositories merge by name.
import { isAbsolute } from 'node:path';
import type { BackupProfileConfig, HookConfig, NotifyConfig, RepositoryConfig } from './config.js';

export type RepositoryKind = 'local' | 'rest' | 'rclone' | 's3';

export interface ResolvedRepository extends RepositoryConfig {
  readonly name: string;
  readonly kind: RepositoryKind;
}

export interface ResolvedProfile {
  readonly name: string;
  readonly repositories: readonly ResolvedRepository[];
  readonly paths: readonly string[];
  readonly excludes: readonly string[];
  readonly excludeFiles: readonly string[];
  readonly tags: readonly string[];
  readonly host?: string;
  readonly oneFileSystem: boolean;
  readonly extraArgs: readonly string[];
  readonly forget?: BackupProfileConfig['forget'];
  readonly hooks: { readonly before: readonly HookConfig[]; readonly after: readonly HookConfig[]; readonly failure: readonly HookConfig[]; readonly always: readonly HookConfig[] };
  readonly notify?: NotifyConfig;
  readonly schedule?: string;
  readonly randomizedDelay?: string;
  readonly timeoutMinutes?: number;
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

export function repositoryKind(repository: string): RepositoryKind {
  if (repository.startsWith('rest:')) return 'rest';
  if (repository.startsWith('rclone:')) return 'rclone';
  if (repository.startsWith('s3:')) return 's3';
  if (/^[a-z0-9]+:/.test(repository) && !repository.startsWith('/')) throw new ProfileError(`unsupported repository type: ${repository.split(':')[0] ?? ''}: (rwm backup takes local paths, rest:, rclone: and s3:)`);
  if (!isAbsolute(repository)) throw new ProfileError(`a local repository is an absolute path, not ${repository} (a scheduled run starts in /)`);
  return 'local';
}

/** Off-site repositories get the management key; local ones are the host's own. */
export const isOffSite = (r: ResolvedRepository): boolean => r.kind !== 'local';

function merged(name: string, all: Readonly<Record<string, BackupProfileConfig>>, seen: string[]): BackupProfileConfig {
  const own = all[name];
  if (own === undefined || !Object.hasOwn(all, name)) throw new ProfileError(`profile "${seen.at(-1) ?? name}" inherits "${name}", which is not a profile`);
  if (seen.includes(name)) throw new ProfileError(`profiles inherit in a circle: ${[...seen, name].join(' -> ')}`);
  if (own.inherit === undefined) return own;
  const parent = merged(own.inherit, all, [...seen, name]);
  const out: BackupProfileConfig = { ...parent, ...own };
  if (parent.repositories !== undefined || own.repositories !== undefined) out.repositories = { ...parent.repositories, ...own.repositories };
  if (parent.hooks !== undefined || own.hooks !== undefined) out.hooks = { ...parent.hooks, ...own.hooks };
  return out;
}

/** Profiles that name repositories (themselves or inherited); the others are templates to inherit from. */
export function runnableProfiles(all: Readonly<Record<string, BackupProfileConfig>>): string[] {
  return Object.keys(all).filter((n) => Object.keys(merged(n, all, []).repositories ?? {}).length > 0);
}

/** The profile `name` with everything it inherits; throws ProfileError on a mistake (with the profile's name). */
export function resolveProfile(name: string, all: Readonly<Record<string, BackupProfileConfig>>): ResolvedProfile {
  const p = merged(name, all, []);
  const repos = Object.entries(p.repositories ?? {}).map(([n, r]) => {
    try {
      return { ...r, name: n, kind: repositoryKind(r.repository) };
    } catch (err) {
      throw new ProfileError(`backup.profiles.${name}.repositories.${n}: ${(err as Error).message}`);
    }
  });
  if (repos.length === 0) throw new ProfileError(`backup.profiles.${name}: no repositories`);
  if ((p.paths ?? []).length === 0) throw new ProfileError(`backup.profiles.${name}: no paths to back up`);
  if (p.forget !== undefined && !repos.some((r) => r.kind === 'local')) throw new ProfileError(`backup.profiles.${name}: forget is for local repositories, and this profile has none (the trusted host forgets off-site: rwm maintain)`);
  return {
    name,
    repositories: repos,
    paths: p.paths ?? [],
    excludes: p.excludes ?? [],
    excludeFiles: p.excludeFiles ?? [],
    tags: p.tags ?? [],
    ...(p.host !== undefined ? { host: p.host } : {}),
    oneFileSystem: p.oneFileSystem ?? false,
    extraArgs: p.extraArgs ?? [],
    ...(p.forget !== undefined ? { forget: p.forget } : {}),
    hooks: { before: p.hooks?.before ?? [], after: p.hooks?.after ?? [], failure: p.hooks?.failure ?? [], always: p.hooks?.always ?? [] },
    ...(p.notify !== undefined ? { notify: p.notify } : {}),
    ...(p.schedule !== undefined ? { schedule: p.schedule } : {}),
    ...(p.randomizedDelay !== undefined ? { randomizedDelay: p.randomizedDelay } : {}),
    ...(p.timeoutMinutes !== undefined ? { timeoutMinutes: p.timeoutMinutes } : {}),
  };
}

/** The repository steps of one run, in order: a pure plan the runner follows. */
export type StepKind = 'before-hooks' | 'policed-check' | 'backup' | 'state-save' | 'forget' | 'after-hooks';

export function planRepository(profile: ResolvedProfile, repo: ResolvedRepository): StepKind[] {
  const steps: StepKind[] = ['before-hooks'];
  if (repo.kind === 's3' && repo.check !== 'off') steps.push('policed-check');
  steps.push('backup');
  if (repo.kind === 's3') steps.push('state-save');
  if (repo.kind === 'local' && profile.forget !== undefined) steps.push('forget');
  steps.push('after-hooks');
  return steps;
}
