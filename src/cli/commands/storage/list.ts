// `rwm storage list`: the buckets the keys' owner owns, each with its verdict and contents.
import type { Command } from 'commander';
import { s3Name } from '../../../backend/s3/errors.js';
import { DEFAULT_MIN_LIFECYCLE_DAYS } from '../../../storage/check.js';
import { describeBucket, ownedBuckets, type BucketDescription } from '../../../storage/describe.js';
import { describeS3Error, StorageError } from '../../../storage/errors.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';
import { formatBytes, formatTable } from './format.js';

const PARALLEL = 4;

export function registerList(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('list'))
    .description('list the buckets you own: policed or not, versioning, object lock, counts and size')
    .option('--json', 'print JSON')
    .action(async (opts: ConnectionOptions & { json?: boolean }, cmd: Command) => {
      const d = deps();
      const all = await withStorage(opts, cmd, d, async (s) => {
        const buckets = await ownedBuckets(s.client).catch((err: unknown) => {
          throw new StorageError(`cannot list buckets: ${describeS3Error(err)}`, { cause: err });
        });
        const minDays = s.config.storage?.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS;
        const out: BucketDescription[] = [];
        for (let i = 0; i < buckets.length; i += PARALLEL) {
          // a bucket deleted after ListBuckets answered is no longer one the user owns: left out, not a crash
          const described = await Promise.all(buckets.slice(i, i + PARALLEL).map((b) => describeBucket(s.client, b.name, b.created, minDays).catch((err: unknown) => {
            if (s3Name(err) === 'NoSuchBucket') return undefined;
            throw err;
          })));
          for (const b of described) if (b !== undefined) out.push(b);
        }
        return out;
      });
      const rows = all.map((b) => ({
        bucket: b.bucket,
        created: b.created,
        policed: b.policed,
        findings: b.findings.length,
        versioning: b.versioning,
        objectLock: b.objectLock,
        objects: b.inventory.current.count,
        versions: b.inventory.current.count + b.inventory.noncurrent.count,
        deleteMarkers: b.inventory.deleteMarkers.count,
        bytes: b.inventory.current.bytes + b.inventory.noncurrent.bytes,
      }));
      if (opts.json === true) return writeJson(d, rows);
      const lock = (l: BucketDescription['objectLock']): string => (l === null ? '-' : l === 'unreadable' ? '?' : l.mode === null ? 'on, no default' : `${l.mode.toLowerCase()} ${l.days}d`);
      d.stdout.write(
        formatTable(
          ['BUCKET', 'POLICED', 'VERSIONING', 'OBJECT LOCK', 'OBJECTS', 'VERSIONS', 'MARKERS', 'SIZE'],
          rows.map((r, i) => [r.bucket, r.policed ? 'yes' : `NO (${r.findings})`, r.versioning, lock(all[i]?.objectLock ?? null), String(r.objects), String(r.versions), String(r.deleteMarkers), formatBytes(r.bytes)]),
          [4, 5, 6, 7],
        ),
      );
    });
}
