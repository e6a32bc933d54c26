// `rwm storage info BUCKET`: the detailed view of one bucket.
import type { Command } from 'commander';
import { DEFAULT_MIN_LIFECYCLE_DAYS } from '../../../storage/check.js';
import { describeBucket } from '../../../storage/describe.js';
import { parseBucket, withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from './common.js';
import { formatInventory } from './format.js';

export function registerInfo(storage: Command, deps: () => StorageDeps): void {
  withConnection(storage.command('info').argument('<bucket>'))
    .description('show one bucket: policy, object lock, lifecycle, versions and delete markers with their sizes, and the check\'s verdict')
    .option('--json', 'print JSON')
    .action(async (bucketArg: string, opts: ConnectionOptions & { json?: boolean }, cmd: Command) => {
      const d = deps();
      const bucket = parseBucket(bucketArg);
      const b = await withStorage(opts, cmd, d, (s) => describeBucket(s.client, bucket, null, s.config.storage?.minLifecycleDays ?? DEFAULT_MIN_LIFECYCLE_DAYS));
      const lifecycle = b.lifecycle === 'unreadable' ? 'unreadable' : b.lifecycle;
      if (opts.json === true) {
        const { inventory, ...rest } = b;
        return writeJson(d, { ...rest, lifecycle, counts: { current: inventory.current, noncurrent: inventory.noncurrent, deleteMarkers: inventory.deleteMarkers }, incompleteUploads: inventory.incompleteUploads, check: { ok: b.policed, findings: b.findings } });
      }
      const lock = b.objectLock === null ? 'not enabled' : b.objectLock === 'unreadable' ? 'unreadable' : b.objectLock.mode === null ? 'enabled, no default retention' : `${b.objectLock.mode} ${b.objectLock.days} days`;
      const lines = [
        `bucket:      ${b.bucket}`,
        `policed:     ${b.policed ? 'yes' : 'NO'}`,
        ...b.findings.map((f) => `  - [${f.code}] ${f.message}`),
        `versioning:  ${b.versioning}`,
        `object lock: ${lock}`,
        ...formatInventory(b.inventory),
        'lifecycle:',
        ...(lifecycle === 'unreadable' ? ['  unreadable'] : lifecycle.length === 0 ? ['  (none)'] : lifecycle.map((r) => `  ${JSON.stringify(r)}`)),
        'policy:',
        ...(b.policy === null ? ['  (none)'] : JSON.stringify(b.policy, null, 2).split('\n').map((l) => `  ${l}`)),
      ];
      d.stdout.write(`${lines.join('\n')}\n`);
    });
}
