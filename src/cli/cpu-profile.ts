// --cpu-profile (rest-server's flag): a V8 CPU profile of the whole run, written on exit as a
// .cpuprofile file (open it in Chrome DevTools or speedscope). rest-server writes Go's pprof format.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { UserError } from './exit.js';

export interface CpuProfile {
  stop(): Promise<void>;
}

export async function startCpuProfile(file: string): Promise<CpuProfile> {
  // Fail at start, not after hours of serving, when the file cannot be written.
  try {
    await writeFile(file, '', { flag: 'w' });
  } catch (err) {
    throw new UserError(`--cpu-profile: cannot write ${file}: ${(err as Error).message}`, undefined, { cause: err });
  }
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(file, JSON.stringify(profile));
      } finally {
        session.disconnect();
      }
    },
  };
}
