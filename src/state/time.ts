// Points in time on the command line: RFC 3339 with a zone ("2026-05-01T12:00:00Z",
// "2026-05-01T14:00:00+02:00"), or an age ("90m", "2h", "3d", "1w") counted back from now. A date
// without a zone is refused: it would mean different instants on different hosts.

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const AGE = /^([1-9][0-9]{0,6})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export class TimeError extends Error {
  override readonly name = 'TimeError';
}

/** An age ("90m", "2h", "3d", "1w") in milliseconds. */
export function parseAgeMs(text: string): number {
  const age = AGE.exec(text);
  if (age === null) throw new TimeError(`"${text}" is not an age such as 10m, 24h, 2d or 1w`);
  return Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
}

export function parseTime(text: string, now: number = Date.now()): number {
  const age = AGE.exec(text);
  if (age !== null) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
  if (RFC3339.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    // Date.parse rolls 2026-02-30 over into March: the calendar date must survive the round trip.
    const [y, mo, d] = text.slice(0, 10).split('-').map(Number);
    const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
    const localMs = offset === null ? t : t + (offset[1] === '+' ? 1 : -1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
    const local = new Date(localMs);
    if (!Number.isNaN(t) && local.getUTCFullYear() === y && local.getUTCMonth() + 1 === mo && local.getUTCDate() === d) return t;
  }
  throw new TimeError(`"${text}" is not a time: give RFC 3339 with a zone (2026-05-01T12:00:00Z, 2026-05-01T14:00:00+02:00) or an age (90m, 2h, 3d, 1w)`);
}

/**
 * Meant as a time (as opposed to a state name)? Anything that starts like a date counts, so a date
 * without a zone gets parseTime's error instead of being looked up as a state name.
 */
export function looksLikeTime(text: string): boolean {
  return AGE.test(text) || /^\d{4}-\d{2}-\d{2}/.test(text);
}
