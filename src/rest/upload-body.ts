// The body of an upload: its announced length (checked before reading) and a stream that refuses
// to grow past the server's limit when no length was announced.
import { BackendError } from '../backend/errors.js';
import type { Req } from './context.js';

export function announcedLength(req: Req, maxUploadSize: number): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw new BackendError('INVALID', 'invalid Content-Length');
  const n = Number(raw);
  if (n > maxUploadSize) throw new BackendError('TOO_LARGE', `upload of ${n} bytes is larger than the limit of ${maxUploadSize}`);
  return n;
}

export async function* limitedBody(req: Req, maxUploadSize: number): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxUploadSize) throw new BackendError('TOO_LARGE', `upload larger than the limit of ${maxUploadSize}`);
    yield chunk;
  }
}
