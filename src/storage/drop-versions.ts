// `storage drop-versions` as a function (the CLI command and `rwm maintain` call it): finds the last
// verified state and the states inside the window, plans with versions/drop.ts, and carries the
// plan out with versions/apply.ts. Dry run unless told; the manifest of what was deleted is kept.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { VersionedBuckets } from '../s3/bucket.js';
import { latestVerifiedState, listLocalStates, STATE_SUFFIX } from '../state/catalog.js';
import { openState, STATE_NAME_RE, stateNameTime, type StateEntry } from '../state/format.js';
import { groupBy } from '../util/ordered.js';
import { applyPlan, type ApplyReport } from '../versions/apply.js';
import { planDrop, type DropDecision, type KeepReason } from '../versions/drop.js';
import type { Action } from '../versions/plan.js';
import { StorageError } from './errors.js';
import { parseTime } from '../state/time.js';

export interface DropTarget {
  readonly bucket: string;
  readonly prefix: string;
  /** '' or ending in '/'. */
  readonly kp: string;
}

export interface DropVersionsOptions {
  readonly buckets: VersionedBuckets;
  readonly target: DropTarget;
  readonly stateDir: string;
  /** As given (for the report), and the instant it means: versions noncurrent since before `since` may go. */
  readonly keepWithin: string;
  readonly now: number;
  readonly since: number;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly onAction?: () => void;
}

export const DEFAULT_KEEP_WITHIN = '30d';

export interface DropOutput {
  readonly target: string;
  readonly dryRun: boolean;
  readonly keepWithin: string;
  readonly verifiedState: string;
  readonly statesInWindow: number;
  readonly report: ApplyReport;
  readonly kept: { keys: number; versions: number; bytes: number; byReason: Record<KeepReason, number> };
  /** Keys that keep versions for a reason other than the window (each named). */
  readonly refused: { key: string; versions: number; reasons: readonly KeepReason[] }[];
  readonly manifest: string | null;
}

/** The states whose name says they were made inside the window: every `.rwm/state/` under the prefix, and local ones. */
async function statesInWindow(buckets: VersionedBuckets, bucket: string, kp: string, prefix: string, stateDir: string, since: number, tmp: string): Promise<string[]> {
  const files: string[] = [];
  let n = 0;
  for await (const r of buckets.listVersions(bucket, kp)) {
    const m = /(?:^|\/)\.rwm\/state\/([^/]+)$/.exec(r.key);
    const name = m?.[1]?.slice(0, -STATE_SUFFIX.length);
    if (r.deleteMarker || name === undefined || !m?.[1]?.endsWith(STATE_SUFFIX) || !STATE_NAME_RE.test(name) || !(stateNameTime(name) >= since)) continue;
    // Every version counts: an overwritten state protects what either version names.
    const file = join(tmp, `${n++}${STATE_SUFFIX}`);
    await pipeline(await buckets.read({ bucket, key: r.key, versionId: r.versionId }), createWriteStream(file));
    files.push(file);
  }
  for (const l of await listLocalStates(stateDir, bucket, prefix)) if (l.file !== undefined && stateNameTime(l.name) >= since) files.push(l.file);
  return files;
}


/** The instant `now - keepWithin` ("30d", "12h", "2w"); throws on anything but an age. */
export function keepWithinSince(keepWithin: string, now: number): number {
  if (!/^[1-9][0-9]{0,6}[smhdw]$/.test(keepWithin)) throw new Error(`keep-within must be an age such as 30d, 12h or 2w, not "${keepWithin}"`);
  return parseTime(keepWithin, now);
}

const describe = (t: DropTarget): string => (t.prefix === '' ? t.bucket : `${t.bucket}/${t.prefix}`);

export async function runDropVersions(o: DropVersionsOptions): Promise<DropOutput> {
  const { buckets, stateDir, now, since, dryRun, concurrency, keepWithin } = o;
  const t = o.target;
        if ((await buckets.versioning(t.bucket)) === 'Unversioned') throw new StorageError(`bucket ${t.bucket} has no versioning: it has no old versions to drop`);
        const verified = await latestVerifiedState(stateDir, t.bucket, t.prefix);
        if (verified === undefined) throw new StorageError(`no verified state of ${describe(t)} in ${stateDir}: run "rwm scrub ${describe(t)}" first (nothing was deleted)`);
        const tmp = await mkdtemp(join(tmpdir(), 'rwm-drop-'));
        const manifestDir = join(stateDir, 'drops', t.bucket, ...(t.prefix === '' ? [] : t.prefix.split('/')));
        const manifest = dryRun ? null : join(manifestDir, `${new Date(now).toISOString().replace(/[-:]/g, '')}.jsonl`);
        try {
          const files = await statesInWindow(buckets, t.bucket, t.kp, t.prefix, stateDir, since, tmp);
          const recent: AsyncIterable<StateEntry>[] = [];
          for (const f of files) recent.push((await openState(createReadStream(f), f)).entries);
          const kept = { keys: 0, versions: 0, bytes: 0, byReason: { 'not-verified': 0, 'in-window': 0, 'in-state': 0 } as Record<KeepReason, number> };
          const refused: DropOutput['refused'] = [];
          const decisions = planDrop({ groups: groupBy(buckets.listVersions(t.bucket, t.kp), (r) => r.key), verified: verified.state.entries, recentStates: recent, prefix: t.kp, now, keepWithinMs: now - since });
          async function* actions(): AsyncGenerator<Action> {
            for await (const dd of decisions as AsyncIterable<DropDecision>) {
              if (dd.kind === 'drop') {
                yield { kind: 'drop', target: dd.key, versionId: dd.versionId, size: dd.size };
                continue;
              }
              kept.keys += 1;
              kept.versions += dd.versions;
              kept.bytes += dd.bytes;
              for (const r of dd.reasons) kept.byReason[r] += 1;
              if (dd.reasons.some((r) => r !== 'in-window')) refused.push({ key: dd.key, versions: dd.versions, reasons: dd.reasons });
            }
          }
          if (manifest !== null) await mkdir(manifestDir, { recursive: true, mode: 0o700 });
          const log = manifest === null ? undefined : createWriteStream(manifest, { flags: 'wx', mode: 0o600 });
          const report = await applyPlan(actions(), {
            buckets,
            sourceBucket: t.bucket,
            targetBucket: t.bucket,
            dryRun,
            checkLocks: await buckets.objectLockEnabled(t.bucket),
            concurrency,
            onAction: (a, err) => {
              o.onAction?.();
              if (a.kind === 'drop' && err === undefined && log !== undefined) log.write(`${JSON.stringify({ key: a.target, versionId: a.versionId, size: a.size })}\n`);
            },
          });
          if (log !== undefined) await new Promise<void>((r) => log.end(r));
          return { target: describe(t), dryRun, keepWithin, verifiedState: verified.name, statesInWindow: files.length, report, kept, refused, manifest };
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
}
