// End to end (issue 12): `rwm backup init` and `rwm backup` on the backup host with real restic 0.14,
// one profile writing to a local repository, an off-site one through `rwm serve` (HTTP, htpasswd)
// and one direct to a policed RGW bucket with the backup user's keys. Notifications go to an HTTP
// receiver on loopback in the test.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { makeTree } from '../helpers/data.js';
import { describeCliRun, pollFor, runCli } from '../helpers/cli-run.js';
import { restic } from '../helpers/restic.js';
import { bucketName, deleteBucket, listVersions, s3TestEnv, testClient } from '../helpers/s3.js';
import { directRepo, keysEnv, snapshotIds, writeHtpasswd } from '../helpers/s3-restic.js';
import { CLI, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { runStorage, writeProfilesConfig } from '../helpers/storage.js';
import { freePort } from '../helpers/s3-cluster.js';
import { parsePrometheusText } from '../helpers/prometheus-format.js';

const env = s3TestEnv();
const REPO_PW = 'repo-password-4f1c2b';
const MGMT_PW = 'management-password-9e7d3a';
const REST_PW = 'rest-password-77ab01';

interface Received { readonly path: string; readonly body: string }

describe('rwm backup: local + rwm serve + policed bucket', () => {
  const bucket = bucketName('rwm-backup');
  let dir: string;
  let server: RunningServer;
  let receiver: Server;
  let hookUrl: string;
  const received: Received[] = [];
  let config: string;
  let statusDir: string;
  let promFile: string;
  const f = (name: string): string => join(dir, name);
  // restic is found through a wrapper that records the argv of every restic run (bin/restic)
  const rwm = (args: string[], input = ''): ReturnType<typeof runCli> => runCli(['backup', ...args, '--config', config], { HOME: dir, RWM_STATE_DIR: join(dir, 'state'), PATH: `${f('bin')}:${process.env.PATH ?? ''}` }, 120_000, input);
  const secrets = (): string[] => [REPO_PW, MGMT_PW, REST_PW, env.backup.secretAccessKey];
  const snapshotsOf = async (repo: string, pwFile: string, extra: NodeJS.ProcessEnv = {}): Promise<string[]> => {
    const r = await restic(['-r', repo, '--password-file', pwFile, 'snapshots', '--json'], extra);
    assert.equal(r.code, 0, `restic snapshots ${repo}: ${r.stderr}`);
    return snapshotIds(r.stdout);
  };
  const status = async (profile: string): Promise<{ result: string; error?: string; repositories: { name: string; result: string; error?: string; snapshotId?: string; state?: string; forget?: { kept: number; removed: number } }[] }> =>
    JSON.parse(await readFile(join(statusDir, `${profile}.status.json`), 'utf8')) as never;

  before(async () => {
    dir = await tempDir('rwm-backup-');
    await makeTree(f('src'), 20, 64 << 10);
    for (const [n, v] of [['pw', REPO_PW], ['mgmt', MGMT_PW], ['restpw', REST_PW], ['wrongpw', 'not-the-password'], ['pw644', REPO_PW]] as const) {
      await writeFile(f(n), `${v}\n`);
      await chmod(f(n), n === 'pw644' ? 0o644 : 0o600);
    }
    await mkdir(f('bin'));
    await writeFile(f('bin/restic'), `#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline >> '${f('restic-argv.log')}'\necho >> '${f('restic-argv.log')}'\nexec /usr/bin/restic "$@"\n`, { mode: 0o755 });
    await mkdir(f('data'));
    writeHtpasswd(join(f('data'), '.htpasswd'), 'alice', REST_PW);
    server = await startServer(f('data'));
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const created = await runStorage(env, ['create', bucket, '--user', 'backup', '--prefix', 'repo']);
    assert.equal(created.status, 0, created.stderr);
    const closed = await freePort();
    statusDir = f('status');
    promFile = f('rwm.prom');
    const local = (name: string, pw = f('pw')): string => `        ${name}: { repository: ${f(name)}, passwordFile: ${pw} }`;
    const notify = (p: string): string[] => [`      notify: { webhook: ${hookUrl}/webhook/${p}, healthchecks: ${hookUrl}/hc/${p}, retries: 1 }`];
    const yaml = [
      'backup:',
      `  statusDir: ${statusDir}`,
      `  prometheusFile: ${promFile}`,
      '  profiles:',
      '    base:',
      `      paths: [${f('src')}]`,
      "      excludes: ['*.skip']",
      '      tags: [rwm-test]',
      '    full:',
      '      inherit: base',
      '      forget: { keepLast: 1 }',
      '      repositories:',
      local('local'),
      `        http: { repository: 'rest:${server.url}alice/', passwordCommand: [cat, ${f('pw')}], restUser: alice, restPasswordFile: ${f('restpw')} }`,
      `        bucket: { repository: '${directRepo(env, bucket, 'repo')}', passwordFile: ${f('pw')}, s3Profile: backup }`,
      ...notify('full'),
      '      extraArgs: [--exclude-larger-than=1G]',
      '      hooks:',
      `        before: [{ command: [sh, -c, 'echo "$RWM_PROFILE $RWM_REPOSITORY" >> ${f('hooks.log')}'] }]`,
      `        after: [{ command: [sh, -c, 'echo "after $RWM_REPOSITORY $RWM_SNAPSHOT_ID" >> ${f('hooks.log')}'] }]`,
      `        always: [{ command: [sh, -c, 'env >> ${f('hooks-env.log')}'] }]`,
      '    s3only:',
      '      inherit: base',
      '      repositories:',
      `        bucket: { repository: '${directRepo(env, bucket, 'repo')}', passwordFile: ${f('pw')}, s3Profile: backup }`,
      ...notify('s3only'),
      '    failhook:',
      '      inherit: base',
      '      repositories:',
      local('local2'),
      ...notify('failhook'),
      '      hooks:',
      "        before: [{ command: ['false'] }]",
      `        failure: [{ command: [sh, -c, 'echo "failed: $RWM_ERROR" >> ${f('hooks.log')}'] }]`,
      '    wrongpw:',
      '      inherit: base',
      '      repositories:',
      local('local', f('wrongpw')),
      ...notify('wrongpw'),
      '    unreachable:',
      '      inherit: base',
      '      repositories:',
      `        gone: { repository: 'rest:http://127.0.0.1:${closed}/x/', passwordFile: ${f('pw')} }`,
      ...notify('unreachable'),
      '    prompted:',
      '      inherit: base',
      '      repositories:',
      `        http2: { repository: 'rest:${server.url}alice/prompted/', passwordFile: ${f('pw')}, restUser: alice, restPasswordFile: ${f('restpw')} }`,
    '    nopw:',
      '      inherit: base',
      '      repositories:',
      local('local4', f('missing-pw')),
      ...notify('nopw'),
      '    good:',
      '      inherit: base',
      '      repositories:',
      local('local3', f('pw644')),
      `      notify: { webhook: 'http://127.0.0.1:${closed}/nobody', retries: 1 }`,
      '    slow:',
      '      inherit: base',
      '      repositories:',
      local('local3'),
      `      hooks: { before: [{ command: [sh, -c, 'while [ -e ${f('hold')} ]; do sleep 0.1; done'], timeoutSeconds: 120 }] }`,
    ].join('\n');
    config = await writeProfilesConfig(dir, env, yaml);
    for (const r of ['local2', 'local3']) assert.equal((await restic(['-r', f(r), '--password-file', f('pw'), 'init'])).code, 0);
  });
  after(async () => {
    await server?.stop();
    receiver?.close();
    await deleteBucket(env, bucket);
    await removeDir(dir);
  });

  test('backup init asks for the management password on a terminal, twice, without echo; a paste of both lines answers both', { timeout: 90_000 }, async () => {
    const sh = (w: string): string => `'${w.replace(/'/g, "'\\''")}'`;
    const cmd = [process.execPath, CLI, 'backup', 'init', 'prompted', '--config', config].map(sh).join(' ');
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: { PATH: process.env.PATH, HOME: dir, RWM_STATE_DIR: join(dir, 'state'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    assert.ok(await pollFor(() => (out.includes('management password') ? true : undefined), 30_000, 50), `the prompt: ${out}`);
    child.stdin.write(`${MGMT_PW}\r${MGMT_PW}\r`);
    const code = await exited;
    clearTimeout(timer);
    child.stdin.destroy();
    assert.equal(code, 0, out);
    assert.match(out, /prompted\/http2: initialised, management key added/);
    assert.ok(!out.includes(MGMT_PW), 'no echo of the password');
    assert.equal((await snapshotsOf(`rest:${server.url.replace('http://', `http://alice:${REST_PW}@`)}alice/prompted/`, f('mgmt'))).length, 0, 'the management password opens the repository');
  });

  test('backup init adds the management key to the off-site repositories only; backup twice; forget only local', { timeout: 240_000 }, async () => {
    const init = await rwm(['init', 'full', '--management-password-file', f('mgmt')]);
    assert.equal(init.status, 0, describeCliRun(init));
    assert.match(init.stdout, /full\/local: initialised, management key not-off-site/);
    assert.match(init.stdout, /full\/http: initialised, management key added/);
    assert.match(init.stdout, /full\/bucket: initialised, management key added/);
    const again = await rwm(['init', 'full', '--management-password-file', f('mgmt')]);
    assert.match(again.stdout, /full\/http: exists, management key present/, describeCliRun(again));
    const same = await rwm(['init', 'full', '--management-password-file', f('pw')]);
    assert.equal(same.status, 1, describeCliRun(same));
    assert.match(same.stdout, /full\/bucket: failed: the management password is this repository's own password/, 'the repository password is no second key');
    // another profile's snapshots in the same local repository (other paths): forget must leave them alone
    await makeTree(f('other'), 2, 1024);
    for (let i = 0; i < 2; i++) assert.equal((await restic(['-r', f('local'), '--password-file', f('pw'), 'backup', f('other')])).code, 0);

    for (let i = 0; i < 2; i++) {
      // every process's argv (/proc/PID/cmdline) while the run goes on: rwm, hooks, the password command, restic
      const seen = new Set<string>();
      let running = true;
      const watch = (async () => {
        while (running) {
          for (const pid of await readdir('/proc').catch(() => [] as string[])) {
            if (/^[0-9]+$/.test(pid)) seen.add(await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => ''));
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const r = await rwm(['full']);
      running = false;
      await watch;
      assert.equal(r.status, 0, describeCliRun(r));
      assert.match(r.stdout, /full: success/);
      for (const s of secrets()) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'no secret in the output');
      const argv = [...seen].map((x) => x.replaceAll('\0', ' '));
      assert.ok(argv.some((a) => a.includes('backup full --config')), 'the watch saw rwm');
      for (const s of secrets()) assert.ok(!argv.some((a) => a.includes(s)), 'no secret in any argv');
    }
    const resticArgv = await readFile(f('restic-argv.log'), 'utf8');
    assert.match(resticArgv, / backup --tag=rwm-test --exclude-file=\S+ --exclude-larger-than=1G -- /, 'extraArgs reach restic backup');
    for (const s of secrets()) assert.ok(!resticArgv.includes(s), 'no secret in the argv of restic');
    assert.ok(!resticArgv.includes('--password'), 'passwords reach restic as RESTIC_PASSWORD_FILE');
    const hookEnv = await readFile(f('hooks-env.log'), 'utf8');
    assert.match(hookEnv, /^RWM_HOOK=always$/m);
    assert.doesNotMatch(hookEnv, /^(AWS_|RESTIC_)/m, 'hooks get no repository settings');
    for (const s of secrets()) assert.ok(!hookEnv.includes(s), 'no secret in the environment of hooks');
    assert.deepEqual((await readdir('/dev/shm').catch(() => [] as string[])).filter((x) => x.startsWith('rwm-backup-secrets-')), [], 'the password command\'s file is gone');
    const backupKeys = keysEnv(env.backup);
    assert.equal((await snapshotsOf(f('local'), f('pw'))).length, 3, 'forget --prune ran on the local repository: one of the profile\'s, both of the other paths');
    // the management password opens each off-site repository, and nothing was forgotten there
    assert.equal((await snapshotsOf(`rest:${server.url.replace('http://', `http://alice:${REST_PW}@`)}alice/`, f('mgmt'))).length, 2);
    assert.equal((await snapshotsOf(directRepo(env, bucket, 'repo'), f('mgmt'), backupKeys)).length, 2);
    const local = await restic(['-r', f('local'), '--password-file', f('mgmt'), 'snapshots']);
    assert.notEqual(local.code, 0, 'the local repository has no management key');

    const st = await status('full');
    assert.equal(st.result, 'success');
    assert.deepEqual(st.repositories.map((r) => [r.name, r.result]), [['local', 'success'], ['http', 'success'], ['bucket', 'success']]);
    const state = st.repositories.find((r) => r.name === 'bucket')?.state;
    assert.ok(state !== undefined, 'a state was saved for the bucket');
    assert.ok((await listVersions(env, bucket, 'repo/.rwm/state/')).some((v) => v.key.includes(state)), 'the state is in the bucket');
    assert.deepEqual(st.repositories.find((r) => r.name === 'local')?.forget, { kept: 1, removed: 1 });
    const statusText = await readFile(join(statusDir, 'full.status.json'), 'utf8');
    for (const s of secrets()) assert.ok(!statusText.includes(s), 'no secret in the status file');
    const prom = await readFile(promFile, 'utf8');
    assert.deepEqual(parsePrometheusText(prom).problems, [], prom);
    assert.match(prom, /^rwm_backup_repository_last_success_timestamp_seconds\{profile="full",repository="http"\} \d+/m);
    assert.match(prom, /^rwm_backup_success\{profile="full"\} 1$/m);
    assert.match(prom, /^rwm_backup_repository_success\{profile="full",repository="bucket"\} 1$/m);
    const hooks = await readFile(f('hooks.log'), 'utf8');
    assert.match(hooks, /^full bucket$/m);
    assert.match(hooks, new RegExp(`^after local ${st.repositories[0]?.snapshotId ?? 'x'}$`, 'm'));
    assert.ok(received.some((m) => m.path === '/hc/full/start'));
    assert.ok(received.some((m) => m.path === '/hc/full'));
    const hook = received.find((m) => m.path === '/webhook/full' && m.body.includes('"success"'));
    assert.ok(hook !== undefined, 'the webhook got the success event');
    assert.equal((JSON.parse(hook.body) as { event: string }).event, 'success');
  });

  test('a failing before-hook, a wrong password, an unreachable server: exit 1, /fail pings, status says why; the other profiles still run', { timeout: 180_000 }, async () => {
    received.length = 0;
    const r = await rwm(['failhook', 'wrongpw', 'unreachable', 'nopw', 'good']);
    assert.equal(r.status, 1, describeCliRun(r));
    assert.match(r.stderr, /warning: password file \S+pw644 is readable by group or others/);
    assert.match((await status('nopw')).error ?? '', /cannot read the password file \S+missing-pw: ENOENT/);
    assert.equal((await status('good')).result, 'success');
    assert.equal((await snapshotsOf(f('local2'), f('pw'))).length, 0, 'the before-hook failure skipped the backup');
    assert.match((await status('failhook')).error ?? '', /before hook false failed/);
    assert.match(await readFile(f('hooks.log'), 'utf8'), /failed: before hook false failed/);
    assert.match((await status('wrongpw')).error ?? '', /wrong password/);
    assert.equal((await status('unreachable')).result, 'failure');
    for (const p of ['failhook', 'wrongpw', 'unreachable', 'nopw']) {
      assert.ok(received.some((m) => m.path === `/hc/${p}/fail` && m.body.includes('failure')), `a /fail ping for ${p}`);
      assert.ok(received.some((m) => m.path === `/webhook/${p}` && m.body.includes('"failure"')), `a failure webhook for ${p}`);
    }
    assert.match(await readFile(promFile, 'utf8'), /^rwm_backup_success\{profile="wrongpw"\} 0$/m);
  });

  test('a status directory that cannot be written (a full disk, a file in the way) fails the run loudly: exit 1 and a /fail ping', async () => {
    received.length = 0;
    const bad = f('bad-status.yaml');
    await writeFile(bad, ['backup:', `  statusDir: ${f('pw')}/status`, '  profiles:', '    x:', `      paths: [${f('src')}]`, `      repositories: { l: { repository: ${f('local3')}, passwordFile: ${f('pw')} } }`, `      notify: { healthchecks: ${hookUrl}/hc/x, retries: 0 }`].join('\n'), { mode: 0o600 });
    const r = await runCli(['backup', '--config', bad], { HOME: dir, RWM_STATE_DIR: join(dir, 'state') });
    assert.equal(r.status, 1, describeCliRun(r));
    assert.match(r.stdout, /x: failure .*cannot take the lock in \S+: ENOTDIR/);
    assert.ok(received.some((m) => m.path === '/hc/x/fail' && m.body.includes('ENOTDIR')), 'a /fail ping says why');
  });

  test('a notification that cannot be sent is a warning: the backup still succeeds', async () => {
    const r = await rwm(['good']);
    assert.equal(r.status, 0, describeCliRun(r));
    assert.match(r.stderr, /warning: the webhook notification \(success\) failed/);
    assert.equal((await status('good')).result, 'success');
  });

  test('progress on a terminal (restic\'s status lines); none in pipes or under --json, which prints the reports', { timeout: 120_000 }, async () => {
    const sh = (w: string): string => `'${w.replace(/'/g, "'\\''")}'`;
    const cmd = [process.execPath, CLI, 'backup', 'full', '--config', config].map(sh).join(' ');
    const tty = await promisify(execFile)('script', ['-qfec', cmd, '/dev/null'], { env: { PATH: `${f('bin')}:${process.env.PATH ?? ''}`, HOME: dir, RWM_STATE_DIR: join(dir, 'state'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, timeout: 110_000 });
    assert.match(tty.stdout, /\rfull\/(local|http|bucket): \d+\.\d%/, 'progress from restic --json status lines');
    assert.match(tty.stdout, /full: success/);
    const piped = await rwm(['full']);
    assert.equal(piped.status, 0, describeCliRun(piped));
    assert.ok(!piped.stderr.includes('\r') && !/\d%/.test(piped.stderr), `no progress in a pipe: ${piped.stderr}`);
    assert.match(piped.stdout, /^ {2}success +local +[\d.]+ s {2}snapshot [0-9a-f]{8}, \d+ new \/ \d+ changed of \d+ files, \d+ bytes added/m, 'a summary per repository');
    const json = await rwm(['full', '--json']);
    assert.equal(json.status, 0, describeCliRun(json));
    assert.equal(json.stderr, '', 'nothing on stderr under --json');
    const [report] = JSON.parse(json.stdout) as { profile: string; repositories: { name: string; snapshotId: string; filesTotal: number; bytesAdded: number; durationMs: number }[] }[];
    assert.equal(report?.profile, 'full');
    assert.deepEqual(report?.repositories.map((x) => [x.name, /^[0-9a-f]{8,64}$/.test(x.snapshotId), typeof x.filesTotal, typeof x.bytesAdded, typeof x.durationMs]), [['local', true, 'number', 'number', 'number'], ['http', true, 'number', 'number', 'number'], ['bucket', true, 'number', 'number', 'number']]);
  });

  test('a second run of a profile while the first holds the lock is reported at once; a run killed with SIGKILL does not block the next', { timeout: 120_000 }, async () => {
    const lock = join(statusDir, 'locks', 'slow.lock');
    const lockOwner = (): Promise<number | undefined> => pollFor(async () => Number((await readFile(lock, 'utf8').catch(() => '')).split(' ')[0]) || undefined, 30_000, 50);
    await writeFile(f('hold'), '');
    const first = rwm(['slow']);
    const owner = await lockOwner();
    assert.ok(owner !== undefined, 'the first run took the lock');
    const second = await rwm(['slow']);
    assert.equal(second.status, 1, describeCliRun(second));
    assert.match(second.stdout, new RegExp(`already running: another run \\(pid ${owner}\\) holds the lock`));
    await rm(f('hold'));
    assert.equal((await first).status, 0, 'the first run went on');

    await writeFile(f('hold'), '');
    const killed = rwm(['slow']);
    const pid = await lockOwner();
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    assert.equal((await killed).status, null, 'killed');
    assert.ok((await readFile(lock, 'utf8')).startsWith(`${pid} `), 'the killed run left its lock behind');
    await rm(f('hold'));
    const after = await rwm(['slow']);
    assert.equal(after.status, 0, describeCliRun(after));
  });

  test('a bucket whose deny statement was removed fails the check, and restic does not run', { timeout: 120_000 }, async () => {
    const admin = testClient(env, 'admin');
    try {
      const before = (await snapshotsOf(directRepo(env, bucket, 'repo'), f('pw'), keysEnv(env.backup))).length;
      const policy = JSON.parse((await admin.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}') as { Statement: { Sid?: string }[] };
      const loose = { ...policy, Statement: policy.Statement.filter((s) => s.Sid !== 'RwmBackupDenyDestroy') };
      await admin.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(loose) }));
      try {
        received.length = 0;
        const r = await rwm(['s3only']);
        assert.equal(r.status, 1, describeCliRun(r));
        assert.match((await status('s3only')).error ?? '', /not policed/);
        assert.ok(received.some((m) => m.path === '/hc/s3only/fail'));
        assert.equal((await snapshotsOf(directRepo(env, bucket, 'repo'), f('pw'), keysEnv(env.backup))).length, before, 'no backup ran');
      } finally {
        await admin.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
      }
    } finally {
      admin.destroy();
    }
  });
});
