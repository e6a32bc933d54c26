// Starts `rwm serve` (the built CLI) as a child process on a free loopback port for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface RunningServer {
  readonly url: string; // e.g. http://127.0.0.1:41234/
  readonly port: number;
  readonly path: string;
  readonly proc: ChildProcess;
  /** Every JSON log line the server wrote to stderr so far. */
  readonly logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function tempDir(prefix = 'rwm-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Starts the server with `--path path --listen 127.0.0.1:0` plus extra args; resolves once it listens.
 * With path '' no --path is passed (for S3 storage: give `--s3 ...` in extraArgs and the keys in env).
 */
export async function startServer(path: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const pathArgs = path === '' ? [] : ['--path', path];
  const proc = spawn(process.execPath, [CLI, 'serve', ...pathArgs, '--listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  const logs: Record<string, unknown>[] = [];
  const stderrLines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stderr });
    rl.on('line', (line) => {
      stderrLines.push(line);
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        logs.push(obj);
        if (obj.msg === 'rwm serve listening' && typeof obj.url === 'string') resolve(obj.url);
      } catch {
        // not JSON: a usage error message
      }
    });
    proc.once('exit', (code) => reject(new Error(`rwm serve exited with ${code}: ${stderrLines.join('\n')}`)));
  });
  const port = Number(new URL(url).port);
  return {
    url, port, path, proc, logs,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(signal);
      await exited;
    },
  };
}

/** Audit events (refusals) the server logged. */
export function auditEvents(server: RunningServer): Record<string, unknown>[] {
  return server.logs.filter((l) => l.audit === true);
}
