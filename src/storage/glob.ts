// IAM-style wildcard matching ("*" any run of characters, "?" one character), as policies use it
// for actions (case-insensitive) and resources and principals (case-sensitive).

export function globMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(v);
}

export const actionMatches = (patterns: readonly string[], action: string): boolean => patterns.some((p) => globMatch(p, action, true));
export const resourceMatches = (patterns: readonly string[], resource: string): boolean => patterns.some((p) => globMatch(p, resource));
