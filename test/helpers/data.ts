// Generated test data: trees of random files with mixed sizes, and raw HTTP helpers for blobs.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';

/** Writes `files` random files (sizes from 0 up to maxSize, a few large) into nested directories. */
export async function makeTree(root: string, files: number, maxSize: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${i % 7}`, `e${i % 3}`);
    await mkdir(dir, { recursive: true });
    const size = i % 50 === 0 ? maxSize : Math.floor((i * 7919) % Math.max(1, Math.floor(maxSize / 20)));
    await writeFile(join(dir, `f${i}.bin`), randomBytes(size));
    total += size;
  }
  await writeFile(join(root, 'text.txt'), 'hello restic\n'.repeat(1000));
  return total;
}

/** A file shaped like a restic key file (rwm serve refuses keys/ uploads that are not); random, so unique. */
export function randomKeyFile(): Buffer {
  return Buffer.from(JSON.stringify({
    created: new Date().toISOString(), username: 'test', hostname: 'test', kdf: 'scrypt', N: 32768, r: 8, p: 7,
    salt: randomBytes(64).toString('base64'), data: randomBytes(160).toString('base64'),
  }));
}

export function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A plain HTTP/1.1 request to a test server (no retries, no redirects). */
export function http(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'Content-Length': String(body.length), ...headers } : headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
