// One lock per profile: a file holding its owner's pid, process start time and boot id, created
// atomically (link of a complete temporary file). A lock whose owner is gone — crashed, killed with
// SIGKILL, or from before a reboot, even if its pid was reused since — is stale and taken over; a live
// one is reported at once, never waited on.
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class LockedError extends Error {
  override readonly name = 'LockedError';
  constructor(readonly file: string, readonly pid: number) {
    super(`another run (pid ${pid}) holds the lock ${file}`);
  }
}

interface Owner {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks from boot to the process's start. */
  readonly start?: string;
  readonly boot?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const bootId = (): string | undefined => readProc('/proc/sys/kernel/random/boot_id')?.trim();

/** The start time of a process, from /proc (the command name in (...) may hold spaces and parentheses). */
export function processStart(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function parseOwner(text: string): Owner | undefined {
  const [pid, start, boot] = text.trim().split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  const known = (x: string | undefined): x is string => x !== undefined && x !== '-';
  return { pid: n, ...(known(start) ? { start } : {}), ...(known(boot) ? { boot } : {}) };
}

function alive(o: Owner): boolean {
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid runs; is it still the process that took the lock?
  if (o.boot !== undefined && bootId() !== undefined && o.boot !== bootId()) return false;
  const start = processStart(o.pid);
  return o.start === undefined || start === undefined || start === o.start;
}

const ownText = (): string => `${process.pid} ${processStart(process.pid) ?? '-'} ${bootId() ?? '-'}\n`;

/** Takes the lock or throws LockedError; resolves with its release. */
export async function acquireLock(file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const mine = ownText();
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, file);
        return async () => {
          // only our own lock: never one a later run took over
          if ((await readFile(file, 'utf8').catch(() => '')) === mine) await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = await readFile(file, 'utf8').catch(() => undefined);
      if (seen === undefined) continue; // released meanwhile
      const owner = parseOwner(seen);
      if (owner !== undefined && alive(owner)) throw new LockedError(file, owner.pid);
      // Stale. Move it aside first, so that of two runs taking it over at once only one removes it.
      const aside = `${file}.${process.pid}.stale`;
      try {
        await rename(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readFile(aside, 'utf8').catch(() => '');
      if (moved !== seen) {
        // Another run had taken it over in between: put its lock back.
        await link(aside, file).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
        throw new LockedError(file, parseOwner(moved)?.pid ?? 0);
      }
      await unlink(aside);
    }
    throw new LockedError(file, 0);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
