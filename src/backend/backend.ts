// The storage interface every backend implements (local directory, S3, in-memory) and every wrapper
// (append-only, quota) passes through. The REST protocol layer talks only to this interface.
import type { Readable } from 'node:stream';
import type { FileType, Handle } from './handle.js';

/** An upload body: a stream (an HTTP request) or, in tests, a list of chunks. */
export type Body = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface FileInfo {
  readonly name: string;
  readonly size: number;
}

export interface Capabilities {
  /** save() is create-only and atomic: a file appears whole or not at all, and never replaces another. */
  readonly atomicCreate: boolean;
  /** save() checks SHA-256(body) against the name before the file becomes visible. */
  readonly verifiesSha256: boolean;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SaveOptions extends CallOptions {
  /** The announced length of the body, when known. A body of another length MUST be refused. */
  readonly size?: number;
}

export interface LoadOptions extends CallOptions {
  readonly offset?: number;
  /** Bytes to read from offset; undefined means to the end. */
  readonly length?: number;
}

/** What save() did: wrote a new file, or found the identical file already there (a retried upload). */
export type SaveResult = 'created' | 'existed';

/** One restic repository. */
export interface Backend {
  readonly capabilities: Capabilities;
  /** A short description for logs (never contains secrets). */
  readonly location: string;

  /** Creates the repository's structure. MUST succeed if the repository already exists. */
  create(opts?: CallOptions): Promise<void>;

  /**
   * Stores a file. MUST be create-only and atomic: after a crash at any moment, the file is either
   * absent or complete and verified. For every handle except `config`, MUST throw INTEGRITY (and store
   * nothing) unless SHA-256(body) equals the name. MUST throw INTEGRITY if `size` is given and the body
   * has another length. If the file exists: resolves 'existed' when the stored bytes are identical to
   * the body, else throws ALREADY_EXISTS and leaves the stored file untouched.
   */
  save(h: Handle, body: Body, opts?: SaveOptions): Promise<SaveResult>;

  /** Size of a file. MUST throw NOT_FOUND only when the file does not exist. */
  stat(h: Handle, opts?: CallOptions): Promise<FileInfo>;

  /** A stream of [offset, offset+length) of the file. MUST throw RANGE if offset is past the end. */
  load(h: Handle, opts?: LoadOptions): Promise<Readable>;

  /** Every file of a type. A missing type directory lists as empty; any other failure MUST throw. */
  list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo>;

  /** Deletes a file. MUST throw NOT_FOUND if it does not exist. */
  remove(h: Handle, opts?: CallOptions): Promise<void>;
}

/** Opens the repository at a canonical path (segments already validated). */
export interface Store {
  readonly capabilities: Capabilities;
  readonly location: string;
  repo(segments: readonly string[]): Backend;
  /** Total bytes stored under a repository path prefix ([] for everything), for quotas. */
  usage(prefix: readonly string[], opts?: CallOptions): Promise<number>;
  close(): Promise<void>;
}
