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
});
