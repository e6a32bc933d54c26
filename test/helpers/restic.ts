// Runs the real restic binary (Debian's) with a clean environment; secrets go in env, never argv.
import { spawn } from 'node:child_process';

export interface ResticResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function restic(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<ResticResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('restic', args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, RESTIC_PASSWORD: 'test-password', RESTIC_CACHE_DIR: process.env.RWM_TEST_RESTIC_CACHE ?? '/tmp/rwm-test-restic-cache', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export async function resticOk(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ResticResult> {
  const r = await restic(args, env);
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r;
}
