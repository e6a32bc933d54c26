// The state format: gzip'd JSON lines, one header line then one line per key, sorted by key (S3's
// byte order). Sorted files make diff and restore streaming merge-joins. Written as two gzip members
// (header, then entries) so the header's counts can be known before it is written, without holding
// the entries in memory; gunzip reads both as one stream.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { compareKeys } from '../s3/names.js';

export const STATE_FORMAT = 'rwm-state';
export const STATE_VERSION = 1;

/** What a key is at a point in time: a version, or a delete marker on top. */
export interface StateEntry {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  readonly owner: string;
  /** In a verified state (written by a scrub): when these bytes were hashed and found good. */
  readonly verified?: number;
  /** Also in a verified state: when a scrub with the repository password decrypted it (index/, snapshots/) and restic could use it. */
  readonly opened?: number;
}

const headerSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  bucket: z.string(),
  prefix: z.string(),
  created: z.string(),
  writer: z.object({ tool: z.string(), host: z.string(), command: z.string() }),
  objects: z.number().int().nonnegative(),
  deleteMarkers: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Verified states (written by `rwm scrub`): which sample slot this run hashed, of how many. */
  scrub: z.object({ cycle: z.number().int().nonnegative(), slots: z.number().int().positive() }).optional(),
});

export type StateHeader = z.infer<typeof headerSchema>;

export class StateFormatError extends Error {
  override readonly name = 'StateFormatError';
}

function line(e: StateEntry): string {
  const o: Record<string, unknown> = { key: e.key, versionId: e.versionId };
  if (e.deleteMarker) o.deleteMarker = true;
  else Object.assign(o, { size: e.size, etag: e.etag });
  o.lastModified = new Date(e.lastModified).toISOString();
  if (e.owner !== '') o.owner = e.owner;
  if (e.verified !== undefined) o.verified = new Date(e.verified).toISOString();
  if (e.opened !== undefined) o.opened = new Date(e.opened).toISOString();
  return `${JSON.stringify(o)}\n`;
}

function parseEntry(text: string, where: string): StateEntry {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new StateFormatError(`${where}: not JSON`);
  }
  const r = o as Record<string, unknown>;
  const t = typeof r.lastModified === 'string' ? Date.parse(r.lastModified) : NaN;
  const dm = r.deleteMarker === true;
  if (typeof r.key !== 'string' || typeof r.versionId !== 'string' || Number.isNaN(t) || (!dm && (typeof r.size !== 'number' || typeof r.etag !== 'string'))) {
    throw new StateFormatError(`${where}: needs key, versionId, lastModified and (unless deleteMarker) size and etag`);
  }
  const verified = typeof r.verified === 'string' ? Date.parse(r.verified) : NaN;
  const opened = typeof r.opened === 'string' ? Date.parse(r.opened) : NaN;
  return {
    key: r.key,
    versionId: r.versionId,
    deleteMarker: dm,
    size: dm ? 0 : (r.size as number),
    etag: dm ? '' : (r.etag as string),
    lastModified: t,
    owner: typeof r.owner === 'string' ? r.owner : '',
    ...(Number.isNaN(verified) ? {} : { verified }),
    ...(Number.isNaN(opened) ? {} : { opened }),
  };
}

export interface WrittenState {
  readonly file: string;
  readonly header: StateHeader;
  readonly size: number;
}

/**
 * Writes entries (which MUST be sorted by key) to `file` in the state format; the header gets the
 * counts. The file appears only when complete (written beside it, then renamed).
 */
export async function writeStateFile(file: string, base: Omit<StateHeader, 'format' | 'version' | 'objects' | 'deleteMarkers' | 'bytes'>, entries: AsyncIterable<StateEntry>): Promise<WrittenState> {
  const body = `${file}.body.partial`;
  const partial = `${file}.partial`;
  const counts = { objects: 0, deleteMarkers: 0, bytes: 0 };
  let last: string | undefined;
  try {
    // Lines go to gzip in chunks of about 64 KiB: one write per line costs a zlib call each, which
    // made writing 200k entries take half a minute.
    async function* lines(): AsyncGenerator<string> {
      let chunk = '';
      for await (const e of entries) {
        if (last !== undefined && compareKeys(last, e.key) >= 0) throw new StateFormatError(`state entries out of order at ${JSON.stringify(e.key)}`);
        last = e.key;
        if (e.deleteMarker) counts.deleteMarkers += 1;
        else {
          counts.objects += 1;
          counts.bytes += e.size;
        }
        chunk += line(e);
        if (chunk.length >= 65536) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk !== '') yield chunk;
    }
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(body, { mode: 0o600 }));
    const header: StateHeader = { format: STATE_FORMAT, version: STATE_VERSION, ...base, ...counts };
    await pipeline(
      (async function* () {
        yield gzipSync(`${JSON.stringify(header)}\n`);
        yield* createReadStream(body);
      })(),
      createWriteStream(partial, { mode: 0o600 }),
    );
    const fh = await open(partial, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, file);
    return { file, header, size: (await stat(file)).size };
  } finally {
    await rm(body, { force: true });
    await rm(partial, { force: true });
  }
}

export interface OpenedState {
  readonly header: StateHeader;
  /** The entries, checked to be sorted; read once. */
  readonly entries: AsyncIterable<StateEntry>;
}

/** Reads a state from a gzip stream (a local file or an S3 body); `where` names it in errors. */
export async function openState(input: Readable, where: string): Promise<OpenedState> {
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  const rl = createInterface({ input: input.pipe(gunzip), crlfDelay: Infinity });
  const it = rl[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await it.next();
  } catch (err) {
    throw new StateFormatError(`${where}: not a gzip'd state file (${(err as Error).message})`, { cause: err });
  }
  if (first.done === true) throw new StateFormatError(`${where}: empty`);
  let header: StateHeader;
  try {
    header = headerSchema.parse(JSON.parse(first.value));
  } catch (err) {
    throw new StateFormatError(`${where}: the first line is not an ${STATE_FORMAT} v${STATE_VERSION} header`, { cause: err });
  }
  async function* entries(): AsyncGenerator<StateEntry> {
    let n = 1;
    let last: string | undefined;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        n += 1;
        if (r.value === '') continue;
        const e = parseEntry(r.value, `${where} line ${n}`);
        if (last !== undefined && compareKeys(last, e.key) >= 0) throw new StateFormatError(`${where} line ${n}: keys are not sorted`);
        last = e.key;
        yield e;
      }
    } catch (err) {
      if (err instanceof StateFormatError) throw err;
      throw new StateFormatError(`${where} line ${n}: ${(err as Error).message}`, { cause: err });
    } finally {
      rl.close();
      input.destroy();
    }
  }
  return { header, entries: entries() };
}

/** State names: `<UTC time>-<random>`, so they sort by time and never collide. */
export function stateName(created: Date, random: string): string {
  return `${created.toISOString().replace(/[-:]/g, '')}-${random}`;
}

export const STATE_NAME_RE = /^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8,32}$/;

/** The time in a state's name. */
export function stateNameTime(name: string): number {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})\.([0-9]{3})Z/.exec(name);
  return m === null ? NaN : Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}
