// `rwm storage ...` as the tests run it: the built CLI, a clean environment, the test server's
// endpoint on the command line and one user's keys (or none) in the environment.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRwm } from './rwm.js';
import type { S3TestEnv } from './s3.js';

export interface StorageRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StorageRunOptions {
  /** Whose keys go into AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default admin); 'none' for none. */
  readonly as?: 'admin' | 'backup' | 'none';
  /** Add --endpoint and --region of the test server (default true). */
  readonly endpoint?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs `rwm storage ARGS...`; never throws on a non-zero exit (the spawning is runRwm's, rwm.ts). */
export function runStorage(env: S3TestEnv, args: readonly string[], o: StorageRunOptions = {}): Promise<StorageRun> {
  const [sub, ...rest] = args;
  return sub === undefined ? runRwm(env, ['storage'], [], { ...o, endpoint: false }) : runRwm(env, ['storage', sub], rest, o);
}

/** Parses `--json` output, with the whole run in the message when it is not JSON. */
export function jsonOf<T>(r: StorageRun): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.status}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** A config file with an "admin" and a "backup" profile for the test server (mode 600). */
export async function writeProfilesConfig(dir: string, env: S3TestEnv, extra = ''): Promise<string> {
  const file = join(dir, 'rwm.yaml');
  const profile = (who: 'admin' | 'backup'): string[] => [
    `    ${who}:`,
    `      endpoint: ${env.endpoint}`,
    `      region: ${env.region}`,
    '      pathStyle: true',
    `      accessKeyId: ${env[who].accessKeyId}`,
    `      secretAccessKey: ${env[who].secretAccessKey}`,
  ];
  await writeFile(file, ['s3:', '  defaultProfile: admin', '  profiles:', ...profile('admin'), ...profile('backup'), extra].join('\n') + '\n');
  await chmod(file, 0o600);
  return file;
}

export interface CheckJson {
  readonly bucket: string;
  readonly ok: boolean;
  readonly findings: { code: string; message: string; action?: string }[];
  readonly notes: string[];
  readonly probes: { action: string; outcome: string; detail: string }[];
}
