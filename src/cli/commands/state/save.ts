// `rwm state save BUCKET[/PREFIX]`: record what is current, in the bucket and the local state directory.
import type { Command } from 'commander';
import { S3Buckets } from '../../../s3/s3-buckets.js';
import { saveState } from '../../../state/save.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from '../storage/common.js';
import { formatBytes } from '../storage/format.js';
import { describeTarget, parseTarget, progressBar, stateDirOf, writerOf } from './common.js';

interface SaveFlags extends ConnectionOptions {
  stateDir?: string;
  local?: boolean;
  upload?: boolean;
  acl?: boolean;
  json?: boolean;
}

export function registerStateSave(state: Command, deps: () => StorageDeps): void {
  withConnection(state.command('save').argument('<bucket[/prefix]>'))
    .description('record every current key (version, size, ETag, time, writer) and the delete markers on top, in the bucket under PREFIX/.rwm/state/ and in the state directory')
    .option('--state-dir <dir>', 'local state directory (default: RWM_STATE_DIR, /var/lib/rwm for root, else ~/.local/state/rwm)')
    .option('--no-local', 'do not keep a local copy')
    .option('--no-upload', 'do not store the state in the bucket (local copy only)')
    .option('--no-acl', 'do not upload with the ACL bucket-owner-full-control (for S3 servers that refuse ACLs)')
    .option('--json', 'print the result as JSON')
    .action(async (arg: string, opts: SaveFlags, cmd: Command) => {
      const d = deps();
      const t = parseTarget(arg);
      const stateDir = opts.local === false ? undefined : stateDirOf(opts.stateDir, d.env);
      const bar = progressBar(d, 'listing keys', opts.json === true);
      const saved = await withStorage(opts, cmd, d, (s) =>
        saveState({ buckets: new S3Buckets(s.client, { ownerFullControl: opts.acl !== false }), bucket: t.bucket, prefix: t.prefix, writer: writerOf('state save'), stateDir, upload: opts.upload !== false, onProgress: (n) => bar.tick(n, n) }),
      ).finally(() => bar.stop());
      if (opts.json === true) return writeJson(d, saved);
      const h = saved.header;
      d.stdout.write(`saved state ${saved.name} of ${describeTarget(t)}: ${h.objects} objects (${formatBytes(h.bytes)}), ${h.deleteMarkers} delete markers${saved.key !== undefined ? `\n  in the bucket: ${saved.key}` : ''}${saved.file !== undefined ? `\n  local copy:    ${saved.file}` : ''}\n`);
    });
}
