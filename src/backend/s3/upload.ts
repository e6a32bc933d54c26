// The three ways an object is written, all create-only (`If-None-Match: *` where S3 honours it) and
// all verified before the object can become visible:
// - putBuffer: small bodies, read whole and checked first, sent with Content-MD5.
// - putStream: large bodies of known length. The last chunk is held back until the SHA-256 of the
//   whole body matches the name; on a mismatch the request is aborted, so S3 never receives the
//   announced Content-Length and stores nothing. The name is also sent, signed, as
//   x-amz-content-sha256, so S3 servers that check it (AWS, RGW, MinIO) refuse a mismatch too.
// - putMultipart: large bodies of unknown length, in parts; completed only after the whole body
//   verified, aborted otherwise.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BodyReader } from './body-reader.js';
import { mapS3Error } from './errors.js';

export interface PutTarget {
  readonly client: S3Client;
  readonly streaming: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly acl: boolean;
  /** The SHA-256 the body must have (the file name), or undefined for `config`. */
  readonly expected: string | undefined;
  readonly what: string;
  readonly signal: AbortSignal | undefined;
}

/** Streamed bodies are sent in writes of about this size. */
const WRITE_SIZE = 1 << 20;

/** Part size for uploads of unknown length (S3 needs at least 5 MiB for every part but the last). */
export const PART_SIZE = 8 << 20;

function aclOf(t: PutTarget): { ACL?: 'bucket-owner-full-control' } {
  return t.acl ? { ACL: 'bucket-owner-full-control' } : {};
}

/** Adds a header before the request is signed (the signer keeps an x-amz-content-sha256 already set). */
function setHeaderBeforeSigning(cmd: PutObjectCommand, name: string, value: string): void {
  cmd.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> } | undefined;
      if (req?.headers) req.headers[name] = value;
      return next(args);
    },
    { step: 'build', name: `rwmSet-${name}` },
  );
}

export async function putBuffer(t: PutTarget, data: Buffer, md5Hex: string): Promise<void> {
  const cmd = new PutObjectCommand({
    Bucket: t.bucket,
    Key: t.key,
    Body: data,
    ContentLength: data.length,
    ContentMD5: Buffer.from(md5Hex, 'hex').toString('base64'),
    IfNoneMatch: '*',
    ...aclOf(t),
  });
  try {
    await t.client.send(cmd, t.signal ? { abortSignal: t.signal } : {});
  } catch (err) {
    throw mapS3Error(err, 'write', t.what);
  }
}

export async function putStream(t: PutTarget, reader: BodyReader, size: number): Promise<void> {
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(t.signal?.reason);
  t.signal?.addEventListener('abort', onAbort, { once: true });
  let bodyError: Error | undefined;
  const expected = t.expected;
  // Chunks are gathered into writes of about WRITE_SIZE: one socket write per 64 KiB request chunk
  // cost more CPU than the SHA-256 of the body.
  async function* heldBack(): AsyncGenerator<Uint8Array> {
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    for (;;) {
      const c = await reader.next();
      if (c === undefined) break;
      if (heldBytes >= WRITE_SIZE) {
        if (held.length === 1) yield held[0] as Uint8Array;
        else {
          const whole = Buffer.concat(held, heldBytes);
          reader.release(held);
          yield whole;
        }
        held = [];
        heldBytes = 0;
      }
      held.push(c);
      heldBytes += c.length;
    }
    reader.finish(expected); // throws INTEGRITY before the last bytes go out
    if (heldBytes > 0) {
      const whole = Buffer.concat(held, heldBytes);
      reader.release(held);
      yield whole;
    }
  }
  const src = Readable.from(heldBack(), { objectMode: false });
  src.on('error', (err: Error) => {
    bodyError = err;
    ac.abort(err);
  });
  const cmd = new PutObjectCommand({
    Bucket: t.bucket,
    Key: t.key,
    Body: src,
    ContentLength: size,
    IfNoneMatch: '*',
    ...(expected !== undefined ? { ChecksumSHA256: Buffer.from(expected, 'hex').toString('base64') } : {}),
    ...aclOf(t),
  });
  if (expected !== undefined) setHeaderBeforeSigning(cmd, 'x-amz-content-sha256', expected);
  try {
    await t.streaming.send(cmd, { abortSignal: ac.signal });
  } catch (err) {
    if (bodyError !== undefined) throw bodyError;
    throw mapS3Error(err, 'write', t.what);
  } finally {
    t.signal?.removeEventListener('abort', onAbort);
    src.destroy();
  }
}

/**
 * Uploads `first` and the rest of the body as a multipart upload, and completes it only after the
 * body verified and `stillAbsent()` confirmed no object appeared meanwhile (S3 does not honour
 * If-None-Match on CompleteMultipartUpload). Every failure aborts the upload.
 */
export async function putMultipart(t: PutTarget, reader: BodyReader, first: Buffer, stillAbsent: () => Promise<boolean>): Promise<'created' | 'appeared'> {
  const opts = t.signal ? { abortSignal: t.signal } : {};
  let uploadId: string | undefined;
  try {
    const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, ...aclOf(t) }), opts);
    uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error(`${t.what}: S3 returned no UploadId`);
    const parts: { ETag: string; PartNumber: number }[] = [];
    let chunk: Buffer = first;
    for (let n = 1; chunk.length > 0; n++) {
      const md5 = createHash('md5').update(chunk).digest('base64');
      const out = await t.client.send(
        new UploadPartCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId, PartNumber: n, Body: chunk, ContentLength: chunk.length, ContentMD5: md5 }),
        opts,
      );
      if (out.ETag === undefined) throw new Error(`${t.what}: S3 returned no ETag for part ${n}`);
      parts.push({ ETag: out.ETag, PartNumber: n });
      chunk = await reader.readUpTo(PART_SIZE);
    }
    reader.finish(t.expected);
    if (!(await stillAbsent())) {
      await abortUpload(t, uploadId);
      return 'appeared';
    }
    await t.client.send(new CompleteMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), opts);
    return 'created';
  } catch (err) {
    if (uploadId !== undefined) await abortUpload(t, uploadId);
    throw mapS3Error(err, 'write', t.what);
  }
}

async function abortUpload(t: PutTarget, uploadId: string): Promise<void> {
  await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId })).catch(() => undefined);
}
