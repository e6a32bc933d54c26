// Pure: a merge-join of two key-sorted entry streams, pairing entries with equal keys. Memory is
// constant; both inputs MUST be sorted by key (S3's order) with one entry per key.
import { compareKeys } from '../s3/names.js';
import type { StateEntry } from './format.js';

export interface Pair {
  readonly key: string;
  readonly a: StateEntry | undefined;
  readonly b: StateEntry | undefined;
}

export async function* mergeJoin(as: AsyncIterable<StateEntry>, bs: AsyncIterable<StateEntry>): AsyncGenerator<Pair> {
  const ia = as[Symbol.asyncIterator]();
  const ib = bs[Symbol.asyncIterator]();
  let a = await ia.next();
  let b = await ib.next();
  try {
    while (a.done !== true || b.done !== true) {
      if (b.done === true || (a.done !== true && compareKeys(a.value.key, b.value.key) < 0)) {
        const av = a.value as StateEntry;
        yield { key: av.key, a: av, b: undefined };
        a = await ia.next();
      } else if (a.done === true || compareKeys(a.value.key, b.value.key) > 0) {
        yield { key: b.value.key, a: undefined, b: b.value };
        b = await ib.next();
      } else {
        yield { key: a.value.key, a: a.value, b: b.value };
        a = await ia.next();
        b = await ib.next();
      }
    }
  } finally {
    if (a.done !== true) await ia.return?.();
    if (b.done !== true) await ib.return?.();
  }
}

/** Same bytes: the same version, or an identical size and (single-part) ETag. */
export function sameContent(x: StateEntry, y: StateEntry): boolean {
  if (x.deleteMarker || y.deleteMarker) return false;
  return x.versionId === y.versionId || (x.size === y.size && x.etag !== '' && x.etag === y.etag);
}
