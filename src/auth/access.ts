// Who may reach which repository, and whether it is append-only for them. Evaluated on the
// canonical repository path, after the request path has been parsed and validated.

export interface UserRule {
  /** Where this user's repositories live in the store: URL path /x is stored at <root>/x. */
  readonly root?: readonly string[];
  /** Repository paths (and everything below them) this user may use. */
  readonly repos?: readonly (readonly string[])[];
  readonly appendOnly?: boolean;
  /** Bytes this user's repositories may hold together. */
  readonly maxSize?: number;
  /** 'own': the user may delete only lock files it uploaded through this server (default 'any'). */
  readonly deleteLocks?: 'any' | 'own';
}

export interface AccessConfig {
  readonly privateRepos: boolean;
  readonly appendOnly: boolean;
  readonly users: ReadonlyMap<string, UserRule>;
}

export type AccessDecision =
  | {
      readonly allowed: true;
      readonly appendOnly: boolean;
      /** The repository's path in the store (the URL path below the user's root). */
      readonly storeRepo: readonly string[];
      /** Store paths whose total counts against the user's quota. */
      readonly quotaRoots: readonly (readonly string[])[];
    }
  | { readonly allowed: false; readonly reason: string };

function isUnder(repo: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= repo.length && prefix.every((s, i) => repo[i] === s);
}

export function decideAccess(cfg: AccessConfig, user: string | undefined, repo: readonly string[]): AccessDecision {
  const rule = user === undefined ? undefined : cfg.users.get(user);
  const appendOnly = rule?.appendOnly ?? cfg.appendOnly;
  const root = rule?.root ?? [];
  const inStore = (p: readonly string[]): readonly string[] => [...root, ...p];
  if (rule?.repos !== undefined) {
    const match = rule.repos.find((p) => isUnder(repo, p));
    if (match === undefined) return { allowed: false, reason: 'repository not in the user\'s allowed paths' };
    return { allowed: true, appendOnly, storeRepo: inStore(repo), quotaRoots: rule.repos.map(inStore) };
  }
  // A user with a root is confined to it, which is what --private-repos asks for.
  if (rule?.root !== undefined) return { allowed: true, appendOnly, storeRepo: inStore(repo), quotaRoots: [root] };
  if (cfg.privateRepos) {
    if (user === undefined || repo[0] !== user) return { allowed: false, reason: 'private repositories: not the user\'s own' };
    return { allowed: true, appendOnly, storeRepo: repo, quotaRoots: [[user]] };
  }
  return { allowed: true, appendOnly, storeRepo: repo, quotaRoots: [] };
}
