// The status file (kept across runs) and the Prometheus textfile (strict format check, readable by
// node_exporter's user).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePrometheusText } from '../../test/helpers/prometheus-format.js';
import { prometheusText, readStatus, writePrometheus, writeStatus, type ProfileReport, type RepositoryReport } from './status.js';

const repo = (name: string, result: RepositoryReport['result'], startedAt: string, extra: Partial<RepositoryReport> = {}): RepositoryReport => ({ name, repository: `/srv/${name}`, kind: 'local', result, startedAt, durationMs: 1500, warnings: [], ...extra });
const run = (profile: string, startedAt: string, repositories: RepositoryReport[]): ProfileReport => ({ profile, result: repositories.every((r) => r.result === 'success') ? 'success' : 'failure', startedAt, durationMs: 3000, repositories });

describe('backup status', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-status-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the last success of the profile and of each repository is kept across failed runs', async () => {
    const t1 = '2026-01-01T03:00:00.000Z';
    const t2 = '2026-01-02T03:00:00.000Z';
    await writeStatus(dir, run('home', t1, [repo('local', 'success', t1, { snapshotId: 'a'.repeat(64), bytesAdded: 10, filesTotal: 3 }), repo('offsite', 'success', t1)]));
    await writeStatus(dir, run('home', t2, [repo('local', 'success', t2), repo('offsite', 'failure', t2, { error: 'unreachable' })]));
    const st = await readStatus(dir, 'home');
    assert.equal(st?.result, 'failure');
    assert.equal(st?.lastSuccess, t1);
    assert.deepEqual(st?.repositories.map((r) => [r.name, r.lastSuccess]), [['local', t2], ['offsite', t1]]);
    assert.equal((await stat(join(dir, 'home.status.json'))).mode & 0o777, 0o600);
  });

  test('the textfile parses strictly, names every profile and repository, and node_exporter may read it', async () => {
    const st = await readStatus(dir, 'home');
    const other = run('db.v2-x', '2026-01-02T04:00:00.000Z', [repo('bucket', 'success', '2026-01-02T04:00:00.000Z', { bytesAdded: 0, filesTotal: 0 })]);
    const text = await prometheusText([st as ProfileReport, other]);
    const { problems, samples } = parsePrometheusText(text);
    assert.deepEqual(problems, [], text);
    const v = (name: string, labels: Record<string, string>): number | undefined => samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    assert.equal(v('rwm_backup_success', { profile: 'home' }), 0);
    assert.equal(v('rwm_backup_success', { profile: 'db.v2-x' }), 1);
    assert.equal(v('rwm_backup_last_success_timestamp_seconds', { profile: 'home' }), Date.parse('2026-01-01T03:00:00.000Z') / 1000);
    assert.equal(v('rwm_backup_repository_success', { profile: 'home', repository: 'offsite' }), 0);
    assert.equal(v('rwm_backup_repository_last_success_timestamp_seconds', { profile: 'home', repository: 'offsite' }), Date.parse('2026-01-01T03:00:00.000Z') / 1000);
    assert.equal(v('rwm_backup_repository_duration_seconds', { profile: 'home', repository: 'local' }), 1.5);
    assert.equal(v('rwm_backup_repository_added_bytes', { profile: 'db.v2-x', repository: 'bucket' }), 0);
    assert.equal(v('rwm_backup_repository_files', { profile: 'db.v2-x', repository: 'bucket' }), 0);
    const file = join(dir, 'textfile', 'rwm_backup.prom');
    await writePrometheus(file, [st as ProfileReport]);
    assert.equal((await stat(file)).mode & 0o777, 0o644, 'node_exporter runs as another user');
    assert.equal((await stat(join(dir, 'textfile'))).mode & 0o777, 0o755);
    assert.deepEqual(parsePrometheusText(await readFile(file, 'utf8')).problems, []);
  });

  test('the format check finds what node_exporter or promtool would refuse', () => {
    assert.deepEqual(parsePrometheusText('# TYPE a gauge\na{x="1"} 1\n').problems, []);
    assert.equal(parsePrometheusText('a{x="1} 1\n').problems.length, 1);
    assert.equal(parsePrometheusText('a 1\nb 1\na 2\n').problems.length, 2);
    assert.equal(parsePrometheusText('# TYPE a_total gauge\na_total 1\n').problems.length, 1);
    assert.equal(parsePrometheusText('a one\n').problems.length, 1);
    assert.equal(parsePrometheusText('a 1').problems.length, 1);
  });
});
