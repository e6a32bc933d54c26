// What a repository path may look like. Checked when a request path is parsed (before any
// authorisation) and again by every store before it builds a file path or object key.
import { FILE_TYPES } from './handle.js';

/** Depth of a repository path in a request URL. */
export const MAX_REPO_DEPTH = 4;
/** Depth of a path in a store: a user's `root` (up to MAX_REPO_DEPTH) plus the path in the URL. */
export const MAX_STORE_DEPTH = 2 * MAX_REPO_DEPTH;
const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const RESERVED = new Set<string>([...FILE_TYPES, 'config', 'metrics']);

/** Why a segment is not allowed in a repository path, or undefined if it is fine. */
export function segmentProblem(seg: string): string | undefined {
  if (seg === '') return 'empty path segment';
  if (seg === '.' || seg === '..') return 'relative path segment';
  if (!SEGMENT_RE.test(seg)) return 'repository names may use only letters, digits, ".", "_" and "-" (not first)';
  if (RESERVED.has(seg)) return `"${seg}" is reserved and cannot name a repository`;
  return undefined;
}

export function assertRepoSegments(segments: readonly string[], maxDepth = MAX_STORE_DEPTH): void {
  if (segments.length > maxDepth) throw new Error(`repository path deeper than ${maxDepth} levels`);
  for (const s of segments) {
    const p = segmentProblem(s);
    if (p !== undefined) throw new Error(`invalid repository path segment ${JSON.stringify(s)}: ${p}`);
  }
}

/** Parses "a/b/c" (as written in config files and on the command line) into checked segments. */
export function parseRepoPath(text: string): string[] {
  const segments = text.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
  if (text === '' || text === '/') return [];
  assertRepoSegments(segments, MAX_REPO_DEPTH);
  return segments;
}
