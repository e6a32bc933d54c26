// An in-memory repository: the reference Backend for unit tests of logic built on top of the
// interface. It keeps the same contract as the real stores (verified, create-only, typed errors).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, Body, CallOptions, Capabilities, FileInfo, LoadOptions, SaveOptions, SaveResult, Store } from './backend.js';
import { BackendError } from './errors.js';
import { describeHandle, expectedSha256, FILE_TYPES, type FileType, type Handle } from './handle.js';
import { handlePath } from './layout.js';
import { sameDigest, UploadDigest } from './hashing.js';

const CAPS: Capabilities = { atomicCreate: true, verifiesSha256: true };

export class MemoryBackend implements Backend {
  readonly capabilities = CAPS;
  readonly location = 'memory';
  private readonly files = new Map<string, Buffer>();

  private key(h: Handle): string {
    return handlePath(h).join('/');
  }

  async create(_opts?: CallOptions): Promise<void> {}

  async save(h: Handle, body: Body, opts: SaveOptions = {}): Promise<SaveResult> {
    const digest = new UploadDigest(opts.size);
    const parts: Uint8Array[] = [];
    for await (const chunk of body) {
      digest.update(chunk);
      parts.push(chunk);
    }
    const sha = digest.verify(expectedSha256(h));
    const data = Buffer.concat(parts);
    const existing = this.files.get(this.key(h));
    if (existing !== undefined) {
      if (sameDigest(createHash('sha256').update(existing).digest('hex'), sha)) return 'existed';
      throw new BackendError('ALREADY_EXISTS', `${describeHandle(h)} exists with different content`);
    }
    this.files.set(this.key(h), data);
    return 'created';
  }

  private get(h: Handle): Buffer {
    const data = this.files.get(this.key(h));
    if (data === undefined) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found`);
    return data;
  }

  async stat(h: Handle, _opts?: CallOptions): Promise<FileInfo> {
    return { name: h.type === 'config' ? 'config' : h.name, size: this.get(h).length };
  }

  async load(h: Handle, opts: LoadOptions = {}): Promise<Readable> {
    const data = this.get(h);
    const offset = opts.offset ?? 0;
    if (offset > data.length || (offset > 0 && offset === data.length)) throw new BackendError('RANGE', `offset ${offset} beyond ${describeHandle(h)}`);
    const end = opts.length === undefined ? data.length : Math.min(data.length, offset + opts.length);
    return Readable.from([data.subarray(offset, end)]);
  }

  async *list(type: FileType, _opts?: CallOptions): AsyncIterable<FileInfo> {
    for (const [k, v] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      if (k.startsWith(`${type}/`)) yield { name: k.slice(k.lastIndexOf('/') + 1), size: v.length };
    }
  }

  async remove(h: Handle, _opts?: CallOptions): Promise<void> {
    this.get(h);
    this.files.delete(this.key(h));
  }
}

export class MemoryStore implements Store {
  readonly capabilities = CAPS;
  readonly location = 'memory';
  private readonly repos = new Map<string, MemoryBackend>();

  repo(segments: readonly string[]): Backend {
    const key = segments.join('/');
    let r = this.repos.get(key);
    if (!r) {
      r = new MemoryBackend();
      this.repos.set(key, r);
    }
    return r;
  }

  async usage(prefix: readonly string[]): Promise<number> {
    let total = 0;
    for (const [key, repo] of this.repos) {
      if (prefix.length > 0 && key !== prefix.join('/') && !key.startsWith(`${prefix.join('/')}/`)) continue;
      for (const t of FILE_TYPES) for await (const f of repo.list(t)) total += f.size;
    }
    return total;
  }

  async close(): Promise<void> {}
}
