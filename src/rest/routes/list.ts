// GET /<repo>/<type>/: API v1 (array of names) or v2 (array of {name,size}), chosen by Accept.
// A list never answers 404: a 404 once made `restic prune` believe a repository was empty.
// Streamed in slices, so a type directory of 200k files is never one string in memory. A failure
// before the first slice is a 500; after it, the connection is cut, so the client sees a broken
// response and never a short list that parses.
import type { FileInfo } from '../../backend/backend.js';
import { V2_CONTENT_TYPE, type RequestContext } from '../context.js';

/** Bytes of JSON gathered before a slice is written. */
const SLICE_BYTES = 64 * 1024;

export function wantsV2(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((part) => part.split(';')[0]?.trim() === V2_CONTENT_TYPE);
}

export async function listFiles(ctx: RequestContext): Promise<void> {
  const r = ctx.route;
  if (r.kind !== 'list') throw new Error('not a list route');
  const v2 = wantsV2(ctx.req.headers.accept);
  const res = ctx.res;
  const encode = (f: FileInfo): string => JSON.stringify(v2 ? { name: f.name, size: f.size } : f.name);
  let slice = '[';
  let first = true;
  let started = false;
  const flush = async (): Promise<void> => {
    if (!started) {
      res.statusCode = 200;
      res.setHeader('Content-Type', v2 ? V2_CONTENT_TYPE : 'application/vnd.x.restic.rest.v1');
      started = true;
    }
    const ok = (res as { write(chunk: string): boolean }).write(slice);
    slice = '';
    if (!ok) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
      if (ctx.signal.aborted) throw new Error('the client went away during a list');
    }
  };
  for await (const f of ctx.backend.list(r.type, { signal: ctx.signal })) {
    slice += `${first ? '' : ','}${encode(f)}`;
    first = false;
    if (slice.length >= SLICE_BYTES) await flush();
  }
  slice += ']';
  if (!started) {
    // Small lists (the usual case) keep an exact Content-Length.
    res.statusCode = 200;
    res.setHeader('Content-Type', v2 ? V2_CONTENT_TYPE : 'application/vnd.x.restic.rest.v1');
    res.setHeader('Content-Length', Buffer.byteLength(slice));
    res.end(slice);
    return;
  }
  res.end(slice);
}
