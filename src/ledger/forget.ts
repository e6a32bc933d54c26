// Retention an attacker can't steer: the `forget` decisions are computed here, by restic's policy
// rules (retention.ts) over the trusted ARRIVAL times in the book, and restic is given explicit ids.
// A forged `restic backup --time` then moves nothing. Before any removal, a guard: if a group would
// lose a snapshot while a snapshot it keeps has a finding (a forged or shrunk one pushing out a good
// one), the whole forget is refused unless the operator overrides it.
import type { Book, BookEntry } from './book.js';
import type { Finding } from './findings.js';
import { planRetention, type RetentionGroup, type RetentionPolicy } from './retention.js';

export interface ForgetPlan {
  readonly groups: RetentionGroup[];
  readonly keep: string[];
  readonly remove: string[];
  /** Why the guard refuses (empty: it does not). */
  readonly blocked: string[];
}

export function planForget(book: Book, present: ReadonlySet<string>, policy: RetentionPolicy, findings: readonly Finding[], o: { groupBy?: string; timeZone?: string } = {}): ForgetPlan {
  const live = book.snapshots.filter((e) => present.has(e.id) && e.removed === undefined);
  const groups = planRetention(
    live.map((e: BookEntry) => ({ id: e.id, time: Date.parse(e.arrival), hostname: e.hostname, paths: e.paths, tags: e.tags })),
    policy,
    { ...(o.groupBy !== undefined ? { groupBy: o.groupBy } : {}), ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}) },
  );
  const flagged = new Map<string, string[]>();
  for (const f of findings) flagged.set(f.id, [...(flagged.get(f.id) ?? []), f.code]);
  const keep: string[] = [];
  const remove: string[] = [];
  const blocked: string[] = [];
  for (const g of groups) {
    const kept = g.decisions.filter((d) => d.keep);
    const removed = g.decisions.filter((d) => !d.keep);
    keep.push(...kept.map((d) => d.id));
    remove.push(...removed.map((d) => d.id));
    const bad = kept.filter((d) => flagged.has(d.id));
    if (removed.length > 0 && bad.length > 0) {
      blocked.push(`group ${JSON.stringify(g.key)} would lose ${removed.length} snapshot(s) while keeping ${bad.map((d) => `${d.id.slice(0, 8)} (${(flagged.get(d.id) ?? []).join(', ')})`).join(', ')}`);
    }
  }
  return { groups, keep, remove, blocked };
}
