// `rwm state list BUCKET[/PREFIX]`: the saved states, who wrote each, and whether each still verifies.
import type { Command } from 'commander';
import { S3Buckets } from '../../../s3/s3-buckets.js';
import { listBucketStates, listLocalStates, openStateInfo, type StateInfo } from '../../../state/catalog.js';
import type { StateHeader } from '../../../state/format.js';
import { verifyStates, type StateCheck } from '../../../state/verify.js';
import { withConnection, withStorage, writeJson, type ConnectionOptions, type StorageDeps } from '../storage/common.js';
import { formatBytes, formatTable } from '../storage/format.js';
import { parseTarget, stateDirOf } from './common.js';

const VERIFY_BATCH = 16;

interface ListFlags extends ConnectionOptions {
  stateDir?: string;
  verify?: boolean;
  json?: boolean;
}

export interface ListedState {
  readonly name: string;
  readonly where: 'bucket' | 'local' | 'both';
  readonly created: string;
  /** The S3 owner of the state object (bucket states): who really wrote it. */
  readonly writtenBy: string | null;
  /** What the state says wrote it (tool, host, command): the writer's own claim. */
  readonly writer: StateHeader['writer'] | null;
  readonly objects: number | null;
  readonly deleteMarkers: number | null;
  readonly bytes: number | null;
  /** Someone put another version over the state's key (the first one is used). */
  readonly overwritten: boolean;
  /** null: not checked (--no-verify, or unreadable). */
  readonly verified: boolean | null;
  readonly missing: number | null;
  readonly error?: string;
}

export function registerStateList(state: Command, deps: () => StorageDeps): void {
  withConnection(state.command('list').argument('<bucket[/prefix]>'))
    .description('list saved states (bucket and local): time, writer, objects, bytes, and whether every version each lists still exists')
    .option('--state-dir <dir>', 'local state directory (default: RWM_STATE_DIR, /var/lib/rwm for root, else ~/.local/state/rwm)')
    .option('--no-verify', 'do not check the states against the bucket (one listing for all of them)')
    .option('--json', 'print JSON')
    .action(async (arg: string, opts: ListFlags, cmd: Command) => {
      const d = deps();
      const t = parseTarget(arg);
      const stateDir = stateDirOf(opts.stateDir, d.env);
      const rows = await withStorage(opts, cmd, d, async (s) => {
        const buckets = new S3Buckets(s.client);
        const inBucket = await listBucketStates(buckets, t.bucket, t.prefix);
        const local = await listLocalStates(stateDir, t.bucket, t.prefix);
        const names = new Set(inBucket.map((i) => i.name));
        const all: StateInfo[] = [...inBucket, ...local.filter((l) => !names.has(l.name))];
        const localNames = new Set(local.map((l) => l.name));
        const headers: (StateHeader | undefined)[] = [];
        const errors: (string | undefined)[] = [];
        const checks: (StateCheck | undefined)[] = [];
        // A batch of states is checked against one listing; batches keep open S3 bodies few.
        for (let b = 0; b < all.length; b += VERIFY_BATCH) {
          const streams = [];
          for (const info of all.slice(b, b + VERIFY_BATCH)) {
            try {
              const st = await openStateInfo(buckets, t.bucket, info);
              headers.push(st.header);
              errors.push(undefined);
              streams.push(st.entries);
            } catch (err) {
              headers.push(undefined);
              errors.push((err as Error).message);
              streams.push((async function* () {})());
            }
          }
          if (opts.verify !== false) checks.push(...(await verifyStates(streams, buckets.listVersions(t.bucket, t.kp), t.kp)));
          else for (const st of streams) await st[Symbol.asyncIterator]().return?.(undefined);
        }
        return all.map((info, i): ListedState => {
          const h = headers[i];
          const c = checks[i];
          const err = errors[i];
          return {
            name: info.name,
            where: info.where === 'bucket' && localNames.has(info.name) ? 'both' : info.where,
            created: h?.created ?? new Date(info.lastModified).toISOString(),
            writtenBy: info.owner ?? null,
            writer: h?.writer ?? null,
            objects: h?.objects ?? null,
            deleteMarkers: h?.deleteMarkers ?? null,
            bytes: h?.bytes ?? null,
            overwritten: (info.versions ?? 1) > 1,
            verified: err !== undefined || c === undefined ? null : c.missing === 0,
            missing: c?.missing ?? null,
            ...(err !== undefined ? { error: err } : {}),
          };
        });
      });
      if (opts.json === true) return writeJson(d, rows);
      if (rows.length === 0) {
        d.stdout.write('no states\n');
        return;
      }
      d.stdout.write(
        formatTable(
          ['STATE', 'CREATED', 'WRITTEN BY', 'WHERE', 'OBJECTS', 'SIZE', 'VERIFIED'],
          rows.map((r) => [
            r.name,
            r.created,
            `${r.writtenBy ?? '-'}${r.writer !== null ? ` (${r.writer.command}@${r.writer.host})` : ''}${r.overwritten ? ' OVERWRITTEN' : ''}`,
            r.where,
            r.objects === null ? '?' : String(r.objects),
            r.bytes === null ? '?' : formatBytes(r.bytes),
            r.error !== undefined ? `unreadable: ${r.error}` : r.verified === null ? '-' : r.verified ? 'yes' : `NO (${r.missing} missing)`,
          ]),
          [4, 5],
        ),
      );
    });
}
