// Start-up checks of the per-user rules that the schema cannot make alone (they depend on
// --private-repos): a quota rwm could not measure, and one user's repositories inside another's.
import type { AccessConfig } from './access.js';

export interface RulesReport {
  /** Refuse to start: the rule cannot work as written. */
  readonly errors: string[];
  /** Start, but say so: the rule works, maybe not as meant. */
  readonly warnings: string[];
}

function isUnder(p: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= p.length && prefix.every((s, i) => p[i] === s);
}

const show = (p: readonly string[]): string => `/${p.join('/')}`;

/** The store paths a user may reach, or undefined for "all of them". */
function namespaceOf(cfg: AccessConfig, user: string): readonly (readonly string[])[] | undefined {
  const rule = cfg.users.get(user);
  const root = rule?.root ?? [];
  if (rule?.repos !== undefined) return rule.repos.map((r) => [...root, ...r]);
  if (rule?.root !== undefined) return [root];
  return cfg.privateRepos ? [[user]] : undefined;
}

export function checkUserRules(cfg: AccessConfig): RulesReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const named = [...cfg.users.keys()];
  for (const user of named) {
    const rule = cfg.users.get(user);
    const mine = namespaceOf(cfg, user);
    if (rule?.maxSize !== undefined && mine === undefined) {
      errors.push(`user "${user}": maxSize needs root or repos (or --private-repos): without them the user may write anywhere, and which stored files are theirs cannot be measured (the quota would start at 0 after each restart)`);
    }
    if (mine === undefined) continue;
    for (const other of named) {
      if (other === user) continue;
      const theirs = namespaceOf(cfg, other);
      if (theirs === undefined) continue; // a user who may reach everything is a choice the config makes plainly
      for (const a of mine) {
        const b = theirs.find((t) => isUnder(a, t));
        if (b !== undefined) warnings.push(`user "${user}": ${show(a)} in the store lies inside user "${other}"'s ${show(b)}: "${other}" can read and add to "${user}"'s repositories`);
      }
    }
  }
  return { errors, warnings };
}
