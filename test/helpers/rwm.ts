// Any `rwm COMMAND [SUBCOMMAND] ...` that talks to S3 (state, restore, ...) as the tests run it: the
// built CLI, a clean environment, the test server's endpoint on the command line and one user's
// keys (or none) in the environment. runStorage (storage.ts) is the same for `rwm storage`.
import { spawn } from 'node:child_process';
import { CLI } from './server.js';
import type { S3TestEnv } from './s3.js';
import type { StorageRun, StorageRunOptions } from './storage.js';

export type RwmRun = StorageRun;
export type RwmRunOptions = StorageRunOptions;

/**
 * Runs `rwm ...command ...args` (command: e.g. ['state', 'save'] or ['restore']), with
 * `--endpoint`/`--region` of the test server after the command unless `endpoint` is false. Never
 * throws on a non-zero exit.
 */
export function runRwm(env: S3TestEnv, command: readonly string[], args: readonly string[], o: RwmRunOptions = {}): Promise<RwmRun> {
  const who = o.as ?? 'admin';
  const keys = who === 'none' ? {} : { AWS_ACCESS_KEY_ID: env[who].accessKeyId, AWS_SECRET_ACCESS_KEY: env[who].secretAccessKey };
  const conn = o.endpoint === false ? [] : ['--endpoint', env.endpoint, '--region', env.region];
  const argv = [CLI, ...command, ...conn, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...keys, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** The whole run, for assertion messages. */
export function describeRun(r: RwmRun): string {
  return `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
