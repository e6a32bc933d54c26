// The latest retain-until date rwm asks an S3 server to store. Ceph RGW keeps it as a 32-bit count
// of seconds: 2106-02-07T06:28:15Z is accepted and kept, a later date is accepted and wraps around
// (2200 is stored as 2063, 9999 as 1991) — a lock much shorter than asked for, or none.
export const MAX_RETAIN_UNTIL = new Date(Date.UTC(2106, 1, 7, 6, 28, 15));

const DAY_MS = 86_400_000;

/** Why `days` from `now` cannot be stored as a retain-until date, or undefined if it can. */
export function retentionProblem(days: number, now = Date.now()): string | undefined {
  if (now + days * DAY_MS <= MAX_RETAIN_UNTIL.getTime()) return undefined;
  const most = Math.floor((MAX_RETAIN_UNTIL.getTime() - now) / DAY_MS);
  return `${days} days from now is past ${MAX_RETAIN_UNTIL.toISOString()}, the latest retain-until date Ceph RGW stores (a later one wraps around to a date decades earlier): at most ${most} days`;
}
