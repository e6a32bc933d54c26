// Pure planner of restic's `forget` keep-policy (restic 0.14: internal/restic/snapshot_policy.go,
// snapshot_group.go, cmd/restic/cmd_forget.go), applied to a time the caller chooses. The trusted host
// plans by each snapshot's arrival time, which the backup host cannot forge, instead of restic's own
// `time` field (`restic backup --time` sets it), then passes explicit ids to `restic forget ID...`.
//
// Where restic's behaviour is arbitrary or unsafe this planner is stricter, and says so:
// - restic orders snapshots of equal time as its parallel loader happened to yield them; here ties are
//   broken by id, so the plan does not depend on input order;
// - restic accepts negative counts and durations (a policy of only `--keep-last -1` removes everything);
//   here they are refused, as are empty policies (restic then removes nothing) and duplicate ids;
// - restic buckets each time in the zone offset its snapshot was written with (Local when that offset
//   is one of Local's); here every time is bucketed in one IANA zone, `timeZone`.

export interface RetentionSnapshot {
  readonly id: string;
  /** The time to plan by, in ms since the epoch (for the ledger: the arrival time). */
  readonly time: number;
  readonly hostname: string;
  readonly paths: readonly string[];
  readonly tags: readonly string[];
}

/** restic's `--keep-*` options; counts MUST be non-negative integers, durations restic's `1y2m3d4h`. */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  /** Each inner list is one `--keep-tag a,b`: a snapshot carrying all of its tags is kept. */
  keepTags?: readonly (readonly string[])[];
}

export interface RetentionDecision {
  readonly id: string;
  readonly keep: boolean;
  /** Why it is kept, in restic's words ('last snapshot', 'daily snapshot', 'within 30d', 'has tags [a, b]'); empty when removed. */
  readonly reasons: readonly string[];
}

export interface RetentionGroup {
  /** Only the fields grouped by are present; paths and tags sorted, as restic sorts them. */
  readonly key: { hostname?: string; paths?: readonly string[]; tags?: readonly string[] };
  /** Newest first; equal times by id. */
  readonly decisions: readonly RetentionDecision[];
}

export interface RetentionOptions {
  /** restic's `--group-by`: '' or a comma list of host, paths, tags (or host(s)/path(s)/tag(s)); default 'host,paths'. */
  groupBy?: string;
  /** IANA zone whose wall clock makes the hourly/daily/weekly/monthly/yearly buckets; default the process's local zone. */
  timeZone?: string;
  /** restic ignores snapshots dated in the future when finding the newest one for `keep-within*`; default Date.now(). */
  now?: number;
}

export class RetentionError extends Error {
  override readonly name = 'RetentionError';
}

export interface ResticDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

const DURATION_PART = /^(\d+)([ymdh])/;

/** restic's duration (`1y2m3d4h`, units in any order, a repeated unit overrides); '' is zero. Negative numbers are refused. */
export function parseResticDuration(text: string): ResticDuration {
  const d = { years: 0, months: 0, days: 0, hours: 0 };
  const field = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;
  let rest = text.trim();
  while (rest !== '') {
    const m = DURATION_PART.exec(rest);
    if (m === null) throw new RetentionError(`"${text}" is not a restic duration: give numbers with units y, m, d, h, e.g. 1y2m3d4h`);
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n)) throw new RetentionError(`"${text}": ${m[1]} is too large`);
    d[field[m[2] as keyof typeof field]] = n;
    rest = rest.slice(m[0].length);
  }
  return d;
}

/** restic's Duration.String(): the non-zero parts, `2y3m` for `3m2y`. */
export function formatResticDuration(d: ResticDuration): string {
  return (d.years !== 0 ? `${d.years}y` : '') + (d.months !== 0 ? `${d.months}m` : '') + (d.days !== 0 ? `${d.days}d` : '') + (d.hours !== 0 ? `${d.hours}h` : '');
}

/** restic's `--keep-tag` value: comma-separated, each tag trimmed ('' stands for "no tags at all"). */
export function parseResticTagList(text: string): string[] {
  return text.split(',').map((t) => t.trim());
}

const isZero = (d: ResticDuration): boolean => d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;

// ---- wall clock in a zone ----

interface Wall {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch (cause) {
      throw new RetentionError(`"${timeZone}" is not a time zone: give an IANA name such as Europe/Berlin or UTC`, { cause });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

function wallAt(ms: number, timeZone: string): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  const yearOfEra = Number(parts.year);
  return {
    year: parts.era === 'BC' || parts.era === 'B' ? 1 - yearOfEra : yearOfEra,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The wall clock read as if it were UTC, in ms; months and days out of range roll over, as in Go's time.Date. */
function wallAsUtc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // setUTCFullYear, not Date.UTC: Date.UTC reads years 0..99 as 19xx
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The zone's offset from UTC at an instant, in ms (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const s = Math.floor(ms / 1000) * 1000;
  const w = wallAt(s, timeZone);
  return wallAsUtc(w.year, w.month, w.day, w.hour, w.minute, w.second) - s;
}

/** t.AddDate(-years, -months, -days).Add(-hours) in Go, for a time in `timeZone`. */
function subtractDuration(ms: number, d: ResticDuration, timeZone: string): number {
  const w = wallAt(ms, timeZone);
  const fraction = ms - Math.floor(ms / 1000) * 1000;
  const wall = wallAsUtc(w.year - d.years, w.month - d.months, w.day - d.days, w.hour, w.minute, w.second);
  // Go's time.Date: take the offset in force at the wall clock read as UTC; if the instant that gives
  // lies outside that offset's period, take the offset in force at that instant instead. For wall
  // clocks in a DST gap or overlap this picks what Go picks.
  const instant = wall - offsetAt(wall - offsetAt(wall, timeZone), timeZone);
  return instant + fraction - d.hours * 3_600_000;
}

/** Go's Time.ISOWeek(): the ISO 8601 year and week of a calendar date. */
function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = wallAsUtc(year, month, day, 0, 0, 0);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  const thursday = new Date(date + (3 - weekday) * 86_400_000); // the week belongs to its Thursday's year
  const isoYear = thursday.getUTCFullYear();
  const jan1 = new Date(0);
  jan1.setUTCFullYear(isoYear, 0, 1);
  return { year: isoYear, week: Math.floor((thursday.getTime() - jan1.getTime()) / 86_400_000 / 7) + 1 };
}

// ---- the policy ----

interface Bucketed {
  readonly sn: RetentionSnapshot;
  readonly hour: number; // YYYYMMDDHH
  readonly day: number; // YYYYMMDD
  readonly week: number; // YYYYWW (ISO)
  readonly month: number; // YYYYMM
  readonly year: number;
}

type BucketName = 'hour' | 'day' | 'week' | 'month' | 'year';

interface Parsed {
  readonly counts: readonly { readonly count: number; readonly bucket: BucketName | 'always'; readonly reason: string }[];
  readonly within: ResticDuration | undefined;
  readonly withins: readonly { readonly within: ResticDuration; readonly bucket: BucketName; readonly reason: string }[];
  readonly tags: readonly (readonly string[])[];
}

function count(name: string, n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new RetentionError(`${name} must be a whole number of snapshots, 0 or more (got ${n})`);
  return n;
}

function duration(name: string, s: string | undefined): ResticDuration | undefined {
  if (s === undefined) return undefined;
  const d = parseResticDuration(s);
  return isZero(d) ? undefined : d;
}

function parsePolicy(p: RetentionPolicy): Parsed {
  const counts = (
    [
      [count('keepLast', p.keepLast), 'always', 'last snapshot'],
      [count('keepHourly', p.keepHourly), 'hour', 'hourly snapshot'],
      [count('keepDaily', p.keepDaily), 'day', 'daily snapshot'],
      [count('keepWeekly', p.keepWeekly), 'week', 'weekly snapshot'],
      [count('keepMonthly', p.keepMonthly), 'month', 'monthly snapshot'],
      [count('keepYearly', p.keepYearly), 'year', 'yearly snapshot'],
    ] as const
  ).map(([n, bucket, reason]) => ({ count: n, bucket, reason }));
  const withins: { within: ResticDuration; bucket: BucketName; reason: string }[] = [];
  for (const [within, bucket, reason] of [
    [duration('keepWithinHourly', p.keepWithinHourly), 'hour', 'hourly within'],
    [duration('keepWithinDaily', p.keepWithinDaily), 'day', 'daily within'],
    [duration('keepWithinWeekly', p.keepWithinWeekly), 'week', 'weekly within'],
    [duration('keepWithinMonthly', p.keepWithinMonthly), 'month', 'monthly within'],
    [duration('keepWithinYearly', p.keepWithinYearly), 'year', 'yearly within'],
  ] as const) {
    if (within !== undefined) withins.push({ within, bucket, reason: `${reason} ${formatResticDuration(within)}` });
  }
  const parsed = { counts, within: duration('keepWithin', p.keepWithin), withins, tags: p.keepTags ?? [] };
  if (parsed.tags.length === 0 && parsed.within === undefined && withins.length === 0 && counts.every((c) => c.count === 0)) {
    // restic then removes nothing; a planner that is asked to decide removals must be told what to keep.
    throw new RetentionError('the retention policy is empty: give at least one keep rule (keepLast, keepDaily, keepWithin, keepTags, ...)');
  }
  return parsed;
}

/** restic's Snapshot.HasTags, quirks included: '' matches a snapshot without tags, and stops the check there. */
function hasTags(sn: RetentionSnapshot, list: readonly string[]): boolean {
  for (const tag of list) {
    if (tag === '' && sn.tags.length === 0) return true;
    if (!sn.tags.includes(tag)) return false;
  }
  return true;
}

function applyPolicy(group: readonly Bucketed[], p: Parsed, timeZone: string, now: number): RetentionDecision[] {
  // The newest snapshot not dated in the future; if there is none, Go's zero time, before everything.
  let latest: number | undefined;
  for (const b of group) if ((latest === undefined || b.sn.time > latest) && b.sn.time < now) latest = b.sn.time;
  const after = (d: ResticDuration): number => (latest === undefined ? -Infinity : subtractDuration(latest, d, timeZone));
  const withinAfter = p.within === undefined ? undefined : after(p.within);
  const withinLabel = p.within === undefined ? '' : `within ${formatResticDuration(p.within)}`;
  const counters = p.counts.map((c) => ({ ...c, left: c.count, last: -1 }));
  const withins = p.withins.map((w) => ({ ...w, after: after(w.within), last: -1 }));

  return group.map((b, nr) => {
    const reasons: string[] = [];
    for (const list of p.tags) if (hasTags(b.sn, list)) reasons.push(`has tags [${list.join(', ')}]`);
    if (withinAfter !== undefined && b.sn.time > withinAfter) reasons.push(withinLabel);
    for (const c of counters) {
      if (c.left <= 0) continue;
      const val = c.bucket === 'always' ? nr : b[c.bucket];
      if (val !== c.last) {
        c.last = val;
        c.left--;
        reasons.push(c.reason);
      }
    }
    for (const w of withins) {
      if (!(b.sn.time > w.after)) continue;
      const val = b[w.bucket];
      if (val !== w.last) {
        w.last = val;
        reasons.push(w.reason);
      }
    }
    return { id: b.sn.id, keep: reasons.length > 0, reasons };
  });
}

// ---- grouping ----

/** Go's sort.Strings order (UTF-8 bytes), not JavaScript's (UTF-16 code units). */
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function compareLists(a: readonly string[] = [], b: readonly string[] = []): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = byBytes(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

const compareKeys = (a: RetentionGroup['key'], b: RetentionGroup['key']): number =>
  byBytes(a.hostname ?? '', b.hostname ?? '') || compareLists(a.paths, b.paths) || compareLists(a.tags, b.tags);

function parseGroupBy(groupBy: string): { host: boolean; paths: boolean; tags: boolean } {
  const g = { host: false, paths: false, tags: false };
  for (const option of groupBy.split(',')) {
    switch (option) {
      case 'host':
      case 'hosts':
        g.host = true;
        break;
      case 'path':
      case 'paths':
        g.paths = true;
        break;
      case 'tag':
      case 'tags':
        g.tags = true;
        break;
      case '':
        break;
      default:
        throw new RetentionError(`unknown grouping option: '${option}' (give '' or a comma list of host, paths, tags)`);
    }
  }
  return g;
}

function bucketed(sn: RetentionSnapshot, timeZone: string): Bucketed {
  const w = wallAt(sn.time, timeZone);
  const iso = isoWeek(w.year, w.month, w.day);
  return {
    sn,
    hour: ((w.year * 100 + w.month) * 100 + w.day) * 100 + w.hour,
    day: (w.year * 100 + w.month) * 100 + w.day,
    week: iso.year * 100 + iso.week,
    month: w.year * 100 + w.month,
    year: w.year,
  };
}

/**
 * restic 0.14's `forget` decisions for `snapshots` under `policy`, by each snapshot's `time`: one group per
 * `groupBy` key, sorted by hostname, then paths, then tags; within a group newest first. Throws RetentionError on an empty policy, a bad
 * count, duration, grouping or zone, a duplicate id or a time that is not a finite number.
 */
export function planRetention(snapshots: readonly RetentionSnapshot[], policy: RetentionPolicy, opts: RetentionOptions = {}): RetentionGroup[] {
  const parsed = parsePolicy(policy);
  const g = parseGroupBy(opts.groupBy ?? 'host,paths');
  const timeZone = opts.timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone;
  formatterFor(timeZone);
  const now = opts.now ?? Date.now();

  const seen = new Set<string>();
  const groups = new Map<string, { key: RetentionGroup['key']; members: Bucketed[] }>();
  for (const sn of snapshots) {
    if (seen.has(sn.id)) throw new RetentionError(`snapshot ${sn.id} is listed twice`);
    seen.add(sn.id);
    if (!Number.isFinite(sn.time)) throw new RetentionError(`snapshot ${sn.id} has no valid time (${sn.time})`);
    const key: { hostname?: string; paths?: readonly string[]; tags?: readonly string[] } = {};
    if (g.host) key.hostname = sn.hostname;
    if (g.paths) key.paths = [...sn.paths].sort(byBytes);
    if (g.tags) key.tags = [...sn.tags].sort(byBytes);
    const k = JSON.stringify([key.hostname ?? null, key.paths ?? null, key.tags ?? null]);
    let group = groups.get(k);
    if (group === undefined) groups.set(k, (group = { key, members: [] }));
    group.members.push(bucketed(sn, timeZone));
  }

  return [...groups.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ key, members }) => {
      members.sort((a, b) => b.sn.time - a.sn.time || byBytes(a.sn.id, b.sn.id));
      return { key, decisions: applyPolicy(members, parsed, timeZone, now) };
    });
}
