// One lock per profile: a file created with O_EXCL holding the owner's pid. A lock whose pid is gone is
// stale and taken over; a live one is reported at once, never waited on.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export class LockedError extends Error {
  override readonly name = 'LockedError';
  constructor(readonly file: string, readonly pid: number) {
    super(`another run (pid ${pid}) holds the lock ${file}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws LockedError; resolves with its release. */
export async function acquireLock(file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(file, 'wx', 0o600);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new LockedError(file, pid);
      await rm(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new LockedError(file, 0);
}
