// A restic repository in a local directory, in restic's own layout, so `restic -r /dir` opens it too.
// Writes are create-only and crash-safe: temp file in <repo>/.rwm-tmp, fsync, link(2) (which never
// replaces an existing file), unlink the temp, fsync the directory.
import { createReadStream } from 'node:fs';
import { link, open, opendir, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, Body, CallOptions, Capabilities, FileInfo, LoadOptions, SaveOptions, SaveResult } from '../backend.js';
import { BackendError } from '../errors.js';
import { describeHandle, expectedSha256, isId, type FileType, type Handle } from '../handle.js';
import { handlePath, isSharded, shardNames } from '../layout.js';
import { sameDigest, UploadDigest } from '../hashing.js';
import { freeChunk, handsOverChunks } from '../chunks.js';
import { AlignedWriter } from './aligned-writer.js';
import { errnoCode, mapFsError } from './fs-errors.js';
import { mkdirp } from './mkdirp.js';
import { sha256File } from './sha256-file.js';

export const TMP_DIR = '.rwm-tmp';
/** Modes of repository files and directories. */
export interface LocalModes {
  readonly file: number;
  readonly dir: number;
}

// restic's local backend also marks repository files read-only
export const PRIVATE_MODES: LocalModes = { file: 0o400, dir: 0o700 };
/** --group-accessible-repos (rest-server's flag): the group may read, and delete as restic's own prune on disk does. */
export const GROUP_MODES: LocalModes = { file: 0o440, dir: 0o770 };

export const LOCAL_CAPABILITIES: Capabilities = { atomicCreate: true, verifiesSha256: true };

export class LocalBackend implements Backend {
  readonly capabilities = LOCAL_CAPABILITIES;

  constructor(
    readonly dir: string,
    private readonly modes: LocalModes = PRIVATE_MODES,
  ) {}

  get location(): string {
    return this.dir;
  }

  private filePath(h: Handle): string {
    return join(this.dir, ...handlePath(h));
  }

  async create(_opts?: CallOptions): Promise<void> {
    try {
      for (const t of ['keys', 'locks', 'snapshots', 'index']) await mkdirp(join(this.dir, t), this.modes.dir);
      await mkdirp(join(this.dir, TMP_DIR), 0o700);
      for (const s of shardNames()) await mkdirp(join(this.dir, 'data', s), this.modes.dir);
      await fsyncDir(this.dir);
    } catch (err) {
      throw mapFsError(err, 'create repository');
    }
  }

  async save(h: Handle, body: Body, opts: SaveOptions = {}): Promise<SaveResult> {
    const tmp = join(this.dir, TMP_DIR, `${randomBytes(12).toString('hex')}.tmp`);
    try {
      const fh = await openTemp(tmp);
      const out = new AlignedWriter(fh, tmp, join(this.dir, TMP_DIR));
      try {
        const digest = new UploadDigest(opts.size);
        const free = handsOverChunks(body);
        for await (const chunk of body) {
          opts.signal?.throwIfAborted();
          digest.update(chunk);
          // write() copies the chunk into pooled buffers: once it resolves, the chunk is not needed
          await out.write(chunk);
          if (free) freeChunk(chunk);
        }
        await out.flush();
        const sha256 = digest.verify(expectedSha256(h));
        await fh.sync();
        await fh.chmod(this.modes.file);
        await fh.close();
        return await this.publish(h, tmp, sha256, digest.bytes);
      } finally {
        await out.close();
        await fh.close().catch(() => undefined);
      }
    } catch (err) {
      throw mapFsError(err, `save ${describeHandle(h)}`);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Makes the verified temp file visible under its name, without ever replacing a file. */
  private async publish(h: Handle, tmp: string, digest: string, size: number): Promise<SaveResult> {
    const final = this.filePath(h);
    const parent = join(final, '..');
    try {
      await link(tmp, final);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') {
        await mkdirp(parent, this.modes.dir);
        await link(tmp, final);
      } else if (code === 'EEXIST') {
        return this.compareExisting(h, final, digest, size);
      } else {
        throw err;
      }
    }
    await fsyncDir(parent);
    return 'created';
  }

  private async compareExisting(h: Handle, final: string, digest: string, size: number): Promise<SaveResult> {
    const st = await stat(final);
    if (st.size === size && sameDigest(await sha256File(final), digest)) return 'existed';
    throw new BackendError('ALREADY_EXISTS', `${describeHandle(h)} exists with different content`);
  }

  async stat(h: Handle, _opts?: CallOptions): Promise<FileInfo> {
    try {
      const st = await stat(this.filePath(h));
      if (!st.isFile()) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not a file`);
      return { name: h.type === 'config' ? 'config' : h.name, size: st.size };
    } catch (err) {
      throw mapFsError(err, `stat ${describeHandle(h)}`);
    }
  }

  async load(h: Handle, opts: LoadOptions = {}): Promise<Readable> {
    const offset = opts.offset ?? 0;
    let fh: FileHandle;
    try {
      fh = await open(this.filePath(h), 'r');
    } catch (err) {
      throw mapFsError(err, `load ${describeHandle(h)}`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new BackendError('NOT_FOUND', `${describeHandle(h)}: not a file`);
      const size = st.size;
      if (offset > size || (offset > 0 && offset === size)) {
        throw new BackendError('RANGE', `offset ${offset} beyond ${describeHandle(h)} (${size} bytes)`);
      }
      const end = opts.length === undefined ? size : Math.min(size, offset + opts.length);
      if (end === offset) {
        await fh.close();
        return Readable.from([]);
      }
      return createReadStream('', { fd: fh, start: offset, end: end - 1, highWaterMark: 1 << 20 });
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw mapFsError(err, `load ${describeHandle(h)}`);
    }
  }

  async *list(type: FileType, _opts?: CallOptions): AsyncIterable<FileInfo> {
    const base = join(this.dir, type);
    if (!isSharded(type)) {
      yield* listFiles(base);
      return;
    }
    let shards: string[];
    try {
      shards = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const s of shards) yield* listFiles(join(base, s));
  }

  async remove(h: Handle, _opts?: CallOptions): Promise<void> {
    const p = this.filePath(h);
    try {
      // The file is read-only (0400); unlink needs write permission on the directory only.
      await unlink(p);
      await fsyncDir(join(p, '..'));
    } catch (err) {
      throw mapFsError(err, `remove ${describeHandle(h)}`);
    }
  }
}

async function openTemp(tmp: string): Promise<FileHandle> {
  try {
    return await open(tmp, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    await mkdirp(join(tmp, '..'), 0o700);
    return await open(tmp, 'wx', 0o600);
  }
}

/** Regular files with valid ids in one directory; a missing directory is empty, other errors throw. */
async function* listFiles(dir: string): AsyncIterable<FileInfo> {
  let d;
  try {
    d = await opendir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for await (const entry of d) {
    if (!entry.isFile() || !isId(entry.name)) continue;
    let st;
    try {
      st = await stat(join(dir, entry.name));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // removed (a lock) while listing
      throw err;
    }
    yield { name: entry.name, size: st.size };
  }
}

/** Removes temp files older than maxAgeMs left in <repo>/.rwm-tmp by a crash. Never throws. */
export async function sweepStaleTemps(repoDir: string, maxAgeMs: number): Promise<number> {
  const tmpDir = join(repoDir, TMP_DIR);
  let removed = 0;
  try {
    for (const name of await readdir(tmpDir)) {
      const p = join(tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st?.isFile() && Date.now() - st.mtimeMs > maxAgeMs && name.endsWith('.tmp')) {
        await unlink(p).then(() => removed++, () => undefined);
      }
    }
  } catch {
    // no temp directory (yet): nothing to sweep
  }
  return removed;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

