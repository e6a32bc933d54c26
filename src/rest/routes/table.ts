// Which method does what on which kind of path: the whole REST protocol in one table.
import type { Route } from '../route.js';
import type { RequestContext } from '../context.js';
import { deleteFile, getFile, headFile, postFile } from './files.js';
import { listFiles } from './list.js';
import { createRepo, deleteRepo } from './repo.js';

type Handler = (ctx: RequestContext) => Promise<void>;

export const ROUTES: Record<Route['kind'], Partial<Record<string, Handler>>> = {
  repo: { POST: createRepo, DELETE: deleteRepo },
  config: { HEAD: headFile, GET: getFile, POST: postFile },
  list: { GET: listFiles },
  file: { HEAD: headFile, GET: getFile, POST: postFile, DELETE: deleteFile },
};

export function allowedMethods(kind: Route['kind']): string[] {
  return Object.keys(ROUTES[kind]);
}
