// Server features around the protocol: TLS (with the real restic), metrics, htpasswd reloads,
// per-user rules and quotas, the non-append-only mode, and clear start-up errors.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile, access, rm, stat, readFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { CLI, removeDir, startServer, tempDir } from '../helpers/server.js';
import { http, randomKeyFile, sha256hex } from '../helpers/data.js';
import { resticOk, restic } from '../helpers/restic.js';

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  await writeFile(file, Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}\n`).join(''));
}

describe('serve features', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => removeDir(dir));

  test('TLS: restic backs up over HTTPS with the server certificate', async () => {
    const data = join(dir, 'tls');
    await mkdir(data, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(data, 'private_key'), '-out', join(data, 'public_key')], { stdio: 'ignore' });
    const server = await startServer(data, ['--tls', '--no-auth']);
    assert.match(server.url, /^https:/);
    const url = `rest:https://127.0.0.1:${server.port}/r/`;
    await resticOk(['-r', url, '--cacert', join(data, 'public_key'), 'init']);
    await resticOk(['-r', url, '--cacert', join(data, 'public_key'), 'backup', join(import.meta.dirname)]);
    const r = await restic(['-r', url, 'snapshots']);
    assert.notEqual(r.code, 0, 'an unknown certificate is refused by restic');
    await server.stop();
  });

  test('metrics: authenticated, count requests and refusals by reason', async () => {
    const data = join(dir, 'metrics');
    await mkdir(data, { recursive: true });
    await writeHtpasswd(join(data, '.htpasswd'), { alice: 'a', metrics: 'm' });
    const server = await startServer(data, ['--prometheus', '--private-repos']);
    assert.equal((await http('POST', `${server.url}alice/r/?create=true`, undefined, basic('alice', 'a'))).status, 200);
    const b = randomKeyFile();
    assert.equal((await http('POST', `${server.url}alice/r/keys/${sha256hex(b)}`, b, basic('alice', 'a'))).status, 200);
    assert.equal((await http('DELETE', `${server.url}alice/r/keys/${sha256hex(b)}`, undefined, basic('alice', 'a'))).status, 403);
    assert.equal((await http('GET', `${server.url}metrics`)).status, 401);
    assert.equal((await http('GET', `${server.url}metrics`, undefined, basic('alice', 'a'))).status, 401, 'with private repos only user "metrics"');
    const m = await http('GET', `${server.url}metrics`, undefined, basic('metrics', 'm'));
    assert.equal(m.status, 200);
    const text = m.body.toString();
    assert.match(text, /rwm_requests_total\{method="POST",type="keys",status="200"\} 1/);
    assert.match(text, /rwm_refusals_total\{reason="delete-refused",type="keys"\} 1/);
    assert.match(text, new RegExp(`rwm_received_bytes_total\\{type="keys"\\} ${b.length}\n`));
    await server.stop();
    const open = await startServer(data, ['--prometheus', '--prometheus-no-auth']);
    assert.equal((await http('GET', `${open.url}metrics`)).status, 200);
    await open.stop();
  });

  test('htpasswd changes take effect without a restart', async () => {
    const data = join(dir, 'reload');
    await mkdir(data, { recursive: true });
    const file = join(data, '.htpasswd');
    await writeHtpasswd(file, { alice: 'old' });
    const server = await startServer(data, []);
    assert.equal((await http('POST', `${server.url}r/?create=true`, undefined, basic('alice', 'old'))).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    await writeHtpasswd(file, { alice: 'new' });
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await http('POST', `${server.url}r/?create=true`, undefined, basic('alice', 'old'))).status, 401);
    assert.equal((await http('POST', `${server.url}r/?create=true`, undefined, basic('alice', 'new'))).status, 200);
    await server.stop();
  });

  test('per-user rules: allowed paths, a trusted user who may delete, a quota', async () => {
    const data = join(dir, 'rules');
    await mkdir(data, { recursive: true });
    await writeHtpasswd(join(data, '.htpasswd'), { alice: 'a', maint: 'm' });
    const cfg = join(dir, 'rules.yaml');
    await writeFile(cfg, 'serve:\n  users:\n    alice:\n      repos: [shared/db]\n      maxSize: 3000\n    maint:\n      appendOnly: false\n', { mode: 0o600 });
    const server = await startServer(data, ['--config', cfg]);
    const A = basic('alice', 'a');
    assert.equal((await http('POST', `${server.url}alice/?create=true`, undefined, A)).status, 403);
    assert.equal((await http('POST', `${server.url}shared/db/?create=true`, undefined, A)).status, 200);
    const small = randomBytes(2000);
    assert.equal((await http('POST', `${server.url}shared/db/data/${sha256hex(small)}`, small, A)).status, 200);
    const more = randomBytes(2000);
    assert.equal((await http('POST', `${server.url}shared/db/data/${sha256hex(more)}`, more, A)).status, 507, 'quota of 3000 bytes');
    assert.equal((await http('DELETE', `${server.url}shared/db/data/${sha256hex(small)}`, undefined, A)).status, 403);
    assert.equal((await http('DELETE', `${server.url}shared/db/data/${sha256hex(small)}`, undefined, basic('maint', 'm'))).status, 200);
    await assert.rejects(access(join(data, 'shared', 'db', 'data', sha256hex(small).slice(0, 2), sha256hex(small))));
    await server.stop();
  });

  test('--max-size caps what the whole server stores (counting what was there at start)', async () => {
    const data = join(dir, 'maxsize');
    const first = await startServer(data, ['--no-auth']);
    await http('POST', `${first.url}r/?create=true`);
    const a = randomBytes(3000);
    assert.equal((await http('POST', `${first.url}r/data/${sha256hex(a)}`, a)).status, 200);
    await first.stop();
    const server = await startServer(data, ['--no-auth', '--max-size', '5000']);
    const b = randomBytes(1500);
    assert.equal((await http('POST', `${server.url}r/data/${sha256hex(b)}`, b)).status, 200);
    const c = randomBytes(1500);
    assert.equal((await http('POST', `${server.url}r/data/${sha256hex(c)}`, c)).status, 507);
    await assert.rejects(access(join(data, 'r', 'data', sha256hex(c).slice(0, 2), sha256hex(c))));
    await server.stop();
  });

  test('--no-append-only lets a trusted host run forget --prune', async () => {
    const data = join(dir, 'trusted');
    const server = await startServer(data, ['--no-auth', '--no-append-only']);
    const url = `rest:${server.url}r/`;
    await resticOk(['-r', url, 'init']);
    await resticOk(['-r', url, 'backup', import.meta.dirname]);
    await resticOk(['-r', url, 'backup', import.meta.dirname]);
    await resticOk(['-r', url, 'forget', '--keep-last', '1', '--prune']);
    assert.equal((JSON.parse((await resticOk(['-r', url, 'snapshots', '--json'])).stdout) as unknown[]).length, 1);
    await server.stop();
  });

  test('a list that fails answers 500, never 404 (a 404 list once let prune wipe a repository)', async () => {
    const data = join(dir, 'list500');
    const server = await startServer(data, ['--no-auth']);
    assert.equal((await http('POST', `${server.url}r/?create=true`)).status, 200);
    const v2 = { Accept: 'application/vnd.x.restic.rest.v2' };
    const empty = await http('GET', `${server.url}r/snapshots/`, undefined, v2);
    assert.equal(empty.status, 200);
    assert.equal(empty.headers['content-type'], 'application/vnd.x.restic.rest.v2');
    assert.equal(empty.body.toString(), '[]');
    await rm(join(data, 'r', 'snapshots'), { recursive: true });
    await writeFile(join(data, 'r', 'snapshots'), 'not a directory');
    const broken = await http('GET', `${server.url}r/snapshots/`, undefined, v2);
    assert.equal(broken.status, 500);
    assert.doesNotMatch(broken.body.toString(), /ENOTDIR|snapshots|\//, 'no internals in the answer');
    assert.equal((await http('GET', `${server.url}r/index/`)).body.toString(), '[]', 'v1 list of a missing dir');
    await server.stop();
  });

  test('start-up errors are clear and exit with 2', async () => {
    const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8', timeout: 20_000 });
    const noHt = run('--path', join(dir, 'none'), '--listen', '127.0.0.1:0');
    assert.equal(noHt.status, 2);
    assert.match(String(noHt.stderr), /no htpasswd file at .*--no-auth/);
    const badCfg = join(dir, 'bad.yaml');
    await writeFile(badCfg, 'serve:\n  users:\n    a:\n      apendOnly: false\n');
    const bad = run('--no-auth', '--config', badCfg);
    assert.equal(bad.status, 2);
    assert.match(String(bad.stderr), /serve\.users\.a/);
    assert.equal(run('--no-auth', '--private-repos').status, 2);
    // a quota on a user who may write anywhere could not be measured (it started at 0 after each restart)
    const quotaCfg = join(dir, 'quota.yaml');
    await writeFile(quotaCfg, 'serve:\n  users:\n    alice:\n      maxSize: 1G\n');
    await mkdir(join(dir, 'q'), { recursive: true });
    await writeHtpasswd(join(dir, 'q', '.htpasswd'), { alice: 'a' });
    const unmeasurable = run('--path', join(dir, 'q'), '--listen', '127.0.0.1:0', '--config', quotaCfg);
    assert.equal(unmeasurable.status, 2);
    assert.match(String(unmeasurable.stderr), /user "alice": maxSize needs root or repos \(or --private-repos\)/);
    assert.equal(run('--no-auth', '--listen', 'nonsense').status, 2);
    assert.equal(run('--no-auth', '--max-size', 'lots').status, 2);
    const level = run('--no-auth', '--path', join(dir, 'lvl'), '--listen', '127.0.0.1:0', '--log-level', 'verbose');
    assert.equal(level.status, 2);
    assert.match(String(level.stderr), /^rwm: --log-level: unknown level "verbose".*\n$/);
    assert.doesNotMatch(String(level.stderr), /\n\s+at /, 'no stack trace');
  });

  test('rest-server\'s flags: --debug, --tls-min-ver, --group-accessible-repos, --cpu-profile work; --no-verify-upload is refused and says why', async () => {
    const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, 'serve', '--no-auth', '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 20_000 });
    const noVerify = run('--path', join(dir, 'nv'), '--no-verify-upload');
    assert.equal(noVerify.status, 2);
    assert.match(String(noVerify.stderr), /--no-verify-upload is refused: rwm checks every upload against its name \(SHA-256\)/);
    assert.equal(run('--tls-min-ver', '1.1').status, 2);
    assert.equal(run('--group-accessible-repos', '--s3', 'bucket').status, 2);

    // --debug logs each request to stderr
    const dbg = await startServer(join(dir, 'debug'), ['--no-auth', '--debug']);
    assert.equal((await http('POST', `${dbg.url}r/?create=true`)).status, 200);
    await dbg.stop();
    assert.ok(dbg.logs.some((l) => l.level === 20 && l.msg === 'request' && l.path === '/r/?create=true' && l.status === 200), JSON.stringify(dbg.logs).slice(0, 600));

    // --group-accessible-repos: the group may read files and enter directories; without it, nobody else
    for (const [flag, fileMode, groupDirBits] of [[[], 0o400, 0], [['--group-accessible-repos'], 0o440, 0o050]] as const) {
      const data = join(dir, `group${fileMode.toString(8)}`);
      const server = await startServer(data, ['--no-auth', ...flag]);
      assert.equal((await http('POST', `${server.url}r/?create=true`)).status, 200);
      const b = randomBytes(100);
      assert.equal((await http('POST', `${server.url}r/data/${sha256hex(b)}`, b)).status, 200);
      await server.stop();
      assert.equal((await stat(join(data, 'r', 'data', sha256hex(b).slice(0, 2), sha256hex(b)))).mode & 0o777, fileMode);
      assert.equal((await stat(join(data, 'r', 'data', sha256hex(b).slice(0, 2)))).mode & 0o050, groupDirBits);
      assert.equal((await stat(join(data, 'r', 'keys'))).mode & 0o050, groupDirBits);
    }

    // --tls-min-ver 1.3: a TLS 1.2 client is refused, a 1.3 one served
    const data = join(dir, 'tls13');
    await mkdir(data, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', join(data, 'private_key'), '-out', join(data, 'public_key')], { stdio: 'ignore' });
    const profile = join(dir, 'serve.cpuprofile');
    const tls13 = await startServer(data, ['--no-auth', '--tls', '--tls-min-ver', '1.3', '--cpu-profile', profile]);
    const handshake = (maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<string> =>
      new Promise((resolve) => {
        const sock = tlsConnect({ host: '127.0.0.1', port: tls13.port, rejectUnauthorized: false, maxVersion }, () => {
          resolve(String(sock.getProtocol()));
          sock.destroy();
        });
        sock.on('error', (err: Error) => resolve(`error: ${err.message}`));
      });
    assert.equal(await handshake('TLSv1.3'), 'TLSv1.3');
    assert.match(await handshake('TLSv1.2'), /^error: .*(protocol version|alert)/i);
    await tls13.stop();
    // --cpu-profile: a V8 profile, written on exit
    const written = JSON.parse(await readFile(profile, 'utf8')) as { nodes?: unknown[]; startTime?: number };
    assert.ok(Array.isArray(written.nodes) && written.nodes.length > 0 && typeof written.startTime === 'number');
  });

  test('a user whose root lies inside another user\'s namespace is warned about at start-up', async () => {
    const data = join(dir, 'nested-users');
    await mkdir(data, { recursive: true });
    await writeHtpasswd(join(data, '.htpasswd'), { alice: 'a', bob: 'b' });
    const cfg = join(dir, 'nested.yaml');
    await writeFile(cfg, 'serve:\n  users:\n    alice:\n      root: bob/alice\n    bob: {}\n');
    const server = await startServer(data, ['--private-repos', '--config', cfg]);
    await server.stop();
    assert.ok(server.logs.some((l) => l.level === 40 && /user "alice": \/bob\/alice in the store lies inside user "bob"'s \/bob/.test(String(l.msg))), JSON.stringify(server.logs).slice(0, 600));
  });

  test('SIGINT exits 130 (interrupted), SIGTERM 0', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 0]] as const) {
      const server = await startServer(join(dir, 'signals'), ['--no-auth']);
      await server.stop(signal);
      assert.equal(server.proc.exitCode, code, signal);
    }
  });
});
