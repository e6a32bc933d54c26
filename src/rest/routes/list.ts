// GET /<repo>/<type>/: API v1 (array of names) or v2 (array of {name,size}), chosen by Accept.
// A list never answers 404: a 404 once made `restic prune` believe a repository was empty.
import type { FileInfo } from '../../backend/backend.js';
import { V2_CONTENT_TYPE, type RequestContext } from '../context.js';

export function wantsV2(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((part) => part.split(';')[0]?.trim() === V2_CONTENT_TYPE);
}

export async function listFiles(ctx: RequestContext): Promise<void> {
  const r = ctx.route;
  if (r.kind !== 'list') throw new Error('not a list route');
  const files: FileInfo[] = [];
  for await (const f of ctx.backend.list(r.type, { signal: ctx.signal })) files.push(f);
  const v2 = wantsV2(ctx.req.headers.accept);
  const body = JSON.stringify(v2 ? files.map((f) => ({ name: f.name, size: f.size })) : files.map((f) => f.name));
  ctx.res.statusCode = 200;
  ctx.res.setHeader('Content-Type', v2 ? V2_CONTENT_TYPE : 'application/vnd.x.restic.rest.v1');
  ctx.res.setHeader('Content-Length', Buffer.byteLength(body));
  ctx.res.end(body);
}
