// Runs the test files with node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs unit|integration|all [extra node --test args]
// For integration tests it starts the S3 test server (Ceph RGW, scripts/s3-test-server.sh) on free
// loopback ports and stops it afterwards, unless RWM_S3_ENDPOINT says one is already running.
import { readdirSync, statSync, readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the S3 test server; returns its environment and a stop function. */
async function startS3() {
  const dir = mkdtempSync(join(tmpdir(), 'rwm-s3-tests-'));
  const env = { ...process.env, RWM_S3_PORT: String(await freePort()), RWM_S3_MON_PORT: String(await freePort()) };
  const r = spawnSync('scripts/s3-test-server.sh', ['start', dir], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error('could not start the S3 test server (scripts/s3-test-server.sh start); install its packages with: scripts/install-test-deps.sh');
    process.exit(1);
  }
  const vars = {};
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  const stop = () => spawnSync('scripts/s3-test-server.sh', ['stop', dir], { env: { ...process.env, RWM_S3_STOP_GRACE: '2' }, stdio: ['ignore', 'ignore', 'inherit'] });
  return { vars, stop };
}

const which = process.argv[2] ?? 'all';
const files = [];
if (which === 'unit' || which === 'all') files.push(...find('src'));
if (which === 'integration' || which === 'all') files.push(...find('test'));
if (files.length === 0) {
  console.error(`no test files for "${which}"`);
  process.exit(1);
}

let s3;
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
if (which !== 'unit' && !process.env.RWM_S3_ENDPOINT) {
  s3 = await startS3();
  Object.assign(env, s3.vars);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      s3.stop();
      process.exit(130);
    });
  }
}
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...process.argv.slice(3), ...files.sort()];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
s3?.stop();
process.exit(r.status ?? 1);
