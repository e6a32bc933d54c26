import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BookEntry } from './book.js';
import { DEFAULT_FINDING_OPTIONS, findFindings } from './findings.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T02:00:00Z');
let n = 0;
const id = (): string => (++n).toString(16).padStart(64, '0');

/** A real nightly backup: restic's time a few minutes before it arrived. */
function entry(day: number, o: Partial<BookEntry> = {}): BookEntry {
  const arrival = T0 + day * DAY;
  return {
    id: id(), hostname: 'web1', paths: ['/srv'], tags: [], time: new Date(arrival - 5 * 60_000).toISOString(), tree: 'f'.repeat(64),
    arrival: new Date(arrival).toISOString(), arrivalSource: 'server', recorded: true, files: 1000, bytes: 5_000_000, firstSeen: new Date(arrival).toISOString(), ...o,
  };
}

const codes = (entries: BookEntry[], present = new Set(entries.map((e) => e.id)), opts = DEFAULT_FINDING_OPTIONS): string[] =>
  findFindings(entries, present, opts).map((f) => `${f.code} ${entries.findIndex((e) => e.id === f.id)}`).sort();

test('real nightly backups: no findings', () => {
  assert.deepEqual(codes([0, 1, 2, 3].map((d) => entry(d))), []);
});

test('the attack from restic\'s docs: forged --time just after each real one, empty tree, all arriving today', () => {
  const real = [0, 1, 2, 3].map((d) => entry(d));
  const forged = real.map((r, i) => entry(5, { time: new Date(Date.parse(r.time) + 60_000).toISOString(), files: 2, bytes: 0, arrival: new Date(T0 + 5 * DAY + i * 1000).toISOString() }));
  assert.deepEqual(codes([...real, ...forged]), ['shrunk 4', 'shrunk 5', 'shrunk 6', 'shrunk 7', 'time-forged 4', 'time-forged 5', 'time-forged 6', 'time-forged 7']);
});

test('time-forged: later than arrival beyond the clock skew, or earlier beyond the tolerance; a long backup is fine', () => {
  const e = [entry(0), entry(1, { time: new Date(T0 + DAY + 11 * 60_000).toISOString() }), entry(2, { time: new Date(T0 + 2 * DAY - 23 * 3600_000).toISOString() }), entry(3, { time: new Date(T0 + 3 * DAY - 25 * 3600_000).toISOString() })];
  assert.deepEqual(codes(e), ['time-forged 1', 'time-forged 3']);
});

test('shrunk: against the median of the group\'s recent snapshots, by bytes or by files; other groups do not count', () => {
  const e = [entry(0), entry(1), entry(2), entry(3, { bytes: 2_000_000 }), entry(4, { files: 400 }), entry(5, { hostname: 'db1', bytes: 10, files: 1 })];
  const r = codes(e);
  assert.ok(r.includes('shrunk 3') && r.includes('shrunk 4'));
  assert.ok(!r.includes('shrunk 5'), 'a new group has no history to shrink against');
});

test('unexpected: a new host, path set or tag after the first snapshot; flooding beyond the schedule', () => {
  const e = [entry(0), entry(1, { hostname: 'evil' }), entry(2, { paths: ['/tmp'] }), entry(3, { tags: ['x'] }), entry(4, { hostname: 'evil' })];
  assert.deepEqual(codes(e), ['unexpected 1', 'unexpected 2', 'unexpected 3']);
  const flood = Array.from({ length: 6 }, (_, i) => entry(10, { arrival: new Date(T0 + 10 * DAY + i * 60_000).toISOString() }));
  assert.deepEqual(codes(flood, undefined, { ...DEFAULT_FINDING_OPTIONS, flood: { count: 4, windowMs: DAY } }), ['unexpected 4', 'unexpected 5']);
});

test('vanished: gone without a trusted removal; a snapshot removed by a trusted run is not reported', () => {
  const e = [entry(0), entry(1), entry(2, { removed: { at: 'x', run: 'maintain nightly' } })];
  assert.deepEqual(codes(e, new Set([e[0]?.id as string])), ['vanished 1']);
});

test('unrecorded: after the first server record every snapshot needs one; with served, all of them', () => {
  const e = [entry(0, { recorded: false, arrivalSource: 'file' }), entry(1), entry(2, { recorded: false, arrivalSource: 'file' })];
  assert.deepEqual(codes(e), ['unrecorded 2']);
  assert.deepEqual(codes(e, undefined, { ...DEFAULT_FINDING_OPTIONS, served: true }), ['unrecorded 0', 'unrecorded 2']);
});

test('accepted findings are not reported again', () => {
  const e = [entry(0), entry(1, { hostname: 'new', accepted: { at: 'x', codes: ['unexpected'], reason: 'new server' } }), entry(2, { hostname: 'new' })];
  assert.deepEqual(codes(e), []);
});
