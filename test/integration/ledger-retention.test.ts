// planRetention (issue 13) against the real restic 0.14: one throw-away repository of 30 snapshots dated
// with `restic backup --time` over hours, days, ISO-week and month ends, years and one future date, on
// two hosts and two path sets; for each policy and grouping, `restic forget --dry-run --json` and
// planRetention fed the same snapshots must keep the same ids, in the same order, for the same reasons.
// A second repository, made with TZ=Europe/Berlin, checks calendar arithmetic across the DST changes.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planRetention, type RetentionPolicy, type RetentionSnapshot } from '../../src/ledger/retention.js';
import { resticOk } from '../helpers/restic.js';
import { removeDir, tempDir } from '../helpers/server.js';

interface Backup {
  readonly time: string;
  readonly host: string;
  readonly set: 'data' | 'both';
  readonly tags?: string;
}

// 2019-12-30 (Mon) and 2020-01-05 (Sun) are ISO week 2020-W01; 2020-12-31 (Thu) and 2021-01-03 (Sun) are
// 2020-W53. alpha/data's newest is 2024-03-31 12:00, so `keep-within 1m` counts back to "Feb 31", which
// Go's AddDate turns into 2024-03-02 12:00 (a snapshot exactly there is not "after" it). beta has one
// snapshot in 2099, which restic ignores when finding the newest.
const BACKUPS: readonly Backup[] = [
  { time: '2019-06-15 12:00:00', host: 'alpha', set: 'data' },
  { time: '2019-12-30 09:00:00', host: 'alpha', set: 'data', tags: 'weekly' },
  { time: '2020-01-05 09:00:00', host: 'alpha', set: 'data', tags: 'weekly' },
  { time: '2020-12-31 09:00:00', host: 'alpha', set: 'data', tags: 'weekly' },
  { time: '2021-01-03 09:00:00', host: 'alpha', set: 'data', tags: 'weekly' },
  { time: '2021-01-04 09:00:00', host: 'alpha', set: 'data', tags: 'weekly' },
  { time: '2023-01-31 10:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2023-02-28 10:00:00', host: 'alpha', set: 'data', tags: 'manual,keep' },
  { time: '2024-01-31 12:00:00', host: 'alpha', set: 'data', tags: 'manual' },
  { time: '2024-02-29 12:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-02 11:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-02 12:00:00', host: 'alpha', set: 'data' },
  { time: '2024-03-02 13:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-20 08:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-25 08:00:00', host: 'alpha', set: 'data', tags: 'daily,weekly' },
  { time: '2024-03-30 22:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-31 01:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-31 01:30:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-31 09:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-03-31 12:00:00', host: 'alpha', set: 'data', tags: 'daily' },
  { time: '2024-02-01 10:00:00', host: 'beta', set: 'data' },
  { time: '2024-03-10 10:00:00', host: 'beta', set: 'data', tags: 'daily' },
  { time: '2024-03-11 10:00:00', host: 'beta', set: 'data', tags: 'daily' },
  { time: '2024-03-11 18:00:00', host: 'beta', set: 'data', tags: 'daily' },
  { time: '2024-03-12 10:00:00', host: 'beta', set: 'data', tags: 'manual,keep' },
  { time: '2099-01-01 00:00:00', host: 'beta', set: 'data', tags: 'daily' },
  { time: '2023-12-25 10:00:00', host: 'alpha', set: 'both', tags: 'manual' },
  { time: '2024-03-01 10:00:00', host: 'alpha', set: 'both', tags: 'weekly' },
  { time: '2024-03-15 10:00:00', host: 'alpha', set: 'both', tags: 'weekly' },
  { time: '2024-03-29 10:00:00', host: 'alpha', set: 'both', tags: 'weekly' },
];

interface Case {
  readonly name: string;
  readonly policy: RetentionPolicy;
  readonly groupBy?: string;
}

const COMBO: RetentionPolicy = { keepLast: 2, keepDaily: 3, keepWeekly: 2, keepMonthly: 3, keepYearly: 2 };
const CASES: readonly Case[] = [
  { name: 'keep-last', policy: { keepLast: 3 } },
  { name: 'keep-hourly', policy: { keepHourly: 5 } },
  { name: 'keep-daily', policy: { keepDaily: 4 } },
  { name: 'keep-weekly (ISO weeks across year ends)', policy: { keepWeekly: 9 } },
  { name: 'keep-monthly', policy: { keepMonthly: 6 } },
  { name: 'keep-yearly', policy: { keepYearly: 4 } },
  { name: 'keep-within 1m (month end rolls over)', policy: { keepWithin: '1m' } },
  { name: 'keep-within 2d (a future snapshot is not the newest)', policy: { keepWithin: '2d' } },
  { name: 'keep-within 1y2m3d4h', policy: { keepWithin: '1y2m3d4h' } },
  { name: 'keep-within-hourly', policy: { keepWithinHourly: '1d' } },
  { name: 'keep-within-daily', policy: { keepWithinDaily: '10d' } },
  { name: 'keep-within-weekly', policy: { keepWithinWeekly: '2m' } },
  { name: 'keep-within-monthly', policy: { keepWithinMonthly: '1y' } },
  { name: 'keep-within-yearly', policy: { keepWithinYearly: '5y' } },
  { name: 'keep-tag', policy: { keepTags: [['manual']] } },
  { name: 'keep-tag with two lists, one of two tags', policy: { keepTags: [['manual', 'keep'], ['weekly']] } },
  { name: "keep-tag '' (untagged)", policy: { keepTags: [['']] } },
  { name: 'counts combined', policy: COMBO },
  { name: 'keep-within, keep-within-daily/weekly, keep-monthly and keep-tag combined', policy: { keepWithin: '2d', keepWithinDaily: '1m', keepWithinWeekly: '1y', keepMonthly: 2, keepTags: [['manual']] } },
  { name: "group-by ''", policy: COMBO, groupBy: '' },
  { name: 'group-by host', policy: COMBO, groupBy: 'host' },
  { name: 'group-by paths', policy: COMBO, groupBy: 'paths' },
  { name: 'group-by tags', policy: { keepLast: 1, keepMonthly: 2 }, groupBy: 'tags' },
  { name: 'group-by host,tags', policy: { keepDaily: 2, keepWithin: '1d' }, groupBy: 'host,tags' },
  { name: 'group-by host,paths,tags', policy: COMBO, groupBy: 'host,paths,tags' },
];

function flags(p: RetentionPolicy): string[] {
  const out: string[] = [];
  const add = (flag: string, v: number | string | undefined): void => {
    if (v !== undefined) out.push(`--${flag}`, String(v));
  };
  add('keep-last', p.keepLast);
  add('keep-hourly', p.keepHourly);
  add('keep-daily', p.keepDaily);
  add('keep-weekly', p.keepWeekly);
  add('keep-monthly', p.keepMonthly);
  add('keep-yearly', p.keepYearly);
  add('keep-within', p.keepWithin);
  add('keep-within-hourly', p.keepWithinHourly);
  add('keep-within-daily', p.keepWithinDaily);
  add('keep-within-weekly', p.keepWithinWeekly);
  add('keep-within-monthly', p.keepWithinMonthly);
  add('keep-within-yearly', p.keepWithinYearly);
  for (const list of p.keepTags ?? []) add('keep-tag', list.join(','));
  return out;
}

interface ResticSnapshotJson {
  id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[] | null;
}
interface ForgetGroupJson {
  host: string;
  paths: string[] | null;
  tags: string[] | null;
  keep: { id: string }[] | null;
  remove: { id: string }[] | null;
  reasons: { matches: string[] }[] | null;
}
interface Outcome {
  key: string;
  keep: { id: string; reasons: readonly string[] }[];
  remove: string[];
}

const keyOf = (host: string | undefined, paths: readonly string[] | null | undefined, tags: readonly string[] | null | undefined, byTags: boolean): string =>
  JSON.stringify({ host: host ?? '', paths: paths ?? null, tags: byTags ? (tags ?? []) : null });

async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
}

/**
 * One repository of `backups`, made and planned with restic's Local zone = `zone`; one test per case comparing
 * `restic forget --dry-run --json` with planRetention.
 */
function crossCheck(title: string, zone: string, backups: readonly Backup[], cases: readonly Case[]): void {
  describe(title, { timeout: 180_000 }, () => {
    let dir: string;
    let snapshots: RetentionSnapshot[];
    const restic = new Map<string, Outcome[]>();

    before(async () => {
      dir = await tempDir('rwm-retention-');
      // restic reads --time and makes its buckets in Local; the same zone on both sides makes the comparison exact.
      const env = { RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_CACHE_DIR: join(dir, 'cache'), TZ: zone };
      for (const sub of ['data', 'etc']) {
        await mkdir(join(dir, sub));
        await writeFile(join(dir, sub, 'file'), `${sub}\n`);
      }
      await resticOk(['init', '-q'], env);
      await pool(backups.map((b) => () => {
        const paths = b.set === 'data' ? [join(dir, 'data')] : [join(dir, 'etc'), join(dir, 'data')]; // restic sorts them itself
        const tags = b.tags === undefined ? [] : ['--tag', b.tags];
        return resticOk(['backup', '-q', '--time', b.time, '--host', b.host, ...tags, ...paths], env);
      }), 3);
      const listed = JSON.parse((await resticOk(['snapshots', '--json', '--no-lock'], env)).stdout) as ResticSnapshotJson[];
      assert.equal(listed.length, backups.length);
      snapshots = listed.map((s) => ({ id: s.id, time: Date.parse(s.time), hostname: s.hostname, paths: s.paths, tags: s.tags ?? [] }));

      // --no-lock: a dry run may skip the exclusive lock, so the cases can run side by side
      const outcomes = await pool(cases.map((c) => async () => {
        const args = ['forget', '--dry-run', '--no-lock', '--json', ...flags(c.policy), ...(c.groupBy === undefined ? [] : ['--group-by', c.groupBy])];
        const groups = JSON.parse((await resticOk(args, env)).stdout) as ForgetGroupJson[];
        const byTags = (c.groupBy ?? 'host,paths').split(',').includes('tags');
        return groups.map((g): Outcome => {
          const keep = g.keep ?? [];
          const reasons = g.reasons ?? [];
          assert.equal(reasons.length, keep.length, 'restic gives one reason entry per kept snapshot');
          return {
            key: keyOf(g.host, g.paths, g.tags, byTags),
            keep: keep.map((k, i) => ({ id: k.id, reasons: reasons[i]!.matches })),
            remove: (g.remove ?? []).map((r) => r.id).sort(),
          };
        }).sort((a, b) => a.key.localeCompare(b.key));
      }), 2);
      cases.forEach((c, i) => restic.set(c.name, outcomes[i]!));
    });
    after(() => removeDir(dir));

    for (const c of cases) {
      test(c.name, () => {
        const expected = restic.get(c.name)!;
        const byTags = (c.groupBy ?? 'host,paths').split(',').includes('tags');
        const planned = planRetention(snapshots, c.policy, { timeZone: zone, ...(c.groupBy === undefined ? {} : { groupBy: c.groupBy }) });
        const actual = planned.map((g): Outcome => ({
          key: keyOf(g.key.hostname, g.key.paths, g.key.tags, byTags),
          keep: g.decisions.filter((d) => d.keep).map((d) => ({ id: d.id, reasons: d.reasons })),
          remove: g.decisions.filter((d) => !d.keep).map((d) => d.id).sort(),
        })).sort((a, b) => a.key.localeCompare(b.key));
        assert.deepEqual(actual, expected);
        // Every case must decide something both ways somewhere, or it would not test the rule.
        assert.ok(expected.some((g) => g.remove.length > 0), 'restic removes something under this policy');
        assert.ok(expected.some((g) => g.keep.length > 0), 'restic keeps something under this policy');
      });
    }
  });
}

crossCheck('planRetention agrees with restic 0.14 forget (UTC)', 'UTC', BACKUPS, CASES);

// Berlin wall clocks around the 2024 DST changes. spring: newest 2024-03-31 12:00 CEST, one calendar day back
// is 2024-03-30 12:00 CET, 23 hours. gap: 2024-04-01 02:30 minus 1d is 2024-03-31 02:30, which does not exist
// (Go: 03:30 CEST). fall: 2024-10-28 02:30 minus 1d is 2024-10-27 02:30, which happens twice (Go: the CET one);
// restic reads the --time "02:15" as 02:15 CET too.
const BERLIN: readonly Backup[] = [
  { time: '2024-03-31 12:00:00', host: 'spring', set: 'data' },
  { time: '2024-03-31 00:30:00', host: 'spring', set: 'data' },
  { time: '2024-03-30 12:00:01', host: 'spring', set: 'data' },
  { time: '2024-03-30 11:30:00', host: 'spring', set: 'data' },
  { time: '2024-04-01 02:30:00', host: 'gap', set: 'data' },
  { time: '2024-03-31 03:30:01', host: 'gap', set: 'data' },
  { time: '2024-03-31 03:30:00', host: 'gap', set: 'data' },
  { time: '2024-03-31 01:59:00', host: 'gap', set: 'data' },
  { time: '2024-10-28 02:30:00', host: 'fall', set: 'data' },
  { time: '2024-10-27 03:00:00', host: 'fall', set: 'data' },
  { time: '2024-10-27 02:15:00', host: 'fall', set: 'data' },
];
crossCheck('planRetention agrees with restic 0.14 forget (Europe/Berlin, DST)', 'Europe/Berlin', BERLIN, [
  { name: 'keep-within 1d', policy: { keepWithin: '1d' } },
  { name: 'keep-within 24h', policy: { keepWithin: '24h' } },
  { name: 'keep-daily', policy: { keepDaily: 2 } },
  { name: 'keep-within-hourly 1d', policy: { keepWithinHourly: '1d' } },
]);
