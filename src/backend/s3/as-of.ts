// `rwm serve --s3 BUCKET/PREFIX --as-of STATE|TIME`: the repositories exactly as they were at one
// point, read-only. Reads and lists go to the versions of that point; every write and delete is
// refused (and audited by the REST layer), except restic's lock files, which live in memory for the
// life of the server so that `restic snapshots`, `restore`, `check` and `mount` work unchanged.
import { Readable } from 'node:stream';
import type { Backend, Body, CallOptions, Capabilities, FileInfo, LoadOptions, Store } from '../backend.js';
import { BackendError } from '../errors.js';
import { describeHandle, isId, type FileType, type Handle } from '../handle.js';
import { handlePath } from '../layout.js';
import type { VersionedBuckets } from '../../s3/bucket.js';
import type { PointView } from '../../state/point.js';
import { assertRepoSegments } from '../repo-path.js';

const CAPS: Capabilities = { atomicCreate: false, verifiesSha256: false };

async function readAll(body: Body): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

class AsOfBackend implements Backend {
  readonly capabilities = CAPS;

  constructor(
    private readonly s: AsOfStore,
    private readonly root: string,
  ) {}

  get location(): string {
    return `${this.s.location} ${this.root === '' ? '/' : this.root}`;
  }

  private key(h: Handle): string {
    return this.root + handlePath(h).join('/');
  }

  private readOnly(what: string): BackendError {
    return new BackendError('FORBIDDEN', `read-only: serving ${this.s.label}; ${what} refused`);
  }

  async create(): Promise<void> {
    throw this.readOnly('creating a repository');
  }

  async save(h: Handle, body: Body, opts: { size?: number } = {}): Promise<'created' | 'existed'> {
    if (h.type !== 'locks') throw this.readOnly(`writing ${describeHandle(h)}`);
    const data = await readAll(body);
    if (opts.size !== undefined && data.length !== opts.size) throw new BackendError('INTEGRITY', `body has ${data.length} bytes, ${opts.size} announced`);
    this.s.locks.set(this.key(h), data);
    return 'created';
  }

  private async entry(h: Handle, opts?: CallOptions): Promise<{ versionId: string; size: number } | Buffer> {
    const key = this.key(h);
    if (h.type === 'locks') {
      const l = this.s.locks.get(key);
      if (l === undefined) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found`);
      return l;
    }
    const e = await this.s.view.lookup(key, opts?.signal);
    if (e === undefined) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found at ${this.s.label}`);
    return e;
  }

  async stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    const e = await this.entry(h, opts);
    return { name: h.type === 'config' ? 'config' : h.name, size: Buffer.isBuffer(e) ? e.length : e.size };
  }

  async load(h: Handle, opts: LoadOptions = {}): Promise<Readable> {
    const e = await this.entry(h, opts);
    const size = Buffer.isBuffer(e) ? e.length : e.size;
    const offset = opts.offset ?? 0;
    if (offset > size || (offset > 0 && offset === size)) throw new BackendError('RANGE', `offset ${offset} beyond ${describeHandle(h)} (${size} bytes)`);
    const length = opts.length === undefined ? size - offset : Math.min(opts.length, size - offset);
    if (Buffer.isBuffer(e)) return Readable.from([e.subarray(offset, offset + length)]);
    if (length === 0) return Readable.from([]);
    const range = offset === 0 && length === size ? undefined : { offset, length };
    return this.s.buckets.read({ bucket: this.s.bucket, key: this.key(h), versionId: e.versionId }, { ...(range ? { range } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const prefix = `${this.root}${type}/`;
    if (type === 'locks') {
      for (const [k, v] of this.s.locks) if (k.startsWith(prefix)) yield { name: k.slice(prefix.length), size: v.length };
      return;
    }
    const nameRe = type === 'data' ? /^([0-9a-f]{2})\/([0-9a-f]{64})$/ : /^()([0-9a-f]{64})$/;
    for await (const e of this.s.view.list(prefix, opts?.signal)) {
      const m = nameRe.exec(e.key.slice(prefix.length));
      const name = m?.[2];
      if (name === undefined || !isId(name) || (type === 'data' && m?.[1] !== name.slice(0, 2))) continue;
      yield { name, size: e.size };
    }
  }

  async remove(h: Handle): Promise<void> {
    if (h.type !== 'locks') throw this.readOnly(`deleting ${describeHandle(h)}`);
    if (!this.s.locks.delete(this.key(h))) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not found`);
  }
}

export class AsOfStore implements Store {
  readonly capabilities = CAPS;
  /** Lock files written by clients of this server, by object key; never stored in the bucket. */
  readonly locks = new Map<string, Buffer>();

  constructor(
    readonly buckets: VersionedBuckets,
    readonly bucket: string,
    /** Key prefix of the served tree: '' or ending in '/'. */
    readonly prefix: string,
    readonly view: PointView,
    /** 'state NAME' or the time, for messages. */
    readonly label: string,
    private readonly onClose: () => void = () => undefined,
  ) {}

  get location(): string {
    return `s3://${this.bucket}/${this.prefix} as of ${this.label} (read-only)`;
  }

  repo(segments: readonly string[]): Backend {
    assertRepoSegments(segments);
    return new AsOfBackend(this, this.prefix + segments.map((s) => `${s}/`).join(''));
  }

  async usage(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.onClose();
  }
}
