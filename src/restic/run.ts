// The only code in rwm that starts restic (STYLE.md, Round 2). No shell: an argv array and an
// environment built from nothing (env.ts). Cancelling sends SIGINT — restic then removes its lock —
// and SIGKILL after a grace period; exit status and stderr become a ResticError (errors.ts); --json
// output is validated with a schema (schema/).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { baseEnv, createResticEnv, inheritedEnv, MIN_REDACTED, redact, settingsSecrets, type InheritedEnv, type ResticRepo } from './env.js';
import { classifyFailure, INSTALL_HINT, ResticError } from './errors.js';
import { isOlder, parseResticVersion, type ResticVersion } from './schema/version.js';

export const DEFAULT_GRACE_MS = 10_000;
/** Lines of stderr kept for errors. */
export const STDERR_TAIL_LINES = 20;
// `snapshots --json` of a repository with 100k snapshots is ~60 MB; beyond this, collecting is a bug.
const MAX_STDOUT_CHARS = 256 * 1024 * 1024;
const PIPE_DRAIN_MS = 5_000;
const MAX_LINE_CHARS = 4096; // per stderr line kept in the tail
const MAX_STDOUT_LINE_CHARS = 16 * 1024 * 1024; // per line handed to onLine

export interface RunResticOptions<T = undefined> {
  /** Aborting sends SIGINT, then SIGKILL after graceMs; the run rejects with INTERRUPTED once restic is gone. */
  readonly signal?: AbortSignal;
  /** Stops restic the same way after this long and rejects with TIMEOUT. Default: no limit. */
  readonly timeoutMs?: number;
  /** From SIGINT to SIGKILL. Default 10 s. */
  readonly graceMs?: number;
  /** Adds --json and validates all of stdout, as one JSON document, with this schema (result.json). */
  readonly json?: z.ZodType<T>;
  /** Every line restic writes, as it arrives, secrets redacted. A throw stops restic and rejects the run with it. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Exit statuses that are not failures. Default [0]; `backup` also accepts 3 (some files unreadable). */
  readonly okExitCodes?: readonly number[];
  /** Keep stdout in result.stdout. Default true; turn off for long line streams read through onLine. */
  readonly collectStdout?: boolean;
  /** Default `restic`, looked up on PATH. */
  readonly binary?: string;
  /** PATH/HOME/TMPDIR for restic. Default: rwm's own. */
  readonly inherited?: InheritedEnv;
  readonly cwd?: string;
  /** Called once restic is running (its argv is in place), with its pid. */
  readonly onSpawn?: (pid: number) => void;
}

export interface ResticRun<T = undefined> {
  readonly exitCode: number;
  /** All of stdout, unless collectStdout was false. */
  readonly stdout: string;
  /** The last lines of stderr, secrets redacted (restic's warnings on a successful run). */
  readonly stderr: readonly string[];
  /** The validated --json document when `json` was given. */
  readonly json: T;
  readonly durationMs: number;
}

/**
 * Runs `restic ARGS` on a repository. ARGS MUST NOT contain secrets (they are world-readable in
 * /proc): the repository, password file and keys go through the environment. Rejects with a
 * ResticError (or what onLine threw); resolves only after restic has exited.
 */
export async function runRestic<T = undefined>(repo: ResticRepo, args: readonly string[], opts: RunResticOptions<T> = {}): Promise<ResticRun<T>> {
  const env = createResticEnv(repo, opts.inherited ?? inheritedEnv());
  const secrets = [...(await passwordFileSecret(env.RESTIC_PASSWORD_FILE ?? '')), ...settingsSecrets(repo)].sort((a, b) => b.length - a.length);
  return execute(opts.json === undefined ? args : ['--json', ...args], env, secrets, opts);
}

export interface ResticVersionOptions {
  readonly binary?: string;
  readonly inherited?: InheritedEnv;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Refuse anything older (TOO_OLD). Default 0.14.0, the oldest restic rwm is tested with. */
  readonly minimum?: string;
}

/** `restic version`, checked against the minimum: NOT_INSTALLED without restic, TOO_OLD below it. */
export async function resticVersion(opts: ResticVersionOptions = {}): Promise<ResticVersion> {
  const minimum = opts.minimum ?? '0.14.0';
  const min = parseResticVersion(`restic ${minimum}`);
  if (min === undefined) throw new ResticError('INVALID', `not a restic version: ${minimum}`);
  const run = await execute(['version'], baseEnv(opts.inherited ?? inheritedEnv()), [], {
    ...(opts.binary === undefined ? {} : { binary: opts.binary }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  const v = parseResticVersion(run.stdout);
  if (v === undefined) {
    throw new ResticError('BAD_OUTPUT', `${opts.binary ?? 'restic'} does not look like restic ("${run.stdout.trim().slice(0, 100)}"): ${INSTALL_HINT}`, { command: 'version' });
  }
  if (isOlder(v, min)) {
    const need = opts.minimum === undefined ? INSTALL_HINT : `install restic ${minimum} or newer (Debian: apt-get install restic)`;
    throw new ResticError('TOO_OLD', `restic ${v.version} is too old: ${need}`, { command: 'version' });
  }
  return v;
}

// restic trims surrounding whitespace from the password file; redact what it would use.
async function passwordFileSecret(path: string): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    const pw = text.length > 64 * 1024 ? '' : text.trim();
    return pw.length >= MIN_REDACTED ? [pw] : [];
  } catch {
    return []; // restic will say what is wrong with the file
  }
}

function commandOf(args: readonly string[]): string {
  return args.find((a) => !a.startsWith('-')) ?? 'restic';
}

function execute<T>(args: readonly string[], env: Record<string, string>, secrets: readonly string[], opts: RunResticOptions<T>): Promise<ResticRun<T>> {
  const command = commandOf(args);
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const okCodes = opts.okExitCodes ?? [0];
  const collect = opts.collectStdout ?? true;
  const started = Date.now();
  if (opts.signal?.aborted === true) {
    return Promise.reject(new ResticError('INTERRUPTED', `restic ${command} was cancelled before it started`, { command, cause: opts.signal.reason }));
  }

  return new Promise<ResticRun<T>>((resolvePromise, reject) => {
    const child = spawn(opts.binary ?? 'restic', [...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });

    let stdout = '';
    let stdoutTooLong = false;
    const tail: string[] = [];
    let stopping: 'abort' | 'timeout' | 'callback' | undefined;
    let callbackError: unknown;
    let spawnError: NodeJS.ErrnoException | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = (why: 'abort' | 'timeout' | 'callback'): void => {
      if (stopping !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      stopping = why;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    };
    const onAbort = (): void => stop('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutTimer = opts.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), opts.timeoutMs);

    const emit = (line: string, stream: 'stdout' | 'stderr'): void => {
      if (opts.onLine === undefined || callbackError !== undefined) return;
      try {
        opts.onLine(redact(line, secrets), stream);
      } catch (err) {
        callbackError = err;
        stop('callback');
      }
    };
    const onStderrLine = (raw: string): void => {
      const line = redact(stripAnsi(raw), secrets);
      tail.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      emit(raw, 'stderr');
    };
    const onStdoutText = (chunk: string): void => {
      if (!collect || stdoutTooLong) return;
      if (stdout.length + chunk.length > MAX_STDOUT_CHARS) {
        stdoutTooLong = true;
        stdout = '';
        return;
      }
      stdout += chunk;
    };
    const splitStdout = opts.onLine === undefined ? undefined : lineSplitter((l) => emit(l, 'stdout'), MAX_STDOUT_LINE_CHARS);
    const splitStderr = lineSplitter(onStderrLine, MAX_STDOUT_LINE_CHARS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      onStdoutText(text);
      splitStdout?.pushText(text);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => splitStderr.pushText(text));
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError ??= err;
    });
    if (child.pid !== undefined && opts.onSpawn !== undefined) {
      try {
        opts.onSpawn(child.pid);
      } catch (err) {
        callbackError = err;
        stop('callback');
      }
    }

    // A grandchild (ssh for sftp:, rclone) may hold the pipes open after restic is gone; don't wait for it forever.
    child.on('exit', () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_DRAIN_MS).unref();
    });

    // 'close' comes after 'exit' and after both pipes ended, and also after a failed spawn's 'error'.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      splitStdout?.end();
      splitStderr.end();
      clearTimeout(killTimer);
      clearTimeout(timeoutTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const details = { command, exitCode: code, signal, stderr: [...tail] };

      if (spawnError !== undefined) {
        if (spawnError.code === 'ENOENT') {
          const what = opts.cwd === undefined ? `${opts.binary ?? 'restic'} was not found` : `${opts.binary ?? 'restic'} or the directory ${opts.cwd} was not found`;
          reject(new ResticError('NOT_INSTALLED', `${what}: ${INSTALL_HINT}`, { ...details, cause: spawnError }));
        } else {
          reject(new ResticError('FAILED', `could not start ${opts.binary ?? 'restic'}: ${spawnError.message}`, { ...details, cause: spawnError }));
        }
        return;
      }
      if (stopping === 'callback') {
        reject(callbackError instanceof Error ? callbackError : new ResticError('FAILED', `restic ${command}: a line handler failed`, { ...details, cause: callbackError }));
        return;
      }
      if (stopping === 'abort') {
        reject(new ResticError('INTERRUPTED', `restic ${command} was cancelled`, { ...details, cause: opts.signal?.reason }));
        return;
      }
      if (stopping === 'timeout') {
        reject(new ResticError('TIMEOUT', `restic ${command} took longer than ${formatMs(opts.timeoutMs ?? 0)} and was stopped`, details));
        return;
      }
      if (code === null || !okCodes.includes(code)) {
        reject(classifyFailure(details));
        return;
      }
      let json: T = undefined as T;
      if (opts.json !== undefined) {
        if (stdoutTooLong) {
          reject(new ResticError('BAD_OUTPUT', `restic ${command} printed more than ${MAX_STDOUT_CHARS} characters of JSON`, details));
          return;
        }
        const parsed = parseJson(stdout, opts.json);
        if (!parsed.ok) {
          reject(new ResticError('BAD_OUTPUT', `restic ${command} --json printed output rwm does not understand: ${parsed.why}`, { ...details, cause: parsed.cause }));
          return;
        }
        json = parsed.value;
      }
      resolvePromise({ exitCode: code, stdout, stderr: [...tail], json, durationMs: Date.now() - started });
    });
  });
}

function parseJson<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; why: string; cause: unknown } {
  let value: unknown;
  try {
    value = text.trim() === '' ? undefined : JSON.parse(text);
  } catch (err) {
    return { ok: false, why: 'not JSON', cause: err };
  }
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.map(String).join('.')}`;
  return { ok: false, why: `${issue?.message ?? 'invalid'}${where}`, cause: r.error };
}

// Splits decoded text into lines, clipping lines longer than maxLine;
// only new text is scanned, so one huge JSON line costs linear time.
function lineSplitter(onLine: (line: string) => void, maxLine: number): { pushText(text: string): void; end(): void } {
  let pending = '';
  let clipped = false;
  const add = (piece: string): void => {
    if (clipped) return;
    if (pending.length + piece.length > maxLine) {
      pending += piece.slice(0, maxLine - pending.length);
      clipped = true;
    } else pending += piece;
  };
  const flush = (): void => {
    onLine(pending.replace(/\r$/, '') + (clipped ? '…' : ''));
    pending = '';
    clipped = false;
  };
  const feed = (text: string): void => {
    let from = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', from)) >= 0) {
      add(text.slice(from, nl));
      flush();
      from = nl + 1;
    }
    if (from < text.length) add(text.slice(from));
  };
  return {
    pushText: feed,
    end: () => {
      if (pending !== '' || clipped) flush();
    },
  };
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}
