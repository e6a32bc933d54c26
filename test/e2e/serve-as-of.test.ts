// `rwm serve --s3 BUCKET/PREFIX --as-of STATE|TIME` end to end (issue 10), on a bucket made by `rwm
// storage create --user backup`, with Debian's restic 0.14:
// - a first backup directly (s3:, backup keys), a second one through `rwm serve --s3` (which saves a
//   state of the repository when it stops); times T1 (between them) and T2 (after both);
// - then the damage: the admin's `restic forget --keep-last 1 --prune` (delete markers on the first
//   snapshot, index files and packs), and the attacker, with the backup keys, puts garbage over the
//   second snapshot, every index file and two packs and adds a forged snapshot;
// - served as of T2 (RFC 3339) and as of the saved state: restic lists both snapshots, `check
//   --read-data` passes and `restore` gives back both source trees byte for byte; as of T1 (with a
//   +02:00 zone) only the first snapshot exists;
// - every write and delete is refused (403/405) with an audit event, restic `backup` and `forget`
//   through it fail, lock files work in memory, and not one version in the bucket changed;
// - start-up refusals: --as-of without --s3 (exit 2), a bad time, an unknown state, a bucket without
//   versioning (exit 1).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { auditEvents, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { restic, resticOk, type ResticResult } from '../helpers/restic.js';
import { http, makeTree, sha256hex } from '../helpers/data.js';
import { treeDigest } from '../helpers/tree.js';
import { bucketName, createBucket, deleteBucket, listVersions, s3TestEnv, testClient, type VersionEntry } from '../helpers/s3.js';
import { directRepo, keysEnv, s3Flags, snapshotIds } from '../helpers/s3-restic.js';
import { jsonOf, runStorage } from '../helpers/storage.js';
import { describeCliRun, pollFor, runCli, type CliRun } from '../helpers/cli-run.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const PREFIX = 'restic';
const REPO = 'web1';
const KP = `${PREFIX}/${REPO}/`;
/** LastModified has milliseconds on RGW; a margin anyway, so "a time between" is clearly between. */
const GAP_MS = 1100;

interface ListedState {
  readonly name: string;
  readonly objects: number | null;
  readonly verified: boolean | null;
}

/** The keys restic sees (on top, not a delete marker), without locks and rwm's own keys. */
function liveKeys(versions: readonly VersionEntry[]): string[] {
  return versions.filter((v) => v.isLatest && !v.deleteMarker && v.key.startsWith(KP) && !/^(locks|\.rwm)\//.test(v.key.slice(KP.length))).map((v) => v.key).sort();
}

/** An RFC 3339 time with a +02:00 offset for the instant t. */
function withOffset(t: number): string {
  return new Date(t + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
}

describe('rwm serve --s3 --as-of: the repositories read-only as they were, after a prune and an attack', { timeout: 300_000 }, () => {
  const bucket = bucketName('rwm-as-of');
  const plainBucket = bucketName('rwm-as-of-plain');
  let dir: string;
  let src: string;
  /** Copies of the source tree as each backup saw it. */
  let src1: string;
  let src2: string;
  let snap1 = '';
  let snap2 = '';
  /** Between the two backups, and after the second (before the damage). */
  let t1 = 0;
  let t2 = 0;
  /** The state `rwm serve --s3` saved after the second backup. */
  let stateName = '';
  /** Every version in the bucket after the damage, before any --as-of server started. */
  let versionsDamaged: VersionEntry[] = [];
  /** As of T2, as of the state, as of T1, and as of the state again for the refused backup alone. */
  let atTime: RunningServer | undefined;
  let atState: RunningServer | undefined;
  let atT1: RunningServer | undefined;
  let scratch: RunningServer | undefined;
  let refusedBackup: Promise<ResticResult> | undefined;
  let refusedForget: Promise<ResticResult> | undefined;
  /** `serve --as-of` with a time without a zone, run alongside the other start-up refusals. */
  let zoneless: Promise<CliRun> | undefined;
  const direct = ['-r', directRepo(env, bucket, `${PREFIX}/${REPO}`), '--no-cache'];

  /** `rwm serve --s3 ... --as-of SPEC` with the owner's keys (the trusted host). */
  const startAsOf = (target: string, spec: string): Promise<RunningServer> => startServer('', [...s3Flags(env, target), '--no-auth', '--as-of', spec], admin);
  const serveOnce = (args: readonly string[], keys: NodeJS.ProcessEnv = admin): Promise<CliRun> => runCli(['serve', '--listen', '127.0.0.1:0', '--no-auth', ...args], keys, 30_000);

  async function assertRestores(repo: string[], snap: string, source: string): Promise<void> {
    const target = join(dir, `restored-${randomBytes(4).toString('hex')}`);
    await resticOk([...repo, 'restore', snap, '--target', target]);
    assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(source), `restic restore of ${snap.slice(0, 8)} is byte-identical to its source`);
    await rm(target, { recursive: true, force: true });
  }

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    src1 = join(dir, 'src1');
    src2 = join(dir, 'src2');
    await makeTree(src, 40, 512 << 10);
    await writeFile(join(src, 'big.bin'), randomBytes(5 << 20));
  });
  const stopAll = async (): Promise<void> => {
    await Promise.all([atTime, atState, atT1, scratch].flatMap((s) => (s === undefined ? [] : [s.stop()])));
  };

  after(async () => {
    await stopAll();
    await Promise.all([refusedBackup, refusedForget, zoneless].flatMap((p) => (p === undefined ? [] : [p])));
    await deleteBucket(env, bucket);
    await deleteBucket(env, plainBucket);
    await removeDir(dir);
  });

  test('two backups (direct, then through rwm serve --s3, which saves a state), then a prune and garbage over the second backup', { timeout: 120_000 }, async () => {
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', PREFIX]);
    assert.equal(created.status, 0, created.stderr);
    await resticOk([...direct, 'init'], backup);
    await resticOk([...direct, 'backup', src], backup);
    snap1 = snapshotIds((await resticOk([...direct, 'snapshots', '--json'], backup)).stdout)[0] ?? '';
    await cp(src, src1, { recursive: true });

    await sleep(GAP_MS);
    t1 = Date.now();
    await sleep(GAP_MS);

    // new and changed files: the second backup has packs of its own, the first keeps some only it uses
    await writeFile(join(src, 'text.txt'), 'second backup\n'.repeat(3000));
    await writeFile(join(src, 'd2', 'new.bin'), randomBytes(900 << 10));
    await rm(join(src, 'd3'), { recursive: true });
    const server = await startServer('', [...s3Flags(env, `${bucket}/${PREFIX}`), '--no-auth', '--state-delay', '5'], backup);
    try {
      await resticOk(['-r', `rest:${server.url}${REPO}/`, '--no-cache', 'backup', src]);
    } finally {
        await server.stop();
    }
    await cp(src, src2, { recursive: true });
    const snaps = snapshotIds((await resticOk([...direct, 'snapshots', '--json'], backup)).stdout);
    snap2 = snaps.find((s) => s !== snap1) ?? '';
    assert.equal(snaps.length, 2);
    assert.notEqual(snap2, '');

    const listed = await runCli(['state', 'list', '--endpoint', env.endpoint, '--region', env.region, `${bucket}/${KP.slice(0, -1)}`, '--json'], { ...admin, RWM_STATE_DIR: join(dir, 'state-dir') });
    assert.equal(listed.status, 0, describeCliRun(listed));
    const states = jsonOf<ListedState[]>(listed);
    assert.equal(states.length, 1, `rwm serve --s3 saved one state after the backup: ${listed.stdout}`);
    stateName = states[0]?.name ?? '';
    const liveAt2 = liveKeys(await listVersions(env, bucket));
    assert.equal(states[0]?.objects, liveAt2.length);

    await sleep(GAP_MS);
    t2 = Date.now();
    await sleep(GAP_MS);

    // the admin's mistaken prune: delete markers on the first snapshot, its packs and the old index
    await resticOk([...direct, 'forget', '--keep-last', '1', '--prune'], admin);
    const pruned = liveKeys(await listVersions(env, bucket));
    assert.ok(!pruned.includes(`${KP}snapshots/${snap1}`), 'the prune hid the first snapshot');
    assert.ok(liveAt2.some((k) => k.startsWith(`${KP}data/`) && !pruned.includes(k)), 'the prune hid packs');

    // the attacker with the backup keys: garbage over the second snapshot, every index file and two packs, and a forged snapshot
    const packs = pruned.filter((k) => k.startsWith(`${KP}data/`)).slice(0, 2);
    const garbage = [`${KP}snapshots/${snap2}`, ...pruned.filter((k) => k.startsWith(`${KP}index/`)), ...packs];
    const forged = randomBytes(400);
    const attacker = testClient(env, 'backup');
    try {
      for (const key of garbage) await attacker.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(1000) }));
      await attacker.send(new PutObjectCommand({ Bucket: bucket, Key: `${KP}snapshots/${sha256hex(forged)}`, Body: forged }));
    } finally {
      attacker.destroy();
    }
    assert.equal(packs.length, 2);
    const broken = await restic([...direct, 'cat', 'snapshot', snap2], admin);
    assert.notEqual(broken.code, 0, 'the second snapshot is garbage in the bucket now');
    versionsDamaged = await listVersions(env, bucket);
  });

  test('as of T1 (a +02:00 zone): only the first snapshot; while restic backup and forget start against --as-of servers', { timeout: 60_000 }, async () => {
    assert.notEqual(snap2, '', 'needs the backups of the first test');
    [atTime, atState, atT1, scratch] = await Promise.all([
      startAsOf(`${bucket}/${PREFIX}`, new Date(t2).toISOString()),
      startAsOf(`${bucket}/${KP.slice(0, -1)}`, stateName),
      startAsOf(`${bucket}/${PREFIX}`, withOffset(t1)),
      startAsOf(`${bucket}/${KP.slice(0, -1)}`, stateName),
    ]);
    // restic retries every refused request for about a minute: the refused backup and forget run in
    // the background while the next tests read, each on a server of its own (their locks would get
    // in the way of the readers' locks)
    const fresh = join(dir, 'fresh');
    await mkdir(fresh);
    await writeFile(join(fresh, 'new.bin'), randomBytes(100 << 10));
    refusedBackup = restic(['-r', `rest:${scratch.url}`, '--no-cache', 'backup', fresh], {}, 150_000);

    const repo = ['-r', `rest:${atT1.url}${REPO}/`, '--no-cache'];
    assert.deepEqual(snapshotIds((await resticOk([...repo, 'snapshots', '--json'])).stdout), [snap1]);
    assert.match((await resticOk([...repo, 'check'])).stdout, /no errors were found/);
    refusedForget = restic([...repo, 'forget', snap1], {}, 150_000);
  });

  test('as of T2 (RFC 3339): restic lists both snapshots, check --read-data passes, restore gives back both trees', { timeout: 90_000 }, async () => {
    assert.ok(atTime !== undefined, 'needs the servers of the previous test');
    const repo = ['-r', `rest:${atTime.url}${REPO}/`, '--no-cache'];
    assert.deepEqual(snapshotIds((await resticOk([...repo, 'snapshots', '--json'])).stdout).sort(), [snap1, snap2].sort());
    assert.match((await resticOk([...repo, 'check', '--read-data'])).stdout, /no errors were found/);
    await assertRestores(repo, snap1, src1);
    await assertRestores(repo, snap2, src2);
  });

  test('as of the state rwm serve saved (the repository at /): the same', { timeout: 90_000 }, async () => {
    assert.ok(atState !== undefined, 'needs the servers of an earlier test');
    const repo = ['-r', `rest:${atState.url}`, '--no-cache'];
    assert.deepEqual(snapshotIds((await resticOk([...repo, 'snapshots', '--json'])).stdout).sort(), [snap1, snap2].sort());
    assert.match((await resticOk([...repo, 'check', '--read-data'])).stdout, /no errors were found/);
    await assertRestores(repo, snap2, src2);
  });

  test('every write and delete is refused with an audit event; lock files live in memory', async () => {
    const server = atTime;
    assert.ok(server !== undefined, 'needs the servers of an earlier test');
    const base = `${server.url}${REPO}`;
    const blob = randomBytes(3000);
    const id = sha256hex(blob);
    const refusals: [method: string, path: string, body: Buffer | undefined, status: number, reason: string][] = [
      ['POST', `/data/${id}`, blob, 403, 'forbidden'],
      ['POST', `/snapshots/${id}`, blob, 403, 'forbidden'],
      ['POST', '/config', blob, 403, 'forbidden'],
      ['POST', '/?create=true', undefined, 403, 'forbidden'],
      ['DELETE', `/snapshots/${snap1}`, undefined, 403, 'delete-refused'],
      ['DELETE', '/', undefined, 403, 'delete-refused'],
      ['DELETE', '/config', undefined, 405, 'delete-refused'],
    ];
    for (const [method, path, body, status, reason] of refusals) {
      const r = await http(method, `${base}${path}`, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.body.toString()}`);
      const urlPath = `/${REPO}${path}`;
      // the log line may reach us a moment after the response
      const seen = await pollFor(() => (auditEvents(server).some((e) => e.method === method && e.path === urlPath && e.reason === reason) ? true : undefined), 5000, 50);
      assert.ok(seen, `${method} ${path}: an audit event "${reason}" (got ${JSON.stringify(auditEvents(server).map((e) => [e.method, e.path, e.reason]))})`);
    }
    assert.equal((await http('GET', `${base}/data/${id}`)).status, 404, 'the refused upload is not there');

    // a lock: stored, listed, read and deleted, all in memory
    const lock = Buffer.from('{"lock":"in memory"}');
    const lockId = sha256hex(lock);
    assert.equal((await http('POST', `${base}/locks/${lockId}`, lock)).status, 200);
    const listed = await http('GET', `${base}/locks/`, undefined, { Accept: 'application/vnd.x.restic.rest.v2' });
    assert.deepEqual(JSON.parse(listed.body.toString()), [{ name: lockId, size: lock.length }]);
    assert.deepEqual((await http('GET', `${base}/locks/${lockId}`)).body, lock);
    assert.equal((await http('DELETE', `${base}/locks/${lockId}`)).status, 200);
    assert.equal((await http('GET', `${base}/locks/${lockId}`)).status, 404);
  });

  test('restic backup and forget through it fail, and their refused uploads and delete are audited', { timeout: 150_000 }, async () => {
    assert.ok(refusedBackup !== undefined && refusedForget !== undefined && scratch !== undefined && atT1 !== undefined, 'needs the runs started by an earlier test');
    const [b, f] = await Promise.all([refusedBackup, refusedForget]);
    assert.notEqual(b.code, 0, `restic backup must fail: ${b.stdout}\n${b.stderr}`);
    assert.notEqual(f.code, 0, `restic forget must fail: ${f.stdout}\n${f.stderr}`);
    const up = auditEvents(scratch);
    const del = auditEvents(atT1);
    assert.ok(up.some((e) => e.method === 'POST' && e.reason === 'forbidden' && typeof e.path === 'string' && /^\/(data|index|snapshots)\//.test(e.path)), `backup: refused uploads audited: ${JSON.stringify(up).slice(0, 800)}`);
    assert.ok(del.some((e) => e.method === 'DELETE' && e.reason === 'delete-refused' && e.path === `/${REPO}/snapshots/${snap1}`), `forget: refused delete audited: ${JSON.stringify(del).slice(0, 800)}`);
    // and the servers still serve what was
    assert.deepEqual(snapshotIds((await resticOk(['-r', `rest:${scratch.url}`, '--no-cache', 'snapshots', '--json'])).stdout).sort(), [snap1, snap2].sort());
    assert.deepEqual(snapshotIds((await resticOk(['-r', `rest:${atT1.url}${REPO}/`, '--no-cache', 'snapshots', '--json'])).stdout), [snap1]);
  });

  test('not one version in the bucket changed', async () => {
    assert.ok(versionsDamaged.length > 0, 'needs the first test');
    await stopAll();
    assert.deepEqual(await listVersions(env, bucket), versionsDamaged, 'ListObjectVersions before = after');
  });

  test('refusals at start: --as-of without --s3 or a bad time (2), an unknown state, a bucket without versioning (1)', async () => {
    await createBucket(env, plainBucket);
    zoneless = serveOnce([...s3Flags(env, `${bucket}/${PREFIX}`), '--as-of', '2026-05-01T12:00:00']);
    const [noS3, badTime, unknownName, unknownWord, plain] = await Promise.all([
      serveOnce(['--path', join(dir, 'local'), '--as-of', '2h']),
      serveOnce([...s3Flags(env, `${bucket}/${PREFIX}`), '--as-of', '2026-02-30T25:61:00Z']),
      serveOnce([...s3Flags(env, `${bucket}/${KP.slice(0, -1)}`), '--as-of', '20200101T000000.000Z-0123456789abcdef']),
      serveOnce([...s3Flags(env, `${bucket}/${KP.slice(0, -1)}`), '--as-of', 'no-such-state']),
      serveOnce([...s3Flags(env, plainBucket), '--as-of', '1h']),
    ]);
    assert.equal(noS3.status, 2, describeCliRun(noS3));
    assert.match(noS3.stderr, /--as-of.*needs --s3/);
    assert.equal(badTime.status, 2, describeCliRun(badTime));
    assert.match(badTime.stderr, /"2026-02-30T25:61:00Z" is not a time: give RFC 3339 with a zone/);
    for (const [r, name] of [[unknownName, '20200101T000000.000Z-0123456789abcdef'], [unknownWord, 'no-such-state']] as const) {
      assert.equal(r.status, 1, describeCliRun(r));
      assert.match(r.stderr, new RegExp(`no state "${name}" for ${bucket}/${PREFIX}/${REPO}`));
    }
    assert.equal(plain.status, 1, describeCliRun(plain));
    assert.match(plain.stderr, /no versioning/);
    for (const r of [noS3, badTime, unknownName, unknownWord, plain]) assert.doesNotMatch(r.stderr, /listening/);
  });

  test('a time without a zone is refused as a time, not looked up as a state name', async () => {
    assert.ok(zoneless !== undefined, 'started by the previous test');
    const r = await zoneless;
    assert.equal(r.status, 2, describeCliRun(r));
    assert.match(r.stderr, /is not a time: give RFC 3339 with a zone/);
  });
});
