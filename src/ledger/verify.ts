// `rwm ledger verify`: brings the trusted host's book up to date with what the repository holds
// (restic snapshots, with the password), adding each new snapshot with its trusted arrival time and
// size, and reports what the book finds (src/ledger/findings.ts).
import { resticForgetIds, resticSnapshots, resticStats, type ResticCallOptions } from '../restic/commands.js';
import type { ResticRepo } from '../restic/env.js';
import type { Snapshot } from '../restic/schema/snapshots.js';
import type { ArrivalSource } from './arrivals.js';
import { byArrival, loadBook, saveBook, type Book, type BookEntry } from './book.js';
import { findFindings, groupKey, type Finding, type FindingOptions } from './findings.js';

/** On a book's first run, every snapshot that arrived this recently is sized. */
const RECENT_MS = 7 * 86_400_000;

export interface LedgerTarget {
  /** For messages and the book's header: BUCKET/PREFIX or the directory. */
  readonly repository: string;
  readonly bookFile: string;
  readonly restic: ResticRepo;
  readonly arrivals: ArrivalSource;
}

export interface LedgerReport {
  readonly repository: string;
  readonly book: string;
  readonly snapshots: number;
  /** Snapshots seen for the first time in this run. */
  readonly added: string[];
  readonly findings: Finding[];
}

export interface VerifyOptions {
  readonly findings: FindingOptions;
  readonly now?: Date;
  /** Do not write the book (a dry run sees the same findings). */
  readonly readOnly?: boolean;
  readonly restic?: ResticCallOptions;
}

export interface Verified {
  readonly report: LedgerReport;
  readonly book: Book;
  readonly present: ReadonlySet<string>;
}

export async function verifyLedger(t: LedgerTarget, o: VerifyOptions): Promise<Verified> {
  const now = o.now ?? new Date();
  const snapshots = await resticSnapshots(t.restic, {}, o.restic ?? {});
  const book = await loadBook(t.bookFile, t.repository, now);
  const known = new Set(book.snapshots.map((e) => e.id));
  const fresh = snapshots.filter((s) => !known.has(s.id));
  const arrivals = await t.arrivals.arrivals(fresh.map((s) => s.id));
  const sized = toSize(fresh, book.snapshots.length === 0, o.findings.shrinkWindow + 1, (s) => arrivals.get(s.id)?.at ?? now.getTime(), now.getTime() - RECENT_MS);
  const added: BookEntry[] = [];
  for (const s of fresh) {
    const a = arrivals.get(s.id);
    const size = sized.has(s.id) ? await sizeOf(t.restic, s, o.restic ?? {}) : {};
    added.push({
      id: s.id,
      hostname: s.hostname,
      paths: s.paths,
      tags: s.tags ?? [],
      time: s.time,
      tree: s.tree,
      arrival: new Date(a?.at ?? now.getTime()).toISOString(),
      arrivalSource: a?.source ?? 'file',
      recorded: a?.recorded ?? false,
      ...(a?.user !== undefined ? { user: a.user } : {}),
      ...(a?.addr !== undefined ? { addr: a.addr } : {}),
      ...size,
      firstSeen: now.toISOString(),
    });
  }
  const updated: Book = { ...book, updated: now.toISOString(), snapshots: [...book.snapshots, ...added].sort(byArrival) };
  if (o.readOnly !== true) await saveBook(t.bookFile, updated);
  const present = new Set(snapshots.map((s) => s.id));
  return {
    book: updated,
    present,
    report: { repository: t.repository, book: t.bookFile, snapshots: snapshots.length, added: added.map((e) => e.id), findings: findFindings(updated.snapshots, present, o.findings) },
  };
}

/**
 * Which new snapshots get a size (one restic stats run each). On a book's first run, a repository's
 * whole history is new: only the newest `keep` of each host+paths group are sized (what "shrunk" will
 * compare the next snapshots with) and those that arrived since `since`, so enrolling a repository of
 * thousands of snapshots stays quick.
 */
function toSize(fresh: readonly Snapshot[], firstRun: boolean, keep: number, arrivalOf: (s: Snapshot) => number, since: number): Set<string> {
  if (!firstRun) return new Set(fresh.map((s) => s.id));
  const groups = new Map<string, Snapshot[]>();
  for (const s of fresh) {
    const k = groupKey({ hostname: s.hostname, paths: s.paths });
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const out = new Set(fresh.filter((s) => arrivalOf(s) >= since).map((s) => s.id));
  for (const g of groups.values()) for (const s of [...g].sort((a, b) => arrivalOf(b) - arrivalOf(a)).slice(0, keep)) out.add(s.id);
  return out;
}

/** Files and bytes of the restored tree: restic's own summary (restic ≥ 0.17), else restic stats. */
async function sizeOf(repo: ResticRepo, s: Snapshot, opts: ResticCallOptions): Promise<{ files: number; bytes: number }> {
  const sum = s.summary;
  if (sum !== undefined && typeof sum.total_files_processed === 'number' && typeof sum.total_bytes_processed === 'number') {
    return { files: sum.total_files_processed, bytes: sum.total_bytes_processed };
  }
  const st = await resticStats(repo, { mode: 'restore-size', snapshots: [s.id] }, opts);
  return { files: st.total_file_count, bytes: st.total_size };
}

/** Marks snapshots as removed by a trusted run, so that their absence is not reported as vanished. */
export async function recordRemoved(file: string, book: Book, ids: readonly string[], run: string, now: Date = new Date()): Promise<Book> {
  const gone = new Set(ids);
  const updated: Book = {
    ...book,
    updated: now.toISOString(),
    snapshots: book.snapshots.map((e) => (gone.has(e.id) && e.removed === undefined ? { ...e, removed: { at: now.toISOString(), run } } : e)),
  };
  await saveBook(file, updated);
  return updated;
}

/**
 * Removes snapshots as a trusted run: recorded in the book first (so they are never reported as
 * vanished), then `restic forget ID...`; if restic fails, the book is put back as it was.
 */
export async function forgetAsTrusted(file: string, book: Book, restic: ResticRepo, ids: readonly string[], run: string, o: { prune: boolean; restic?: ResticCallOptions }): Promise<void> {
  await recordRemoved(file, book, ids, run);
  try {
    await resticForgetIds(restic, ids, { prune: o.prune }, o.restic ?? {});
  } catch (err) {
    await saveBook(file, book).catch(() => undefined);
    throw err;
  }
}
