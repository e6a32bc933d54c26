// `rwm schedule install|status|remove` (issue 12): the units it writes pass the real
// `systemd-analyze verify`; a schedule systemd does not understand is refused; status reads the
// profile's status file; remove deletes the units.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { describeCliRun, runCli } from '../helpers/cli-run.js';
import { removeDir, tempDir } from '../helpers/server.js';

const run = promisify(execFile);

describe('rwm schedule', () => {
  let dir: string;
  let config: string;
  let units: string;
  const rwm = (args: string[]): ReturnType<typeof runCli> => runCli(['schedule', ...args, '--config', config, '--unit-dir', units], { HOME: dir, RWM_STATE_DIR: join(dir, 'state') });

  before(async () => {
    dir = await tempDir('rwm-schedule-');
    units = join(dir, 'units');
    config = join(dir, 'rwm.yaml');
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'pw'), 'pw\n', { mode: 0o600 });
    await writeFile(config, [
      'backup:',
      `  statusDir: ${join(dir, 'status')}`,
      '  profiles:',
      '    nightly:',
      `      paths: [${join(dir, 'src')}]`,
      `      repositories: { local: { repository: ${join(dir, 'repo with space')}, passwordFile: ${join(dir, 'pw')} } }`,
      "      schedule: '*-*-* 03:15:00'",
      '      randomizedDelay: 30min',
      '    bad:',
      '      inherit: nightly',
      '      schedule: dayly',
      '    manual:',
      `      paths: [${join(dir, 'src')}]`,
      `      repositories: { local: { repository: ${join(dir, 'repo2')}, passwordFile: ${join(dir, 'pw')} } }`,
      'maintain:',
      '  weekly:',
      `    path: ${join(dir, 'repo with space')}`,
      `    passwordFile: ${join(dir, 'pw')}`,
      "    schedule: 'Sun *-*-* 04:00:00'",
      '  unscheduled:',
      `    path: ${join(dir, 'repo2')}`,
      `    passwordFile: ${join(dir, 'pw')}`,
    ].join('\n'));
    await chmod(config, 0o600);
  });
  after(() => removeDir(dir));

  test('install writes a service and a timer that systemd-analyze verify accepts', async () => {
    const r = await rwm(['install', 'nightly', '--no-enable']);
    assert.equal(r.status, 0, describeCliRun(r));
    assert.deepEqual((await readdir(units)).sort(), ['rwm-backup-nightly.service', 'rwm-backup-nightly.timer']);
    const timer = await readFile(join(units, 'rwm-backup-nightly.timer'), 'utf8');
    assert.match(timer, /^OnCalendar=\*-\*-\* 03:15:00$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.match(timer, /^RandomizedDelaySec=30min$/m);
    const service = await readFile(join(units, 'rwm-backup-nightly.service'), 'utf8');
    assert.match(service, /^ProtectSystem=strict$/m);
    assert.match(service, /^ReadWritePaths=-"[^"]*repo with space"$/m);
    assert.match(service, /^ExecStart=\S+ \S+main\.js backup nightly --config \S+rwm\.yaml$/m);
    assert.match(r.stdout, /15 3 \* \* \* .*'backup' 'nightly'/, 'a crontab line when systemd does not run');
    const v = await run('systemd-analyze', ['verify', join(units, 'rwm-backup-nightly.service'), join(units, 'rwm-backup-nightly.timer')]).then(() => 0, (err: { code?: number; stderr?: string }) => {
      assert.fail(`systemd-analyze verify failed: ${err.stderr ?? ''}`);
    });
    assert.equal(v, 0);
  });

  test('a schedule systemd does not understand is refused; a profile without one is named', async () => {
    const r = await rwm(['install', 'bad', '--no-enable']);
    assert.equal(r.status, 2, describeCliRun(r));
    assert.match(r.stderr, /bad\.schedule: systemd does not understand OnCalendar=dayly/);
    const m = await rwm(['install', 'manual', '--no-enable']);
    assert.equal(m.status, 2, describeCliRun(m));
    assert.match(m.stderr, /no schedule in backup\.profiles\.manual/);
  });

  test('status shows the next run and the last result; remove deletes the units', async () => {
    await mkdir(join(dir, 'status'), { recursive: true });
    await writeFile(join(dir, 'status', 'nightly.status.json'), JSON.stringify({ profile: 'nightly', result: 'failure', startedAt: '2026-01-01T03:15:00.000Z', durationMs: 1, repositories: [], error: 'local: disk full' }));
    const s = await rwm(['status', 'nightly', '--json']);
    assert.equal(s.status, 1, describeCliRun(s));
    const [row] = JSON.parse(s.stdout) as { installed: boolean; nextRun: string | null; lastResult: string; lastError: string }[];
    assert.equal(row?.installed, true);
    assert.match(row?.nextRun ?? '', /03:15:00/);
    assert.equal(row?.lastResult, 'failure');
    assert.equal(row?.lastError, 'local: disk full');
    const r = await rwm(['remove', 'nightly']);
    assert.equal(r.status, 0, describeCliRun(r));
    assert.deepEqual(await readdir(units), []);
  });

  test('--user writes user units under XDG_CONFIG_HOME', async () => {
    const xdg = join(dir, 'xdg');
    const r = await runCli(['schedule', 'install', 'nightly', '--user', '--no-enable', '--config', config], { HOME: dir, XDG_CONFIG_HOME: xdg, RWM_STATE_DIR: join(dir, 'state') });
    assert.equal(r.status, 0, describeCliRun(r));
    assert.deepEqual((await readdir(join(xdg, 'systemd', 'user'))).sort(), ['rwm-backup-nightly.service', 'rwm-backup-nightly.timer']);
    assert.match(r.stdout, /systemctl --user daemon-reload/);
  });

  test('the same for rwm maintain on the trusted host: install --maintain, status from the newest report, remove', async () => {
    const r = await rwm(['install', '--maintain', '--no-enable']);
    assert.equal(r.status, 0, describeCliRun(r));
    assert.deepEqual((await readdir(units)).filter((f) => f.startsWith('rwm-maintain-')).sort(), ['rwm-maintain-weekly.service', 'rwm-maintain-weekly.timer'], 'only the job with a schedule');
    const service = await readFile(join(units, 'rwm-maintain-weekly.service'), 'utf8');
    assert.match(service, /^ExecStart=\S+ \S+main\.js maintain weekly --config \S+rwm\.yaml$/m);
    assert.match(service, /^ReadWritePaths=-"[^"]*repo with space"$/m, 'scrub repairs and prune write to the local repository');
    assert.match(service, /^ProtectSystem=strict$/m);
    assert.match(await readFile(join(units, 'rwm-maintain-weekly.timer'), 'utf8'), /^OnCalendar=Sun \*-\*-\* 04:00:00$/m);
    await run('systemd-analyze', ['verify', join(units, 'rwm-maintain-weekly.service'), join(units, 'rwm-maintain-weekly.timer')]).catch((err: { stderr?: string }) => assert.fail(`systemd-analyze verify failed: ${err.stderr ?? ''}`));
    const reports = join(dir, 'state', 'maintain', 'weekly');
    await mkdir(reports, { recursive: true });
    await writeFile(join(reports, '20260104T040000.000Z.json'), JSON.stringify({ job: 'weekly', started: '2026-01-04T04:00:00.000Z', result: 'ok', steps: [] }));
    await writeFile(join(reports, '20260111T040000.000Z.json'), JSON.stringify({ job: 'weekly', started: '2026-01-11T04:00:00.000Z', result: 'findings', steps: [{ name: 'scrub', status: 'findings', error: '2 damaged packs' }] }));
    const s = await rwm(['status', '--maintain', '--json']);
    assert.equal(s.status, 1, describeCliRun(s));
    const [row] = JSON.parse(s.stdout) as { job: string; installed: boolean; nextRun: string | null; lastResult: string; lastRun: string; lastError: string }[];
    assert.deepEqual([row?.job, row?.installed, row?.lastResult, row?.lastRun, row?.lastError], ['weekly', true, 'findings', '2026-01-11T04:00:00.000Z', 'scrub: 2 damaged packs']);
    assert.match(row?.nextRun ?? '', /^Sun .* 04:00:00/);
    const none = await rwm(['install', '--maintain', 'unscheduled', '--no-enable']);
    assert.equal(none.status, 2, describeCliRun(none));
    assert.match(none.stderr, /no schedule in maintain\.unscheduled/);
    const rm = await rwm(['remove', '--maintain', 'weekly']);
    assert.equal(rm.status, 0, describeCliRun(rm));
    assert.deepEqual((await readdir(units)).filter((f) => f.startsWith('rwm-maintain-')), []);
  });
});
