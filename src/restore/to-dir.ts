// Restore to a local directory, in restic's local layout, so `restic -r DIR` opens it. Every file goes
// through the local backend's create-only, verified write: a version whose bytes do not hash to its
// name (anything but `config`) is refused and not written; a rerun skips files already there.
import { join } from 'node:path';
import { LocalBackend } from '../backend/local/local.js';
import type { Handle } from '../backend/handle.js';
import type { VersionedBuckets } from '../s3/bucket.js';
import { isRwmKey, parseResticKey } from '../s3/names.js';
import type { StateEntry } from '../state/format.js';

export interface ToDirOptions {
  readonly buckets: VersionedBuckets;
  readonly bucket: string;
  /** The listed key prefix ('' or ending in '/'): keys below it map to paths below `dir`. */
  readonly prefix: string;
  readonly dir: string;
  readonly dryRun: boolean;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onFile?: (key: string, outcome: 'written' | 'same' | 'refused' | 'foreign' | 'failed', bytes: number) => void;
}

export interface ToDirReport {
  written: number;
  writtenBytes: number;
  same: number;
  /** Versions whose bytes do not match their name (or differ from a file already in the directory). */
  refused: number;
  /** Keys that are not restic's: not written (their path could not be trusted). */
  foreign: number;
  failed: number;
  readonly failures: string[];
}

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function repoSegments(repo: string): string[] | undefined {
  const segs = repo.split('/').filter((s) => s !== '');
  return segs.every((s) => SAFE_SEGMENT.test(s)) ? segs : undefined;
}

export async function restoreToDir(entries: AsyncIterable<StateEntry>, o: ToDirOptions): Promise<ToDirReport> {
  const r: ToDirReport = { written: 0, writtenBytes: 0, same: 0, refused: 0, foreign: 0, failed: 0, failures: [] };
  const repos = new Map<string, Promise<LocalBackend>>();
  const limit = Math.max(1, o.concurrency ?? 8);
  const inFlight = new Set<Promise<void>>();
  const fail = (key: string, why: string): void => {
    if (r.failures.length < 50) r.failures.push(`${key}: ${why}`);
  };

  const repoFor = (segments: string[]): Promise<LocalBackend> => {
    const path = join(o.dir, ...segments);
    let b = repos.get(path);
    if (b === undefined) {
      b = (async () => {
        const backend = new LocalBackend(path);
        if (!o.dryRun) await backend.create();
        return backend;
      })();
      repos.set(path, b);
    }
    return b;
  };

  async function one(e: StateEntry, h: Handle, segments: string[]): Promise<void> {
    try {
      if (o.dryRun) {
        r.written += 1;
        r.writtenBytes += e.size;
        o.onFile?.(e.key, 'written', e.size);
        return;
      }
      const backend = await repoFor(segments);
      const body = await o.buckets.read({ bucket: o.bucket, key: e.key, versionId: e.versionId }, o.signal ? { signal: o.signal } : {});
      const saved = await backend.save(h, body, { size: e.size, ...(o.signal ? { signal: o.signal } : {}) });
      if (saved === 'existed') r.same += 1;
      else {
        r.written += 1;
        r.writtenBytes += e.size;
      }
      o.onFile?.(e.key, saved === 'existed' ? 'same' : 'written', e.size);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'INTEGRITY' || code === 'ALREADY_EXISTS') {
        r.refused += 1;
        fail(e.key, code === 'INTEGRITY' ? `refused: ${(err as Error).message}` : 'refused: a different file of that name is already in the directory');
        o.onFile?.(e.key, 'refused', e.size);
      } else {
        r.failed += 1;
        fail(e.key, (err as Error).message);
        o.onFile?.(e.key, 'failed', e.size);
      }
    }
  }

  for await (const e of entries) {
    if (o.signal?.aborted === true) break;
    const rel = e.key.slice(o.prefix.length);
    if (e.deleteMarker || isRwmKey(rel)) continue;
    const name = parseResticKey(rel);
    const segments = name === undefined ? undefined : repoSegments(name.repo);
    if (name === undefined || segments === undefined) {
      r.foreign += 1;
      fail(e.key, 'not a restic file: not restored');
      o.onFile?.(e.key, 'foreign', e.size);
      continue;
    }
    if (name.kind === 'locks') continue;
    const h: Handle = name.kind === 'config' ? { type: 'config' } : { type: name.kind, name: name.id ?? '' };
    const p: Promise<void> = one(e, h, segments).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (o.signal?.aborted === true) throw new Error('interrupted: run the same restore again to finish it (files already restored are kept)');
  return r;
}
