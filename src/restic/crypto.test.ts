// restic's cryptography against real repositories made by Debian's restic 0.14 (v2, the default, with
// zstd-compressed index and snapshot files, and v1 with plain JSON): the master key opens with the
// password and not without, every file restic wrote decrypts and parses, and what is not restic's
// (garbage, properly encrypted non-JSON, JSON of the wrong shape) is junk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resticOk } from '../../test/helpers/restic.js';
import { decrypt, encrypt, junkProblem, openMasterKey, parseUnpacked, poly1305, ResticCryptoError, type MasterKey } from './crypto.js';

const PASSWORD = 'correct horse battery staple';

interface Repo {
  readonly dir: string;
  readonly keyFiles: Buffer[];
  readonly files: (kind: 'index' | 'snapshots') => Promise<Buffer[]>;
}

let work: string;

async function makeRepo(name: string, version: '1' | '2'): Promise<Repo> {
  const dir = join(work, name);
  const pwFile = join(work, 'password');
  const env = { RESTIC_PASSWORD_FILE: pwFile, RESTIC_REPOSITORY: dir, RESTIC_CACHE_DIR: join(work, 'cache') };
  await resticOk(['init', '--repository-version', version], env);
  const data = join(work, `data-${name}`);
  await mkdir(data);
  await writeFile(join(data, 'a.txt'), 'hello restic\n');
  await writeFile(join(data, 'b.bin'), randomBytes(200_000));
  await resticOk(['backup', '--host', 'test', data], env);
  await writeFile(join(data, 'c.txt'), 'second backup\n');
  await resticOk(['backup', '--host', 'test', data], env);
  const read = async (sub: string): Promise<Buffer[]> => Promise.all((await readdir(join(dir, sub))).sort().map((f) => readFile(join(dir, sub, f))));
  return { dir, keyFiles: await read('keys'), files: read };
}

/** An unpacked file in v1's encoding (plain JSON): restic reads it in v2 repositories too. */
const sealJson = (key: MasterKey, doc: unknown): Buffer => encrypt(key, Buffer.from(JSON.stringify(doc)));

describe('restic crypto', () => {
  let v2: Repo;
  let v1: Repo;
  let key2: MasterKey;
  let key1: MasterKey;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'rwm-crypto-'));
    await writeFile(join(work, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
    v2 = await makeRepo('v2', '2');
    v1 = await makeRepo('v1', '1');
    key2 = await openMasterKey(v2.keyFiles, PASSWORD);
    key1 = await openMasterKey(v1.keyFiles, PASSWORD);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('Poly1305 matches RFC 8439 §2.5.2 and the empty message', () => {
    const k = Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex');
    assert.equal(poly1305(Buffer.from('Cryptographic Forum Research Group'), k.subarray(0, 16), k.subarray(16)).toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9');
    // No blocks: the tag is s.
    assert.equal(poly1305(Buffer.alloc(0), k.subarray(0, 16), k.subarray(16)).toString('hex'), k.subarray(16).toString('hex'));
  });

  test('the password opens the master key of a v2 and a v1 repository, and their config decrypts', async () => {
    for (const [repo, key, version] of [[v2, key2, 2], [v1, key1, 1]] as const) {
      assert.equal(key.encrypt.length, 32);
      const config = parseUnpacked(decrypt(key, await readFile(join(repo.dir, 'config')))) as Record<string, unknown>;
      assert.equal(config.version, version);
      assert.match(String(config.id), /^[0-9a-f]{64}$/);
      assert.equal(typeof config.chunker_polynomial, 'string');
    }
  });

  test("restic's index and snapshot files decrypt, parse and are not junk (v2 compressed, v1 plain)", async () => {
    for (const [repo, key, first] of [[v2, key2, 2], [v1, key1, 0x7b]] as const) {
      const index = await repo.files('index');
      const snaps = await repo.files('snapshots');
      assert.ok(index.length >= 2 && snaps.length === 2);
      for (const f of index) {
        assert.equal(decrypt(key, f)[0], first);
        assert.equal(junkProblem('index', key, f), undefined);
        const doc = parseUnpacked(decrypt(key, f)) as { packs: unknown[] };
        assert.ok(Array.isArray(doc.packs) && doc.packs.length > 0);
      }
      for (const f of snaps) {
        assert.equal(junkProblem('snapshots', key, f), undefined);
        const doc = parseUnpacked(decrypt(key, f)) as { hostname: string; paths: string[] };
        assert.equal(doc.hostname, 'test');
        assert.deepEqual(doc.paths, [join(work, `data-${repo === v2 ? 'v2' : 'v1'}`)]);
      }
      // An index is not a snapshot, nor a snapshot an index.
      assert.match(junkProblem('snapshots', key, index[0] as Buffer) ?? '', /not a restic snapshot/);
      assert.match(junkProblem('index', key, snaps[0] as Buffer) ?? '', /not a restic index/);
    }
  });

  test("one repository's files are junk to another's key", async () => {
    const f = (await v1.files('index'))[0] as Buffer;
    assert.match(junkProblem('index', key2, f) ?? '', /MAC does not match/);
  });

  test('a wrong password opens nothing (WRONG_PASSWORD); junk key files are skipped', async () => {
    await assert.rejects(openMasterKey(v2.keyFiles, 'wrong'), (e: unknown) => e instanceof ResticCryptoError && e.code === 'WRONG_PASSWORD');
    await assert.rejects(openMasterKey([], PASSWORD), (e: unknown) => e instanceof ResticCryptoError && e.code === 'WRONG_PASSWORD');
    const k0 = JSON.parse((v2.keyFiles[0] as Buffer).toString()) as Record<string, unknown>;
    const junk = [
      randomBytes(300),
      Buffer.from('{"not":"a key"}'),
      Buffer.from(JSON.stringify({ ...k0, N: 3 })), // not a power of two
      Buffer.from(JSON.stringify({ ...k0, N: 2 ** 30 })), // 1 TiB of scrypt memory: never tried
      Buffer.from(JSON.stringify({ ...k0, data: randomBytes(120).toString('base64') })), // right shape, wrong MAC
      ...v1.keyFiles, // another repository's key file: the same password, another master key
    ];
    const k = await openMasterKey([...junk.slice(0, 5), ...v2.keyFiles], PASSWORD);
    assert.deepEqual(k, key2);
    // v1's key file opens (same password) but gives v1's master key: the caller passes one repository's keys.
    assert.notDeepEqual(await openMasterKey(junk.slice(5), PASSWORD), key2);
  });

  test('garbage and truncated files fail the MAC', async () => {
    const good = (await v2.files('snapshots'))[0] as Buffer;
    assert.throws(() => decrypt(key2, randomBytes(500)), (e: unknown) => e instanceof ResticCryptoError && e.code === 'MAC');
    assert.throws(() => decrypt(key2, randomBytes(20)), /too short/);
    const flipped = Buffer.from(good);
    flipped[40] = (flipped[40] as number) ^ 1;
    assert.throws(() => decrypt(key2, flipped), /MAC does not match/);
    assert.throws(() => decrypt(key2, good.subarray(0, good.length - 1)), /MAC does not match/);
    assert.match(junkProblem('snapshots', key2, randomBytes(500)) ?? '', /MAC does not match/);
  });

  test('properly encrypted junk: not JSON, unknown encoding, broken zstd, wrong JSON shapes', () => {
    const cases: [kind: 'index' | 'snapshots', plain: Buffer, why: RegExp][] = [
      ['index', Buffer.from('{ this is not json'), /not JSON/],
      ['index', Buffer.from('hello'), /unknown encoding version 0x68/],
      ['snapshots', Buffer.alloc(0), /empty plaintext/],
      ['index', Buffer.concat([Buffer.from([2]), randomBytes(100)]), /zstd/],
      ['index', Buffer.from('{"packs":"no"}'), /not a restic index \(packs\)/],
      ['index', Buffer.from('{"packs":[{"id":"x","blobs":[]}]}'), /not a restic index/],
      ['index', Buffer.from('{}'), /not a restic index/],
      ['snapshots', Buffer.from('{"time":"yesterday","tree":"00","paths":[]}'), /not a restic snapshot \(time, tree\)/],
      ['snapshots', Buffer.from('[1,2,3]'), /not a restic snapshot/],
    ];
    for (const [kind, plain, why] of cases) assert.match(junkProblem(kind, key2, encrypt(key2, plain)) ?? '', why, `${kind}: ${plain.toString('hex').slice(0, 40)}`);
    const snap = { time: '2026-01-02T03:04:05.123456789+01:00', tree: 'ab'.repeat(32), paths: ['/x'] };
    assert.equal(junkProblem('snapshots', key2, sealJson(key2, snap)), undefined);
    assert.equal(junkProblem('index', key2, sealJson(key2, { packs: [{ id: 'cd'.repeat(32), blobs: [{ id: 'ef'.repeat(32), type: 'tree', offset: 0, length: 10 }] }] })), undefined);
  });

  test('zstd frames that declare more than the limit are refused before decompressing', () => {
    // A frame header: magic, single segment with an 8-byte content size of 2^40, then an empty raw last block.
    const fhd = 0x20 | (3 << 6);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(1n << 40n);
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, fhd]), size, Buffer.from([1, 0, 0])]);
    assert.throws(() => parseUnpacked(Buffer.concat([Buffer.from([2]), frame])), /declares more than/);
    assert.match(junkProblem('index', key2, encrypt(key2, Buffer.concat([Buffer.from([2]), frame]))) ?? '', /declares more than/);
  });

  test('a v2 plaintext that decompresses past the limit is refused', async () => {
    // restic's own compressed index, with a limit below its size
    const f = (await v2.files('index'))[0] as Buffer;
    assert.throws(() => parseUnpacked(decrypt(key2, f), 100), /more than 100 bytes/);
  });
});
