// HEAD/GET/POST/DELETE of `config` and of typed files (data, keys, locks, snapshots, index).
import { pipeline } from 'node:stream/promises';
import { configHandle, fileHandle, type Handle } from '../../backend/handle.js';
import { sendOk, sendStatus, type RequestContext } from '../context.js';
import { parseRange } from '../range.js';
import { announcedLength, requestBody } from '../upload-body.js';

export function handleOf(ctx: RequestContext): Handle {
  const r = ctx.route;
  if (r.kind === 'config') return configHandle();
  if (r.kind === 'file') return fileHandle(r.type, r.name);
  throw new Error(`no file in a ${r.kind} route`);
}

export async function headFile(ctx: RequestContext): Promise<void> {
  const info = await ctx.backend.stat(handleOf(ctx), { signal: ctx.signal });
  ctx.res.statusCode = 200;
  ctx.res.setHeader('Content-Length', info.size);
  ctx.res.setHeader('Accept-Ranges', 'bytes');
  ctx.res.end();
}

export async function getFile(ctx: RequestContext): Promise<void> {
  const h = handleOf(ctx);
  const info = await ctx.backend.stat(h, { signal: ctx.signal });
  const range = parseRange(ctx.req.headers.range, info.size);
  const { res } = ctx;
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${info.size}`);
    sendStatus(res, 416);
    return;
  }
  const start = range === 'none' ? 0 : range.start;
  const length = range === 'none' ? info.size : range.end - range.start + 1;
  const stream = await ctx.backend.load(h, { offset: start, length, signal: ctx.signal });
  res.statusCode = range === 'none' ? 200 : 206;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Length', length);
  if (range !== 'none') res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
  let sent = 0;
  stream.on('data', (c: Buffer) => (sent += c.length));
  try {
    await pipeline(stream, res as NodeJS.WritableStream);
  } finally {
    ctx.metrics.bytesOut.inc({ type: ctx.typeLabel }, sent);
    ctx.blob('read', sent);
  }
}

export async function postFile(ctx: RequestContext): Promise<void> {
  const size = announcedLength(ctx.req, ctx.maxUploadSize);
  const body = requestBody(ctx.req, size === undefined ? ctx.maxUploadSize : undefined);
  const result = await ctx.backend.save(handleOf(ctx), body, size === undefined ? { signal: ctx.signal } : { size, signal: ctx.signal });
  if (result === 'created' && size !== undefined) ctx.metrics.bytesIn.inc({ type: ctx.typeLabel }, size);
  if (result === 'created') ctx.blob('write', size ?? (await ctx.backend.stat(handleOf(ctx), { signal: ctx.signal })).size);
  sendOk(ctx.res);
}

export async function deleteFile(ctx: RequestContext): Promise<void> {
  const h = handleOf(ctx);
  // rest-server counts the bytes deleted; a stat that fails leaves the delete to answer for itself
  const size = await ctx.backend.stat(h, { signal: ctx.signal }).then((i) => i.size, () => 0);
  await ctx.backend.remove(h, { signal: ctx.signal });
  ctx.blob('delete', size);
  sendOk(ctx.res);
}
