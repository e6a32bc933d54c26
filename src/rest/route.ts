// Parses and canonicalises a request path into a route, before anything else looks at it.
// Anything not in the exact shape restic uses is refused here: percent-encoding (so no encoded
// slashes or dots), backslashes, NUL and control characters, empty, "." and ".." segments, repository
// names outside a small character set, and file names that are not lowercase 64-hex ids.
import { isFileType, isId, type FileType } from '../backend/handle.js';
import { MAX_REPO_DEPTH, segmentProblem } from '../backend/repo-path.js';

export type Route =
  | { readonly kind: 'repo'; readonly repo: readonly string[] }
  | { readonly kind: 'config'; readonly repo: readonly string[] }
  | { readonly kind: 'list'; readonly repo: readonly string[]; readonly type: FileType }
  | { readonly kind: 'file'; readonly repo: readonly string[]; readonly type: FileType; readonly name: string };

export class RouteError extends Error {
  override readonly name = 'RouteError';
}

export interface ParsedUrl {
  readonly route: Route;
  readonly query: URLSearchParams;
}

export function parseRequestUrl(rawUrl: string): ParsedUrl {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  return { route: parseRoutePath(path), query };
}

export function parseRoutePath(path: string): Route {
  if (!path.startsWith('/')) throw new RouteError('path must start with "/"');
  // eslint-disable-next-line no-control-regex
  if (/[%\\\x00-\x1f\x7f]/.test(path)) throw new RouteError('encoded, control or backslash characters in path');
  let body = path.slice(1);
  const trailingSlash = body.endsWith('/');
  if (trailingSlash) body = body.slice(0, -1);
  const segs = body === '' ? [] : body.split('/');
  if (segs.some((s) => s === '')) throw new RouteError('empty path segment');
  if (segs.some((s) => s === '.' || s === '..')) throw new RouteError('relative path segment');

  const last = segs.at(-1);
  const prev = segs.at(-2);
  let route: Route;
  if (last === 'config' && !trailingSlash) {
    route = { kind: 'config', repo: segs.slice(0, -1) };
  } else if (last !== undefined && isFileType(last)) {
    route = { kind: 'list', repo: segs.slice(0, -1), type: last };
  } else if (prev !== undefined && last !== undefined && isFileType(prev)) {
    if (!isId(last)) throw new RouteError('file names must be 64 lowercase hex characters');
    if (trailingSlash) throw new RouteError('file path with trailing slash');
    route = { kind: 'file', repo: segs.slice(0, -2), type: prev, name: last };
  } else {
    route = { kind: 'repo', repo: segs };
  }
  if (route.repo.length > MAX_REPO_DEPTH) throw new RouteError(`repository path deeper than ${MAX_REPO_DEPTH} levels`);
  for (const s of route.repo) {
    const problem = segmentProblem(s);
    if (problem !== undefined) throw new RouteError(problem);
  }
  return route;
}

export function routeTypeLabel(route: Route | undefined): string {
  if (route === undefined) return 'invalid';
  switch (route.kind) {
    case 'repo':
      return 'repo';
    case 'config':
      return 'config';
    case 'list':
    case 'file':
      return route.type;
  }
}
