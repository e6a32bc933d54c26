// Cleanup for the benchmarks that also runs on SIGINT/SIGTERM: servers, the RGW, scratch directories.
import { createLog } from './report.js';

const log = createLog('bench-cleanup');

const cleanups: { name: string; fn: () => Promise<void> }[] = [];

/** Registers `fn` to run at the end (last registered first); returns a function that runs it now, once. */
export function onCleanup(name: string, fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= fn());
  const entry = { name, fn: once };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
    await once();
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const { name, fn } = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      log(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

let interrupted = false;

/** True once SIGINT/SIGTERM started the cleanup. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/** On SIGINT/SIGTERM: run every cleanup, then exit 130/143. A second signal while cleaning up is ignored. */
export function cleanUpOnSignals(what: string): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping ${what}`);
      void runCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

