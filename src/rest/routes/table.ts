// Which method does what on which kind of path: the whole REST protocol in one table.
// Maps, not plain objects: over HTTP/2 any token is a method, and `toString` or `constructor` must not
// find Object.prototype's properties.
import type { Route } from '../route.js';
import type { RequestContext } from '../context.js';
import { deleteFile, getFile, headFile, postFile } from './files.js';
import { listFiles } from './list.js';
import { createRepo, deleteRepo } from './repo.js';

type Handler = (ctx: RequestContext) => Promise<void>;

const ROUTES: Readonly<Record<Route['kind'], ReadonlyMap<string, Handler>>> = {
  repo: new Map([['POST', createRepo], ['DELETE', deleteRepo]]),
  config: new Map([['HEAD', headFile], ['GET', getFile], ['POST', postFile]]),
  list: new Map([['GET', listFiles]]),
  file: new Map([['HEAD', headFile], ['GET', getFile], ['POST', postFile], ['DELETE', deleteFile]]),
};

/** The handler of a method on a kind of path, or undefined if that method is not allowed there. */
export function routeHandler(kind: Route['kind'], method: string): Handler | undefined {
  return ROUTES[kind].get(method);
}

export function allowedMethods(kind: Route['kind']): string[] {
  return [...ROUTES[kind].keys()];
}
