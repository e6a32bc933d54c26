// Pure: what changed between two states, classified for restic. restic names every file but
// `config` by the SHA-256 of its bytes, so another version on top of such a key with other bytes is
// tampering by definition; a changed `config`, or any change to `keys/`, is an alarm (someone can
// now open, or no longer open, the repository); new snapshots and index files are the normal course
// of backups and are listed by id; deletions are what a prune does.
import { isLockKey, isRwmKey, parseResticKey, type ResticFileKind } from '../s3/names.js';
import type { StateEntry } from './format.js';
import { mergeJoin, sameContent } from './merge.js';

export type ChangeKind = 'added' | 'changed' | 'deleted' | 'rewritten';
export type Severity = 'tampering' | 'alarm' | 'normal';

export interface Change {
  readonly kind: ChangeKind;
  readonly key: string;
  readonly severity: Severity;
  /** restic's file type, or 'foreign' for a key that is not restic's. */
  readonly type: ResticFileKind | 'foreign';
  readonly id?: string;
  readonly from?: StateEntry;
  readonly to?: StateEntry;
}

const live = (e: StateEntry | undefined): StateEntry | undefined => (e === undefined || e.deleteMarker ? undefined : e);

function severityOf(kind: ChangeKind, type: ResticFileKind | 'foreign'): Severity {
  if (kind === 'rewritten') return 'normal';
  if (kind === 'changed') return type === 'config' ? 'alarm' : 'tampering';
  if (type === 'keys' || type === 'config') return 'alarm';
  if (type === 'foreign' && kind === 'added') return 'alarm';
  return 'normal';
}

/** `prefix` is the key prefix of the states ('' or ending in '/'); locks and rwm's own keys are left out. */
export async function* diffStates(from: AsyncIterable<StateEntry>, to: AsyncIterable<StateEntry>, prefix: string): AsyncGenerator<Change> {
  for await (const p of mergeJoin(from, to)) {
    const rel = p.key.slice(prefix.length);
    if (isRwmKey(rel) || isLockKey(rel)) continue;
    const a = live(p.a);
    const b = live(p.b);
    let kind: ChangeKind;
    if (a === undefined && b === undefined) continue;
    else if (a === undefined) kind = 'added';
    else if (b === undefined) kind = 'deleted';
    else if (a.versionId === b.versionId) continue;
    else kind = sameContent(a, b) ? 'rewritten' : 'changed';
    const name = parseResticKey(rel);
    const type = name?.kind ?? 'foreign';
    yield {
      kind,
      key: p.key,
      severity: severityOf(kind, type),
      type,
      ...(name?.id !== undefined ? { id: name.id } : {}),
      ...(a !== undefined ? { from: a } : {}),
      ...(b !== undefined ? { to: b } : {}),
    };
  }
}
