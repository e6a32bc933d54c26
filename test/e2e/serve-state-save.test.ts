// `rwm serve --s3` saves a state of a repository after a backup (issue 10), on a bucket made by `rwm
// storage create --user backup`, with the backup user's keys and Debian's restic 0.14:
// - restic init and backup through it (--state-delay 1): exactly one state of that repository, which
//   verifies, lists every object of the repository, and was written by the backup user (S3 owner);
// - the debounce: a burst of snapshot uploads (several repositories at once) gives one state per
//   repository, and the next burst another one;
// - a stdio session (restic's rclone backend) leaves its state behind when it ends, even with a
//   --state-delay of an hour;
// - --no-s3-state saves none; a bad --state-delay is a usage error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { resticOk } from '../helpers/restic.js';
import { http, makeTree, sha256hex } from '../helpers/data.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, type VersionEntry } from '../helpers/s3.js';
import { keysEnv, s3Flags } from '../helpers/s3-restic.js';
import { jsonOf, runStorage } from '../helpers/storage.js';
import { describeCliRun, pollFor, runCli } from '../helpers/cli-run.js';

const env = s3TestEnv();
const admin = keysEnv(env.admin);
const backup = keysEnv(env.backup);
const PREFIX = 'restic';
const BURST_DELAY_S = 3;

interface ListedState {
  readonly name: string;
  readonly writtenBy: string | null;
  readonly writer: { readonly tool: string; readonly command: string } | null;
  readonly objects: number | null;
  readonly deleteMarkers: number | null;
  readonly bytes: number | null;
  readonly overwritten: boolean;
  readonly verified: boolean | null;
  readonly missing: number | null;
}

/** The objects restic sees in a repository (on top, not a delete marker), without rwm's own keys. */
function liveObjects(versions: readonly VersionEntry[], repo: string): VersionEntry[] {
  const kp = `${PREFIX}/${repo}/`;
  return versions.filter((v) => v.isLatest && !v.deleteMarker && v.key.startsWith(kp) && !v.key.slice(kp.length).startsWith('.rwm/'));
}

describe('rwm serve --s3 saves a state of a repository after a backup', { timeout: 240_000 }, () => {
  const bucket = bucketName('rwm-serve-state');
  let dir: string;
  let src: string;
  /** --state-delay 1, for the backup. */
  let server: RunningServer | undefined;
  /** --state-delay 3, for the bursts: a slow upload in a burst on a busy host must not split it. */
  let burstServer: RunningServer | undefined;

  /** `rwm state list BUCKET/restic/REPO --json` with the admin's keys. */
  async function states(repo: string): Promise<ListedState[]> {
    const r = await runCli(['state', 'list', '--endpoint', env.endpoint, '--region', env.region, `${bucket}/${PREFIX}/${repo}`, '--json'], { ...admin, RWM_STATE_DIR: join(dir, 'state-dir') });
    assert.equal(r.status, 0, describeCliRun(r));
    return jsonOf<ListedState[]>(r);
  }

  /** The "saved a state" log lines of a server for one repository. */
  const savedLogs = (s: RunningServer, repo: string): Record<string, unknown>[] => s.logs.filter((l) => l.msg === `saved a state of ${bucket}/${PREFIX}/${repo}`);

  async function waitForSaved(s: RunningServer, repo: string, count: number): Promise<void> {
    const ok = await pollFor(() => (savedLogs(s, repo).length >= count ? true : undefined), 30_000);
    assert.ok(ok, `the server saved ${count} state(s) of ${repo}: ${JSON.stringify(s.logs.slice(-10))}`);
  }

  /** Uploads `n` distinct snapshot files (random bodies, named by their SHA-256) to each repository, all at once. */
  async function snapshotBurst(s: RunningServer, repos: Record<string, number>): Promise<void> {
    const uploads = Object.entries(repos).flatMap(([repo, n]) =>
      Array.from({ length: n }, async () => {
        const body = randomBytes(300);
        const r = await http('POST', `${s.url}${repo}/snapshots/${sha256hex(body)}`, body);
        assert.equal(r.status, 200, `${repo}: ${r.body.toString()}`);
      }),
    );
    await Promise.all(uploads);
  }

  before(async () => {
    dir = await tempDir();
    src = join(dir, 'src');
    await makeTree(src, 30, 256 << 10);
    await writeFile(join(src, 'big.bin'), randomBytes(3 << 20));
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', PREFIX]);
    assert.equal(created.status, 0, created.stderr);
    [server, burstServer] = await Promise.all([
      startServer('', [...s3Flags(env, `${bucket}/${PREFIX}`), '--no-auth', '--state-delay', '1'], backup),
      startServer('', [...s3Flags(env, `${bucket}/${PREFIX}`), '--no-auth', '--state-delay', String(BURST_DELAY_S)], backup),
    ]);
  });
  after(async () => {
    await Promise.all([server, burstServer].flatMap((s) => (s === undefined ? [] : [s.stop()])));
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('after restic init and backup: exactly one state, it verifies, lists every object, and the backup user wrote it', { timeout: 90_000 }, async () => {
    assert.ok(server !== undefined);
    const repo = ['-r', `rest:${server.url}web1/`, '--no-cache'];
    await resticOk([...repo, 'init']);
    await resticOk([...repo, 'backup', src]);
    await waitForSaved(server, 'web1', 1);
    const listed = await states('web1');
    assert.equal(listed.length, 1, `one state: ${JSON.stringify(listed)}`);
    const [s] = listed;
    const objects = liveObjects(await listVersions(env, bucket), 'web1');
    assert.ok(objects.some((o) => o.key.includes('/snapshots/')) && objects.some((o) => o.key.includes('/data/')));
    assert.deepEqual(
      s && { objects: s.objects, bytes: s.bytes, verified: s.verified, missing: s.missing, writtenBy: s.writtenBy, command: s.writer?.command, overwritten: s.overwritten },
      { objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0), verified: true, missing: 0, writtenBy: 'backup', command: 'serve', overwritten: false },
    );
    assert.equal(savedLogs(server, 'web1')[0]?.state, s?.name, 'the state the server logged');
  });

  test('debounce: a burst of snapshot uploads gives one state per repository, after the quiet delay; the next burst another', { timeout: 60_000 }, async () => {
    const bs = burstServer;
    assert.ok(bs !== undefined);
    const started = Date.now();
    await snapshotBurst(bs, { 'burst-a': 5, 'burst-b': 3 });
    await waitForSaved(bs, 'burst-a', 1);
    await waitForSaved(bs, 'burst-b', 1);
    const [a, b] = await Promise.all([states('burst-a'), states('burst-b')]);
    assert.deepEqual(a.map((s) => [s.objects, s.verified]), [[5, true]], 'burst-a: one state of its five snapshots');
    assert.deepEqual(b.map((s) => [s.objects, s.verified]), [[3, true]], 'burst-b: one state of its three snapshots');
    const savedAt = Number(savedLogs(bs, 'burst-a')[0]?.time);
    assert.ok(savedAt >= started + BURST_DELAY_S * 1000, `saved ${savedAt - started} ms after the burst began, not before the --state-delay of quiet`);

    await snapshotBurst(bs, { 'burst-a': 4 });
    await waitForSaved(bs, 'burst-a', 2);
    const again = await states('burst-a');
    assert.deepEqual(again.map((s) => [s.objects, s.verified]), [[5, true], [9, true]], 'burst-a: a second state after the second burst');
    assert.equal(savedLogs(bs, 'burst-b').length, 1, 'burst-b: nothing new');
  });

  test('a stdio session (restic rclone: backend) leaves its state behind when it ends, even with --state-delay 3600', { timeout: 90_000 }, async () => {
    const args = ['serve', '--stdio', ...s3Flags(env, `${bucket}/${PREFIX}`), '--state-delay', '3600'];
    assert.ok(!args.some((a) => a.includes(' ')), 'restic splits rclone.args on spaces');
    const repo = ['-r', 'rclone:web2', '-o', `rclone.program=${process.execPath} ${CLI}`, '-o', `rclone.args=${args.join(' ')}`, '--no-cache'];
    // restic's rclone backend starts the program with restic's own environment: the keys are there
    await resticOk([...repo, 'init'], backup);
    await resticOk([...repo, 'backup', join(src, 'd1')], backup);
    // restic waits for the program to exit when it closes the session, so the state is there now
    const listed = await states('web2');
    assert.equal(listed.length, 1, `one state after the stdio backup: ${JSON.stringify(listed)}`);
    const objects = liveObjects(await listVersions(env, bucket), 'web2');
    assert.deepEqual(listed.map((s) => [s.objects, s.verified, s.writtenBy, s.writer?.command]), [[objects.length, true, 'backup', 'serve']]);
  });

  test('--no-s3-state saves none; a bad --state-delay is a usage error', { timeout: 90_000 }, async () => {
    const [bad, quiet] = await Promise.all([
      runCli(['serve', '--listen', '127.0.0.1:0', '--no-auth', ...s3Flags(env, `${bucket}/${PREFIX}`), '--state-delay', 'soon'], backup, 30_000),
      startServer('', [...s3Flags(env, `${bucket}/${PREFIX}`), '--no-auth', '--no-s3-state', '--state-delay', '0'], backup),
    ]);
    assert.equal(bad.status, 2, describeCliRun(bad));
    assert.match(bad.stderr, /--state-delay must be a number of seconds/);
    try {
      await resticOk(['-r', `rest:${quiet.url}web3/`, '--no-cache', 'init']);
      await resticOk(['-r', `rest:${quiet.url}web3/`, '--no-cache', 'backup', join(src, 'd2')]);
      await snapshotBurst(quiet, { web3: 2 });
    } finally {
      await quiet.stop();
    }
    assert.ok(liveObjects(await listVersions(env, bucket), 'web3').some((o) => o.key.includes('/snapshots/')));
    assert.deepEqual(await states('web3'), [], 'no state of web3');
    assert.equal(quiet.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('saved a state')).length, 0);
  });
});
