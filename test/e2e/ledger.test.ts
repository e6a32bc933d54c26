// End to end, the snapshot ledger (issue 13) with Debian's restic 0.14, the built `rwm serve` and Ceph RGW.
//
// The attack from restic's docs (doc/060_forget.rst, "security considerations in append-only mode"),
// through `rwm serve --path`: five real nightly backups, each on its own simulated day (the server runs
// under Debian's faketime, so its arrival times are those days; restic is a Go program that reads the
// clock through the vDSO, which libfaketime cannot reach, so each real backup gives restic the time
// its own clock would have had with `--time`). Then, the afternoon after the last one, the attacker
// with the backup credentials adds a snapshot of an emptied directory dated one minute after each real
// one. Asserted:
// - plain `restic forget --keep-daily 3 --dry-run` would remove real snapshots (the attack is real);
// - `rwm ledger verify` reports each forged snapshot as time-forged and shrunk, and nothing else;
// - `rwm maintain` (ledger + forget keepDaily 3) stops at the ledger's findings and removes nothing;
//   without the ledger step, forget's guard refuses; with --dry-run --force-forget, the plan by arrival
//   keeps the real snapshots of the last two days that restic's own plan would remove;
// - after `rwm ledger forget` of the forged ones, verify is clean (no "vanished"), and `rwm maintain`
//   keeps exactly the real snapshots of the last three days; none of the removed is "vanished" later;
// - a snapshot removed by the owner outside rwm is reported "vanished".
// On a policed bucket restic writes to directly (arrival: the first version's LastModified, set by S3):
// a forged, empty snapshot is time-forged and shrunk; an owner's delete outside rwm is vanished.
// Through `rwm serve --s3` (arrival records under <repo>/.rwm/ledger/, with user and address): a
// snapshot written directly to the bucket next to the proxy is "unrecorded", the others are not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeCliRun, runCli, type CliRun } from '../helpers/cli-run.js';
import { makeTree } from '../helpers/data.js';
import { resticOk } from '../helpers/restic.js';
import { describeRun, runRwm } from '../helpers/rwm.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv } from '../helpers/s3.js';
import { directRepo, keysEnv, s3Flags, snapshotIds, writeHtpasswd } from '../helpers/s3-restic.js';
import { removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { runStorage, writeProfilesConfig } from '../helpers/storage.js';

const TZ = { TZ: 'UTC' };

/** Debian's libfaketime (package faketime), wherever the architecture put it. */
function libfaketime(): string {
  const dir = readdirSync('/usr/lib').map((d) => join('/usr/lib', d, 'faketime', 'libfaketime.so.1')).find((f) => existsSync(f));
  if (dir === undefined) throw new Error('libfaketime.so.1 not found under /usr/lib/*/faketime/: install Debian\'s faketime (scripts/install-test-deps.sh)');
  return dir;
}

interface Finding {
  readonly code: string;
  readonly id: string;
}
interface Report {
  readonly snapshots: number;
  readonly findings: Finding[];
}
interface Snap {
  readonly id: string;
  readonly time: string;
}

const reportOf = (r: CliRun): Report => {
  try {
    return JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON: ${describeCliRun(r)}`);
  }
};
const findingSet = (r: Report): string[] => r.findings.map((f) => `${f.code} ${f.id.slice(0, 8)}`).sort();
const both = (ids: readonly string[], codes: readonly string[]): string[] => ids.flatMap((id) => codes.map((c) => `${c} ${id.slice(0, 8)}`)).sort();

describe('the snapshot ledger against the attack from restic\'s docs, through rwm serve --path', { timeout: 600_000 }, () => {
  let dir: string;
  let srv: string;
  let data: string;
  let stateDir: string;
  let password: string;
  let config: string;
  const repoDir = (): string => join(srv, 'web1');
  const real: Snap[] = [];
  const forged: string[] = [];

  // libfaketime preloaded into the server itself (the faketime command would fork it and not pass on signals)
  const serveOn = (day: string): Promise<RunningServer> => startServer(srv, ['--no-auth'], { ...TZ, LD_PRELOAD: libfaketime(), FAKETIME: `@${day}` });
  const repoArgs = (s: RunningServer): string[] => ['-r', `rest:${s.url}web1/`];
  const snapshots = async (): Promise<Snap[]> => JSON.parse((await resticOk(['-r', repoDir(), 'snapshots', '--json'], TZ)).stdout) as Snap[];
  const verify = (...extra: string[]): Promise<CliRun> => runCli(['ledger', 'verify', '--path', repoDir(), '--password-file', password, '--state-dir', stateDir, '--json', ...extra], TZ, 180_000);
  const maintain = (...extra: string[]): Promise<CliRun> => runCli(['maintain', '--config', config, '--state-dir', stateDir, '--json', ...extra], TZ, 300_000);

  before(async () => {
    dir = await tempDir('rwm-ledger-');
    srv = join(dir, 'srv');
    data = join(dir, 'data');
    stateDir = join(dir, 'state');
    password = join(dir, 'password');
    await writeFile(password, 'test-password\n', { mode: 0o600 });
    await makeTree(data, 20, 32 << 10);
    for (let d = 1; d <= 5; d++) {
      const time = `2026-11-0${d} 02:00:00`;
      const s = await serveOn(time);
      try {
        if (d === 1) await resticOk([...repoArgs(s), 'init'], TZ);
        await writeFile(join(data, `night${d}.bin`), randomBytes(64 << 10));
        await resticOk([...repoArgs(s), 'backup', '--host', 'web1', '--time', time, data], TZ);
      } finally {
        await s.stop();
      }
    }
    real.push(...(await snapshots()).sort((a, b) => a.time.localeCompare(b.time)));
    assert.equal(real.length, 5);
    // The attacker, the afternoon after the last backup: the same host and path, emptied, dated one
    // minute after each real snapshot.
    const s = await serveOn('2026-11-06 14:00:00');
    try {
      await rename(data, `${data}.real`);
      await mkdir(data);
      for (const r of real) {
        const t = new Date(Date.parse(r.time) + 60_000).toISOString().replace('T', ' ').slice(0, 19);
        await resticOk([...repoArgs(s), 'backup', '--host', 'web1', '--time', t, data], TZ);
      }
      await rm(data, { recursive: true });
      await rename(`${data}.real`, data);
    } finally {
      await s.stop();
    }
    const known = new Set(real.map((r) => r.id));
    forged.push(...(await snapshots()).filter((x) => !known.has(x.id)).map((x) => x.id));
    assert.equal(forged.length, 5);
    config = join(dir, 'rwm.yaml');
    const job = (name: string, steps: string): string[] => [`  ${name}:`, `    path: ${repoDir()}`, `    passwordFile: ${password}`, '    forget: { keepDaily: 3 }', `    steps: [${steps}]`];
    await writeFile(config, ['maintain:', ...job('web1', 'ledger, forget'), ...job('noledger', 'forget')].join('\n') + '\n', { mode: 0o600 });
  });
  after(async () => {
    await removeDir(dir);
  });

  test('restic forget --keep-daily 3 by restic\'s own time would remove real snapshots', async () => {
    const r = await resticOk(['-r', repoDir(), 'forget', '--keep-daily', '3', '--dry-run', '--json'], TZ);
    const groups = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('[')) ?? '[]') as { keep: Snap[]; remove: Snap[] | null }[];
    const removed = new Set(groups.flatMap((g) => (g.remove ?? []).map((s) => s.id)));
    const kept = new Set(groups.flatMap((g) => g.keep.map((s) => s.id)));
    assert.deepEqual(real.slice(2).map((s) => removed.has(s.id)), [true, true, true], 'the real snapshots of the last three days would go');
    assert.deepEqual(forged.slice(2).map((id) => kept.has(id)), [true, true, true], 'the forged ones would stay');
  });

  test('rwm ledger verify: each forged snapshot is time-forged and shrunk, nothing else', async () => {
    const r = await verify();
    assert.equal(r.status, 1, describeCliRun(r));
    const report = reportOf(r);
    assert.equal(report.snapshots, 10);
    assert.deepEqual(findingSet(report), both(forged, ['shrunk', 'time-forged']));
    const book = JSON.parse(await readFile(join(stateDir, 'ledger', '_local', (await import('node:crypto')).createHash('sha256').update(repoDir()).digest('hex').slice(0, 16), 'book.json'), 'utf8')) as { snapshots: { id: string; arrival: string; arrivalSource: string; recorded: boolean }[] };
    const arrivalOf = (id: string) => book.snapshots.find((e) => e.id === id);
    assert.equal(arrivalOf(real[0]?.id as string)?.arrival.slice(0, 13), '2026-11-01T02', 'the arrival is the server\'s (simulated) day');
    assert.equal(arrivalOf(forged[0] as string)?.arrival.slice(0, 13), '2026-11-06T14');
    assert.ok(book.snapshots.every((e) => e.arrivalSource === 'server' && e.recorded), 'every arrival comes from rwm serve\'s ledger');
  });

  test('rwm maintain stops at the ledger\'s findings; without the ledger step the forget guard refuses; nothing is removed', async () => {
    const r = await maintain('web1');
    assert.equal(r.status, 3, describeCliRun(r));
    const [rep] = JSON.parse(r.stdout) as { steps: { name: string; status: string; details?: Record<string, unknown> }[] }[];
    assert.deepEqual(rep?.steps.map((s) => `${s.name} ${s.status}`), ['ledger findings', 'forget skipped']);
    const g = await maintain('noledger');
    assert.equal(g.status, 3, describeCliRun(g));
    const [rep2] = JSON.parse(g.stdout) as { steps: { name: string; status: string; details?: { blocked?: string[] } }[] }[];
    assert.equal(rep2?.steps[0]?.status, 'findings');
    assert.ok((rep2?.steps[0]?.details?.blocked ?? []).length > 0, JSON.stringify(rep2));
    assert.equal((await snapshots()).length, 10, 'no snapshot removed');
  });

  test('--dry-run --force-forget: the plan by arrival keeps the real snapshots restic\'s plan would remove', async () => {
    const r = await maintain('web1', '--dry-run', '--force-forget');
    assert.equal(r.status, 0, describeCliRun(r));
    const [rep] = JSON.parse(r.stdout) as { steps: { name: string; details?: { remove?: string[] }; warnings?: string[] }[] }[];
    const forget = rep?.steps.find((s) => s.name === 'forget');
    const remove = new Set(forget?.details?.remove ?? []);
    assert.ok(real.slice(3).every((s) => !remove.has(s.id.slice(0, 8))), `the real snapshots of Nov 4 and 5 stay: ${JSON.stringify(forget)}`);
    assert.ok(forget?.warnings?.some((w) => /--force-forget/.test(w)), 'the override is logged in the report');
    assert.equal((await snapshots()).length, 10, 'a dry run removes nothing');
  });

  test('after rwm ledger forget of the forged ones: no findings, maintain keeps the last three real days, nothing "vanished"', async () => {
    const f = await runCli(['ledger', 'forget', '--path', repoDir(), '--password-file', password, '--state-dir', stateDir, ...forged.map((id) => id.slice(0, 12))], TZ, 120_000);
    assert.equal(f.status, 0, describeCliRun(f));
    const v = await verify();
    assert.equal(v.status, 0, describeCliRun(v));
    const m = await maintain('web1');
    assert.equal(m.status, 0, describeCliRun(m));
    assert.deepEqual((await snapshots()).map((s) => s.id).sort(), real.slice(2).map((s) => s.id).sort());
    const again = await verify();
    assert.equal(again.status, 0, describeCliRun(again));
    assert.deepEqual(reportOf(again).findings, []);
  });

  test('a snapshot removed by the owner outside rwm is "vanished"', async () => {
    const victim = real[4]?.id as string;
    await resticOk(['-r', repoDir(), 'forget', victim], TZ);
    const v = await verify();
    assert.equal(v.status, 1, describeCliRun(v));
    assert.deepEqual(findingSet(reportOf(v)), [`vanished ${victim.slice(0, 8)}`]);
  });
});

describe('the snapshot ledger on S3: direct to a policed bucket, and through rwm serve --s3', { timeout: 600_000 }, () => {
  const env = s3TestEnv();
  const admin = keysEnv(env.admin);
  const backup = keysEnv(env.backup);
  const bucket = bucketName('rwm-ledger');
  const proxiedBucket = bucketName('rwm-ledger-p');
  let dir: string;
  let data: string;
  let empty: string;
  let stateDir: string;
  let password: string;
  let config: string;

  const verify = (target: string, ...extra: string[]) => runRwm(env, ['ledger', 'verify'], [target, '--config', config, '--password-file', password, '--state-dir', stateDir, '--json', ...extra], { as: 'none', endpoint: false, timeoutMs: 180_000, env: TZ });

  before(async () => {
    dir = await tempDir('rwm-ledger-s3-');
    data = join(dir, 'data');
    empty = join(dir, 'empty');
    await mkdir(empty);
    stateDir = join(dir, 'state');
    password = join(dir, 'password');
    await writeFile(password, 'test-password\n', { mode: 0o600 });
    await makeTree(data, 20, 32 << 10);
    config = await writeProfilesConfig(dir, env);
    for (const [b, prefix] of [[bucket, 'direct'], [proxiedBucket, 'proxied']] as const) {
      const created = await runStorage(env, ['create', b, '--user', 'backup', '--prefix', prefix]);
      assert.equal(created.status, 0, describeRun(created));
    }
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await deleteBucket(env, proxiedBucket);
    await removeDir(dir);
  });

  test('direct: a forged, empty snapshot is time-forged and shrunk; an owner\'s delete outside rwm is vanished', async () => {
    const repo = ['-r', directRepo(env, bucket, 'direct'), '--no-cache'];
    await resticOk([...repo, 'init'], backup);
    for (let i = 0; i < 2; i++) {
      await writeFile(join(data, `n${i}.bin`), randomBytes(64 << 10));
      await resticOk([...repo, 'backup', '--host', 'web1', data], backup);
    }
    const realIds = snapshotIds((await resticOk([...repo, 'snapshots', '--json'], admin)).stdout);
    // the attacker: an empty directory under the real path's name is not needed here; a forged date is
    const t = new Date(Date.now() - 3 * 86_400_000).toISOString().replace('T', ' ').slice(0, 19);
    await resticOk([...repo, 'backup', '--host', 'web1', '--time', t, empty], backup);
    const forgedId = snapshotIds((await resticOk([...repo, 'snapshots', '--json'], admin)).stdout).find((id) => !realIds.includes(id)) as string;
    const r = await verify(`${bucket}/direct`);
    assert.equal(r.status, 1, describeRun(r));
    // a new path set, too: the attacker backed up another directory
    assert.deepEqual(findingSet(reportOf(r)), both([forgedId], ['shrunk', 'time-forged', 'unexpected']));
    await resticOk([...repo, 'forget', realIds[0] as string], admin);
    const v = await verify(`${bucket}/direct`);
    assert.equal(v.status, 1, describeRun(v));
    assert.deepEqual(findingSet(reportOf(v)), [...both([forgedId], ['shrunk', 'time-forged', 'unexpected']), `vanished ${(realIds[0] as string).slice(0, 8)}`].sort());
  });

  test('through rwm serve --s3: records with user and address; a snapshot written around the proxy is unrecorded', async () => {
    const htpasswd = join(dir, 'htpasswd');
    writeHtpasswd(htpasswd, 'web2', 'web2-password');
    const s = await startServer('', [...s3Flags(env, `${proxiedBucket}/proxied`), '--htpasswd-file', htpasswd, '--no-s3-state'], backup);
    const url = new URL(s.url);
    const viaProxy = ['-r', `rest:http://web2:web2-password@${url.host}/web2/`];
    try {
      await resticOk([...viaProxy, 'init'], TZ);
      for (let i = 0; i < 2; i++) {
        await writeFile(join(data, `p${i}.bin`), randomBytes(64 << 10));
        await resticOk([...viaProxy, 'backup', '--host', 'web2', data], TZ);
      }
    } finally {
      await s.stop();
    }
    const records = (await listVersions(env, proxiedBucket, 'proxied/web2/.rwm/ledger/')).filter((v) => !v.deleteMarker);
    assert.equal(records.length, 2, 'one arrival record per snapshot');
    const direct = ['-r', directRepo(env, proxiedBucket, 'proxied/web2'), '--no-cache'];
    const before = snapshotIds((await resticOk([...direct, 'snapshots', '--json'], admin)).stdout);
    await resticOk([...direct, 'backup', '--host', 'web2', data], backup);
    const sneaked = snapshotIds((await resticOk([...direct, 'snapshots', '--json'], admin)).stdout).find((id) => !before.includes(id)) as string;
    const r = await verify(`${proxiedBucket}/proxied/web2`);
    assert.equal(r.status, 1, describeRun(r));
    assert.deepEqual(findingSet(reportOf(r)), [`unrecorded ${sneaked.slice(0, 8)}`]);
    const book = JSON.parse(await readFile(join(stateDir, 'ledger', proxiedBucket, 'proxied', 'web2', 'book.json'), 'utf8')) as { snapshots: { id: string; recorded: boolean; user?: string; addr?: string }[] };
    const proxied = book.snapshots.filter((e) => before.includes(e.id));
    assert.ok(proxied.length === 2 && proxied.every((e) => e.recorded && e.user === 'web2' && e.addr === '127.0.0.1'), JSON.stringify(book.snapshots));
  });
});
