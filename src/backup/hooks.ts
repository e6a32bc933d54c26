// Hooks: argv arrays run without a shell, with a timeout, in an environment built from nothing but
// PATH/HOME and the RWM_* contract below. Their output goes to the run's log, never to restic.
import { spawn } from 'node:child_process';
import type { HookConfig } from './config.js';

/** What a hook learns from its environment (documented in docs/backup.md). */
export interface HookContext {
  readonly event: 'before' | 'after' | 'failure' | 'always';
  readonly profile: string;
  readonly repository: string;
  readonly result?: 'success' | 'failure';
  readonly snapshotId?: string;
  readonly error?: string;
}

export function hookEnv(c: HookContext, inherited: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = { PATH: inherited.PATH ?? '/usr/local/bin:/usr/bin:/bin', RWM_HOOK: c.event, RWM_PROFILE: c.profile, RWM_REPOSITORY: c.repository };
  if (inherited.HOME !== undefined) env.HOME = inherited.HOME;
  if (c.result !== undefined) env.RWM_RESULT = c.result;
  if (c.snapshotId !== undefined) env.RWM_SNAPSHOT_ID = c.snapshotId;
  if (c.error !== undefined) env.RWM_ERROR = c.error.slice(0, 4000);
  return env;
}

export class HookError extends Error {
  override readonly name = 'HookError';
}

// After the hook exits, how long its output may still arrive (a background child can hold the pipe).
const DRAIN_MS = 2000;

/**
 * Runs one hook; rejects with HookError on a non-zero exit, a signal, a timeout or a missing program.
 * The hook gets its own process group, so a timeout ends what it started too (`sh -c 'sleep 99'`).
 */
export function runHook(hook: HookConfig, c: HookContext, inherited: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const [cmd, ...args] = hook.command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: hookEnv(c, inherited), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    };
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, hook.timeoutSeconds * 1000);
    const lines = (b: Buffer): void => {
      for (const l of b.toString('utf8').split('\n')) if (l !== '') log(`${c.event} hook ${cmd}: ${l}`);
    };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    let settled = false;
    const finish = (): void => {
      if (settled || exited === undefined) return;
      settled = true;
      clearTimeout(timer);
      const { code, signal } = exited;
      if (timedOut) reject(new HookError(`${c.event} hook ${cmd} timed out after ${hook.timeoutSeconds} s`));
      else if (code !== 0) reject(new HookError(`${c.event} hook ${cmd} failed (${signal !== null ? `signal ${signal}` : `exit ${code}`})`));
      else resolve();
    };
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new HookError(`${c.event} hook ${cmd} could not start: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      // Whatever it left running in the background must not hold the run up.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, DRAIN_MS).unref();
    });
    child.once('close', () => finish());
  });
}

/** Runs hooks in order, stopping at the first failure. */
export async function runHooks(hooks: readonly HookConfig[], c: HookContext, inherited: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  for (const h of hooks) await runHook(h, c, inherited, log);
}
