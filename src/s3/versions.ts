// THE ONE PLACE THAT PAGES ListObjectVersions. It walks the key space one "directory" at a time
// (Delimiter '/'), so restic's sharded layout (data/00..ff, index/, snapshots/, ...) is listed in
// parallel, and yields one record per version in key order, newest first within a key. Each listing
// runs at most a page ahead of its reader and only a window of directories is started at once, so
// memory stays flat however many objects the bucket holds.
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { prefetched, Semaphore } from '../util/prefetch.js';
import { compareWithinKey, type ListVersionsOptions, type VersionRecord } from './bucket.js';
import { decodeListVersionsFast, type ListVersionsPage } from './list-versions-xml.js';
import { compareKeys } from './names.js';

export const DEFAULT_LIST_CONCURRENCY = 16;
/** Pages a flat group listing runs ahead of its reader (a page holds up to 1000 versions). */
const FLAT_PAGES_AHEAD = 4;

type Item = { readonly dir: string } | { readonly rec: VersionRecord };

const etagOf = (e: string | undefined): string => (e ?? '').replace(/^"|"$/g, '').toLowerCase();
const timeOf = (d: Date | undefined): number => (d instanceof Date ? d.getTime() : 0);

/**
 * A page's versions and its delete markers come as two lists, each in S3's order: by key, and within
 * a key as S3 stacks them, the latest on top. They are merged, not sorted: the stack is the truth
 * about which version is on top, and LastModified can disagree with it (writes of one key within
 * a clock tick, an upload that completes after a later one), also across the pages of one key.
 */
function mergeKinds(versions: VersionRecord[], markers: VersionRecord[]): VersionRecord[] {
  const byKey = (a: VersionRecord, b: VersionRecord): number => compareKeys(a.key, b.key);
  versions.sort(byKey); // stable: keeps S3's order within a key
  markers.sort(byKey);
  const out: VersionRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < versions.length || j < markers.length) {
    const v = versions[i];
    const m = markers[j];
    if (m !== undefined && (v === undefined || (compareKeys(m.key, v.key) || compareWithinKey(m, v)) < 0)) {
      out.push(m);
      j += 1;
    } else {
      out.push(v as VersionRecord);
      i += 1;
    }
  }
  return out;
}

/** One page's versions, markers and sub-directories as one sorted sequence. */
export function pageItems(page: ListVersionsPage): Item[] {
  const versions: VersionRecord[] = [];
  const markers: VersionRecord[] = [];
  for (const v of page.Versions ?? []) {
    versions.push({ key: v.Key ?? '', versionId: v.VersionId ?? 'null', deleteMarker: false, isLatest: v.IsLatest === true, size: v.Size ?? 0, etag: etagOf(v.ETag), lastModified: timeOf(v.LastModified), owner: v.Owner?.ID ?? '' });
  }
  for (const m of page.DeleteMarkers ?? []) {
    markers.push({ key: m.Key ?? '', versionId: m.VersionId ?? 'null', deleteMarker: true, isLatest: m.IsLatest === true, size: 0, etag: '', lastModified: timeOf(m.LastModified), owner: m.Owner?.ID ?? '' });
  }
  const recs = mergeKinds(versions, markers);
  const dirs = (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '').filter((p) => p !== '');
  dirs.sort(compareKeys);
  // Merge: a directory's keys all start with its prefix, so it sits where its prefix sorts.
  const out: Item[] = [];
  let i = 0;
  for (const dir of dirs) {
    while (i < recs.length && compareKeys((recs[i] as VersionRecord).key, dir) < 0) out.push({ rec: recs[i++] as VersionRecord });
    out.push({ dir });
  }
  while (i < recs.length) out.push({ rec: recs[i++] as VersionRecord });
  return out;
}

/**
 * A directory's children that share their first character after it form a group: `data/0` holds
 * the shards data/00/ .. data/0f/. A group with two or more sub-directories is listed as one flat
 * prefix (no delimiter): all its keys in order with full pages, instead of a request per
 * sub-directory, most of them small. Groups are disjoint and each sorts where its prefix does, so
 * reading them in order still gives key order.
 */
function groupOf(dir: string, child: string): string {
  const cp = child.codePointAt(dir.length) ?? 0;
  return child.slice(0, dir.length + (cp > 0xffff ? 2 : 1));
}

type Unit = { readonly walk: string } | { readonly flat: string };

/** The order to read a page's items in: records, and the listings that cover the rest. */
function unitsOf(dir: string, items: readonly Item[], carried: { group: string; flat: boolean } | undefined): { out: (VersionRecord | Unit)[]; last: { group: string; flat: boolean } | undefined } {
  const subdirs = new Map<string, number>();
  for (const it of items) if ('dir' in it) subdirs.set(groupOf(dir, it.dir), (subdirs.get(groupOf(dir, it.dir)) ?? 0) + 1);
  const out: (VersionRecord | Unit)[] = [];
  let last = carried;
  for (const it of items) {
    const name = 'dir' in it ? it.dir : it.rec.key;
    const group = groupOf(dir, name);
    // A group already listed flat from an earlier page covers this item; one whose first
    // sub-directory was walked alone stays walked one by one, so nothing is listed twice.
    const flat = last?.group === group ? last.flat : (subdirs.get(group) ?? 0) >= 2;
    if (flat) {
      if (last?.group !== group) out.push({ flat: group });
    } else out.push('dir' in it ? { walk: it.dir } : it.rec);
    last = { group, flat };
  }
  return { out, last };
}

export function listS3Versions(client: S3Client, bucket: string, prefix: string, opts: ListVersionsOptions = {}): AsyncIterable<VersionRecord> {
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_LIST_CONCURRENCY);
  const requests = new Semaphore(concurrency);
  const send = (KeyMarker: string | undefined, VersionIdMarker: string | undefined, dir: string, delimit: boolean): Promise<ListVersionsPage> =>
    requests.run(async () => {
      const cmd = new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: dir,
        ...(delimit ? { Delimiter: '/' } : {}),
        ...(KeyMarker !== undefined ? { KeyMarker } : {}),
        ...(VersionIdMarker !== undefined ? { VersionIdMarker } : {}),
      });
      const decoded = decodeListVersionsFast(cmd);
      const out = await client.send(cmd, opts.signal ? { abortSignal: opts.signal } : {});
      return decoded() ?? out;
    });

  async function* pages(dir: string, delimit: boolean): AsyncGenerator<Item[]> {
    let km: string | undefined;
    let vm: string | undefined;
    for (;;) {
      const page = await send(km, vm, dir, delimit);
      yield pageItems(page);
      if (page.IsTruncated !== true) return;
      if (page.NextKeyMarker === undefined || (page.NextKeyMarker === km && page.NextVersionIdMarker === vm)) {
        throw new Error(`ListObjectVersions of ${bucket}/${dir}: truncated page without a new marker`);
      }
      km = page.NextKeyMarker;
      vm = page.NextVersionIdMarker;
    }
  }

  /** Every version under `group`, without a delimiter: a page per batch. */
  async function* flat(group: string): AsyncGenerator<VersionRecord[]> {
    for await (const items of pages(group, false)) yield items.flatMap((it) => ('rec' in it ? [it.rec] : []));
  }

  let ahead = 0;
  const maxAhead = 2 * concurrency;

  /** The records under `dir`, in batches; the listings below it are started `concurrency` ahead. */
  async function* walk(dir: string): AsyncGenerator<VersionRecord[]> {
    let carried: { group: string; flat: boolean } | undefined;
    for await (const items of prefetched(pages(dir, true), 1)) {
      const { out, last } = unitsOf(dir, items, carried);
      carried = last;
      const units = out.filter((u): u is Unit => !('key' in u));
      const started = new Map<Unit, AsyncGenerator<VersionRecord[]>>();
      const startedRelease = new Map<Unit, () => void>();
      let next = 0;
      let seenNow = 0;
      // Listings started ahead are capped for the whole walk (each holds a few pages), so nested
      // levels do not multiply: memory stays bounded however deep the tree. The one the reader
      // needs next is always started.
      const startUpTo = (n: number): void => {
        for (; next < Math.min(n, units.length); next++) {
          if (next > seenNow && ahead >= maxAhead) return;
          const u = units[next] as Unit;
          ahead += 1;
          let counted = true;
          const release = (): void => {
            if (counted) ahead -= 1;
            counted = false;
          };
          const g = 'walk' in u ? prefetched(walk(u.walk), 2) : prefetched(flat(u.flat), FLAT_PAGES_AHEAD);
          started.set(u, (async function* () {
            try {
              yield* g;
            } finally {
              release();
            }
          })());
          startedRelease.set(u, () => {
            release();
            void g.return(undefined);
          });
        }
      };
      try {
        let batch: VersionRecord[] = [];
        let seen = 0;
        for (const it of out) {
          if ('key' in it) {
            batch.push(it);
            continue;
          }
          if (batch.length > 0) yield batch;
          batch = [];
          seenNow = seen;
          startUpTo(seen + concurrency);
          const sub = started.get(it) as AsyncGenerator<VersionRecord[]>;
          started.delete(it);
          startedRelease.delete(it); // read to the end below: its own finally releases it
          seen += 1;
          yield* sub;
        }
        if (batch.length > 0) yield batch;
      } finally {
        for (const g of started.values()) await g.return(undefined);
        for (const r of startedRelease.values()) r();
      }
    }
  }

  return {
    async *[Symbol.asyncIterator]() {
      for await (const batch of walk(prefix)) yield* batch;
    },
  };
}
