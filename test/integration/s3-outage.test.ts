// The S3 server stopped in the middle of a backup: restic sees 5xx answers (never a 404 that would
// make it think files are gone), rwm keeps running, nothing half-written becomes visible in the
// bucket, and once S3 is back the backup completes and restores byte for byte. Runs its own Ceph
// cluster (scripts/s3-test-server.sh) so stopping radosgw never disturbs the shared one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { http, makeTree } from '../helpers/data.js';
import { restic, resticOk } from '../helpers/restic.js';
import { createBucket, bucketName, listVersions, testClient } from '../helpers/s3.js';
import { startS3Cluster, type S3Cluster } from '../helpers/s3-cluster.js';
import { removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';
import { treeDigest } from '../helpers/tree.js';

const V2 = { Accept: 'application/vnd.x.restic.rest.v2' };
/**
 * How long restic may keep retrying against the stopped S3 before it is killed. restic 0.14 retries
 * each upload 10 times (about a minute) and then, in our runs, hung without exiting.
 */
const RETRY_WINDOW_MS = 20_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunningRestic {
  readonly output: () => string;
  /** When restic first reported a failing request (ms since the epoch), if it did. */
  readonly firstErrorAt: () => number | undefined;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/** restic with its output readable while it runs (the restic helper only gives it at the end). */
function startRestic(args: string[], env: NodeJS.ProcessEnv): RunningRestic {
  const proc = spawn('restic', args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, RESTIC_PASSWORD: 'test-password', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let firstError: number | undefined;
  const onData = (d: Buffer): void => {
    out += d.toString();
    if (firstError === undefined && /returned error|server response unexpected/.test(out)) firstError = Date.now();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { output: () => out, firstErrorAt: () => firstError, done, kill: () => proc.kill('SIGKILL') };
}

async function keysUnder(c: S3Client, bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) out.push({ key: o.Key ?? '', size: o.Size ?? 0 });
    token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

async function sha256Of(c: S3Client, bucket: string, key: string, versionId?: string): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId !== undefined ? { VersionId: versionId } : {}) }));
  return createHash('sha256').update(await r.Body!.transformToByteArray()).digest('hex');
}

describe('the S3 server stopped in the middle of a backup', { timeout: 15 * 60_000 }, () => {
  const bucket = bucketName('rwm-outage');
  const prefix = 'pfx/repo/';
  let cluster: S3Cluster | undefined;
  let server: RunningServer | undefined;
  let dir: string;
  let src: string;
  let admin: S3Client;

  before(async () => {
    dir = await tempDir('rwm-outage-');
    src = join(dir, 'src');
    const [c] = await Promise.all([startS3Cluster(), makeTree(src, 101, 18 << 20)]);
    cluster = c;
    admin = testClient(cluster.env);
    await createBucket(cluster.env, bucket, { versioned: true, grantBackup: true });
  });
  after(async () => {
    admin?.destroy();
    await server?.stop();
    await cluster?.stop();
    await removeDir(dir);
  });

  test('restic gets 5xx, never 404; nothing half-written is visible; the next backup completes', async () => {
    const env = cluster!.env;
    server = await startServer('', ['--s3', `${bucket}/pfx`, '--s3-endpoint', env.endpoint, '--no-auth'], {
      AWS_ACCESS_KEY_ID: env.backup.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.backup.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const url = `rest:${server.url}repo/`;
    const renv = { RESTIC_CACHE_DIR: join(dir, 'cache') }; // the killed restic's cache stays private
    await resticOk(['-r', url, 'init'], renv);

    // Stop radosgw as soon as the first pack is in the bucket.
    const t0 = Date.now();
    const first = startRestic(['-r', url, 'backup', src], renv);
    let exited = false;
    void first.done.then(() => (exited = true));
    while (!exited && (await keysUnder(admin, bucket, `${prefix}data/`)).length === 0) await sleep(50);
    assert.ok(!exited, `the backup finished before S3 could be stopped:\n${first.output()}`);
    const logsBefore = server.logs.length;
    await cluster!.rgwStop();
    const stoppedAt = Date.now();
    console.log(`# radosgw stopped ${stoppedAt - t0} ms into the backup`);

    // While S3 is down rwm answers 503 "storage unavailable" (restic retries), never 404 (restic would
    // think files are gone) nor 2xx; lists too.
    const probes: [string, string, Buffer?][] = [
      ['GET', 'repo/snapshots/'],
      ['GET', 'repo/data/'],
      ['GET', 'repo/keys/'],
      ['HEAD', 'repo/config'],
      ['GET', 'repo/config'],
      ['HEAD', `repo/data/${'0'.repeat(64)}`],
      ['GET', `repo/data/${'0'.repeat(64)}`],
      ['POST', `repo/data/${createHash('sha256').update('x').digest('hex')}`, Buffer.from('x')],
    ];
    const answers: string[] = [];
    for (const [method, path, body] of probes) {
      const r = await http(method, `${server.url}${path}`, body, V2);
      answers.push(`${method} /${path} -> ${r.status}`);
      assert.equal(r.status, 503, `${method} /${path} while S3 is down: ${r.status} ${r.body.toString()}`);
    }
    console.log(`# rwm while S3 is down: ${answers.join(', ')}`);

    // restic retries; it must report 5xx answers and not succeed. Give it RETRY_WINDOW_MS of errors.
    while (!exited && (first.firstErrorAt() === undefined || Date.now() - first.firstErrorAt()! < RETRY_WINDOW_MS)) {
      if (Date.now() - stoppedAt > 4 * RETRY_WINDOW_MS) break;
      await sleep(200);
    }
    if (!exited) first.kill();
    const end = await first.done;
    const out = first.output();
    console.log(`# first backup: exit ${end.code ?? end.signal} after ${Date.now() - t0} ms; restic printed:\n${out.replace(/^/gm, '#   ')}`);
    assert.notEqual(end.code, 0, 'the backup did not succeed');
    assert.match(out, /\b503 Service Unavailable\b/, 'restic saw 503 answers');
    assert.doesNotMatch(out, /404 Not Found|\(404\)/, 'restic never saw a 404');
    assert.equal(server.proc.exitCode, null, 'rwm is still running');
    assert.equal(server.proc.signalCode, null, 'rwm is still running');

    await cluster!.rgwStart();
    // rwm needs no restart: it answers again as soon as S3 does.
    const keys = await http('GET', `${server.url}repo/keys/`, undefined, V2);
    assert.equal(keys.status, 200, keys.body.toString());
    assert.equal((JSON.parse(keys.body.toString()) as unknown[]).length, 1);

    // Nothing half-written: every version of every object under the repository's prefix (but
    // config) hashes to its name, and no multipart upload was left behind.
    const all = await listVersions(env, bucket);
    assert.deepEqual(all.filter((v) => !v.key.startsWith(prefix)).map((v) => v.key), [], 'nothing outside the repository prefix');
    const versions = all.filter((v) => !v.deleteMarker);
    assert.ok(versions.length > 0);
    for (const v of versions) {
      const name = v.key.slice(v.key.lastIndexOf('/') + 1);
      if (v.key === `${prefix}config`) continue;
      assert.equal(await sha256Of(admin, bucket, v.key, v.versionId), name, `${v.key} (version ${v.versionId}, ${v.size} bytes) is partial or corrupt`);
    }
    const mpu = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    const open = (mpu.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId} started ${u.Initiated?.toISOString()}`);
    assert.deepEqual(open, [], 'no incomplete multipart uploads are left');
    const logged = new Map<string, number>();
    for (const l of server.logs.slice(logsBefore)) {
      if (typeof l.level !== 'number' || l.level < 50) continue;
      const err = l.err as { message?: unknown } | undefined;
      const line = `${String(l.msg)} ${String(l.method)} ${String(l.path).replace(/[0-9a-f]{64}/, '<id>')}: ${String(err?.message).replace(/[0-9a-f]{64}/, '<id>')}`;
      logged.set(line, (logged.get(line) ?? 0) + 1);
    }
    console.log(`# rwm logged during the outage:\n${[...logged].map(([k, n]) => `#   ${n} x ${k}`).join('\n')}`);
    console.log(`# after the outage: ${versions.length} object versions under ${prefix}, all verified; no multipart uploads`);

    // The next backup completes, the repository checks out, and a restore is byte-identical.
    const t1 = Date.now();
    const second = await restic(['-r', url, 'backup', src], renv);
    assert.equal(second.code, 0, `second backup:\n${second.stderr}\n${second.stdout}`);
    console.log(`# second backup: ${Date.now() - t1} ms`);
    // restic 0.14 does not ignore the killed backup's stale lock when it wants an exclusive one.
    await resticOk(['-r', url, 'unlock'], renv);
    assert.match((await resticOk(['-r', url, 'check', '--read-data'], renv)).stdout, /no errors were found/);
    const target = join(dir, 'restore');
    await resticOk(['-r', url, 'restore', 'latest', '--target', target], renv);
    assert.deepEqual(await treeDigest(join(target, src)), await treeDigest(src));
    assert.equal(server.proc.exitCode, null, 'rwm is still running');
    console.log(`# whole test: ${Date.now() - t0} ms after the first backup started`);
  });
});
