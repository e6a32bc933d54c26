// Repository passwords on the backup host: read from a file, or printed by a password command (argv,
// no shell, an environment of PATH and HOME only). restic takes a password only from a file here, so a
// command's output is handed over in a private directory in memory (/dev/shm when there is one) that
// the caller removes; it never reaches argv, a log or a status file.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

const MAX_OUTPUT = 64 * 1024;

/** A directory only this user can read, in RAM when the system has /dev/shm; remove it with cleanup(). */
export async function createPrivateDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  let base = tmpdir();
  try {
    accessSync('/dev/shm', constants.W_OK);
    base = '/dev/shm';
  } catch {
    // no shared memory file system: the temporary directory (PrivateTmp under systemd)
  }
  const dir = await mkdtemp(join(base, prefix)); // mode 0700
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Checks that a password file can be read and is not empty (restic's own error says less). */
export async function checkPasswordFile(file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SecretError(`cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') throw new SecretError(`the password file ${file} is empty`);
}

/** Runs a password command and resolves with what it printed (trimmed, as restic trims). */
export function runPasswordCommand(argv: readonly string[], inherited: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  const env: Record<string, string> = { PATH: inherited.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  if (inherited.HOME !== undefined) env.HOME = inherited.HOME;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failed: SecretError | undefined;
    const stop = (why: string): void => {
      failed ??= new SecretError(why);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    const timer = setTimeout(() => stop(`the password command ${cmd} timed out after ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_OUTPUT) stop(`the password command ${cmd} printed more than ${MAX_OUTPUT} bytes`);
      else out.push(b);
    });
    // Its error messages are kept (the last line, for the report); its output never is.
    child.stderr.on('data', (b: Buffer) => (stderr = `${stderr}${b.toString('utf8')}`.slice(-2000)));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new SecretError(`the password command ${cmd} could not start: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').at(-1) ?? '';
      if (failed !== undefined) return reject(failed);
      if (code !== 0) return reject(new SecretError(`the password command ${cmd} failed (${signal !== null ? `signal ${signal}` : `exit ${code}`})${last !== '' ? `: ${last}` : ''}`));
      const pw = Buffer.concat(out).toString('utf8').trim();
      if (pw === '') return reject(new SecretError(`the password command ${cmd} printed nothing`));
      resolve(pw);
    });
  });
}

/** A password command's output as a file restic can read, in `dir` (mode 600). */
export async function passwordCommandFile(argv: readonly string[], dir: string, name: string, inherited: NodeJS.ProcessEnv): Promise<string> {
  const file = join(dir, `${name}.password`);
  await writeFile(file, `${await runPasswordCommand(argv, inherited)}\n`, { mode: 0o600 });
  return file;
}
