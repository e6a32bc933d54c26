import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MemoryBuckets } from '../s3/memory-buckets.js';
import { stateAt } from '../state/at-time.js';
import { restoreToDir, type ToDirReport } from './to-dir.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Every file below `dir`, as relative paths, without rwm's temp directories. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = join(e.parentPath, e.name).slice(dir.length + 1);
    if (!rel.split('/').includes('.rwm-tmp')) out.push(rel);
  }
  return out.sort();
}

describe('restoreToDir', () => {
  let root: string;
  let dir: string;
  const m = new MemoryBuckets();
  m.createBucket('b');
  const blobs = {
    config: randomBytes(200),
    key: randomBytes(300),
    pack: randomBytes(5000),
    index: randomBytes(400),
    snap: randomBytes(100),
    nestedConfig: randomBytes(50),
    nestedSnap: randomBytes(60),
  };
  const good = {
    config: 'p/config',
    key: `p/keys/${sha(blobs.key)}`,
    pack: `p/data/${sha(blobs.pack).slice(0, 2)}/${sha(blobs.pack)}`,
    index: `p/index/${sha(blobs.index)}`,
    snap: `p/snapshots/${sha(blobs.snap)}`,
    nestedConfig: 'p/host-1/config',
    nestedSnap: `p/host-1/snapshots/${sha(blobs.nestedSnap)}`,
  };
  const tamperedId = sha(Buffer.from('what the name promises'));
  const tampered = `p/index/${tamperedId}`;
  const gone = `p/snapshots/${sha(Buffer.from('forgotten'))}`;
  const lock = `p/locks/${sha(Buffer.from('lock'))}`;
  const foreign = ['p/README', 'p/../evil/config', `p/a/../keys/${sha(blobs.key)}`, `p/./keys/${sha(blobs.key)}`, `p/.hidden/config`, `p/-x/config`, 'p/data/ab/not-a-pack'];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'rwm-to-dir-'));
    dir = join(root, 'out');
    for (const [name, key] of Object.entries(good)) m.write('b', key, blobs[name as keyof typeof blobs]);
    m.write('b', tampered, 'garbage that does not hash to the name');
    m.write('b', gone, 'forgotten');
    m.remove('b', gone);
    m.write('b', lock, 'lock');
    m.write('b', 'p/.rwm/state/x.jsonl.gz', 'state');
    for (const k of foreign) m.write('b', k, 'not restic');
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const run = (dryRun = false): Promise<ToDirReport> => restoreToDir(stateAt(m.listVersions('b', 'p/'), Infinity), { buckets: m, bucket: 'b', prefix: 'p/', dir, dryRun, concurrency: 3 });

  test('a dry run writes nothing', async () => {
    const r = await run(true);
    assert.equal(r.written, 8);
    assert.equal(await exists(dir), false);
    assert.equal(m.calls.read, 0);
  });

  test('restic\'s layout, verified: a version that does not hash to its name is refused and not written', async () => {
    const r = await run();
    assert.equal(r.written, Object.keys(good).length);
    assert.equal(r.writtenBytes, Object.values(blobs).reduce((n, b) => n + b.length, 0));
    assert.equal(r.refused, 1);
    assert.equal(r.failed, 0);
    assert.equal(r.foreign, foreign.length);
    assert.ok(r.failures.some((f) => f.startsWith(`${tampered}: refused`)), r.failures.join('\n'));
    const onDisk = await files(dir);
    assert.deepEqual(onDisk, Object.values(good).map((k) => k.slice(2)).sort());
    for (const [name, key] of Object.entries(good)) assert.deepEqual(await readFile(join(dir, key.slice(2))), blobs[name as keyof typeof blobs], key);
    assert.equal(await exists(join(dir, 'index', tamperedId)), false);
    assert.equal(await exists(join(dir, 'locks', sha(Buffer.from('lock')))), false, 'locks are not restored');
    // restic's empty directories are there, so `restic -r DIR` opens it.
    for (const d of ['keys', 'locks', 'snapshots', 'index', 'data/00', 'data/ff']) assert.equal((await stat(join(dir, d))).isDirectory(), true, d);
  });

  test('keys with ".." or odd segments, and keys that are not restic\'s, are not written anywhere', async () => {
    assert.equal(await exists(join(root, 'evil')), false);
    assert.equal(await exists(join(dir, 'README')), false);
    assert.equal(await exists(join(dir, '.hidden')), false);
    assert.equal(await exists(join(dir, '-x')), false);
    assert.equal(await exists(join(dir, 'data', 'ab', 'not-a-pack')), false);
    assert.deepEqual(await readdir(root), ['out']);
  });

  test('a rerun counts what is already there as same and writes nothing new', async () => {
    const reads = m.calls.read;
    const r = await run();
    assert.equal(r.written, 0);
    assert.equal(r.same, Object.keys(good).length);
    assert.equal(r.refused, 1);
    assert.equal(m.calls.read - reads, Object.keys(good).length + 1);
  });

  test('a different file already under a name in the directory is refused, not replaced', async () => {
    m.write('b', good.config, 'another config');
    const r = await run();
    assert.equal(r.refused, 2);
    assert.ok(r.failures.some((f) => f.startsWith(`${good.config}: refused`)));
    assert.deepEqual(await readFile(join(dir, 'config')), blobs.config);
  });
});
