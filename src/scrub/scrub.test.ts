// Unit tests of the scrub on the in-memory twin of a versioned bucket (through bucketSource, as the
// CLI runs it) and on local directories (localSource): each finding code, the newest good version,
// repairs planned, incremental runs that read no bodies, sampling that covers every key over its
// cycle, and what is never reported (locks, rwm's own keys).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ReadOptions, VersionRecord, VersionRef } from '../s3/bucket.js';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import type { StateEntry } from '../state/format.js';
import { FAILING, type Finding } from './findings.js';
import { newReport, scrub, slotOf, type ScrubMode, type ScrubReport, type ScrubSource } from './scrub.js';
import { HashPool } from './hash-pool.js';
import { bucketSource, localSource } from './sources.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const B = 'b';
const P = 'repo/';

/** A restic key file (plain JSON; the master key inside is encrypted). */
const keyFile = (): Buffer =>
  Buffer.from(JSON.stringify({ created: '2026-01-01T00:00:00Z', username: 'u', hostname: 'h', kdf: 'scrypt', N: 32768, r: 8, p: 1, salt: randomBytes(64).toString('base64'), data: randomBytes(150).toString('base64') }));

/** Writes a restic file named by its hash under the prefix; returns its key. */
function put(m: MemoryBuckets, kind: 'data' | 'index' | 'snapshots' | 'keys' | 'locks', body: Buffer, prefix = P): string {
  const id = sha(body);
  const key = kind === 'data' ? `${prefix}data/${id.slice(0, 2)}/${id}` : `${prefix}${kind}/${id}`;
  m.write(B, key, body);
  return key;
}

/** A small repository: config, a key, two packs, an index, a snapshot. */
function repo(m: MemoryBuckets, prefix = P): { config: string; key: string; packs: string[]; index: string; snapshot: string; hashable: string[] } {
  const config = `${prefix}config`;
  m.write(B, config, randomBytes(155));
  const key = put(m, 'keys', keyFile(), prefix);
  const packs = [put(m, 'data', randomBytes(3000), prefix), put(m, 'data', randomBytes(2000), prefix)];
  const index = put(m, 'index', randomBytes(400), prefix);
  const snapshot = put(m, 'snapshots', randomBytes(300), prefix);
  return { config, key, packs, index, snapshot, hashable: [key, ...packs, index, snapshot] };
}

async function run(source: ScrubSource, mode: ScrubMode = { kind: 'incremental' }, previous?: readonly StateEntry[], now = () => 1_000): Promise<{ report: ScrubReport; entries: StateEntry[] }> {
  const report = newReport();
  const entries: StateEntry[] = [];
  const prev = previous === undefined ? undefined : (async function* () {
    yield* previous;
  })();
  for await (const e of scrub({ source, mode, previous: prev, now, concurrency: 4 }, report)) entries.push(e);
  return { report, entries };
}

type Pair = [code: string, key: string];
const byKey = (a: Pair, b: Pair): number => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : 1);
/** The findings as [code, key], sorted by key. */
const codes = (r: ScrubReport): Pair[] => r.findings.map((f): Pair => [f.code, f.key]).sort(byKey);
const pairs = (...p: Pair[]): Pair[] => p.sort(byKey);
const failing = (r: ScrubReport): Finding[] => r.findings.filter((f) => FAILING.has(f.code));

function setup(): MemoryBuckets {
  const m = new MemoryBuckets();
  m.createBucket(B);
  return m;
}

describe('scrub on a versioned bucket', () => {
  test('a clean repository: every hashable file hashed and verified, config not hashable, no findings', async () => {
    const m = setup();
    const r0 = repo(m);
    const { report, entries } = await run(bucketSource(m, B, P), { kind: 'incremental' }, undefined, () => 42);
    assert.deepEqual(report.findings, []);
    assert.deepEqual({ keys: report.keys, hashed: report.hashed, carried: report.carried, notSampled: report.notSampled, notHashable: report.notHashable, repairs: report.repairs }, { keys: 6, hashed: 5, carried: 0, notSampled: 0, notHashable: 1, repairs: [] });
    assert.equal(report.hashedBytes, 3000 + 2000 + 400 + 300 + (await top(m, r0.key)).size);
    assert.deepEqual(entries.map((e) => e.key), [...entries.map((e) => e.key)].sort(), 'entries in key order');
    assert.deepEqual(entries.filter((e) => e.verified === 42).map((e) => e.key).sort(), [...r0.hashable].sort(), 'the hashed files are verified, with the time');
    assert.equal(entries.find((e) => e.key === r0.config)?.verified, undefined, 'config cannot be verified');
  });

  test('corrupt current versions: the newest older version that hashes to the name is named, and a copy of it planned', async () => {
    const m = setup();
    const r0 = repo(m);
    const [p0, p1] = r0.packs as [string, string];
    const good = await top(m, p0);
    m.write(B, p0, randomBytes(3000)); // garbage over it
    m.write(B, p0, randomBytes(10)); // and more garbage: the good one is two down
    // the index: overwritten twice with garbage, a delete marker between (skipped)
    const idxGood = (await top(m, r0.index)).versionId;
    m.remove(B, r0.index);
    m.write(B, r0.index, 'garbage');
    // a snapshot with no good version at all
    const snapBad = m.write(B, `${P}snapshots/${sha('the real one')}`, 'not it');
    // a bit flipped in the other pack
    const bytes = await readAll(await m.read({ bucket: B, key: p1, versionId: (await top(m, p1)).versionId }));
    const p1Good = (await top(m, p1)).versionId;
    bytes[100] = (bytes[100] as number) ^ 1;
    m.write(B, p1, bytes);

    const { report, entries } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), pairs(['corrupt', p0], ['corrupt', p1], ['corrupt', r0.index], ['corrupt', snapBad.key]));
    const by = new Map(report.findings.map((f) => [f.key, f]));
    assert.equal(by.get(p0)?.goodVersion, good.versionId);
    assert.equal(by.get(p1)?.goodVersion, p1Good);
    assert.equal(by.get(r0.index)?.goodVersion, idxGood);
    assert.equal(by.get(snapBad.key)?.goodVersion, undefined);
    for (const k of [p0, p1, r0.index, snapBad.key]) {
      assert.equal(by.get(k)?.versionId, (await top(m, k)).versionId, `${k}: the finding names the current version`);
      assert.equal(entries.find((e) => e.key === k)?.verified, undefined, `${k} is not verified`);
    }
    // one repair per finding with a good version, pointing at it
    const repairs = report.repairs.map((r) => ({ action: r.action, key: report.findings[r.finding]?.key }));
    assert.deepEqual(
      repairs.sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : 1)),
      [
        { action: { kind: 'copy', key: p0, versionId: good.versionId, size: 3000, target: p0 }, key: p0 },
        { action: { kind: 'copy', key: p1, versionId: p1Good, size: 2000, target: p1 }, key: p1 },
        { action: { kind: 'copy', key: r0.index, versionId: idxGood, size: 400, target: r0.index }, key: r0.index },
      ].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  });

  test('empty: a zero-length current version (with its good version named) and a new zero-length file (none)', async () => {
    const m = setup();
    const r0 = repo(m);
    const snapGood = (await top(m, r0.snapshot)).versionId;
    m.write(B, r0.snapshot, '');
    const id = sha('something');
    const fresh = `${P}data/${id.slice(0, 2)}/${id}`;
    m.write(B, fresh, '');
    const { report } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), pairs(['empty', fresh], ['empty', r0.snapshot]));
    const by = new Map(report.findings.map((f) => [f.key, f]));
    assert.equal(by.get(r0.snapshot)?.goodVersion, snapGood);
    assert.equal(by.get(fresh)?.goodVersion, undefined);
    assert.deepEqual(report.repairs.map((r) => r.action), [{ kind: 'copy', key: r0.snapshot, versionId: snapGood, size: 300, target: r0.snapshot }]);
  });

  test('an empty config is reported; config is never read', async () => {
    const m = setup();
    const r0 = repo(m);
    m.write(B, r0.config, '');
    const reads = m.calls.read;
    const { report } = await run(bucketSource(m, B, P), { kind: 'full' });
    assert.deepEqual(codes(report), [['empty', r0.config]]);
    assert.equal(m.calls.read - reads, 5, 'only the five hashable files were read');
  });

  test('misplaced: a pack under another shard (its bytes fine) is misplaced and nothing else; no repair', async () => {
    const m = setup();
    const r0 = repo(m);
    const body = randomBytes(1234);
    const id = sha(body);
    const wrong = `${P}data/${id.slice(0, 2) === '00' ? '01' : '00'}/${id}`;
    m.write(B, wrong, body);
    const { report, entries } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), [['misplaced', wrong]]);
    assert.deepEqual(report.repairs, []);
    assert.equal(report.hashed, r0.hashable.length + 1);
    assert.ok(entries.some((e) => e.key === wrong));
  });

  test('foreign: keys that are not restic\'s (outside any restic directory, bad names) are reported, not read', async () => {
    const m = setup();
    repo(m);
    const foreign = [`${P}README`, `${P}data/ab/not-a-hash`, `${P}index/${'A'.repeat(64)}`, `${P}snapshots/${'a'.repeat(63)}`, `${P}keys/x/${'b'.repeat(64)}`];
    for (const k of foreign) m.write(B, k, 'hello');
    const reads = m.calls.read;
    const { report } = await run(bucketSource(m, B, P), { kind: 'full' });
    assert.deepEqual(codes(report), pairs(...foreign.map((k): Pair => ['foreign', k])));
    assert.equal(m.calls.read - reads, 5, 'foreign keys are not read');
    assert.deepEqual(report.repairs, []);
  });

  test('junk: a keys/ file that hashes to its name but is no restic key file is junk, and a delete marker planned; a real one is fine', async () => {
    const m = setup();
    repo(m);
    const junk = put(m, 'keys', Buffer.from('{"hello":"world"}'));
    const notJson = put(m, 'keys', randomBytes(500));
    const big = put(m, 'keys', Buffer.alloc(70 * 1024, 'a'));
    const other = put(m, 'keys', keyFile());
    // junk in index/ or snapshots/ cannot be recognised without the password: it hashes, so it is fine here
    put(m, 'index', Buffer.from('{"hello":"world"}'));
    const { report, entries } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), pairs(...[junk, notJson, big].map((k): Pair => ['junk', k])));
    assert.deepEqual(report.repairs.map((r) => r.action).sort((a, b) => ((a as { target: string }).target < (b as { target: string }).target ? -1 : 1)), [junk, notJson, big].sort().map((k) => ({ kind: 'hide', target: k })));
    for (const r of report.repairs) assert.equal(report.findings[r.finding]?.code, 'junk', 'each repair points at its finding');
    for (const k of [junk, notJson, big]) assert.equal(entries.find((e) => e.key === k)?.verified, undefined, `${k}: junk is not verified`);
    assert.ok(entries.find((e) => e.key === other)?.verified !== undefined, 'a second real key file is fine');
  });

  test('deleted: a delete marker on top is reported (not failing), not read, no repair', async () => {
    const m = setup();
    const r0 = repo(m);
    m.remove(B, r0.snapshot);
    const { report } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), [['deleted', r0.snapshot]]);
    assert.deepEqual(failing(report), []);
    assert.deepEqual(report.repairs, []);
    assert.equal(report.findings[0]?.versionId, (await top(m, r0.snapshot)).versionId);
  });

  test('locks are never reported: live, deleted, garbage or empty; they are not read', async () => {
    const m = setup();
    repo(m);
    const live = put(m, 'locks', Buffer.from('{"time":"now"}'));
    const gone = put(m, 'locks', Buffer.from('{"time":"then"}'));
    m.remove(B, gone);
    m.write(B, `${P}locks/${'c'.repeat(64)}`, 'not the hash');
    m.write(B, `${P}locks/${'d'.repeat(64)}`, '');
    const reads = m.calls.read;
    const { report, entries } = await run(bucketSource(m, B, P), { kind: 'full' });
    assert.deepEqual(report.findings, []);
    assert.equal(m.calls.read - reads, 5);
    assert.equal(report.notHashable, 1 + 3, 'config and the three live locks');
    assert.ok(entries.some((e) => e.key === live), 'locks are in the state, as what was there');
  });

  test('rwm\'s own keys (.rwm/ at any depth) are left out entirely', async () => {
    const m = setup();
    repo(m);
    m.write(B, `${P}.rwm/state/20260101T000000.000Z-abcdef01.jsonl.gz`, 'a state');
    m.write(B, `${P}.rwm/ledger/x`, '');
    m.write(B, `${P}host/.rwm/state/y`, 'zzz');
    const { report, entries } = await run(bucketSource(m, B, P));
    assert.deepEqual(report.findings, []);
    assert.equal(report.keys, 6);
    assert.ok(!entries.some((e) => e.key.includes('.rwm/')));
  });

  test('several repositories under the prefix, each file checked against its own repository\'s layout', async () => {
    const m = setup();
    const a = repo(m, `${P}hosts/a/`);
    const b = repo(m, `${P}hosts/b/`);
    m.write(B, a.index, 'garbage');
    const { report } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), [['corrupt', a.index]]);
    assert.equal(report.hashed, a.hashable.length + b.hashable.length);
  });

  test('unreadable: a read that fails is reported as such and the file not verified', async () => {
    class Broken extends MemoryBuckets {
      broken = '';
      override read(ref: VersionRef, opts?: ReadOptions): Promise<Readable> {
        if (ref.key === this.broken) return Promise.reject(new Error('connection reset'));
        return super.read(ref, opts);
      }
    }
    const m = new Broken();
    m.createBucket(B);
    const r0 = repo(m);
    m.broken = r0.packs[0] as string;
    const { report, entries } = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(report), [['unreadable', m.broken]]);
    assert.match(report.findings[0]?.message ?? '', /connection reset/);
    assert.equal(entries.find((e) => e.key === m.broken)?.verified, undefined);
    assert.equal(report.hashed, r0.hashable.length - 1);
  });
});

describe('incremental scrubs', () => {
  test('a second run with the first run\'s entries reads no bodies; a new version, and a new key, are read', async () => {
    const m = setup();
    const r0 = repo(m);
    const first = await run(bucketSource(m, B, P), { kind: 'incremental' }, undefined, () => 1);
    assert.equal(first.report.hashed, r0.hashable.length);

    const reads = m.calls.read;
    const second = await run(bucketSource(m, B, P), { kind: 'incremental' }, first.entries, () => 2);
    assert.equal(m.calls.read, reads, 'no object body was read');
    assert.deepEqual({ hashed: second.report.hashed, hashedBytes: second.report.hashedBytes, carried: second.report.carried, findings: second.report.findings }, { hashed: 0, hashedBytes: 0, carried: r0.hashable.length, findings: [] });
    assert.deepEqual(second.entries, first.entries, 'the verified times are carried over');

    // the same bytes again: a new version id, so it is read again; plus a new pack
    const body = await readAll(await m.read({ bucket: B, key: r0.index, versionId: (await top(m, r0.index)).versionId }));
    m.write(B, r0.index, body);
    const fresh = put(m, 'data', randomBytes(500));
    const reads2 = m.calls.read;
    const third = await run(bucketSource(m, B, P), { kind: 'incremental' }, second.entries, () => 3);
    assert.equal(m.calls.read - reads2, 2, 'exactly the new version and the new key were read');
    assert.deepEqual({ hashed: third.report.hashed, carried: third.report.carried, findings: third.report.findings }, { hashed: 2, carried: r0.hashable.length - 1, findings: [] });
    assert.deepEqual(third.entries.filter((e) => e.verified === 3).map((e) => e.key).sort(), [r0.index, fresh].sort());
  });

  test('what was bad is read again on the next run (not carried); --full reads everything again', async () => {
    const m = setup();
    const r0 = repo(m);
    m.write(B, r0.snapshot, 'garbage');
    const first = await run(bucketSource(m, B, P));
    assert.deepEqual(codes(first.report), [['corrupt', r0.snapshot]]);
    const reads = m.calls.read;
    const second = await run(bucketSource(m, B, P), { kind: 'incremental' }, first.entries);
    assert.deepEqual(codes(second.report), [['corrupt', r0.snapshot]], 'still reported');
    assert.equal(m.calls.read - reads, 2, 'the bad version and its good one read again, nothing else');
    const full = await run(bucketSource(m, B, P), { kind: 'full' }, second.entries);
    assert.equal(full.report.hashed, r0.hashable.length);
    assert.equal(full.report.carried, 0);
  });

  test('a previous state of other keys, or of another version of the key, carries nothing', async () => {
    const m = setup();
    const r0 = repo(m);
    const first = await run(bucketSource(m, B, P));
    const forged = first.entries.map((e) => (e.key === r0.packs[0] ? { ...e, versionId: 'another' } : e));
    const second = await run(bucketSource(m, B, P), { kind: 'incremental' }, forged);
    assert.equal(second.report.hashed, 1);
    assert.equal(second.report.carried, r0.hashable.length - 1);
  });

  test('--sample: each run hashes one slot of what is unverified; over `slots` cycles every key is covered, then nothing is read', async () => {
    const m = setup();
    const keys: string[] = [];
    for (let i = 0; i < 60; i++) keys.push(put(m, 'data', randomBytes(50 + i)));
    const slots = 3;
    let prev: StateEntry[] | undefined;
    const covered = new Set<string>();
    let total = 0;
    for (let cycle = 0; cycle < slots; cycle++) {
      const { report, entries } = await run(bucketSource(m, B, ''), { kind: 'sample', slots, cycle }, prev, () => 100 + cycle);
      const now = entries.filter((e) => e.verified === 100 + cycle).map((e) => e.key);
      assert.deepEqual(now.sort(), keys.filter((k) => slotOf(k, slots) === cycle).sort(), `cycle ${cycle} hashes exactly its slot`);
      assert.equal(report.hashed, now.length);
      assert.equal(report.carried, covered.size);
      assert.equal(report.notSampled, keys.length - covered.size - now.length);
      for (const k of now) covered.add(k);
      total += report.hashed;
      prev = entries;
    }
    assert.equal(covered.size, keys.length, 'every key covered');
    assert.equal(total, keys.length, 'each key hashed once');
    for (let s = 0; s < slots; s++) assert.ok(keys.some((k) => slotOf(k, slots) === s), `slot ${s} is not empty (else the test proves little)`);
    const reads = m.calls.read;
    const after = await run(bucketSource(m, B, ''), { kind: 'sample', slots, cycle: slots }, prev);
    assert.equal(m.calls.read, reads);
    assert.equal(after.report.carried, keys.length);
  });

  test('slotOf is stable and spreads keys over the slots', () => {
    const counts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) {
      const k = `data/${sha(String(i)).slice(0, 2)}/${sha(String(i))}`;
      assert.equal(slotOf(k, 10), slotOf(k, 10));
      counts[slotOf(k, 10)] = (counts[slotOf(k, 10)] as number) + 1;
    }
    for (const c of counts) assert.ok(c > 50 && c < 150, `${counts.join(',')}`);
  });
});

describe('scrub of a local directory (hashed on worker threads, as rwm scrub --path does)', () => {
  let root: string;
  const pool = new HashPool(2);
  const local = (dir: string): ScrubSource => localSource(dir, pool);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'rwm-scrub-test-'));
  });
  after(async () => {
    await pool.close();
    await rm(root, { recursive: true, force: true });
  });

  async function file(dir: string, rel: string, body: Buffer | string): Promise<string> {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), body, { mode: 0o400 });
    return rel;
  }
  async function localRepo(dir: string): Promise<{ packs: string[]; index: string; snapshot: string; key: string }> {
    await file(dir, 'config', randomBytes(155));
    const p = [randomBytes(3000), randomBytes(1000)].map((b) => ({ b, id: sha(b) }));
    const packs: string[] = [];
    for (const x of p) packs.push(await file(dir, `data/${x.id.slice(0, 2)}/${x.id}`, x.b));
    const ib = randomBytes(300);
    const sb = randomBytes(200);
    const kb = keyFile();
    return { packs, index: await file(dir, `index/${sha(ib)}`, ib), snapshot: await file(dir, `snapshots/${sha(sb)}`, sb), key: await file(dir, `keys/${sha(kb)}`, kb) };
  }

  test('a corrupted and a truncated file, a zero-length one and a stray file; rwm serve\'s own files are ignored', async () => {
    const dir = join(root, 'a');
    const r0 = await localRepo(dir);
    await writeFile(join(dir, '.htpasswd'), 'user:$2y$...');
    await mkdir(join(dir, '.rwm-tmp'));
    await writeFile(join(dir, '.rwm-tmp', 'upload'), 'partial');
    const clean = await run(local(dir));
    assert.deepEqual(clean.report.findings, []);
    assert.equal(clean.report.hashed, 5);

    const p0 = join(dir, r0.packs[0] as string);
    await chmod(p0, 0o600);
    await writeFile(p0, randomBytes(3000));
    await chmod(join(dir, r0.index), 0o600);
    await truncate(join(dir, r0.index), 100);
    const emptyId = sha('x');
    await file(dir, `data/${emptyId.slice(0, 2)}/${emptyId}`, '');
    await file(dir, 'notes.txt', 'hello');
    const { report } = await run(local(dir), { kind: 'incremental' }, clean.entries);
    assert.deepEqual(
      codes(report),
      pairs(['corrupt', r0.packs[0] as string], ['corrupt', r0.index], ['empty', `data/${emptyId.slice(0, 2)}/${emptyId}`], ['foreign', 'notes.txt']),
    );
    for (const f of report.findings) assert.equal(f.goodVersion, undefined, 'a directory has no older versions');
    assert.equal(report.carried, 3, 'the unchanged files are not read again');
  });

  test('a symlink is foreign (docs/maintenance.md), whatever its name, and is never followed', async () => {
    const dir = join(root, 'links');
    const r0 = await localRepo(dir);
    const named = `snapshots/${'b'.repeat(64)}`;
    await symlink(join(dir, r0.snapshot), join(dir, named));
    await symlink(join(dir, r0.index), join(dir, 'a-link'));
    const { report } = await run(local(dir));
    assert.deepEqual(codes(report), [['foreign', 'a-link'], ['foreign', named]]);
  });

  test('a changed file keeps its name but gets a new "version" (size, mtime, inode) and is read again', async () => {
    const dir = join(root, 'b');
    const r0 = await localRepo(dir);
    const first = await run(local(dir));
    const pack = join(dir, r0.packs[1] as string);
    await chmod(pack, 0o600);
    const b = await readFile(pack);
    b[5] = (b[5] as number) ^ 0x80; // one bit, same size
    await writeFile(pack, b);
    const second = await run(local(dir), { kind: 'incremental' }, first.entries);
    assert.deepEqual(codes(second.report), [['corrupt', r0.packs[1] as string]]);
    assert.equal(second.report.hashed, 1);
  });

  test('a directory that does not exist fails with ENOENT', async () => {
    await assert.rejects(run(local(join(root, 'nope'))), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  });
});

/** A key's records, newest first. */
async function versions(m: MemoryBuckets, key: string): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  for await (const r of m.listVersions(B, key)) if (r.key === key) out.push(r);
  return out;
}
const top = async (m: MemoryBuckets, key: string): Promise<VersionRecord> => (await versions(m, key))[0] as VersionRecord;

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
