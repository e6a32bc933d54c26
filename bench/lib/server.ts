// The REST servers the serve benchmarks compare: `rwm serve` and `rclone serve restic --append-only`,
// started on a free loopback port, their stderr read for the URL they listen on and for warnings.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup.js';
import { waitForExit } from './proc.js';
import { ROOT } from './report.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

export type ServerKind = 'rwm' | 'rclone';

export interface Server {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly url: string; // ends with "/"
  /** Warnings and errors the server wrote to stderr since it started listening (the first 50). */
  readonly problems: readonly string[];
  /** How many such lines there were in all. */
  problemCount(): number;
  /** The last 40 lines of its stderr. */
  readonly tail: readonly string[];
  stop(): Promise<void>;
}

/** What every serve benchmark's context holds. */
export interface ServeContext {
  /** The scratch directory. */
  readonly work: string;
  readonly clkTck: number;
  /** main.js in this run's copy of dist/. */
  readonly cli: string;
  /** An empty rclone config file (emptyRcloneConfig). */
  readonly rcloneConfig: string;
}

export interface ServerCommand {
  readonly cmd: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** The server's URL if this stderr line says it is listening. */
  readonly readyUrl: (line: string) => string | undefined;
  /** Whether a stderr line is a warning or an error. */
  readonly isProblem: (line: string) => boolean;
}

function rwmReadyUrl(line: string): string | undefined {
  try {
    const obj = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return obj.msg === 'rwm serve listening' && typeof obj.url === 'string' ? obj.url : undefined;
  } catch {
    return undefined;
  }
}

/** `rwm serve STORE... --listen 127.0.0.1:0 --no-auth`, run by node itself (not npx or a shell), so the PID measured is the server's. */
export function rwmServe(cli: string, nodeArgs: readonly string[], store: readonly string[], env: NodeJS.ProcessEnv): ServerCommand {
  return {
    cmd: process.execPath,
    args: [...nodeArgs, cli, 'serve', ...store, '--listen', '127.0.0.1:0', '--no-auth'],
    env,
    readyUrl: rwmReadyUrl,
    // pino levels: 40 warn, 50 error, 60 fatal
    isProblem: (line) => (/"level":\s*(4|5|6)0\b/.test(line) || !line.startsWith('{')) && !line.includes('(--no-auth)'),
  };
}

/** `rclone serve restic --append-only TARGET` with an empty --config file (remotes come from `env`). */
export function rcloneServe(rcloneConfig: string, target: string, env: NodeJS.ProcessEnv): ServerCommand {
  return {
    cmd: 'rclone',
    args: ['serve', 'restic', '--append-only', '--config', rcloneConfig, '--addr', '127.0.0.1:0', target],
    env,
    readyUrl: (line) => /Serving restic REST API on (http:\/\/\S+)/.exec(line)?.[1],
    isProblem: (line) => /\b(ERROR|WARNING|NOTICE|CRITICAL)\b/.test(line) && !line.includes('Serving restic REST API'),
  };
}

/** An empty rclone config file in `dir`, so rclone reads no user config. */
export async function emptyRcloneConfig(dir: string): Promise<string> {
  const file = join(dir, 'rclone.conf');
  await writeFile(file, '');
  return file;
}

/** Starts the server and waits until it listens; it is stopped at the latest when the run ends. */
export async function startServer(kind: ServerKind, command: ServerCommand): Promise<Server> {
  const { cmd, args, env, readyUrl, isProblem } = command;
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  const problems: string[] = [];
  let problemCount = 0;
  let listening = false;
  const stop = onCleanup(`stop ${kind}`, async () => {
    proc.kill('SIGTERM');
    if (!(await waitForExit(proc, STOP_TIMEOUT_MS))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, STOP_TIMEOUT_MS);
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`)), START_TIMEOUT_MS);
    // Keep reading stderr for the server's whole life, so a full pipe never blocks it.
    createInterface({ input: proc.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (listening && isProblem(line)) {
        problemCount++;
        if (problems.length < 50) problems.push(line);
      }
      const u = readyUrl(line);
      if (u !== undefined && !listening) {
        listening = true;
        clearTimeout(timer);
        resolve(u.endsWith('/') ? u : `${u}/`);
      }
    });
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`${kind} exited (${code ?? signal}) before listening:\n${tail.join('\n')}`)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  if (proc.pid === undefined) throw new Error(`${kind}: no pid`);
  return { kind, pid: proc.pid, url, problems, problemCount: () => problemCount, tail, stop };
}
