// End to end, `rwm maintain JOB` (issue 11) on Ceph RGW: a bucket made by `rwm storage create --user
// backup --prefix repo`, Debian's restic 0.14 writing DIRECTLY to it with the backup keys, the job in
// a config file (s3.profiles.admin, maintain.<job> with keepLast: 1, keepWithin: 1s, dropVersions).
// - --dry-run: every step passes, forget only counts what it would remove; nothing outside .rwm/
//   and restic's locks/ changes (listing identical), no snapshot goes.
// - The real run: result ok, every step ok but extend-retention (skipped: no object lock); forget
//   keeps 1 snapshot and warns that the policy only counts; drop-versions deletes the pruned
//   versions; the current bytes shrink; restic check --read-data passes afterwards; the report
//   under STATE_DIR/maintain/<job>/ is the JSON printed.
// - A garbage pack with no good version (backup keys): scrub finds it, unrepairable: result
//   findings, exit 3, every later step skipped, no version outside .rwm/ added or removed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeTree, sha256hex } from '../helpers/data.js';
import { restic, resticOk } from '../helpers/restic.js';
import { describeRun, runRwm } from '../helpers/rwm.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient, type VersionEntry } from '../helpers/s3.js';
import { directRepo, keysEnv, snapshotIds } from '../helpers/s3-restic.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { runStorage, writeProfilesConfig } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const REPO = 'repo';
const KP = `${REPO}/`;
const JOB = 'web1';
const STEP_NAMES = ['storage-check', 'scrub', 'ledger', 'forget', 'check', 'verify', 'drop-versions', 'extend-retention'];

interface StepJson {
  readonly name: string;
  readonly status: 'ok' | 'findings' | 'failed' | 'skipped';
  readonly details?: Record<string, unknown>;
  readonly warnings?: string[];
  readonly error?: string;
}
interface ReportJson {
  readonly job: string;
  readonly dryRun: boolean;
  readonly started: string;
  readonly result: 'ok' | 'findings' | 'failed';
  readonly steps: StepJson[];
}

const idOf = (v: VersionEntry): string => `${v.key}@${v.versionId}${v.deleteMarker ? ' (delete marker)' : ''} ${v.etag ?? ''} ${v.size} ${v.isLatest ? 'latest' : ''}`;
/** The listing without rwm's own keys (.rwm/: verified states) and, optionally, restic's locks. */
const outside = (vs: readonly VersionEntry[], withLocks = true): string[] =>
  vs.filter((v) => !v.key.includes('/.rwm/') && (withLocks || !v.key.startsWith(`${KP}locks/`))).map(idOf);
const currentBytes = (vs: readonly VersionEntry[]): number => vs.filter((v) => v.isLatest && !v.deleteMarker && !v.key.includes('/.rwm/')).reduce((n, v) => n + v.size, 0);
const stepOf = (r: ReportJson, name: string): StepJson => {
  const s = r.steps.find((x) => x.name === name);
  assert.ok(s, `no step ${name}`);
  return s;
};
const pick = (o: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, o?.[k]]));
const statuses = (r: ReportJson): Record<string, string> => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));

describe('rwm maintain on a policed bucket restic writes to directly', { timeout: 300_000 }, () => {
  const bucket = bucketName('rwm-mntn');
  let dir: string;
  let src: string;
  let stateDir: string;
  let config: string;
  let repo: string[];

  const snapshots = async (): Promise<string[]> => snapshotIds((await resticOk([...repo, 'snapshots', '--json'], admin)).stdout);
  const maintain = async (args: readonly string[], status: number): Promise<ReportJson> => {
    const r = await runRwm(env, ['maintain'], [JOB, '--config', config, '--state-dir', stateDir, '--json', ...args], { as: 'none', endpoint: false, timeoutMs: 240_000 });
    assert.equal(r.status, status, describeRun(r));
    let reports: ReportJson[];
    try {
      reports = JSON.parse(r.stdout) as ReportJson[];
    } catch {
      throw new Error(`not JSON: ${describeRun(r)}`);
    }
    assert.equal(reports.length, 1, describeRun(r));
    const report = reports[0] as ReportJson;
    assert.equal(report.job, JOB);
    // the report file is what was printed
    const file = join(stateDir, 'maintain', JOB, `${report.started.replace(/[-:]/g, '')}.json`);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), report, `${file} equals the printed report`);
    return report;
  };

  before(async () => {
    dir = await tempDir('rwm-mntn-');
    src = join(dir, 'src');
    stateDir = join(dir, 'state');
    repo = ['-r', directRepo(env, bucket, REPO), '--no-cache'];
    const password = join(dir, 'password');
    await writeFile(password, 'test-password\n', { mode: 0o600 });
    config = await writeProfilesConfig(dir, env, [
      'maintain:',
      `  ${JOB}:`,
      `    bucket: ${bucket}`,
      `    prefix: ${REPO}`,
      '    profile: admin',
      `    passwordFile: ${password}`,
      '    forget: { keepLast: 1 }',
      "    keepWithin: '1s'",
      '    dropVersions: true',
    ].join('\n'));
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', REPO]);
    assert.equal(created.status, 0, describeRun(created));
    await resticOk([...repo, 'init'], backup);
    // three backups of a changing tree: each replaces a big random file, so pruning frees packs
    await makeTree(src, 12, 64 << 10);
    for (let i = 0; i < 3; i++) {
      if (i > 0) await rm(join(src, `big${i - 1}.bin`));
      await writeFile(join(src, `big${i}.bin`), randomBytes(400 << 10));
      await writeFile(join(src, 'text.txt'), `backup ${i}\n`.repeat(200 + i));
      await resticOk([...repo, 'backup', src], backup);
    }
    assert.equal((await snapshots()).length, 3);
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('--dry-run: every step passes, nothing outside .rwm/ and locks/ changes, no snapshot goes', { timeout: 120_000 }, async () => {
    const was = await listVersions(env, bucket);
    const r = await maintain(['--dry-run'], 0);
    assert.equal(r.dryRun, true);
    assert.equal(r.result, 'ok', JSON.stringify(r, null, 2));
    assert.deepEqual(r.steps.map((s) => s.name), STEP_NAMES);
    assert.deepEqual(statuses(r), { 'storage-check': 'ok', scrub: 'ok', ledger: 'ok', forget: 'ok', check: 'ok', verify: 'ok', 'drop-versions': 'ok', 'extend-retention': 'skipped' });
    assert.deepEqual(pick(stepOf(r, 'forget').details, ['by', 'kept', 'removed', 'deleted']), { by: 'arrival', kept: 1, removed: 2, deleted: false }, 'forget --dry-run counts what it would remove, by arrival');
    assert.equal(stepOf(r, 'drop-versions').details?.deleted, false);
    assert.equal(stepOf(r, 'scrub').details?.repaired, 0);
    const now = await listVersions(env, bucket);
    assert.deepEqual(outside(now, false), outside(was, false), 'nothing outside .rwm/ and locks/ changed');
    assert.deepEqual(
      outside(now).filter((v) => !outside(was).includes(v) && !v.startsWith(`${KP}locks/`)),
      [],
      'nothing but locks added',
    );
    assert.equal((await snapshots()).length, 3);
  });

  test('the real run: every step ok, forget keeps 1 (with the count-only warning), versions dropped, smaller, restic check --read-data passes', { timeout: 150_000 }, async () => {
    const was = await listVersions(env, bucket);
    await sleep(1100);
    const r = await maintain([], 0);
    assert.equal(r.dryRun, false);
    assert.equal(r.result, 'ok', JSON.stringify(r, null, 2));
    assert.deepEqual(r.steps.map((s) => s.name), STEP_NAMES);
    assert.deepEqual(statuses(r), { 'storage-check': 'ok', scrub: 'ok', ledger: 'ok', forget: 'ok', check: 'ok', verify: 'ok', 'drop-versions': 'ok', 'extend-retention': 'skipped' });
    for (const s of r.steps) assert.equal(s.error, undefined, `${s.name}: ${s.error}`);
    const forget = stepOf(r, 'forget');
    assert.deepEqual(pick(forget.details, ['by', 'kept', 'removed', 'deleted']), { by: 'arrival', kept: 1, removed: 2, deleted: true });
    assert.ok(forget.warnings?.some((w) => /only counts snapshots/.test(w)), `count-only warning: ${JSON.stringify(forget.warnings)}`);
    const drop = stepOf(r, 'drop-versions');
    assert.equal(drop.details?.deleted, true);
    assert.ok((drop.details?.versions as number) > 0, `drop-versions dropped versions: ${JSON.stringify(drop.details)}`);
    assert.equal(drop.warnings, undefined);
    assert.deepEqual(stepOf(r, 'scrub').details?.unrepaired, []);

    const now = await listVersions(env, bucket);
    assert.equal((await snapshots()).length, 1, 'forget kept 1 snapshot');
    assert.ok(currentBytes(now) < currentBytes(was), `current bytes ${currentBytes(was)} -> ${currentBytes(now)}`);
    // what drop-versions reclaimed: the bytes of every version kept, current or not (the run itself adds
    // delete markers and restic's lock files, so counting versions says little)
    const stored = (vs: readonly VersionEntry[]): number => vs.filter((v) => !v.key.includes('/.rwm/')).reduce((n, v) => n + v.size, 0);
    assert.ok(stored(now) < stored(was), `bytes of all versions outside .rwm/: ${stored(was)} -> ${stored(now)}; drop: ${JSON.stringify(drop.details)}`);
    const check = await restic([...repo, 'check', '--read-data'], admin);
    assert.equal(check.code, 0, `${check.stderr}\n${check.stdout}`);
    const reports = await readdir(join(stateDir, 'maintain', JOB));
    assert.equal(reports.length, 2, 'one report per run');
  });

  test('a garbage pack with no good version: scrub finds it, exit 3, later steps skipped, nothing outside .rwm/ changes', { timeout: 120_000 }, async () => {
    const id = sha256hex(randomBytes(32));
    const key = `${KP}data/${id.slice(0, 2)}/${id}`;
    const c = testClient(env, 'backup');
    try {
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(5000) }));
    } finally {
      c.destroy();
    }
    const was = await listVersions(env, bucket);
    const r = await maintain([], 3);
    assert.equal(r.result, 'findings', JSON.stringify(r, null, 2));
    assert.deepEqual(statuses(r), { 'storage-check': 'ok', scrub: 'findings', ledger: 'skipped', forget: 'skipped', check: 'skipped', verify: 'skipped', 'drop-versions': 'skipped', 'extend-retention': 'skipped' });
    const scrub = stepOf(r, 'scrub');
    assert.equal(scrub.details?.repaired, 0);
    assert.deepEqual(scrub.details?.unrepaired, [`corrupt ${key}`]);
    assert.deepEqual(outside(await listVersions(env, bucket)), outside(was), 'no version outside .rwm/ added or removed');
  });
});
