// planRetention's rules one by one, its grouping, its zone arithmetic and its refusals (issue 13).
// test/integration/ledger-retention.test.ts checks the same planner against the real restic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatResticDuration, parseResticDuration, parseResticTagList, planRetention, RetentionError, type RetentionOptions, type RetentionPolicy, type RetentionSnapshot } from './retention.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function sn(id: string, iso: string, more: Partial<RetentionSnapshot> = {}): RetentionSnapshot {
  return { id, time: Date.parse(iso), hostname: 'h', paths: ['/data'], tags: [], ...more };
}

/** The kept ids of the only group, newest first. */
function kept(snaps: readonly RetentionSnapshot[], policy: RetentionPolicy, opts: RetentionOptions = {}): string[] {
  const groups = planRetention(snaps, policy, { timeZone: 'UTC', now: NOW, ...opts });
  assert.equal(groups.length, 1);
  return groups[0]!.decisions.filter((d) => d.keep).map((d) => d.id);
}

describe('parseResticDuration', () => {
  const ok: [string, [number, number, number, number], string][] = [
    ['1y2m3d4h', [1, 2, 3, 4], '1y2m3d4h'],
    ['4h3d', [0, 0, 3, 4], '3d4h'],
    [' 30d ', [0, 0, 30, 0], '30d'],
    ['1y3y', [3, 0, 0, 0], '3y'], // a repeated unit overrides, as in restic
    ['', [0, 0, 0, 0], ''],
  ];
  for (const [text, [years, months, days, hours], formatted] of ok) {
    test(`"${text}"`, () => {
      const d = parseResticDuration(text);
      assert.deepEqual(d, { years, months, days, hours });
      assert.equal(formatResticDuration(d), formatted);
    });
  }
  for (const bad of ['1', 'd', '1w', '-1d', '1.5d', '1d x', '2 d']) {
    test(`refuses "${bad}"`, () => assert.throws(() => parseResticDuration(bad), RetentionError));
  }
});

test('parseResticTagList splits on commas and trims, as --keep-tag does', () => {
  assert.deepEqual(parseResticTagList(' a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(parseResticTagList(''), ['']);
});

describe('count rules', () => {
  const snaps = [
    sn('a', '2024-03-31T12:00:00Z'),
    sn('b', '2024-03-31T12:30:00Z'),
    sn('c', '2024-03-31T09:00:00Z'),
    sn('d', '2024-03-30T23:00:00Z'),
    sn('e', '2024-03-25T08:00:00Z'), // Monday of ISO week 13, as is 2024-03-31 (Sunday)
    sn('f', '2024-03-20T08:00:00Z'),
    sn('g', '2024-02-29T12:00:00Z'),
    sn('h', '2023-02-28T10:00:00Z'),
    sn('i', '2021-01-04T09:00:00Z'), // ISO 2021-W01
    sn('j', '2021-01-03T09:00:00Z'), // ISO 2020-W53
    sn('k', '2020-12-31T09:00:00Z'), // ISO 2020-W53
    sn('l', '2020-01-05T09:00:00Z'), // ISO 2020-W01
    sn('m', '2019-12-30T09:00:00Z'), // ISO 2020-W01
  ];
  const cases: [string, RetentionPolicy, string[]][] = [
    ['keep-last', { keepLast: 3 }, ['b', 'a', 'c']],
    ['keep-hourly: one per hour, the newest in it', { keepHourly: 3 }, ['b', 'c', 'd']],
    ['keep-daily', { keepDaily: 3 }, ['b', 'd', 'e']],
    ['keep-weekly by ISO year and week', { keepWeekly: 20 }, ['b', 'f', 'g', 'h', 'i', 'j', 'l']],
    ['keep-monthly', { keepMonthly: 3 }, ['b', 'g', 'h']],
    ['keep-yearly', { keepYearly: 10 }, ['b', 'h', 'i', 'k', 'm']],
    ['a count larger than the buckets keeps one per bucket', { keepDaily: 100 }, ['b', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm']],
  ];
  for (const [name, policy, ids] of cases) test(name, () => assert.deepEqual(kept(snaps, policy), ids));

  test('counters are used up by snapshots kept for other reasons too', () => {
    // b is both the last and the daily one: each count of 1 is spent on it
    assert.deepEqual(kept(snaps, { keepLast: 1, keepDaily: 1 }), ['b']);
    const g = planRetention(snaps, { keepLast: 1, keepDaily: 2, keepMonthly: 2 }, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(g[0]!.decisions.filter((d) => d.keep), [
      { id: 'b', keep: true, reasons: ['last snapshot', 'daily snapshot', 'monthly snapshot'] },
      { id: 'd', keep: true, reasons: ['daily snapshot'] },
      { id: 'g', keep: true, reasons: ['monthly snapshot'] },
    ]);
  });

  test('removed snapshots have no reasons; decisions are newest first', () => {
    const g = planRetention(snaps, { keepLast: 1 }, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(g[0]!.decisions.map((d) => d.id), ['b', 'a', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm']);
    assert.deepEqual(g[0]!.decisions[1], { id: 'a', keep: false, reasons: [] });
  });

  test('equal times are ordered by id, whatever the input order', () => {
    const same = [sn('z', '2024-01-01T00:00:00Z'), sn('y', '2024-01-01T00:00:00Z'), sn('x', '2023-01-01T00:00:00Z')];
    assert.deepEqual(kept(same, { keepLast: 1 }), ['y']);
    assert.deepEqual(kept([...same].reverse(), { keepLast: 1 }), ['y']);
    assert.deepEqual(kept(same, { keepDaily: 5 }), ['y', 'x']);
  });
});

describe('keep-within', () => {
  test('counts back from the newest snapshot, not from now, with Go AddDate month roll-over', () => {
    // 2024-03-31 minus 1 month is "2024-02-31", which Go rolls over to 2024-03-02; strictly after it counts
    const snaps = [sn('new', '2024-03-31T12:00:00Z'), sn('after', '2024-03-02T12:00:00.001Z'), sn('at', '2024-03-02T12:00:00Z'), sn('before', '2024-03-02T11:00:00Z'), sn('feb29', '2024-02-29T12:00:00Z')];
    assert.deepEqual(kept(snaps, { keepWithin: '1m' }, { now: Date.parse('2040-01-01T00:00:00Z') }), ['new', 'after']);
    // in a common year "2023-02-31" is 2023-03-03
    assert.deepEqual(kept([sn('n', '2023-03-31T00:00:00Z'), sn('o', '2023-03-03T00:00:01Z'), sn('p', '2023-03-03T00:00:00Z')], { keepWithin: '1m' }), ['n', 'o']);
  });

  test('all units together: 1y2m3d4h', () => {
    // 2024-05-10 06:00 - 1y2m3d = 2023-03-07 06:00, - 4h = 02:00
    const snaps = [sn('n', '2024-05-10T06:00:00Z'), sn('in', '2023-03-07T02:00:01Z'), sn('out', '2023-03-07T02:00:00Z')];
    assert.deepEqual(kept(snaps, { keepWithin: '1y2m3d4h' }), ['n', 'in']);
  });

  test('a snapshot dated in the future is not the newest, but is kept', () => {
    const snaps = [sn('future', '2099-01-01T00:00:00Z'), sn('n', '2024-03-12T10:00:00Z'), sn('in', '2024-03-11T10:00:00Z'), sn('out', '2024-03-10T10:00:00Z')];
    const g = planRetention(snaps, { keepWithin: '2d' }, { timeZone: 'UTC', now: Date.parse('2024-06-01T00:00:00Z') });
    assert.deepEqual(g[0]!.decisions, [
      { id: 'future', keep: true, reasons: ['within 2d'] },
      { id: 'n', keep: true, reasons: ['within 2d'] },
      { id: 'in', keep: true, reasons: ['within 2d'] },
      { id: 'out', keep: false, reasons: [] },
    ]);
  });

  test('when every snapshot is in the future, keep-within keeps them all (restic: the zero time is the newest)', () => {
    const snaps = [sn('a', '2024-03-12T10:00:00Z'), sn('b', '2020-01-01T00:00:00Z')];
    assert.deepEqual(kept(snaps, { keepWithin: '1d' }, { now: Date.parse('2019-01-01T00:00:00Z') }), ['a', 'b']);
  });

  test('keep-within-* keeps the newest of each bucket inside the window, without a count', () => {
    const snaps = [
      sn('a', '2024-03-31T12:00:00Z'), sn('b', '2024-03-31T08:00:00Z'), sn('c', '2024-03-30T20:00:00Z'), sn('d', '2024-03-30T10:00:00Z'),
      sn('e', '2024-03-28T13:00:00Z'), sn('f', '2024-03-28T11:00:00Z'), sn('g', '2024-03-01T00:00:00Z'),
    ];
    // window: after 2024-03-28 12:00
    const g = planRetention(snaps, { keepWithinDaily: '3d', keepWithinHourly: '12h' }, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(g[0]!.decisions.map((d) => [d.id, d.reasons]), [
      ['a', ['hourly within 12h', 'daily within 3d']],
      ['b', ['hourly within 12h']],
      ['c', ['daily within 3d']],
      ['d', []],
      ['e', ['daily within 3d']],
      ['f', []],
      ['g', []],
    ]);
    assert.deepEqual(kept(snaps, { keepWithinWeekly: '1m' }), ['a']); // all in the window are 2024-W13
    assert.deepEqual(kept(snaps, { keepWithinWeekly: '2m' }), ['a', 'g']); // g: 2024-W09
    assert.deepEqual(kept(snaps, { keepWithinMonthly: '1m' }), ['a']); // after "2024-02-31", that is 03-02
    assert.deepEqual(kept(snaps, { keepWithinYearly: '1y' }), ['a']);
  });
});

describe('keep-tag', () => {
  const snaps = [sn('ab', '2024-01-05T00:00:00Z', { tags: ['b', 'a'] }), sn('a', '2024-01-04T00:00:00Z', { tags: ['a'] }), sn('none', '2024-01-03T00:00:00Z'), sn('c', '2024-01-02T00:00:00Z', { tags: ['c'] })];
  const cases: [string, (readonly string[])[], string[]][] = [
    ['one tag', [['a']], ['ab', 'a']],
    ['a list needs all its tags', [['a', 'b']], ['ab']],
    ['any of several lists', [['a', 'b'], ['c']], ['ab', 'c']],
    ["'' matches snapshots without tags", [['']], ['none']],
    ["'' ends the check on an untagged snapshot (restic's HasTags)", [['', 'x']], ['none']],
    ['an empty list matches every snapshot', [[]], ['ab', 'a', 'none', 'c']],
  ];
  for (const [name, keepTags, ids] of cases) test(name, () => assert.deepEqual(kept(snaps, { keepTags }), ids));

  test("reasons read like restic's, and come before within and the counts", () => {
    const g = planRetention(snaps, { keepTags: [['a', 'b'], ['a']], keepWithin: '1d', keepLast: 1, keepWithinDaily: '1d' }, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(g[0]!.decisions[0], { id: 'ab', keep: true, reasons: ['has tags [a, b]', 'has tags [a]', 'within 1d', 'last snapshot', 'daily within 1d'] });
  });
});

describe('grouping', () => {
  const snaps = [
    sn('1', '2024-01-05T00:00:00Z', { hostname: 'x', paths: ['/b', '/a'], tags: ['t2', 't1'] }),
    sn('2', '2024-01-04T00:00:00Z', { hostname: 'x', paths: ['/a', '/b'], tags: ['t1'] }),
    sn('3', '2024-01-03T00:00:00Z', { hostname: 'y', paths: ['/a', '/b'], tags: ['t1', 't2'] }),
    sn('4', '2024-01-02T00:00:00Z', { hostname: 'x', paths: ['/a'] }),
  ];
  const groups = (groupBy?: string): [unknown, string[]][] =>
    planRetention(snaps, { keepLast: 1 }, { timeZone: 'UTC', now: NOW, ...(groupBy === undefined ? {} : { groupBy }) }).map((g) => [g.key, g.decisions.map((d) => d.id)]);

  test('by default by host and sorted paths', () => {
    assert.deepEqual(groups(), [
      [{ hostname: 'x', paths: ['/a'] }, ['4']],
      [{ hostname: 'x', paths: ['/a', '/b'] }, ['1', '2']],
      [{ hostname: 'y', paths: ['/a', '/b'] }, ['3']],
    ]);
  });
  const cases: [string, [unknown, string[]][]][] = [
    ['', [[{}, ['1', '2', '3', '4']]]],
    ['host', [[{ hostname: 'x' }, ['1', '2', '4']], [{ hostname: 'y' }, ['3']]]],
    ['paths', [[{ paths: ['/a'] }, ['4']], [{ paths: ['/a', '/b'] }, ['1', '2', '3']]]],
    ['tags', [[{ tags: [] }, ['4']], [{ tags: ['t1'] }, ['2']], [{ tags: ['t1', 't2'] }, ['1', '3']]]],
    ['hosts,tag', [[{ hostname: 'x', tags: [] }, ['4']], [{ hostname: 'x', tags: ['t1'] }, ['2']], [{ hostname: 'x', tags: ['t1', 't2'] }, ['1']], [{ hostname: 'y', tags: ['t1', 't2'] }, ['3']]]],
    ['host,paths,tags,', [[{ hostname: 'x', paths: ['/a'], tags: [] }, ['4']], [{ hostname: 'x', paths: ['/a', '/b'], tags: ['t1'] }, ['2']], [{ hostname: 'x', paths: ['/a', '/b'], tags: ['t1', 't2'] }, ['1']], [{ hostname: 'y', paths: ['/a', '/b'], tags: ['t1', 't2'] }, ['3']]]],
  ];
  for (const [groupBy, expected] of cases) test(`group-by '${groupBy}'`, () => assert.deepEqual(groups(groupBy), expected));

  test('each group is planned on its own: keep-within counts from the group\'s newest', () => {
    const g = planRetention([sn('x-new', '2024-02-01T00:00:00Z', { hostname: 'x' }), sn('x-old', '2024-01-01T00:00:00Z', { hostname: 'x' }), sn('y-old', '2024-01-01T00:00:00Z', { hostname: 'y' })], { keepWithin: '1d' }, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(g.map((x) => x.decisions.map((d) => [d.id, d.keep])), [[['x-new', true], ['x-old', false]], [['y-old', true]]]);
  });

  test('the input is not changed', () => {
    const input = [sn('a', '2024-01-01T00:00:00Z', { paths: ['/b', '/a'], tags: ['z', 'y'] }), sn('b', '2024-02-01T00:00:00Z')];
    const copy = structuredClone(input);
    planRetention(input, { keepLast: 1 }, { groupBy: 'host,paths,tags', timeZone: 'UTC', now: NOW });
    assert.deepEqual(input, copy);
  });

  for (const bad of ['hostname', 'host, paths', 'host;paths']) {
    test(`refuses group-by '${bad}'`, () => assert.throws(() => groups(bad), /unknown grouping option/));
  }
});

describe('time zones', () => {
  test('buckets are wall-clock days in the given zone', () => {
    // 23:30Z on the 30th is 00:30 on the 31st in Berlin (CET, +1)
    const snaps = [sn('a', '2024-03-31T05:00:00Z'), sn('b', '2024-03-30T23:30:00Z'), sn('c', '2024-03-30T12:00:00Z')];
    assert.deepEqual(kept(snaps, { keepDaily: 5 }), ['a', 'b']);
    assert.deepEqual(kept(snaps, { keepDaily: 5 }, { timeZone: 'Europe/Berlin' }), ['a', 'c']);
    assert.deepEqual(kept([snaps[1]!, snaps[2]!], { keepDaily: 5 }, { timeZone: 'Europe/Berlin' }), ['b', 'c']);
    assert.deepEqual(kept([snaps[1]!, snaps[2]!], { keepDaily: 5 }), ['b']);
  });

  test('keep-within days are calendar days: across the spring DST change one day is 23 hours', () => {
    // newest 2024-03-31 12:00 CEST (10:00Z); minus 1d is 2024-03-30 12:00 CET (11:00Z)
    const snaps = [sn('n', '2024-03-31T10:00:00Z'), sn('in', '2024-03-30T11:00:01Z'), sn('out', '2024-03-30T10:30:00Z')];
    assert.deepEqual(kept(snaps, { keepWithin: '1d' }, { timeZone: 'Europe/Berlin' }), ['n', 'in']);
    assert.deepEqual(kept(snaps, { keepWithin: '1d' }), ['n', 'in', 'out']); // in UTC a day is 24 hours
    assert.deepEqual(kept(snaps, { keepWithin: '24h' }, { timeZone: 'Europe/Berlin' }), ['n', 'in', 'out']); // hours are absolute
  });

  test('a wall clock in the DST gap or overlap resolves as Go time.Date does', () => {
    // 2024-04-01 02:30 CEST minus 1d is 2024-03-31 02:30, which does not exist: Go gives 01:30Z (03:30 CEST)
    const gap = [sn('n', '2024-04-01T00:30:00Z'), sn('in', '2024-03-31T01:30:01Z'), sn('out', '2024-03-31T01:30:00Z')];
    assert.deepEqual(kept(gap, { keepWithin: '1d' }, { timeZone: 'Europe/Berlin' }), ['n', 'in']);
    // 2024-10-28 02:30 CET minus 1d is 2024-10-27 02:30, which happens twice: Go takes the later (CET, 01:30Z)
    const overlap = [sn('n', '2024-10-28T01:30:00Z'), sn('in', '2024-10-27T01:30:01Z'), sn('out', '2024-10-27T01:30:00Z')];
    assert.deepEqual(kept(overlap, { keepWithin: '1d' }, { timeZone: 'Europe/Berlin' }), ['n', 'in']);
  });

  test('the default zone is the process\'s', () => {
    const snaps = [sn('a', '2024-03-31T05:00:00Z'), sn('b', '2024-03-30T23:30:00Z')];
    const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    assert.deepEqual(planRetention(snaps, { keepDaily: 5 }, { now: NOW }), planRetention(snaps, { keepDaily: 5 }, { now: NOW, timeZone: zone }));
  });
});

describe('refusals', () => {
  const snaps = [sn('a', '2024-01-01T00:00:00Z')];
  const empty: [string, RetentionPolicy][] = [
    ['no rules', {}],
    ['zero counts', { keepLast: 0, keepDaily: 0 }],
    ['zero durations', { keepWithin: '0d', keepWithinDaily: '' }],
    ['no tag lists', { keepTags: [] }],
  ];
  for (const [name, policy] of empty) {
    test(`an empty policy: ${name}`, () => assert.throws(() => planRetention(snaps, policy), (err: unknown) => err instanceof RetentionError && /policy is empty/.test(err.message)));
  }
  const bad: [string, () => unknown, RegExp][] = [
    ['a negative count', () => planRetention(snaps, { keepLast: -1 }), /keepLast must be a whole number/],
    ['a fractional count', () => planRetention(snaps, { keepDaily: 1.5 }), /keepDaily must be a whole number/],
    ['a bad duration', () => planRetention(snaps, { keepWithinDaily: '7 days' }), /not a restic duration/],
    ['a duplicate id', () => planRetention([...snaps, sn('a', '2024-02-01T00:00:00Z')], { keepLast: 1 }), /listed twice/],
    ['a time that is not a number', () => planRetention([sn('b', 'not a date')], { keepLast: 1 }), /no valid time/],
    ['an unknown zone', () => planRetention(snaps, { keepLast: 1 }, { timeZone: 'Mars/Olympus' }), /not a time zone/],
  ];
  for (const [name, fn, message] of bad) test(`refuses ${name}`, () => assert.throws(fn, (err: unknown) => err instanceof RetentionError && message.test(err.message)));

  test('no snapshots: no groups', () => assert.deepEqual(planRetention([], { keepLast: 1 }), []));
});
