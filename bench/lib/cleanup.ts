// Cleanup for the benchmarks that also runs on SIGINT/SIGTERM: servers, the RGW, scratch directories;
// and the top level every benchmark runs under.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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


/**
 * A benchmark's top level: runs `main`, reports a failure (not after an interruption: the signal
 * handler is cleaning up and says so), sets exit code 1, and runs every cleanup.
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (!wasInterrupted()) process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    if (!wasInterrupted()) await runCleanups();
  }
}

/** A new scratch directory under BENCH_TMP (or the system's temp directory), removed at the end unless `keep`. */
export async function scratchDir(tag: string, keep = false): Promise<string> {
  const work = await mkdtemp(join(process.env.BENCH_TMP ?? tmpdir(), `${tag}-`));
  onCleanup('remove the scratch directory', async () => {
    if (keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  });
  return work;
}
