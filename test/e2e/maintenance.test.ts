// End to end, the trusted host's maintenance commands (issue 11) on Ceph RGW with Debian's restic
// 0.14 writing DIRECTLY to a bucket made by `rwm storage create --user backup`, with the backup keys;
// no rwm command here is given a repository password.
// - rwm scrub: a clean repository hashes every file; a second scrub of the unchanged bucket reads no
//   object body (hashed 0, everything carried), after one more backup only the new objects are
//   hashed; --sample 50% covers every file in two runs; --full reads everything again.
// - Then garbage over a pack, an index (twice), a snapshot and a key (backup keys), one flipped bit
//   in another pack and a new zero-length hash-named file (owner's keys), a pack copied to the wrong
//   shard: scrub reports exactly those (the newest good version of each that has one), exit 1; restic
//   cannot open the repository. --repair puts each good version back on top, deleting nothing;
//   restic check --read-data passes.
// - rwm storage drop-versions after a prune (restic forget --prune with the owner's keys) and a
//   scrub: a long window drops nothing; the race (a key written again after the scrub) keeps every
//   version of that key, named not-verified; a dry run deletes nothing; a window that ends between
//   the repair and the prune reclaims the garbage, the hidden extra files and the old locks
//   (versions and bytes counted; the manifest lists each)
//   while rwm restore --at a time before the prune still gives a repository restic checks and
//   lists all snapshots of; then a 1 s window leaves one version per key (but the raced one) and
//   restic check --read-data still passes.
// - Object lock (rwm storage create --object-lock governance --retention 1): drop-versions keeps
//   locked versions; extend-retention moves the retain-until of current versions only, --dry-run
//   changes nothing, a bucket without object lock exits 1.
// - rwm scrub --path of a rwm serve --path tree and of a plain restic local repository: clean, exit
//   0; a corrupted and a truncated file (on disk), exit 1, exactly those.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeCliRun, runCli } from '../helpers/cli-run.js';
import { makeTree, sha256hex } from '../helpers/data.js';
import { restic, resticOk } from '../helpers/restic.js';
import { describeRun, runRwm, type RwmRun } from '../helpers/rwm.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient, type VersionEntry } from '../helpers/s3.js';
import { directRepo, keysEnv, snapshotIds } from '../helpers/s3-restic.js';
import { removeDir, startServer, tempDir } from '../helpers/server.js';
import { jsonOf, runStorage } from '../helpers/storage.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const REPO = 'repo';
const KP = `${REPO}/`;
const DAY = 86_400_000;

interface FindingJson {
  readonly code: string;
  readonly key: string;
  readonly versionId?: string;
  readonly message: string;
  readonly goodVersion?: string;
  readonly repair?: string;
}
interface ScrubJson {
  readonly target: string;
  readonly mode: string;
  readonly state: string | null;
  readonly previous: string | null;
  readonly report: { keys: number; hashed: number; hashedBytes: number; carried: number; notSampled: number; notHashable: number; findings: FindingJson[] };
  readonly repaired: number;
  readonly ok: boolean;
}
interface DropJson {
  readonly dryRun: boolean;
  readonly keepWithin: string;
  readonly statesInWindow: number;
  readonly report: { dropped: number; droppedBytes: number; locked: number; failed: number; failures: string[] };
  readonly kept: { keys: number; versions: number; bytes: number; byReason: Record<string, number> };
  readonly refused: { key: string; versions: number; reasons: string[] }[];
  readonly manifest: string | null;
}
interface ExtendJson {
  readonly checked: number;
  readonly retained: number;
  readonly failed: number;
  readonly failures: string[];
}
interface DirRestoreJson {
  readonly mode: string;
  readonly report: { written: number; same: number; refused: number; foreign: number; failed: number; failures: string[] };
}

type Pair = [code: string, key: string];
const byKey = (a: Pair, b: Pair): number => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : 1);
/** The failing findings as [code, key], sorted by key ('deleted' is information, left out). */
const failing = (o: ScrubJson): Pair[] => o.report.findings.filter((f) => f.code !== 'deleted').map((f): Pair => [f.code, f.key]).sort(byKey);
const pairs = (...p: Pair[]): Pair[] => p.sort(byKey);

/** Live restic files under the prefix (the version on top), without locks and rwm's own keys. */
function liveOf(versions: readonly VersionEntry[]): Map<string, VersionEntry> {
  const out = new Map<string, VersionEntry>();
  for (const v of versions) {
    const rel = v.key.slice(KP.length);
    if (!v.isLatest || v.deleteMarker || !v.key.startsWith(KP) || rel.startsWith('locks/') || rel.startsWith('.rwm/')) continue;
    out.set(v.key, v);
  }
  return out;
}
/** What scrub hashes: every live restic file but config. */
const hashableOf = (live: ReadonlyMap<string, VersionEntry>): string[] => [...live.keys()].filter((k) => k !== `${KP}config`).sort();
const bytesOf = (vs: readonly VersionEntry[]): number => vs.reduce((n, v) => n + v.size, 0);
const idOf = (v: VersionEntry): string => `${v.key}@${v.versionId}`;
const isRwm = (v: VersionEntry): boolean => v.key.includes('/.rwm/');
const sortedKeys = (m: ReadonlyMap<string, unknown>): string[] => [...m.keys()].sort();

async function getBytes(c: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId !== undefined ? { VersionId: versionId } : {}) }));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function put(who: 'admin' | 'backup', bucket: string, key: string, body: Buffer): Promise<void> {
  const c = testClient(env, who);
  try {
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    c.destroy();
  }
}

describe('rwm scrub, drop-versions and extend-retention on a policed bucket restic writes to directly', { timeout: 600_000 }, () => {
  const bucket = bucketName('rwm-maint');
  const lockBucket = bucketName('rwm-maint-lock');
  let dir: string;
  let src: string;
  /** The incremental scrubs' state directory (and drop-versions'). */
  let stateDir: string;
  let repo: string[];
  /** Hashable files after the third backup. */
  let hashable: string[] = [];
  /** The listing just before the attack. */
  let clean: VersionEntry[] = [];
  const attacked = { pack: '', flipped: '', index: '', snapshot: '', key: '', empty: '', misplaced: '' };
  /** The versions the attacker and the owner wrote (garbage, the flipped bit, the extra files). */
  let written: VersionEntry[] = [];
  let tHidden = 0;

  const rwm = (command: readonly string[], args: readonly string[], o: { stateDir?: string; as?: 'admin' | 'backup' } = {}): Promise<RwmRun> =>
    runRwm(env, command, args, { as: o.as ?? 'admin', env: { RWM_STATE_DIR: o.stateDir ?? stateDir }, timeoutMs: 180_000 });
  const scrub = async (args: readonly string[] = [], status = 0, sd?: string): Promise<ScrubJson> => {
    const r = await rwm(['scrub'], [`${bucket}/${REPO}`, '--json', ...args], sd !== undefined ? { stateDir: sd } : {});
    assert.equal(r.status, status, describeRun(r));
    return jsonOf<ScrubJson>(r);
  };
  const drop = async (target: string, args: readonly string[], status = 0): Promise<DropJson> => {
    const r = await rwm(['storage', 'drop-versions'], [target, '--json', ...args]);
    assert.equal(r.status, status, describeRun(r));
    return jsonOf<DropJson>(r);
  };

  before(async () => {
    dir = await tempDir('rwm-maint-');
    src = join(dir, 'src');
    stateDir = join(dir, 'state');
    await makeTree(src, 20, 256 << 10);
    repo = ['-r', directRepo(env, bucket, REPO), '--no-cache'];
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await deleteBucket(env, lockBucket);
    await removeDir(dir);
  });

  test('two backups; a clean scrub hashes every file; a second scrub of the unchanged bucket reads no object body', { timeout: 120_000 }, async () => {
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', REPO]);
    assert.equal(created.status, 0, describeRun(created));
    await resticOk([...repo, 'init'], backup);
    await resticOk([...repo, 'backup', src], backup);
    await writeFile(join(src, 'second.bin'), randomBytes(300 << 10));
    await resticOk([...repo, 'backup', src], backup);
    const live = liveOf(await listVersions(env, bucket));
    const files = hashableOf(live);

    const first = await scrub();
    assert.deepEqual(first.report.findings, [], 'nothing to report (locks are never reported)');
    assert.equal(first.ok, true);
    assert.equal(first.previous, null);
    assert.deepEqual({ hashed: first.report.hashed, hashedBytes: first.report.hashedBytes, carried: first.report.carried, notHashable: first.report.notHashable }, { hashed: files.length, hashedBytes: files.reduce((n, k) => n + (live.get(k)?.size ?? NaN), 0), carried: 0, notHashable: 1 });

    const second = await scrub();
    assert.equal(second.previous, first.state, 'incremental after the first scrub (from the state directory)');
    assert.deepEqual({ hashed: second.report.hashed, hashedBytes: second.report.hashedBytes, carried: second.report.carried, findings: second.report.findings }, { hashed: 0, hashedBytes: 0, carried: files.length, findings: [] }, 'no body read');
    // the verified state went into the bucket too
    const states = (await listVersions(env, bucket, `${KP}.rwm/state/`)).map((v) => v.key);
    assert.ok(states.includes(`${KP}.rwm/state/${second.state}.jsonl.gz`));
  });

  test('after one more backup only the new objects are hashed', { timeout: 60_000 }, async () => {
    const before = liveOf(await listVersions(env, bucket));
    await writeFile(join(src, 'third.bin'), randomBytes(200 << 10));
    await writeFile(join(src, 'text.txt'), 'the third backup\n'.repeat(500));
    await resticOk([...repo, 'backup', src], backup);
    const live = liveOf(await listVersions(env, bucket));
    const added = hashableOf(live).filter((k) => !before.has(k));
    assert.ok(added.some((k) => k.startsWith(`${KP}snapshots/`)) && added.some((k) => k.startsWith(`${KP}data/`)));
    const r = await scrub();
    assert.deepEqual({ hashed: r.report.hashed, hashedBytes: r.report.hashedBytes, carried: r.report.carried, findings: r.report.findings }, { hashed: added.length, hashedBytes: added.reduce((n, k) => n + (live.get(k)?.size ?? NaN), 0), carried: hashableOf(before).length, findings: [] });
    hashable = hashableOf(live);
  });

  test('--sample 50% covers every file in two runs, then reads nothing; --full reads everything', { timeout: 60_000 }, async (t) => {
    assert.ok(hashable.length > 0);
    const sd = join(dir, 'state-sample');
    const a = await scrub(['--sample', '50%'], 0, sd);
    const b = await scrub(['--sample', '50%'], 0, sd);
    const c = await scrub(['--sample', '50%'], 0, sd);
    t.diagnostic(`sample runs hashed ${a.report.hashed} + ${b.report.hashed} of ${hashable.length}`);
    assert.equal(a.mode, 'sample');
    assert.equal(a.report.hashed + a.report.notSampled, hashable.length);
    assert.deepEqual({ hashed: b.report.hashed, carried: b.report.carried, notSampled: b.report.notSampled }, { hashed: a.report.notSampled, carried: a.report.hashed, notSampled: 0 }, 'the second run hashes the other half');
    assert.deepEqual({ hashed: c.report.hashed, carried: c.report.carried }, { hashed: 0, carried: hashable.length }, 'both halves are verified');
    const full = await scrub(['--full'], 0, sd);
    assert.deepEqual({ mode: full.mode, hashed: full.report.hashed, carried: full.report.carried }, { mode: 'full', hashed: hashable.length, carried: 0 });
  });

  test('garbage (backup keys), a flipped bit and an empty file (owner), a misplaced pack: scrub reports exactly those, with their good versions; exit 1', { timeout: 60_000 }, async () => {
    assert.ok(hashable.length > 0);
    clean = await listVersions(env, bucket);
    const live = liveOf(clean);
    const packs = hashable.filter((k) => k.startsWith(`${KP}data/`));
    assert.ok(packs.length >= 3, `${packs.length} packs`);
    attacked.pack = packs[0] as string;
    attacked.flipped = packs[1] as string;
    const moved = packs[2] as string;
    attacked.index = hashable.find((k) => k.startsWith(`${KP}index/`)) as string;
    attacked.snapshot = hashable.find((k) => k.startsWith(`${KP}snapshots/`)) as string;
    attacked.key = hashable.find((k) => k.startsWith(`${KP}keys/`)) as string;
    const emptyId = sha256hex(randomBytes(32));
    attacked.empty = `${KP}data/${emptyId.slice(0, 2)}/${emptyId}`;
    const movedId = moved.slice(moved.lastIndexOf('/') + 1);
    attacked.misplaced = `${KP}data/${movedId.startsWith('00') ? '01' : '00'}/${movedId}`;

    const size = (k: string): number => live.get(k)?.size ?? 100;
    for (const k of [attacked.pack, attacked.index, attacked.snapshot, attacked.key]) await put('backup', bucket, k, randomBytes(size(k)));
    await put('backup', bucket, attacked.index, randomBytes(size(attacked.index))); // the index twice: its good version is two down
    const c = testClient(env);
    try {
      const bytes = await getBytes(c, bucket, attacked.flipped);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x10;
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: attacked.flipped, Body: bytes }));
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: attacked.empty, Body: Buffer.alloc(0) }));
      await put('backup', bucket, attacked.misplaced, await getBytes(c, bucket, moved));
    } finally {
      c.destroy();
    }
    const was = new Set(clean.map(idOf));
    written = (await listVersions(env, bucket)).filter((v) => !was.has(idOf(v)));
    assert.equal(written.length, 8);

    const broken = await restic([...repo, 'snapshots'], admin);
    assert.notEqual(broken.code, 0, 'restic cannot open the repository: its only key is garbage');

    const r = await scrub([], 1);
    assert.equal(r.ok, false);
    assert.deepEqual(failing(r), pairs(['corrupt', attacked.pack], ['corrupt', attacked.flipped], ['corrupt', attacked.index], ['corrupt', attacked.snapshot], ['corrupt', attacked.key], ['empty', attacked.empty], ['misplaced', attacked.misplaced]), 'exactly what was done');
    assert.deepEqual(r.report.findings.filter((f) => f.code === 'deleted'), []);
    const f = new Map(r.report.findings.map((x) => [x.key, x]));
    for (const k of [attacked.pack, attacked.flipped, attacked.index, attacked.snapshot, attacked.key]) {
      assert.equal(f.get(k)?.goodVersion, live.get(k)?.versionId, `${k}: the good version is the one restic wrote`);
      assert.equal(f.get(k)?.versionId, written.filter((v) => v.key === k && v.isLatest)[0]?.versionId, `${k}: the finding names the current version`);
    }
    assert.equal(f.get(attacked.empty)?.goodVersion, undefined);
    assert.equal(f.get(attacked.misplaced)?.goodVersion, undefined);
    assert.deepEqual({ hashed: r.report.hashed, carried: r.report.carried }, { hashed: 7, carried: hashable.length - 5 }, 'only the new versions were hashed');
  });

  test('--repair puts back the newest good version of each bad file, deletes nothing; restic check --read-data passes', { timeout: 120_000 }, async () => {
    assert.ok(written.length > 0, 'needs the attack');
    const before = await listVersions(env, bucket);
    const r = await scrub(['--repair'], 1);
    assert.equal(r.repaired, 5);
    const repair = new Map(r.report.findings.map((x) => [x.key, x.repair]));
    for (const k of [attacked.pack, attacked.flipped, attacked.index, attacked.snapshot, attacked.key]) assert.equal(repair.get(k), 'restored', k);
    assert.equal(repair.get(attacked.empty), 'no good version');
    assert.equal(repair.get(attacked.misplaced), undefined, 'a misplaced pack has nothing to restore');

    const now = await listVersions(env, bucket);
    const present = new Set(now.map(idOf));
    for (const v of before) assert.ok(present.has(idOf(v)), `${idOf(v)} is still there`);
    const cleanLive = liveOf(clean);
    const live = liveOf(now);
    for (const k of [attacked.pack, attacked.flipped, attacked.index, attacked.snapshot, attacked.key]) {
      assert.equal(live.get(k)?.etag, cleanLive.get(k)?.etag, `${k} holds its own bytes again`);
      assert.equal(now.filter((v) => v.key === k).length, before.filter((v) => v.key === k).length + 1, `${k}: one copy added`);
    }

    const check = await resticOk([...repo, 'check', '--read-data'], admin);
    assert.match(check.stdout, /no errors were found/);
    // restic notices the empty pack only as an extra file ("not referenced in any index")
    assert.match(check.stdout, new RegExp(`${attacked.empty.slice(attacked.empty.lastIndexOf('/') + 1)}: not referenced in any index`));

    // the owner hides the two extra files; the next scrub reads only the restored copies and is clean
    const c = testClient(env);
    try {
      for (const k of [attacked.empty, attacked.misplaced]) await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }));
    } finally {
      c.destroy();
    }
    tHidden = Date.now();
    const after = await scrub();
    assert.deepEqual(failing(after), []);
    assert.deepEqual(after.report.findings.map((x): Pair => [x.code, x.key]).sort(byKey), pairs(['deleted', attacked.empty], ['deleted', attacked.misplaced]));
    assert.equal(after.report.hashed, 5);
  });

  describe('drop-versions after a prune and a scrub', () => {
    /** The restore point: after the repair, before the prune. */
    let tX = 0;
    let tPrune = 0;
    /** A window ending halfway between the repair and the prune, as an age for --keep-within, from now. */
    const midWindow = (): string => `${Math.ceil((Date.now() - (tHidden + tPrune) / 2) / 1000)}s`;
    let raced = '';
    let snapshotsBefore = 0;

    test('a prune with the owner\'s keys, then a scrub (clean but for the pruned files)', { timeout: 120_000 }, async () => {
      assert.ok(tHidden > 0, 'needs the repair');
      snapshotsBefore = snapshotIds((await resticOk([...repo, 'snapshots', '--json'], admin)).stdout).length;
      assert.equal(snapshotsBefore, 3);
      // 9 s between hiding and pruning: the window ending halfway leaves about ±5 s for rwm to start and list
      await sleep(Math.max(0, tHidden + 9_000 - Date.now()));
      tX = Date.now();
      await sleep(1_100);
      tPrune = Date.now();
      await resticOk([...repo, 'forget', '--keep-last', '1', '--prune'], admin);
      const r = await scrub();
      assert.deepEqual(failing(r), []);
      assert.ok(r.report.findings.some((f) => f.code === 'deleted' && f.key.startsWith(`${KP}snapshots/`)), 'the forgotten snapshots are reported deleted');
    });

    test('the race: a key written again after the scrub keeps every version; a long window drops nothing', { timeout: 60_000 }, async () => {
      assert.ok(tPrune > 0);
      raced = attacked.key; // three versions: restic's, the garbage, the repair's copy
      const c = testClient(env);
      try {
        await put('backup', bucket, raced, await getBytes(c, bucket, raced));
      } finally {
        c.destroy();
      }
      assert.equal((await listVersions(env, bucket)).filter((v) => v.key === raced).length, 4);
      const before = await listVersions(env, bucket);
      const r = await drop(`${bucket}/${REPO}`, ['--keep-within', '30d', '--yes']);
      assert.deepEqual({ dropped: r.report.dropped, failed: r.report.failed }, { dropped: 0, failed: 0 });
      assert.deepEqual(await listVersions(env, bucket), before, 'nothing deleted');
      assert.deepEqual(r.refused.find((x) => x.key === raced), { key: raced, versions: 3, reasons: ['not-verified'] });
    });

    test('a dry run (the default) deletes nothing; with a window ending between the repair and the prune: the garbage goes, restore --at before the prune still works', { timeout: 180_000 }, async (t) => {
      assert.ok(raced !== '');
      const before = await listVersions(env, bucket);
      const dry = await drop(`${bucket}/${REPO}`, ['--keep-within', midWindow()]);
      assert.equal(dry.dryRun, true);
      assert.equal(dry.manifest, null);
      assert.ok(dry.report.dropped > 0);
      assert.deepEqual(await listVersions(env, bucket), before, 'the dry run deleted nothing');

      const r = await drop(`${bucket}/${REPO}`, ['--keep-within', midWindow(), '--yes']);
      t.diagnostic(`window ${r.keepWithin}: dropped ${r.report.dropped} (${r.report.droppedBytes} bytes), kept ${r.kept.versions} old versions of ${r.kept.keys} keys`);
      assert.deepEqual({ dropped: r.report.dropped, droppedBytes: r.report.droppedBytes, failed: r.report.failed, locked: r.report.locked }, { dropped: dry.report.dropped, droppedBytes: dry.report.droppedBytes, failed: 0, locked: 0 }, 'what the dry run said');
      const now = await listVersions(env, bucket);
      assert.equal(before.length - now.length, r.report.dropped, 'versions counted');
      assert.equal(bytesOf(before) - bytesOf(now), r.report.droppedBytes, 'bytes counted');
      assert.ok(r.report.droppedBytes >= bytesOf(written.filter((v) => v.key !== raced)), 'at least the garbage is reclaimed');
      const manifest = (await readFile(r.manifest as string, 'utf8')).trim().split('\n');
      assert.equal(manifest.length, r.report.dropped, 'the manifest names each deleted version');

      const present = new Set(now.map(idOf));
      for (const v of written) assert.equal(present.has(idOf(v)), v.key === raced, `${idOf(v)}: the attack's versions are gone, but the raced key's`);
      // the hidden extra files lose their versions; the markers stay, named by the post-prune scrub's state (inside the window)
      for (const k of [attacked.empty, attacked.misplaced]) assert.deepEqual(now.filter((v) => v.key === k).map((v) => [v.isLatest, v.deleteMarker]), [[true, true]], k);
      assert.equal(now.filter((v) => v.key === raced).length, 4, 'the raced key keeps every version');
      assert.deepEqual(r.refused.find((x) => x.key === raced)?.reasons, ['not-verified']);
      const liveBefore = liveOf(before);
      const liveNow = liveOf(now);
      assert.deepEqual([...liveNow].map(([k, v]) => [k, v.versionId]), [...liveBefore].map(([k, v]) => [k, v.versionId]), 'no current version touched');
      for (const v of before.filter(isRwm)) assert.ok(present.has(idOf(v)), `${v.key}: .rwm/ untouched`);

      // inside the window: the repository as it was before the prune, all three snapshots
      const out = join(dir, 'at-before-prune');
      const restored = await rwm(['restore'], [`${bucket}/${REPO}`, '--at', new Date(tX).toISOString(), '--to-dir', out, '--json']);
      assert.equal(restored.status, 0, describeRun(restored));
      const rj = jsonOf<DirRestoreJson>(restored).report;
      assert.deepEqual({ refused: rj.refused, failed: rj.failed, foreign: rj.foreign }, { refused: 0, failed: 0, foreign: 0 });
      const local = ['-r', out, '--no-cache'];
      assert.match((await resticOk([...local, 'check', '--read-data'])).stdout, /no errors were found/);
      assert.equal(snapshotIds((await resticOk([...local, 'snapshots', '--json'])).stdout).length, snapshotsBefore);
    });

    test('a 1 s window: one version per key is left (the raced key keeps all), nothing else; restic check --read-data passes', { timeout: 120_000 }, async () => {
      assert.ok(raced !== '');
      await sleep(1_100);
      const before = await listVersions(env, bucket);
      const r = await drop(`${bucket}/${REPO}`, ['--keep-within', '1s', '--yes']);
      const now = await listVersions(env, bucket);
      assert.equal(r.report.failed, 0);
      assert.equal(before.length - now.length, r.report.dropped);
      assert.equal(bytesOf(before) - bytesOf(now), r.report.droppedBytes);
      const perKey = new Map<string, VersionEntry[]>();
      for (const v of now.filter((x) => !isRwm(x))) perKey.set(v.key, [...(perKey.get(v.key) ?? []), v]);
      for (const [k, vs] of perKey) {
        if (k === raced) assert.equal(vs.length, 4);
        else assert.deepEqual(vs.map((v) => [v.isLatest, v.deleteMarker]), [[true, false]], `${k}: only its current version`);
      }
      assert.deepEqual(sortedKeys(liveOf(now)), sortedKeys(liveOf(before)));
      assert.match((await resticOk([...repo, 'check', '--read-data'], admin)).stdout, /no errors were found/);
      assert.equal(snapshotIds((await resticOk([...repo, 'snapshots', '--json'], admin)).stdout).length, 1);
    });
  });

  describe('object lock', () => {
    const packs: string[] = [];
    const lockState = (): string => join(dir, 'state-lock');

    test('drop-versions keeps locked versions (report.locked), deletes none', { timeout: 60_000 }, async () => {
      const created = await runStorage(env, ['create', lockBucket, '--user', 'backup', '--prefix', REPO, '--object-lock', 'governance', '--retention', '1']);
      assert.equal(created.status, 0, describeRun(created));
      for (let i = 0; i < 3; i++) {
        const body = randomBytes(1000 + i);
        const id = sha256hex(body);
        const key = `${KP}data/${id.slice(0, 2)}/${id}`;
        packs.push(key);
        for (let j = 0; j <= (2 - i); j++) await put('admin', lockBucket, key, body); // 3, 2 and 1 versions
      }
      const s = await rwm(['scrub'], [`${lockBucket}/${REPO}`, '--json'], { stateDir: lockState() });
      assert.equal(s.status, 0, describeRun(s));
      await sleep(1_100);
      const before = await listVersions(env, lockBucket);
      const r = await rwm(['storage', 'drop-versions'], [`${lockBucket}/${REPO}`, '--json', '--keep-within', '1s', '--yes'], { stateDir: lockState() });
      assert.equal(r.status, 0, describeRun(r));
      const j = jsonOf<DropJson>(r);
      assert.deepEqual({ dropped: j.report.dropped, locked: j.report.locked, failed: j.report.failed }, { dropped: 0, locked: 3, failed: 0 });
      assert.deepEqual(await listVersions(env, lockBucket), before, 'every version still there');
    });

    test('extend-retention: current versions locked until now + N days, noncurrent ones unchanged; --dry-run changes nothing', { timeout: 60_000 }, async () => {
      assert.equal(packs.length, 3);
      const c = testClient(env);
      const retention = async (): Promise<Map<string, number>> => {
        const out = new Map<string, number>();
        for (const v of await listVersions(env, lockBucket)) {
          const h = await c.send(new HeadObjectCommand({ Bucket: lockBucket, Key: v.key, VersionId: v.versionId }));
          out.set(idOf(v), h.ObjectLockRetainUntilDate?.getTime() ?? NaN);
        }
        return out;
      };
      try {
        const versions = await listVersions(env, lockBucket);
        const current = new Set(versions.filter((v) => v.isLatest && !isRwm(v)).map(idOf));
        assert.equal(current.size, 3);
        const before = await retention();
        for (const [, until] of before) assert.ok(until > Date.now() && until < Date.now() + 2 * DAY, 'the bucket\'s default: one day');

        const dry = await rwm(['storage', 'extend-retention'], [`${lockBucket}/${REPO}`, '--days', '3', '--dry-run', '--json']);
        assert.equal(dry.status, 0, describeRun(dry));
        assert.deepEqual({ checked: jsonOf<ExtendJson>(dry).checked, retained: jsonOf<ExtendJson>(dry).retained }, { checked: 3, retained: 3 });
        assert.deepEqual(await retention(), before, '--dry-run changed nothing');

        const t0 = Date.now();
        const r = await rwm(['storage', 'extend-retention'], [`${lockBucket}/${REPO}`, '--days', '3', '--json']);
        assert.equal(r.status, 0, describeRun(r));
        const j = jsonOf<ExtendJson>(r);
        assert.deepEqual({ checked: j.checked, retained: j.retained, failed: j.failed }, { checked: 3, retained: 3, failed: 0 });
        const after = await retention();
        for (const [id, until] of after) {
          // RGW keeps whole seconds
          if (current.has(id)) assert.ok(until >= t0 + 3 * DAY - 1000 && until <= Date.now() + 3 * DAY + 1000, `${id}: locked until now + 3 days (${new Date(until).toISOString()})`);
          else assert.equal(until, before.get(id), `${id}: a noncurrent version (or rwm's state) keeps its date`);
        }
      } finally {
        c.destroy();
      }

      const plain = await rwm(['storage', 'extend-retention'], [`${bucket}/${REPO}`, '--days', '3']);
      assert.equal(plain.status, 1, describeRun(plain));
      assert.match(plain.stderr, /no object lock/);
    });
  });
});

describe('rwm scrub --path: a rwm serve --path tree and a plain restic local repository', { timeout: 300_000 }, () => {
  let dir: string;
  let src: string;
  before(async () => {
    dir = await tempDir('rwm-maint-local-');
    src = join(dir, 'src');
    await makeTree(src, 15, 256 << 10);
  });
  after(async () => {
    await removeDir(dir);
  });

  const scrubPath = async (path: string, status: number, stateDir: string): Promise<ScrubJson> => {
    const r = await runCli(['scrub', '--path', path, '--json', '--state-dir', stateDir]);
    assert.equal(r.status, status, describeCliRun(r));
    return JSON.parse(r.stdout) as ScrubJson;
  };

  /** Files of a restic repository at `root` (relative to `base`): every pack, index and snapshot. */
  async function filesOf(base: string, root: string): Promise<{ packs: string[]; index: string[]; snapshots: string[] }> {
    const packs: string[] = [];
    for (const shard of await readdir(join(base, root, 'data'))) for (const p of await readdir(join(base, root, 'data', shard))) packs.push(`${root}data/${shard}/${p}`);
    const index = (await readdir(join(base, root, 'index'))).map((f) => `${root}index/${f}`);
    const snapshots = (await readdir(join(base, root, 'snapshots'))).map((f) => `${root}snapshots/${f}`);
    return { packs: packs.sort(), index, snapshots };
  }

  /** A clean scrub, then one flipped byte in a pack and a truncated index file: exactly those two, exit 1. */
  async function corruptAndScrub(base: string, root: string, stateDir: string): Promise<void> {
    const files = await filesOf(base, root);
    const all = files.packs.length + files.index.length + files.snapshots.length + 1; // + the key
    const clean = await scrubPath(base, 0, stateDir);
    assert.deepEqual(clean.report.findings, []);
    assert.equal(clean.report.hashed, all);
    const again = await scrubPath(base, 0, stateDir);
    assert.deepEqual({ hashed: again.report.hashed, carried: again.report.carried }, { hashed: 0, carried: all });

    const pack = files.packs[0] as string;
    const index = files.index[0] as string;
    const p = join(base, pack);
    await chmod(p, 0o600); // restic and rwm serve write their files read-only
    const bytes = await readFile(p);
    bytes[Math.floor(bytes.length / 3)] = (bytes[Math.floor(bytes.length / 3)] as number) ^ 0xff;
    await writeFile(p, bytes);
    const i = join(base, index);
    await chmod(i, 0o600);
    const size = (await readFile(i)).length;
    await truncate(i, Math.floor(size / 2));
    const bad = await scrubPath(base, 1, stateDir);
    assert.deepEqual(failing(bad), pairs(['corrupt', pack], ['corrupt', index]));
    assert.deepEqual({ hashed: bad.report.hashed, carried: bad.report.carried }, { hashed: 2, carried: all - 2 }, 'only the two changed files are read');
    for (const f of bad.report.findings) assert.equal(f.goodVersion, undefined);
  }

  test('a rwm serve --path tree', { timeout: 120_000 }, async () => {
    const data = join(dir, 'served');
    await mkdir(data);
    const server = await startServer(data, ['--no-auth']);
    try {
      const repo = ['-r', `rest:${server.url}host1/`, '--no-cache'];
      await resticOk([...repo, 'init']);
      await resticOk([...repo, 'backup', src]);
      await writeFile(join(src, 'more.bin'), randomBytes(100 << 10));
      await resticOk([...repo, 'backup', src]);
    } finally {
      await server.stop();
    }
    await corruptAndScrub(data, 'host1/', join(dir, 'state-served'));
  });

  test('a plain restic local repository', { timeout: 120_000 }, async () => {
    const local = join(dir, 'local');
    await resticOk(['-r', local, '--no-cache', 'init']);
    await resticOk(['-r', local, '--no-cache', 'backup', src]);
    await corruptAndScrub(local, '', join(dir, 'state-local'));
    const r = await restic(['-r', local, '--no-cache', 'check', '--read-data']);
    assert.notEqual(r.code, 0, 'restic agrees');
  });
});
