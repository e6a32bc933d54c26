// Any `rwm COMMAND [SUBCOMMAND] ...` that talks to S3 (state, restore, ...) as the tests run it: the
// built CLI, a clean environment, the test server's endpoint on the command line and one user's
// keys (or none) in the environment. runStorage (storage.ts) is the same for `rwm storage`.
import { runCli } from './cli-run.js';
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
  return runCli([...command, ...conn, ...args], { ...keys, ...o.env }, o.timeoutMs ?? 120_000, o.input ?? '');
}

/** The whole run, for assertion messages. */
export function describeRun(r: RwmRun): string {
  return `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
