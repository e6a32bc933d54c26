// Junk that bricks restic, end to end with Debian's restic 0.14: one hash-named junk file each in
// keys/, index/ and snapshots/, uploaded through `rwm serve` (the proxy accepts them: each name is
// its SHA-256). restic fails (key junk listed before the real key stops it opening the repository,
// index junk fails check, snapshot junk fails restore latest); `rwm scrub --password-file` reports
// exactly those three, on a local directory and on a versioned RGW bucket, where --repair hides
// them with delete markers and restic works again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { encrypt, openMasterKey } from '../../src/restic/crypto.js';
import { describeCliRun, runCli } from '../helpers/cli-run.js';
import { http, makeTree, sha256hex } from '../helpers/data.js';
import { restic, resticOk } from '../helpers/restic.js';
import { describeRun, runRwm } from '../helpers/rwm.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { keysEnv, s3Flags } from '../helpers/s3-restic.js';
import { removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { runStorage } from '../helpers/storage.js';
import { treeDigest } from '../helpers/tree.js';

const PASSWORD = 'scrub junk test password';

interface ScrubJson {
  readonly ok: boolean;
  readonly repaired: number;
  readonly keys?: { repo: string; opened: boolean; reason?: string }[];
  readonly report: { readonly hashed: number; readonly findings: { code: string; key: string; message: string; repair?: string }[] };
}

const failing = (o: ScrubJson): [string, string][] =>
  o.report.findings
    .filter((f) => f.code !== 'deleted')
    .map((f): [string, string] => [f.code, f.key])
    .sort((a, b) => (a[1] < b[1] ? -1 : 1));

interface Junk {
  keys: Buffer;
  readonly index: Buffer;
  readonly snapshots: Buffer;
}

/**
 * Index garbage (restic: "ciphertext verification failed") and a snapshot encrypted with the
 * repository's own key (the backup host knows the password) whose plaintext is not restic's.
 */
async function makeJunk(keyFiles: Buffer[]): Promise<Omit<Junk, 'keys'>> {
  const master = await openMasterKey(keyFiles, PASSWORD);
  return { index: randomBytes(700), snapshots: encrypt(master, Buffer.from('this is not a snapshot')) };
}

/**
 * A keys/ file that is JSON but no key, planted so that rwm serve lists it before the real key:
 * restic tries key files in listing order and gives up at the first it cannot parse (it stops at
 * the first that opens). Its name sorts first (S3 lists in name order); a directory lists in its
 * own order, so a candidate listed later is taken out again (test setup, not rwm) and the next tried.
 */
async function plantKeyJunk(repoUrl: string, realIds: string[], putDirectly: (name: string, b: Buffer) => Promise<void>, remove?: (name: string) => Promise<void>): Promise<Buffer> {
  const first = [...realIds].sort()[0] as string;
  for (let i = 0, tries = 0; tries < 20; i++) {
    const keys = Buffer.from(`${JSON.stringify({ hello: 'not a restic key', i })}\n`);
    const name = sha256hex(keys);
    if (name > first) continue;
    tries += 1;
    // serve may learn to refuse keys/ uploads that are not key files: then the junk goes in directly.
    const k = await upload(repoUrl, 'keys', keys);
    assert.ok(k === 200 || k === 400, `keys/ upload: ${k}`);
    if (k === 400) await putDirectly(name, keys);
    const listed = JSON.parse((await http('GET', `${repoUrl}keys/`)).body.toString()) as string[];
    if (listed[0] === name) return keys;
    assert.ok(remove, `${name} sorts first but is not listed first: ${listed.join(' ')}`);
    await remove(name);
  }
  throw new Error('no junk key listed first in 20 tries');
}

/** Runs restic, which must fail with a message matching `why`. */
async function assertResticFails(repo: string[], args: string[], why: RegExp): Promise<void> {
  const r = await restic([...repo, ...args]);
  assert.notEqual(r.code, 0, `restic ${args[0]} must fail:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, why);
}

/** What each junk file does to restic: index junk fails check, snapshot junk fails restore latest, key junk (listed first) fails everything. */
async function assertJunkBricks(repo: string[], target: string, keysToo: boolean): Promise<void> {
  if (!keysToo) {
    await assertResticFails(repo, ['check'], /ciphertext verification failed/);
    await assertResticFails(repo, ['restore', 'latest', '--target', target], /Error loading snapshot .*not supported encoding format/);
    return;
  }
  for (const args of [['snapshots'], ['check'], ['restore', 'latest', '--target', target]]) await assertResticFails(repo, args, /only supported KDF is scrypt/);
}

async function assertResticWorks(repo: string[], src: string, target: string): Promise<void> {
  const snaps = JSON.parse((await resticOk([...repo, 'snapshots', '--json'])).stdout) as unknown[];
  assert.equal(snaps.length, 2);
  assert.match((await resticOk([...repo, 'check'])).stdout, /no errors were found/);
  await resticOk([...repo, 'restore', 'latest', '--target', target]);
  assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src));
}

async function twoBackups(repo: string[], src: string): Promise<void> {
  await resticOk([...repo, 'init']);
  await resticOk([...repo, 'backup', src]);
  await writeFile(join(src, 'second.txt'), 'the second backup\n');
  await resticOk([...repo, 'backup', src]);
}

/** POSTs `bytes` as TYPE/<its SHA-256> of the repository at `repoUrl` (ending in '/'); the HTTP status. */
async function upload(repoUrl: string, type: string, bytes: Buffer): Promise<number> {
  return (await http('POST', `${repoUrl}${type}/${sha256hex(bytes)}`, bytes)).status;
}

describe('junk in a rwm serve --path tree: rwm scrub --path --password-file finds it', () => {
  let dir: string;
  let data: string;
  let src: string;
  let server: RunningServer;
  let repo: string[];
  let pwFile: string;
  let junk: Junk;

  before(async () => {
    dir = await tempDir('rwm-scrub-junk-');
    data = join(dir, 'data');
    src = join(dir, 'src');
    await mkdir(data);
    await makeTree(src, 30, 256 << 10);
    pwFile = join(dir, 'password');
    await writeFile(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    server = await startServer(data, ['--no-auth']);
    repo = ['-r', `rest:${server.url}repo/`, '--password-file', pwFile];
  });
  after(async () => {
    await server?.stop();
    await removeDir(dir);
  });

  test('two backups through rwm serve, then one junk file each in keys/, index/ and snapshots/ through its REST API', async () => {
    await twoBackups(repo, src);
    const keyDir = join(data, 'repo', 'keys');
    const ids = await readdir(keyDir);
    const repoUrl = `${server.url}repo/`;
    const rest = await makeJunk(await Promise.all(ids.map((k) => readFile(join(keyDir, k)))));
    assert.equal(await upload(repoUrl, 'index', rest.index), 200);
    assert.equal(await upload(repoUrl, 'snapshots', rest.snapshots), 200);
    await assertJunkBricks(repo, join(dir, 'restore-before'), false);
    const keys = await plantKeyJunk(repoUrl, ids, (name, b) => writeFile(join(keyDir, name), b), (name) => rm(join(keyDir, name)));
    junk = { ...rest, keys };
    await assertJunkBricks(repo, join(dir, 'restore-before'), true);
  });

  test('without the password only the keys/ junk is found', async () => {
    const r = await runCli(['scrub', '--path', data, '--json', '--state-dir', join(dir, 'state-nopw')]);
    assert.equal(r.status, 1, describeCliRun(r));
    assert.deepEqual(failing(JSON.parse(r.stdout) as ScrubJson), [['junk', `repo/keys/${sha256hex(junk.keys)}`]]);
  });

  test('with the password: exactly the three junk files, exit 1; repeated, the same (junk is never marked verified)', async () => {
    const want = [
      ['junk', `repo/index/${sha256hex(junk.index)}`],
      ['junk', `repo/keys/${sha256hex(junk.keys)}`],
      ['junk', `repo/snapshots/${sha256hex(junk.snapshots)}`],
    ];
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['scrub', '--path', data, '--password-file', pwFile, '--json', '--state-dir', join(dir, 'state')]);
      assert.equal(r.status, 1, describeCliRun(r));
      assert.equal(r.stderr, '', 'no warning for a private password file');
      assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
      const o = JSON.parse(r.stdout) as ScrubJson;
      assert.deepEqual(failing(o), want);
      assert.deepEqual(o.keys, [{ repo: 'repo/', opened: true }]);
      const byKey = new Map(o.report.findings.map((f) => [f.key, f.message]));
      assert.match(byKey.get(`repo/index/${sha256hex(junk.index)}`) ?? '', /MAC does not match/);
      assert.match(byKey.get(`repo/snapshots/${sha256hex(junk.snapshots)}`) ?? '', /unknown encoding version/);
    }
    const text = await runCli(['scrub', '--path', data, '--password-file', pwFile, '--state-dir', join(dir, 'state')]);
    assert.match(text.stdout, /3 problem\(s\)/);
    assert.match(text.stdout, /\[junk\] repo\/snapshots\//);
  });

  test('with the password after a scrub without it: what that one only hashed is opened now, not carried over', async () => {
    // state-nopw holds the verified state of the scrub without the password: index/ and snapshots/
    // junk hashed fine there. Incremental, with the password, they must be read and opened.
    const r = await runCli(['scrub', '--path', data, '--password-file', pwFile, '--json', '--state-dir', join(dir, 'state-nopw')]);
    assert.equal(r.status, 1, describeCliRun(r));
    const o = JSON.parse(r.stdout) as ScrubJson;
    assert.deepEqual(failing(o), [
      ['junk', `repo/index/${sha256hex(junk.index)}`],
      ['junk', `repo/keys/${sha256hex(junk.keys)}`],
      ['junk', `repo/snapshots/${sha256hex(junk.snapshots)}`],
    ]);
  });

  test('a wrong password fails the scrub and says so; a loose password file is warned about, not refused', async () => {
    const wrong = join(dir, 'wrong-password');
    await writeFile(wrong, 'not the password\n');
    await chmod(wrong, 0o644);
    const r = await runCli(['scrub', '--path', data, '--password-file', wrong, '--full', '--json', '--state-dir', join(dir, 'state-wrong')]);
    assert.equal(r.status, 1, describeCliRun(r));
    assert.match(r.stderr, /warning: password file .* is readable by group or others \(mode 644\)/);
    const o = JSON.parse(r.stdout) as ScrubJson;
    assert.equal(o.keys?.length, 1);
    assert.equal(o.keys?.[0]?.opened, false);
    assert.match(o.keys?.[0]?.reason ?? '', /opens none of the repository's 2 key file\(s\)/);
    assert.deepEqual(failing(o), [['junk', `repo/keys/${sha256hex(junk.keys)}`]]);
    const text = await runCli(['scrub', '--path', data, '--password-file', wrong, '--full', '--state-dir', join(dir, 'state-wrong')]);
    assert.match(text.stdout, /\[password\] repository repo\/: the password opens none/);
  });

  test('--repair is refused for a local directory (no versions to go back to); a missing password file is a usage error', async () => {
    const r = await runCli(['scrub', '--path', data, '--password-file', pwFile, '--repair', '--state-dir', join(dir, 'state')]);
    assert.equal(r.status, 2, describeCliRun(r));
    assert.match(r.stderr, /--repair needs a versioned bucket/);
    const m = await runCli(['scrub', '--path', data, '--password-file', join(dir, 'nope'), '--state-dir', join(dir, 'state')]);
    assert.equal(m.status, 2, describeCliRun(m));
    assert.match(m.stderr, /cannot read password file .*nope: ENOENT/);
    // the junk is still there: a scrub repairs nothing on a directory
    await assertJunkBricks(repo, join(dir, 'restore-after'), true);
  });
});

describe('junk in a versioned bucket through rwm serve --s3: rwm scrub --password-file --repair hides it', () => {
  const env = s3TestEnv();
  const bucket = bucketName('rwm-scrub-junk');
  let dir: string;
  let src: string;
  let server: RunningServer;
  let repo: string[];
  let repoUrl: string;
  let pwFile: string;
  let junk: Junk;
  const scrubArgs = (...more: string[]): string[] => [`${bucket}/restic`, '--password-file', pwFile, '--state-dir', join(dir, 'state'), ...more];

  before(async () => {
    dir = await tempDir('rwm-scrub-junk-s3-');
    src = join(dir, 'src');
    await makeTree(src, 30, 256 << 10);
    pwFile = join(dir, 'password');
    await writeFile(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', 'restic']);
    assert.equal(created.status, 0, created.stderr);
    server = await startServer('', [...s3Flags(env, `${bucket}/restic`), '--no-auth'], keysEnv(env.backup));
    repoUrl = `${server.url}web1/`;
    repo = ['-r', `rest:${repoUrl}`, '--password-file', pwFile];
  });
  after(async () => {
    await server?.stop();
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('two backups, then the three junk files through rwm serve; restic fails', async () => {
    await twoBackups(repo, src);
    const list = await http('GET', `${repoUrl}keys/`);
    assert.equal(list.status, 200);
    const ids = JSON.parse(list.body.toString()) as string[];
    const keyFiles = await Promise.all(ids.map(async (id) => (await http('GET', `${repoUrl}keys/${id}`)).body));
    const rest = await makeJunk(keyFiles);
    assert.equal(await upload(repoUrl, 'index', rest.index), 200);
    assert.equal(await upload(repoUrl, 'snapshots', rest.snapshots), 200);
    await assertJunkBricks(repo, join(dir, 'restore-before'), false);
    // refused by serve: the backup user's keys put it in directly, as a compromised host could
    const put = async (name: string, b: Buffer): Promise<void> => {
      await testClient(env, 'backup').send(new PutObjectCommand({ Bucket: bucket, Key: `restic/web1/keys/${name}`, Body: b }));
    };
    junk = { ...rest, keys: await plantKeyJunk(repoUrl, ids, put) };
    await assertJunkBricks(repo, join(dir, 'restore-before'), true);
  });

  test('scrub reports exactly the three (exit 1); --repair hides each with a delete marker; restic snapshots, check and restore work again', async () => {
    const names = {
      index: `restic/web1/index/${sha256hex(junk.index)}`,
      keys: `restic/web1/keys/${sha256hex(junk.keys)}`,
      snapshots: `restic/web1/snapshots/${sha256hex(junk.snapshots)}`,
    };
    const want = [['junk', names.index], ['junk', names.keys], ['junk', names.snapshots]];
    const dry = await runRwm(env, ['scrub'], scrubArgs('--json'));
    assert.equal(dry.status, 1, describeRun(dry));
    const d = JSON.parse(dry.stdout) as ScrubJson;
    assert.deepEqual(failing(d), want);
    assert.deepEqual(d.keys, [{ repo: 'web1/', opened: true }]);
    assert.equal(d.repaired, 0);

    const fix = await runRwm(env, ['scrub'], scrubArgs('--repair', '--json'));
    assert.equal(fix.status, 1, describeRun(fix));
    const f = JSON.parse(fix.stdout) as ScrubJson;
    assert.deepEqual(failing(f), want);
    assert.deepEqual(f.report.findings.filter((x) => x.code === 'junk').map((x) => x.repair), ['hidden', 'hidden', 'hidden']);
    assert.equal(f.repaired, 3);
    const versions = await listVersions(env, bucket, 'restic/web1/');
    for (const key of Object.values(names)) {
      const mine = versions.filter((v) => v.key === key);
      assert.equal(mine.length, 2, `${key}: the junk version and a delete marker on top (nothing deleted)`);
      assert.ok(mine.some((v) => v.deleteMarker && v.isLatest));
    }

    await assertResticWorks(repo, src, join(dir, 'restore-after'));

    // and scrub is content: the hidden junk shows as deleted only
    const again = await runRwm(env, ['scrub'], scrubArgs('--json'));
    assert.equal(again.status, 0, describeRun(again));
    const a = JSON.parse(again.stdout) as ScrubJson;
    assert.equal(a.ok, true);
    for (const key of Object.values(names)) assert.ok(a.report.findings.some((x) => x.code === 'deleted' && x.key === key));
  });
});
