// What the ledger finds when it compares a repository with the trusted host's book (pure: facts in,
// findings out). Each finding has a stable code:
//   vanished     a snapshot the book saw is gone, and no trusted run removed it
//   time-forged  restic's `time` is far from the trusted arrival time (restic backup --time)
//   shrunk       much smaller than the recent snapshots of its host+paths group, or an empty tree
//   unexpected   a host, path set or tag the repository never had, or more snapshots in a window
//                than the schedule allows (flooding)
//   unrecorded   rwm serve never stored it: written around the proxy
import { byArrival, type BookEntry, type FindingCode } from './book.js';

export interface Finding {
  readonly code: FindingCode;
  readonly id: string;
  readonly message: string;
}

export interface FindingOptions {
  /** restic's time may be this much later than the arrival (clock skew), in ms. */
  readonly clockSkewMs: number;
  /** ... and this much earlier (the longest a backup may run), in ms. */
  readonly timeToleranceMs: number;
  /** shrunk: fewer files or bytes than this fraction of the median of the group's recent snapshots. */
  readonly shrinkRatio: number;
  /** How many earlier snapshots of the group make "recent". */
  readonly shrinkWindow: number;
  /** unexpected: more than `count` snapshots of one group arriving within `windowMs`. */
  readonly flood: { readonly count: number; readonly windowMs: number };
  /** unrecorded: every snapshot must have a server record (else only those since the first record). */
  readonly served?: boolean;
}

export const DEFAULT_FINDING_OPTIONS: FindingOptions = {
  clockSkewMs: 10 * 60_000,
  timeToleranceMs: 24 * 3600_000,
  shrinkRatio: 0.5,
  shrinkWindow: 5,
  flood: { count: 48, windowMs: 24 * 3600_000 },
};

export const groupKey = (e: Pick<BookEntry, 'hostname' | 'paths'>): string => JSON.stringify([e.hostname, [...e.paths].sort()]);

const short = (id: string): string => id.slice(0, 8);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Findings for a book whose entries are up to date, given which ids the repository holds now.
 * Accepted findings (BookEntry.accepted) are left out.
 */
export function findFindings(entries: readonly BookEntry[], present: ReadonlySet<string>, o: FindingOptions = DEFAULT_FINDING_OPTIONS): Finding[] {
  const all = [...entries].sort(byArrival);
  const out: Finding[] = [];
  const add = (e: BookEntry, code: FindingCode, message: string): void => {
    if (e.accepted?.codes.includes(code) === true) return;
    out.push({ code, id: e.id, message: `snapshot ${short(e.id)} (${e.hostname} ${e.paths.join(' ')}): ${message}` });
  };
  const firstRecorded = all.find((e) => e.recorded);
  const hosts = new Set<string>();
  const pathSets = new Set<string>();
  const tags = new Set<string>();
  const groups = new Map<string, BookEntry[]>();
  for (const [i, e] of all.entries()) {
    const arrival = Date.parse(e.arrival);
    const g = groupKey(e);
    const earlier = groups.get(g) ?? [];
    if (e.removed === undefined && !present.has(e.id)) add(e, 'vanished', `seen by the ledger since ${e.firstSeen}, now gone, and no trusted run removed it`);
    if (e.removed === undefined && present.has(e.id)) {
      const t = Date.parse(e.time);
      if (t > arrival + o.clockSkewMs) add(e, 'time-forged', `restic's time ${e.time} is after it arrived (${e.arrival})`);
      else if (t < arrival - o.timeToleranceMs) add(e, 'time-forged', `restic's time ${e.time} is ${hours(arrival - t)} before it arrived (${e.arrival})`);
      if (e.bytes === 0) add(e, 'shrunk', 'its tree holds no file content (empty)');
      else if (e.bytes !== undefined && e.files !== undefined) {
        const recent = earlier.filter((p) => p.bytes !== undefined && p.files !== undefined && p.bytes > 0).slice(-o.shrinkWindow);
        if (recent.length > 0) {
          const mb = median(recent.map((p) => p.bytes as number));
          const mf = median(recent.map((p) => p.files as number));
          if (e.bytes < o.shrinkRatio * mb) add(e, 'shrunk', `${e.bytes} bytes against a median of ${Math.round(mb)} in the group's last ${recent.length}`);
          else if (e.files < o.shrinkRatio * mf) add(e, 'shrunk', `${e.files} files against a median of ${Math.round(mf)} in the group's last ${recent.length}`);
        }
      }
      if (i > 0) {
        if (!hosts.has(e.hostname)) add(e, 'unexpected', `host "${e.hostname}" never backed up to this repository before`);
        const ps = JSON.stringify([...e.paths].sort());
        if (!pathSets.has(ps)) add(e, 'unexpected', `path set ${e.paths.join(' ')} never backed up to this repository before`);
        const newTags = e.tags.filter((t) => !tags.has(t));
        if (newTags.length > 0) add(e, 'unexpected', `tag${newTags.length > 1 ? 's' : ''} ${newTags.join(', ')} never used in this repository before`);
      }
      const inWindow = earlier.filter((p) => Date.parse(p.arrival) > arrival - o.flood.windowMs).length + 1;
      if (inWindow > o.flood.count) add(e, 'unexpected', `${inWindow} snapshots of this group arrived within ${hours(o.flood.windowMs)} (at most ${o.flood.count} expected): flooding`);
      if (!e.recorded && (o.served === true || (firstRecorded !== undefined && arrival >= Date.parse(firstRecorded.arrival)))) {
        add(e, 'unrecorded', 'rwm serve never stored it: it was written around the proxy');
      }
    }
    hosts.add(e.hostname);
    pathSets.add(JSON.stringify([...e.paths].sort()));
    for (const t of e.tags) tags.add(t);
    earlier.push(e);
    groups.set(g, earlier);
  }
  return out;
}

function hours(ms: number): string {
  return ms >= 2 * 3600_000 ? `${(ms / 3600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;
}
