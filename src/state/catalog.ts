// Where states live and how to find one: in the bucket under `PREFIX/.rwm/state/NAME.jsonl.gz`, and
// on the trusted host under `STATE_DIR/states/BUCKET/PREFIX/NAME.jsonl.gz`. A state key in the bucket
// is written once; if someone with the backup keys put another version over it, the first version
// is the state and the overwrite is reported.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VersionedBuckets, VersionRecord } from '../s3/bucket.js';
import { keyPrefix } from '../s3/names.js';
import { openState, STATE_NAME_RE, StateFormatError, type OpenedState } from './format.js';

export const STATE_SUFFIX = '.jsonl.gz';

export const stateKey = (prefix: string, name: string): string => `${keyPrefix(prefix)}.rwm/state/${name}${STATE_SUFFIX}`;

export function localStateDir(stateDir: string, bucket: string, prefix: string): string {
  return join(stateDir, 'states', bucket, ...(prefix === '' ? [] : prefix.split('/')));
}

export interface StateInfo {
  readonly name: string;
  readonly where: 'bucket' | 'local';
  /** Bucket states: the key and the first version written. */
  readonly key?: string;
  readonly versionId?: string;
  /** The S3 owner who wrote it (bucket states). */
  readonly owner?: string;
  readonly lastModified: number;
  readonly size: number;
  /** Bucket states: versions under the key (more than one: someone wrote over it). */
  readonly versions?: number;
  readonly file?: string;
}

/** The states in the bucket, oldest first. */
export async function listBucketStates(buckets: VersionedBuckets, bucket: string, prefix: string): Promise<StateInfo[]> {
  const dir = `${keyPrefix(prefix)}.rwm/state/`;
  const byKey = new Map<string, VersionRecord[]>();
  for await (const r of buckets.listVersions(bucket, dir)) {
    const rest = r.key.slice(dir.length);
    if (!rest.endsWith(STATE_SUFFIX) || !STATE_NAME_RE.test(rest.slice(0, -STATE_SUFFIX.length))) continue;
    const list = byKey.get(r.key) ?? [];
    list.push(r);
    byKey.set(r.key, list);
  }
  const out: StateInfo[] = [];
  for (const [key, versions] of byKey) {
    const first = [...versions].reverse().find((v) => !v.deleteMarker);
    if (first === undefined) continue;
    out.push({ name: key.slice(dir.length, -STATE_SUFFIX.length), where: 'bucket', key, versionId: first.versionId, owner: first.owner, lastModified: first.lastModified, size: first.size, versions: versions.filter((v) => !v.deleteMarker).length });
  }
  return out.sort((a, b) => a.lastModified - b.lastModified || (a.name < b.name ? -1 : 1));
}

/** The states in the local state directory for BUCKET/PREFIX, oldest first. */
export async function listLocalStates(stateDir: string, bucket: string, prefix: string): Promise<StateInfo[]> {
  const dir = localStateDir(stateDir, bucket, prefix);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: StateInfo[] = [];
  for (const f of names) {
    const name = f.slice(0, -STATE_SUFFIX.length);
    if (!f.endsWith(STATE_SUFFIX) || !STATE_NAME_RE.test(name)) continue;
    const st = await stat(join(dir, f));
    out.push({ name, where: 'local', lastModified: st.mtimeMs, size: st.size, file: join(dir, f) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function openStateInfo(buckets: VersionedBuckets, bucket: string, info: StateInfo): Promise<OpenedState> {
  if (info.file !== undefined) return openState(createReadStream(info.file), info.file);
  if (info.key === undefined || info.versionId === undefined) throw new StateFormatError(`state ${info.name}: no location`);
  return openState(await buckets.read({ bucket, key: info.key, versionId: info.versionId }), `${bucket}/${info.key}`);
}

export class StateNotFound extends Error {
  override readonly name = 'StateNotFound';
}

/**
 * A state by name (as `state list` prints it; a unique leading part is enough), from the bucket
 * first, else from the local directory; or a path to a state file.
 */
export async function findState(buckets: VersionedBuckets, bucket: string, prefix: string, id: string, stateDir: string | undefined): Promise<{ info: StateInfo; state: OpenedState }> {
  if (id.includes('/') || id.endsWith(STATE_SUFFIX)) {
    const st = await stat(id).catch(() => undefined);
    if (st?.isFile() !== true) throw new StateNotFound(`state file ${id} does not exist`);
    const info: StateInfo = { name: id, where: 'local', lastModified: st.mtimeMs, size: st.size, file: id };
    return { info, state: await openStateInfo(buckets, bucket, info) };
  }
  const pick = (all: StateInfo[]): StateInfo | undefined => {
    const exact = all.find((s) => s.name === id);
    if (exact !== undefined) return exact;
    const some = all.filter((s) => s.name.startsWith(id));
    if (some.length > 1) throw new StateNotFound(`"${id}" names ${some.length} states (${some.slice(0, 3).map((s) => s.name).join(', ')}, ...): give more of the name`);
    return some[0];
  };
  const info = pick(await listBucketStates(buckets, bucket, prefix)) ?? (stateDir === undefined ? undefined : pick(await listLocalStates(stateDir, bucket, prefix)));
  if (info === undefined) throw new StateNotFound(`no state "${id}" for ${bucket}${prefix === '' ? '' : `/${prefix}`} (see rwm state list)`);
  return { info, state: await openStateInfo(buckets, bucket, info) };
}

/** The newest verified state `rwm scrub` left in the state directory for BUCKET/PREFIX (never one from the bucket, where the backup user can write). */
export async function latestVerifiedState(stateDir: string, bucket: string, prefix: string): Promise<{ name: string; state: OpenedState } | undefined> {
  const local = await listLocalStates(stateDir, bucket, prefix);
  for (const info of local.reverse()) {
    if (info.file === undefined) continue;
    const st = await openState(createReadStream(info.file), info.file).catch(() => undefined);
    if (st === undefined) continue;
    if (st.header.writer.command === 'scrub') return { name: info.name, state: st };
    await st.entries[Symbol.asyncIterator]().return?.(undefined);
  }
  return undefined;
}
