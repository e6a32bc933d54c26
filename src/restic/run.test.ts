// runRestic and the typed commands against the real restic (Debian's 0.14 at /usr/bin/restic) on local
// repositories in a temp directory, plus a few stand-in binaries for what restic will not do on cue.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isCountOnlyPolicy, resticBackup, resticCheck, resticForget, resticInit, resticSnapshots, resticStats, resticUnlock } from './commands.js';
import type { ResticRepo } from './env.js';
import { isResticError, type ResticErrorCode } from './errors.js';
import { resticVersion, runRestic } from './run.js';
import { snapshotsSchema } from './schema/snapshots.js';

const PASSWORD = 'rwm-test-password-7f3a9c';
const S3_SECRET = 'rwm-test-s3-secret-0b1d2e';

let dir: string;
let repo: ResticRepo;
let src: string;

function proc(pid: number, file: 'cmdline' | 'environ'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1').replaceAll('\0', '\n');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function rejectsWith(p: Promise<unknown>, code: ResticErrorCode): Promise<Error> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => (caught = e),
  );
  assert.ok(isResticError(caught), `not a ResticError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** An executable stand-in for restic. */
async function fakeBinary(name: string, script: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, script);
  await chmod(p, 0o755);
  return p;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rwm-restic-run-'));
  await writeFile(join(dir, 'pw'), `${PASSWORD}\n`, { mode: 0o600 });
  repo = { repository: join(dir, 'repo'), passwordFile: join(dir, 'pw'), cacheDir: join(dir, 'cache') };
  src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.txt'), 'hello\n');
  // Debian's restic is part of the test set-up (scripts/install-test-deps.sh): no silent skips.
  assert.ok(existsSync('/usr/bin/restic'), 'restic is not installed: run scripts/install-test-deps.sh');
  await resticInit(repo);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('restic version', () => {
  test('the installed restic is 0.14 or newer', async () => {
    const v = await resticVersion();
    assert.ok(v.major > 0 || v.minor >= 14, v.version);
    assert.equal(v.platform?.startsWith('linux/'), true);
  });

  test('missing restic: NOT_INSTALLED, saying how to install it', async () => {
    const e = await rejectsWith(resticVersion({ binary: join(dir, 'no-such-restic') }), 'NOT_INSTALLED');
    assert.match(e.message, /apt-get install restic/);
    assert.match(e.message, /0\.14 or newer/);
    await rejectsWith(resticVersion({ inherited: { PATH: dir } }), 'NOT_INSTALLED');
  });

  test('too old, or not restic at all', async () => {
    const old = await fakeBinary('old-restic', '#!/bin/sh\necho "restic 0.12.1 compiled with go1.16 on linux/amd64"\n');
    const e = await rejectsWith(resticVersion({ binary: old }), 'TOO_OLD');
    assert.match(e.message, /restic 0\.12\.1 is too old.*0\.14 or newer/);
    await rejectsWith(resticVersion({ binary: '/bin/true' }), 'BAD_OUTPUT');
  });
});

describe('environment', () => {
  test('restic gets an empty environment plus PATH, HOME, the repository and the password file', async () => {
    const r = await runRestic({ ...repo, s3: { accessKeyId: 'AK', secretAccessKey: S3_SECRET } }, [], {
      binary: '/usr/bin/env',
      inherited: { PATH: '/usr/bin:/bin', HOME: '/home/x' },
    });
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.deepEqual(Object.keys(env).sort(), ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'HOME', 'PATH', 'RESTIC_CACHE_DIR', 'RESTIC_PASSWORD_FILE', 'RESTIC_REPOSITORY']);
    assert.equal(env.RESTIC_PASSWORD_FILE, repo.passwordFile);
    assert.ok(!r.stdout.includes(PASSWORD));
  });

  test('secrets that reach stderr are redacted in the error and in onLine', async () => {
    const leaky = await fakeBinary('leaky', '#!/bin/sh\necho "pw is $(cat "$RESTIC_PASSWORD_FILE")" >&2\necho "key $AWS_SECRET_ACCESS_KEY" >&2\necho "Fatal: oops" >&2\nexit 1\n');
    const lines: string[] = [];
    const e = await rejectsWith(
      runRestic({ ...repo, s3: { accessKeyId: 'AK', secretAccessKey: S3_SECRET } }, ['snapshots'], { binary: leaky, onLine: (l) => lines.push(l) }),
      'FAILED',
    );
    assert.ok(isResticError(e));
    assert.deepEqual(e.stderr, ['pw is ***', 'key ***', 'Fatal: oops']);
    assert.deepEqual(lines, e.stderr);
    assert.ok(!e.message.includes(PASSWORD) && !e.message.includes(S3_SECRET));
    assert.match(e.message, /restic snapshots failed \(exit 1\): oops/);
  });

  test('output that does not fit the schema is BAD_OUTPUT', async () => {
    const odd = await fakeBinary('odd', '#!/bin/sh\necho \'[{"id":"x"}]\'\n');
    await rejectsWith(runRestic(repo, ['snapshots'], { binary: odd, json: snapshotsSchema }), 'BAD_OUTPUT');
    const r = await runRestic(repo, ['snapshots'], { binary: odd, json: z.array(z.object({ id: z.string() })) });
    assert.deepEqual(r.json, [{ id: 'x' }]);
  });

  test('an already aborted signal starts nothing', async () => {
    let spawned = false;
    await rejectsWith(runRestic(repo, ['snapshots'], { signal: AbortSignal.abort(), onSpawn: () => (spawned = true) }), 'INTERRUPTED');
    assert.equal(spawned, false);
  });

  test('a child that ignores SIGINT is killed after the grace period', async () => {
    const stubborn = await fakeBinary('stubborn', `#!${process.execPath}\nprocess.on('SIGINT', () => {}); setInterval(() => {}, 1000); console.log('ready');\n`);
    const ac = new AbortController();
    let pid = 0;
    const run = runRestic(repo, ['check'], { binary: stubborn, signal: ac.signal, graceMs: 300, onSpawn: (p) => (pid = p), onLine: () => ac.abort() });
    const t0 = Date.now();
    const e = await rejectsWith(run, 'INTERRUPTED');
    assert.ok(isResticError(e));
    assert.equal(e.signal, 'SIGKILL');
    assert.ok(Date.now() - t0 >= 250, 'waited for the grace period');
    assert.equal(isAlive(pid), false);
  });
});

describe('real restic on a local repository', () => {
  test('backup --json: status lines and a summary; snapshots --json parses', async () => {
    const statuses: number[] = [];
    const b1 = await resticBackup(repo, [src], { host: 'h1', tags: ['t1'], onStatus: (s) => statuses.push(s.percent_done) });
    assert.equal(b1.incomplete, false);
    assert.equal(b1.summary.files_new, 1);
    assert.match(b1.summary.snapshot_id ?? '', /^[0-9a-f]{8,}$/);
    await writeFile(join(src, 'b.txt'), 'more\n');
    const b2 = await resticBackup(repo, [src], { host: 'h1', tags: ['t1'] });
    assert.equal(b2.summary.files_new, 1);
    assert.equal(b2.summary.files_unmodified, 1);

    const snaps = await resticSnapshots(repo);
    assert.equal(snaps.length, 2);
    const [s1, s2] = snaps;
    assert.ok(s1 && s2);
    assert.ok(s2.id.startsWith(b2.summary.snapshot_id ?? '-'));
    assert.equal(s2.parent, s1.id);
    assert.deepEqual(s1.paths, [src]);
    assert.equal(s1.hostname, 'h1');
    assert.deepEqual(s1.tags, ['t1']);
    assert.deepEqual(await resticSnapshots(repo, { host: 'nope' }), []);
    assert.equal((await resticSnapshots(repo, { tags: [['t1']] })).length, 2);
  });

  test('forget --json --dry-run: the plan, and nothing removed', async () => {
    const policy = { keepLast: 1 };
    assert.equal(isCountOnlyPolicy(policy), true);
    const r = await resticForget(repo, policy, { dryRun: true });
    assert.equal(r.groups.length, 1);
    const g = r.groups[0];
    assert.ok(g);
    assert.equal(g.host, 'h1');
    assert.equal(g.keep.length, 1);
    assert.equal(g.remove.length, 1);
    assert.deepEqual(g.reasons[0]?.matches, ['last snapshot']);
    assert.equal((await resticSnapshots(repo)).length, 2);
    // nothing matches: restic prints nothing at all
    assert.deepEqual((await resticForget(repo, policy, { host: 'nope', dryRun: true })).groups, []);
  });

  test('stats --json and check', async () => {
    const st = await resticStats(repo);
    assert.equal(st.snapshots_count, 2);
    assert.ok(st.total_file_count >= 2);
    const raw = await resticStats(repo, { mode: 'raw-data' });
    assert.ok((raw.total_blob_count ?? 0) > 0);
    const c = await resticCheck(repo, { readData: true });
    assert.ok(c.output.includes('no errors were found'));
  });

  test('wrong password: WRONG_PASSWORD', async () => {
    await writeFile(join(dir, 'wrong-pw'), 'not-the-password\n');
    await rejectsWith(resticSnapshots({ ...repo, passwordFile: join(dir, 'wrong-pw') }), 'WRONG_PASSWORD');
  });

  test('missing repository: NOT_FOUND; an unreachable one is not', async () => {
    const e = await rejectsWith(resticSnapshots({ ...repo, repository: join(dir, 'no-repo') }), 'NOT_FOUND');
    assert.ok(isResticError(e));
    assert.ok(e.stderr.some((l) => l.includes('Is there a repository')));
    await rejectsWith(resticSnapshots({ ...repo, repository: 'rest:http://127.0.0.1:1/' }), 'UNAVAILABLE');
  });

  test('no secret in argv, a lock held, LOCKED, then abort: INTERRUPTED, restic gone, its lock removed', async () => {
    // `key add` takes a lock and then blocks opening the FIFO for the new password
    const fifo = join(dir, 'new-pw.fifo');
    execFileSync('mkfifo', [fifo]);
    const ac = new AbortController();
    let pid = 0;
    const holder = runRestic(repo, ['key', 'add', `--new-password-file=${fifo}`], { signal: ac.signal, onSpawn: (p) => (pid = p) });
    holder.catch(() => {}); // awaited below
    await until(() => readdirSync(join(repo.repository, 'locks')).length > 0, 'the lock');
    const cmdline = proc(pid, 'cmdline');
    assert.match(cmdline, /key\nadd/);
    assert.ok(!cmdline.includes(PASSWORD));
    const environ = proc(pid, 'environ');
    assert.match(environ, /^RESTIC_PASSWORD_FILE=/m);
    assert.doesNotMatch(environ, /^RESTIC_PASSWORD=/m);
    assert.ok(!environ.includes(PASSWORD));

    await rejectsWith(resticCheck(repo), 'LOCKED');

    ac.abort();
    const e = await rejectsWith(holder, 'INTERRUPTED');
    assert.ok(isResticError(e));
    assert.equal(e.exitCode, 130); // restic's own SIGINT handling, not the SIGKILL
    assert.equal(isAlive(pid), false);
    assert.deepEqual(readdirSync(join(repo.repository, 'locks')), []);
  });

  test('timeoutMs stops restic: TIMEOUT; unlock clears a lock an early SIGINT left', async () => {
    const fifo = join(dir, 'new-pw-2.fifo');
    execFileSync('mkfifo', [fifo]);
    let pid = 0;
    await rejectsWith(runRestic(repo, ['key', 'add', `--new-password-file=${fifo}`], { timeoutMs: 500, onSpawn: (p) => (pid = p) }), 'TIMEOUT');
    assert.equal(isAlive(pid), false);
    // restic 0.14 keeps its lock when SIGINT comes while it is still creating it (exit 130 all the same)
    await resticUnlock(repo);
    assert.deepEqual(readdirSync(join(repo.repository, 'locks')), []);
  });
});

describe('real restic on S3', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  before(async () => {
    // an "S3 endpoint" that accepts connections and never answers, so restic waits while we look at it
    server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('neither the password nor the S3 secret is in /proc/<pid>/cmdline; the keys are in its env only', async () => {
    const addr = server.address();
    assert.ok(addr !== null && typeof addr === 'object');
    const s3repo: ResticRepo = {
      ...repo,
      repository: 'bucket/host1',
      s3: { accessKeyId: 'rwm-test-access-key', secretAccessKey: S3_SECRET, region: 'us-east-1', endpoint: `http://127.0.0.1:${addr.port}` },
    };
    const ac = new AbortController();
    let pid = 0;
    const run = resticSnapshots(s3repo, {}, { signal: ac.signal, onSpawn: (p) => (pid = p) });
    run.catch(() => {});
    await until(() => sockets.size > 0, 'restic to connect');
    const cmdline = proc(pid, 'cmdline');
    assert.match(cmdline, /snapshots/);
    for (const secret of [PASSWORD, S3_SECRET, 'rwm-test-access-key']) assert.ok(!cmdline.includes(secret), secret);
    const environ = proc(pid, 'environ');
    assert.match(environ, new RegExp(`^AWS_SECRET_ACCESS_KEY=${S3_SECRET}$`, 'm'));
    assert.match(environ, new RegExp(`^RESTIC_REPOSITORY=s3:http://127\\.0\\.0\\.1:${addr.port}/bucket/host1$`, 'm'));
    assert.match(environ, /^AWS_DEFAULT_REGION=us-east-1$/m);
    ac.abort();
    await rejectsWith(run, 'INTERRUPTED');
    assert.equal(isAlive(pid), false);
  });
});
