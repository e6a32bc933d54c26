// `rwm serve --s3` as the trusted writer of states: after a backup stored its snapshot file, save a
// state of that repository. Debounced per repository (a burst of snapshot uploads gives one state),
// and flushed when the server stops, so a stdio session that ends right after its backup still
// leaves its state behind.
import type { Logger } from 'pino';
import type { VersionedBuckets } from '../s3/bucket.js';
import type { StateHeader } from './format.js';
import { saveState } from './save.js';

export interface StateSaverOptions {
  readonly buckets: VersionedBuckets;
  readonly bucket: string;
  readonly writer: StateHeader['writer'];
  readonly logger: Logger;
  /** Quiet time after the last snapshot upload before the state is saved. */
  readonly delayMs: number;
  /** Save at the latest this long after the first snapshot of a burst. */
  readonly maxWaitMs: number;
}

export interface StateSaver {
  /** A snapshot file was stored in the repository at key prefix `root` ('' or ending in '/'). */
  snapshotStored(root: string): void;
  /** Saves what is pending now and waits for every save in progress. */
  flush(): Promise<void>;
}

export function createStateSaver(o: StateSaverOptions): StateSaver {
  const pending = new Map<string, { timer: NodeJS.Timeout; first: number }>();
  const running = new Set<Promise<void>>();

  const save = (root: string): void => {
    const p = pending.get(root);
    if (p !== undefined) clearTimeout(p.timer);
    pending.delete(root);
    const prefix = root.replace(/\/$/, '');
    const job: Promise<void> = saveState({ buckets: o.buckets, bucket: o.bucket, prefix, writer: o.writer })
      .then((s) => o.logger.info({ state: s.name, key: s.key, objects: s.header.objects, bytes: s.header.bytes }, `saved a state of ${o.bucket}/${prefix}`))
      .catch((err: unknown) => o.logger.warn({ err: (err as Error).message, prefix }, 'could not save a state after a backup'))
      .finally(() => running.delete(job));
    running.add(job);
  };

  return {
    snapshotStored(root) {
      const now = Date.now();
      const p = pending.get(root);
      const first = p?.first ?? now;
      if (p !== undefined) clearTimeout(p.timer);
      const wait = Math.max(0, Math.min(o.delayMs, first + o.maxWaitMs - now));
      const timer = setTimeout(() => save(root), wait);
      timer.unref();
      pending.set(root, { timer, first });
    },
    async flush() {
      for (const root of [...pending.keys()]) save(root);
      await Promise.all([...running]);
    },
  };
}
