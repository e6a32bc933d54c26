// End to end, the attack and the recovery (issue 10), on a bucket made by `rwm storage create --user
// backup`, with Debian's restic 0.14 writing DIRECTLY with the backup user's keys:
// - three backups of a changing tree, each followed by `rwm state save` with the backup keys (list
//   says the backup user wrote them);
// - the admin runs `restic forget --keep-last 1 --prune` (delete markers on snapshots, index files
//   and packs; first, as restic cannot open the repository once config is garbage); then the
//   attacker, with the backup keys, puts garbage of the same sizes over config, a keys/ file, an
//   index file, the second snapshot and some packs (one of which the prune had deleted), and adds a
//   forged snapshot and a forged index file, named by their own SHA-256;
// - `rwm state diff --from <second state>` reports exactly those keys, and exits 1;
// - `rwm restore --state <second>` in place copies exactly the keys that differ and hides exactly the
//   ones added since (both counted here from the test's own listings), after a --dry-run that
//   changed nothing; restic check --read-data passes and restic restore gives back the second
//   backup's tree byte for byte; a rerun has nothing left to do;
// - the restore is undone by restoring to the time just before it, and done again with --at TIME
//   and no state;
// - restores to an empty second bucket and to a local directory open, check and restore in restic;
//   a directory restore to a time after the attack refuses every garbage version (SHA-256 against
//   the name) and exits 1;
// - refusals: a non-empty --to bucket (exit 2), a time before the first version (exit 1), a bucket
//   without versioning (exit 1); none of them changes a version.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { removeDir, tempDir } from '../helpers/server.js';
import { restic, resticOk } from '../helpers/restic.js';
import { makeTree, sha256hex } from '../helpers/data.js';
import { treeDigest } from '../helpers/tree.js';
import { bucketName, createBucket, deleteBucket, listVersions, s3TestEnv, testClient, type VersionEntry } from '../helpers/s3.js';
import { directRepo, keysEnv, snapshotIds } from '../helpers/s3-restic.js';
import { jsonOf, runStorage } from '../helpers/storage.js';
import { describeRun, runRwm, type RwmRun } from '../helpers/rwm.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const REPO = 'repo';
const KP = `${REPO}/`;
/** LastModified has milliseconds on RGW; a margin anyway, so "a time between" is clearly between. */
const GAP_MS = 1100;

interface SavedJson {
  readonly name: string;
  readonly key: string;
  readonly header: { readonly created: string; readonly objects: number; readonly deleteMarkers: number; readonly bytes: number };
}
interface ListedJson {
  readonly name: string;
  readonly created: string;
  readonly writtenBy: string | null;
  readonly writer: { readonly command: string } | null;
  readonly objects: number | null;
  readonly overwritten: boolean;
  readonly verified: boolean | null;
  readonly missing: number | null;
}
interface DiffJson {
  readonly changes: { kind: string; severity: string; type: string; key: string; id?: string; to: { owner: string } | null }[];
  readonly summary: { added: number; changed: number; deleted: number; rewritten: number; tampering: number; alarms: number };
}
interface InPlaceReport {
  readonly copied: number;
  readonly copiedBytes: number;
  readonly hidden: number;
  readonly same: number;
  readonly failed: number;
  readonly failures: string[];
}
interface DirReport {
  readonly written: number;
  readonly same: number;
  readonly refused: number;
  readonly foreign: number;
  readonly failed: number;
  readonly failures: string[];
}
interface RestoreJson<R> {
  readonly mode: string;
  readonly dryRun: boolean;
  readonly report: R;
}

interface Live {
  readonly versionId: string;
  readonly etag: string | undefined;
  readonly size: number;
}

/** What restic sees under the prefix: key -> the version on top, without locks and rwm's own keys. */
function liveOf(versions: readonly VersionEntry[]): Map<string, Live> {
  const out = new Map<string, Live>();
  for (const v of versions) {
    if (!v.isLatest || v.deleteMarker || !v.key.startsWith(KP)) continue;
    const rel = v.key.slice(KP.length);
    if (rel.startsWith('locks/') || rel.startsWith('.rwm/')) continue;
    out.set(v.key, { versionId: v.versionId, etag: v.etag, size: v.size });
  }
  return out;
}

/** key -> ETag: what the bytes are, whichever version holds them. */
const contentOf = (live: ReadonlyMap<string, Live>): Map<string, string | undefined> => new Map([...live].map(([k, v]) => [k, v.etag]));

const sorted = (keys: Iterable<string>): string[] => [...keys].sort();
const sumSizes = (keys: Iterable<string>, live: ReadonlyMap<string, Live>): number => [...keys].reduce((n, k) => n + (live.get(k)?.size ?? NaN), 0);

describe('attack and recovery: rwm state and rwm restore on a policed bucket restic writes to directly', { timeout: 600_000 }, () => {
  const bucket = bucketName('rwm-pitr');
  const copyBucket = bucketName('rwm-pitr-copy');
  const plainBucket = bucketName('rwm-pitr-plain');
  let dir: string;
  let src: string;
  /** The second backup's source tree, kept as it was. */
  let src2: string;
  let stateDir: string;
  let repo: string[];
  const states: SavedJson[] = [];
  /** The second snapshot's id. */
  let snap2 = '';
  /** Live keys right after the second state was saved. */
  let live2 = new Map<string, Live>();
  /** A time after the second state and before the third backup. */
  let t2 = 0;
  /** Live keys after the prune, before the attack. */
  let livePruned = new Map<string, Live>();
  /** Keys the attacker put garbage over (all of them live in the second state). */
  const attacked = new Set<string>();
  let attackedConfig = '';
  const forged: { key: string; type: 'snapshots' | 'index'; id: string }[] = [];
  /** Live keys after the attack. */
  let liveAttacked = new Map<string, Live>();
  /** A time after the attack, before any restore. */
  let tAttacked = 0;
  /** What the restore to the second state must copy and hide, from this test's own listings. */
  let toCopy = new Set<string>();
  let toHide = new Set<string>();
  let liveRestored = new Map<string, Live>();

  const rwm = (command: readonly string[], args: readonly string[], as: 'admin' | 'backup' = 'admin'): Promise<RwmRun> =>
    runRwm(env, command, args, { as, env: { RWM_STATE_DIR: stateDir }, timeoutMs: 180_000 });
  const restore = (args: readonly string[]): Promise<RwmRun> => rwm(['restore'], [`${bucket}/${REPO}`, '--json', ...args]);
  const direct = (b: string, key: string): string[] => ['-r', directRepo(env, b, key), '--no-cache'];

  /** restic check --read-data on REPO, then restic restore of the second snapshot equals its source. */
  async function assertSecondBackupRestores(repoArgs: string[], keys: NodeJS.ProcessEnv): Promise<void> {
    const c = await resticOk([...repoArgs, 'check', '--read-data'], keys);
    assert.match(c.stdout, /no errors were found/);
    const target = join(dir, `restored-${randomBytes(4).toString('hex')}`);
    await resticOk([...repoArgs, 'restore', snap2, '--target', target], keys);
    assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src2), 'restic restore is byte-identical to the second backup\'s source');
    await rm(target, { recursive: true, force: true });
  }

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    src2 = join(dir, 'src2');
    stateDir = join(dir, 'state');
    await makeTree(src, 40, 512 << 10);
    repo = direct(bucket, REPO);
  });
  after(async () => {
    await deleteBucket(env, bucket);
    await deleteBucket(env, copyBucket);
    await deleteBucket(env, plainBucket);
    await removeDir(dir);
  });

  test('three backups with the backup keys, each followed by rwm state save (with the backup keys too)', { timeout: 240_000 }, async () => {
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', REPO]);
    assert.equal(created.status, 0, describeRun(created));
    await resticOk([...repo, 'init'], backup);
    // a second key, which the attacker leaves alone: a restore must leave it alone too
    const passwordFile = join(dir, 'password2');
    await writeFile(passwordFile, 'second-password\n');
    await resticOk([...repo, 'key', 'add', '--new-password-file', passwordFile], backup);
    for (let i = 1; i <= 3; i++) {
      if (i > 1) {
        // a changed file, a new one and a bigger new one: new blobs, new packs
        await writeFile(join(src, 'text.txt'), `backup ${i}\n`.repeat(2000));
        await writeFile(join(src, `new-${i}.bin`), randomBytes(200 << 10));
        await writeFile(join(src, 'd1', `big-${i}.bin`), randomBytes(700 << 10));
      }
      if (i === 3) {
        await sleep(GAP_MS);
        t2 = Date.now();
        await sleep(GAP_MS);
      }
      await resticOk([...repo, 'backup', src], backup);
      const r = await rwm(['state', 'save'], [`${bucket}/${REPO}`, '--json'], 'backup');
      assert.equal(r.status, 0, describeRun(r));
      const saved = jsonOf<SavedJson>(r);
      states.push(saved);
      assert.equal(saved.key, `${KP}.rwm/state/${saved.name}.jsonl.gz`);
      const live = liveOf(await listVersions(env, bucket));
      assert.equal(saved.header.objects, live.size, `state ${i} records every live key`);
      assert.equal(saved.header.bytes, sumSizes(live.keys(), live));
      if (i === 2) {
        live2 = live;
        snap2 = snapshotIds((await resticOk([...repo, 'snapshots', '--json', '--latest', '1'], backup)).stdout)[0] ?? '';
        await cp(src, src2, { recursive: true });
      }
    }
    assert.notEqual(snap2, '');
    assert.ok(Date.parse(states[1]?.header.created ?? '') < t2, 'the time lies after the second state');

    const list = await rwm(['state', 'list'], [`${bucket}/${REPO}`, '--json']);
    assert.equal(list.status, 0, describeRun(list));
    const listed = jsonOf<ListedJson[]>(list);
    assert.deepEqual(listed.map((s) => s.name), states.map((s) => s.name), 'the three states, oldest first');
    for (const [i, s] of listed.entries()) {
      assert.equal(s.writtenBy, 'backup', `state ${i + 1} is written by the backup user (S3 owner)`);
      assert.equal(s.writer?.command, 'state save');
      assert.equal(s.objects, states[i]?.header.objects);
      assert.equal(s.overwritten, false);
      assert.equal(s.verified, true);
    }
  });

  test('the admin prunes; the attacker overwrites config, keys, index, snapshot and packs and forges a snapshot and an index', { timeout: 120_000 }, async (t) => {
    assert.ok(live2.size > 0, 'needs the backups of the previous test');
    await resticOk([...repo, 'forget', '--keep-last', '1', '--prune'], admin);
    livePruned = liveOf(await listVersions(env, bucket));
    const pruned = [...live2.keys()].filter((k) => !livePruned.has(k));
    assert.ok(pruned.some((k) => k.startsWith(`${KP}snapshots/`)), 'the prune deleted the older snapshots');
    assert.ok(pruned.some((k) => k.startsWith(`${KP}data/`)), 'the prune deleted packs');

    const of = (dirName: string): string[] => sorted(live2.keys()).filter((k) => k.startsWith(`${KP}${dirName}/`));
    const snapKey = `${KP}snapshots/${snap2}`;
    // Packs the second backup needs: one or two still in use after the prune, one the prune deleted
    // (garbage on top of its delete marker); at least one in-use pack stays untouched.
    const inUse = of('data').filter((k) => livePruned.has(k));
    const gone = of('data').filter((k) => !livePruned.has(k));
    assert.ok(inUse.length >= 2 && gone.length >= 1, `packs in use ${inUse.length}, deleted ${gone.length}`);
    const packs = [...inUse.slice(0, Math.min(2, inUse.length - 1)), gone[0] ?? ''];
    attackedConfig = `${KP}config`;
    for (const k of [attackedConfig, of('keys')[0], of('index')[0], snapKey, ...packs]) {
      assert.ok(k !== undefined && live2.has(k), `${k} is in the second state`);
      attacked.add(k);
    }

    await sleep(GAP_MS);
    const attacker = testClient(env, 'backup');
    try {
      for (const k of attacked) await attacker.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: randomBytes(live2.get(k)?.size ?? 100) }));
      for (const type of ['snapshots', 'index'] as const) {
        const body = randomBytes(600);
        const id = sha256hex(body);
        forged.push({ key: `${KP}${type}/${id}`, type, id });
        await attacker.send(new PutObjectCommand({ Bucket: bucket, Key: `${KP}${type}/${id}`, Body: body }));
      }
    } finally {
      attacker.destroy();
    }
    liveAttacked = liveOf(await listVersions(env, bucket));
    for (const k of attacked) assert.notEqual(liveAttacked.get(k)?.etag, live2.get(k)?.etag, `${k} holds garbage`);
    await sleep(GAP_MS);
    tAttacked = Date.now();
    await sleep(GAP_MS);

    // From this test's own listings: the keys that differ from the second state, and those added since.
    toCopy = new Set([...live2.keys()].filter((k) => !liveAttacked.has(k) || attacked.has(k)));
    toHide = new Set([...liveAttacked.keys()].filter((k) => !live2.has(k)));
    for (const f of forged) assert.ok(toHide.has(f.key));
    assert.ok([...toHide].some((k) => k.startsWith(`${KP}snapshots/`) && !forged.some((f) => f.key === k)), 'the third snapshot is among the added keys');
    t.diagnostic(`second state: ${live2.size} keys; pruned ${pruned.length}; overwritten ${attacked.size} (${packs.length} packs); to copy ${toCopy.size}, to hide ${toHide.size}`);

    // the attack worked: restic cannot even open the repository now
    const broken = await restic([...repo, 'snapshots'], admin);
    assert.notEqual(broken.code, 0, 'restic opens a repository with a garbage config');
  });

  test('state list: every state still verifies (nothing deleted a version)', async () => {
    const r = await rwm(['state', 'list'], [`${bucket}/${REPO}`, '--json']);
    assert.equal(r.status, 0, describeRun(r));
    assert.deepEqual(jsonOf<ListedJson[]>(r).map((s) => [s.verified, s.missing]), states.map(() => [true, 0]));
  });

  test('state diff --from <second state> reports exactly the tampered, forged, added and pruned keys; exit 1', async () => {
    assert.ok(attacked.size > 0, 'needs the attack of the previous test');
    const expectDeleted = sorted([...live2.keys()].filter((k) => !liveAttacked.has(k)));
    for (const from of [states[1]?.name ?? '', new Date(t2).toISOString()]) {
      const r = await rwm(['state', 'diff'], [`${bucket}/${REPO}`, '--from', from, '--json']);
      assert.equal(r.status, 1, `tampering found, exit 1: ${describeRun(r)}`);
      const d = jsonOf<DiffJson>(r);
      const kinds = (kind: string): string[] => sorted(d.changes.filter((c) => c.kind === kind).map((c) => c.key));
      assert.deepEqual(kinds('changed'), sorted(attacked), `--from ${from}: changed = the overwritten keys`);
      assert.deepEqual(kinds('added'), sorted(toHide), `--from ${from}: added = forged + written after the second state`);
      assert.deepEqual(kinds('deleted'), expectDeleted, `--from ${from}: deleted = pruned (and not overwritten)`);
      assert.deepEqual(kinds('rewritten'), []);
      for (const c of d.changes.filter((x) => x.kind === 'changed')) {
        assert.equal(c.severity, c.key === attackedConfig ? 'alarm' : 'tampering', c.key);
        assert.equal(c.to?.owner, 'backup', `${c.key}: the diff says who wrote the garbage`);
      }
      for (const f of forged) {
        const c = d.changes.find((x) => x.key === f.key);
        assert.deepEqual(c && { kind: c.kind, type: c.type, id: c.id, severity: c.severity }, { kind: 'added', type: f.type, id: f.id, severity: 'normal' });
      }
      assert.deepEqual(d.summary, { added: toHide.size, changed: attacked.size, deleted: expectDeleted.length, rewritten: 0, tampering: attacked.size - 1, alarms: 1 });
    }
  });

  test('restore --state <second> in place: --dry-run changes nothing; then exactly the differing keys are copied and the added ones hidden; restic checks and restores', { timeout: 180_000 }, async () => {
    assert.ok(toCopy.size > 0 && toHide.size > 0, 'needs the attack');
    const second = states[1]?.name ?? '';
    const expected = { copied: toCopy.size, copiedBytes: sumSizes(toCopy, live2), hidden: toHide.size, same: live2.size - toCopy.size, failed: 0 };
    assert.ok(expected.same >= 2, 'some keys (a pack, the second key) are as they were and must be left alone');
    const pick = (r: InPlaceReport): typeof expected => ({ copied: r.copied, copiedBytes: r.copiedBytes, hidden: r.hidden, same: r.same, failed: r.failed });

    const versionsBefore = await listVersions(env, bucket);
    const dry = await restore(['--state', second, '--dry-run']);
    assert.equal(dry.status, 0, describeRun(dry));
    const dj = jsonOf<RestoreJson<InPlaceReport>>(dry);
    assert.equal(dj.dryRun, true);
    assert.deepEqual(pick(dj.report), expected, 'the dry run plans exactly the differing and added keys');
    assert.deepEqual(await listVersions(env, bucket), versionsBefore, '--dry-run changed no version');

    const r = await restore(['--state', second]);
    assert.equal(r.status, 0, describeRun(r));
    const j = jsonOf<RestoreJson<InPlaceReport>>(r);
    assert.equal(j.mode, 'in-place');
    assert.deepEqual(pick(j.report), expected, 'copied = overwritten + pruned, hidden = added since');
    liveRestored = liveOf(await listVersions(env, bucket));
    assert.deepEqual(contentOf(liveRestored), contentOf(live2), 'the bucket holds what it held at the second state');
    await assertSecondBackupRestores(repo, admin);

    const again = await restore(['--state', second]);
    assert.equal(again.status, 0, describeRun(again));
    assert.deepEqual(pick(jsonOf<RestoreJson<InPlaceReport>>(again).report), { ...expected, copied: 0, copiedBytes: 0, hidden: 0, same: live2.size }, 'a rerun has nothing left to do');
  });

  test('undo (restore --at the time before the restore), then the same recovery with --at TIME and no state', { timeout: 180_000 }, async () => {
    assert.ok(liveRestored.size > 0, 'needs the restore of the previous test');
    // Undo: what the restore copied goes back to its garbage, what it hid comes back, what it brought back is hidden.
    const pruned = [...live2.keys()].filter((k) => !liveAttacked.has(k));
    assert.ok(pruned.length > 0);
    const undo = await restore(['--at', new Date(tAttacked).toISOString()]);
    assert.equal(undo.status, 0, describeRun(undo));
    const u = jsonOf<RestoreJson<InPlaceReport>>(undo).report;
    assert.deepEqual({ copied: u.copied, hidden: u.hidden, failed: u.failed }, { copied: attacked.size + toHide.size, hidden: pruned.length, failed: 0 });
    assert.deepEqual(contentOf(liveOf(await listVersions(env, bucket))), contentOf(liveAttacked), 'undone: the bucket is as the attacker left it');

    const r = await restore(['--at', new Date(t2).toISOString()]);
    assert.equal(r.status, 0, describeRun(r));
    const j = jsonOf<RestoreJson<InPlaceReport>>(r).report;
    assert.deepEqual({ copied: j.copied, hidden: j.hidden, failed: j.failed }, { copied: toCopy.size, hidden: toHide.size, failed: 0 });
    assert.deepEqual(contentOf(liveOf(await listVersions(env, bucket))), contentOf(live2), 'the bucket holds what it held at that time');
    await assertSecondBackupRestores(repo, admin);
  });

  test('restore --state <second> --to an empty versioned bucket: restic opens, checks and restores it', { timeout: 120_000 }, async () => {
    assert.ok(live2.size > 0);
    await createBucket(env, copyBucket, { versioned: true });
    const r = await restore(['--state', states[1]?.name ?? '', '--to', `${copyBucket}/copy`]);
    assert.equal(r.status, 0, describeRun(r));
    const j = jsonOf<RestoreJson<InPlaceReport>>(r);
    assert.equal(j.mode, 'bucket');
    assert.deepEqual({ copied: j.report.copied, hidden: j.report.hidden, failed: j.report.failed }, { copied: live2.size, hidden: 0, failed: 0 });
    const copied = await listVersions(env, copyBucket);
    const remap = (k: string): string => `copy/${k.slice(KP.length)}`;
    assert.deepEqual(
      new Map(copied.filter((v) => v.isLatest && !v.deleteMarker).map((v) => [v.key, v.etag])),
      new Map([...live2].map(([k, v]) => [remap(k), v.etag])),
      'the target holds exactly the second state\'s files, and no state or lock',
    );
    await assertSecondBackupRestores(direct(copyBucket, 'copy'), admin);
  });

  test('restore --state <second> --to-dir: restic -r DIR opens, checks and restores it', { timeout: 120_000 }, async () => {
    assert.ok(live2.size > 0);
    const out = join(dir, 'to-dir');
    const r = await restore(['--state', states[1]?.name ?? '', '--to-dir', out]);
    assert.equal(r.status, 0, describeRun(r));
    const j = jsonOf<RestoreJson<DirReport>>(r);
    assert.equal(j.mode, 'dir');
    const { written, same, refused, foreign, failed, failures } = j.report;
    assert.deepEqual({ written, same, refused, foreign, failed, failures }, { written: live2.size, same: 0, refused: 0, foreign: 0, failed: 0, failures: [] });
    await assertSecondBackupRestores(['-r', out, '--no-cache'], {});
  });

  test('restore --to-dir --at a time after the attack: every garbage version but config is refused by its SHA-256, not written; exit 1', { timeout: 60_000 }, async () => {
    assert.ok(attacked.size > 0);
    const out = join(dir, 'to-dir-attacked');
    const r = await restore(['--at', new Date(tAttacked).toISOString(), '--to-dir', out]);
    assert.equal(r.status, 1, describeRun(r));
    const j = jsonOf<RestoreJson<DirReport>>(r).report;
    const hashed = sorted([...attacked].filter((k) => k !== attackedConfig));
    // config has no hash to check; forged files are named by their own hash, so they pass
    assert.deepEqual({ refused: j.refused, written: j.written, failed: j.failed, foreign: j.foreign }, { refused: hashed.length, written: liveAttacked.size - hashed.length, failed: 0, foreign: 0 });
    assert.deepEqual(sorted(j.failures.map((f) => f.slice(0, f.indexOf(':')))), hashed, 'the refusals name the garbage versions');
    for (const k of hashed) {
      const rel = k.slice(KP.length);
      const parent = join(out, rel.slice(0, rel.lastIndexOf('/')));
      const names = await readdir(parent);
      assert.ok(!names.includes(rel.slice(rel.lastIndexOf('/') + 1)), `${rel} was not written`);
    }
  });

  test('refusals change nothing: a non-empty --to (exit 2), a time before the first version (exit 1), a bucket without versioning (exit 1)', { timeout: 60_000 }, async () => {
    const sourceBefore = await listVersions(env, bucket);
    const targetBefore = await listVersions(env, copyBucket);
    assert.ok(targetBefore.length > 0, 'needs the copy of an earlier test');

    const nonEmpty = await restore(['--state', states[1]?.name ?? '', '--to', `${copyBucket}/copy`]);
    assert.equal(nonEmpty.status, 2, describeRun(nonEmpty));
    assert.match(nonEmpty.stderr, /not empty/);

    const early = await restore(['--at', '2001-01-01T00:00:00Z']);
    assert.equal(early.status, 1, describeRun(early));
    assert.match(early.stderr, /nothing existed/);

    const early2 = await restore(['--at', '2001-01-01T00:00:00Z', '--to', `${copyBucket}/other`]);
    assert.equal(early2.status, 1, describeRun(early2));

    assert.deepEqual(await listVersions(env, bucket), sourceBefore, 'the source did not change');
    assert.deepEqual(await listVersions(env, copyBucket), targetBefore, 'the target did not change');

    await createBucket(env, plainBucket);
    const c = testClient(env);
    try {
      await c.send(new PutObjectCommand({ Bucket: plainBucket, Key: `${KP}config`, Body: 'x' }));
    } finally {
      c.destroy();
    }
    const plainBefore = await listVersions(env, plainBucket);
    const plain = await rwm(['restore'], [`${plainBucket}/${REPO}`, '--at', '1h', '--json']);
    assert.equal(plain.status, 1, describeRun(plain));
    assert.match(plain.stderr, /no versioning/);
    assert.deepEqual(await listVersions(env, plainBucket), plainBefore);
  });

  test('restore --to-dir --at a time before the first version exits 1 and writes nothing', async () => {
    const out = join(dir, 'to-dir-early');
    const r = await restore(['--at', '2001-01-01T00:00:00Z', '--to-dir', out]);
    assert.equal(r.status, 1, describeRun(r));
    assert.match(r.stderr, /nothing existed/);
    assert.deepEqual(await readdir(out).catch(() => []), []);
  });
});
