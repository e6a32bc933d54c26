// A whole scrub run (the `rwm scrub` command and `rwm maintain` call it): find the last verified
// state, scrub in key order while writing the new verified state to the state directory (and the
// bucket), then carry out the repairs (or, without --repair, only plan them) through versions/apply.ts.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VersionedBuckets } from '../s3/bucket.js';
import { latestVerifiedState, localStateDir, stateKey } from '../state/catalog.js';
import { stateName, writeStateFile, type StateHeader } from '../state/format.js';
import { applyPlan } from '../versions/apply.js';
import { FAILING, type Finding } from './findings.js';
import { createKeyOpener, newReport, scrub, type KeyOpening, type ScrubMode, type ScrubReport, type ScrubSource } from './scrub.js';

export interface ScrubOutput {
  readonly target: string;
  readonly mode: string;
  readonly state: string | null;
  readonly previous: string | null;
  readonly report: Omit<ScrubReport, 'repairs'>;
  readonly repaired: number;
  /** With --password-file: each repository whose index or snapshot files were to be opened, and whether the password opened its key. */
  readonly keys?: KeyOpening[];
  readonly ok: boolean;
}

/** Where: the state's bucket and prefix, the state directory's (bucket, prefix) pair, and a label. */
export interface ScrubWhere {
  readonly bucket: string;
  readonly prefix: string;
  readonly dirBucket: string;
  readonly dirPrefix: string;
  readonly label: string;
}

export interface RunScrubOptions {
  /** The bucket scrubbed (states are uploaded there and repairs made); undefined for a directory. */
  readonly buckets: VersionedBuckets | undefined;
  readonly where: ScrubWhere;
  readonly source: ScrubSource;
  /** A source listing one repository's keys/ (relative to the scrubbed prefix). */
  readonly keysOf: (repo: string) => ScrubSource;
  /** The repository password: index and snapshot files are decrypted too. */
  readonly password?: string | undefined;
  readonly stateDir: string;
  readonly full: boolean;
  readonly mode: (cycle: number) => ScrubMode;
  readonly slots: number;
  readonly repair: boolean;
  readonly concurrency: number;
  readonly writer: StateHeader['writer'];
  readonly onProgress?: (r: ScrubReport) => void;
}

export async function runScrub(o: RunScrubOptions): Promise<ScrubOutput> {
  const { buckets, where, source, keysOf, password, stateDir, mode, slots, concurrency } = o;
    const keys = password === undefined ? undefined : createKeyOpener(keysOf, password);
    const previous = o.full ? undefined : await latestVerifiedState(stateDir, where.dirBucket, where.dirPrefix);
    const prevScrub = previous?.state.header.scrub;
    const cycle = prevScrub !== undefined && prevScrub.slots === slots ? prevScrub.cycle + 1 : 0;
    const report = newReport();
    const dir = localStateDir(stateDir, where.dirBucket, where.dirPrefix);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const created = new Date();
    const name = stateName(created, randomBytes(8).toString('hex'));
    const base: Omit<StateHeader, 'format' | 'version' | 'objects' | 'deleteMarkers' | 'bytes'> = { bucket: where.bucket, prefix: where.prefix, created: created.toISOString(), writer: o.writer, scrub: { cycle, slots } };
    const entries = scrub({ source, previous: previous?.state.entries, mode: mode(cycle), concurrency, ...(o.onProgress ? { onProgress: o.onProgress } : {}), opener: keys?.opener }, report);
    const written = await writeStateFile(join(dir, `${name}.jsonl.gz`), base, entries);
    if (buckets !== undefined) await buckets.putNew(where.bucket, stateKey(where.prefix, name), () => createReadStream(written.file), written.size);
    let repaired = 0;
    if (buckets !== undefined && report.repairs.length > 0) {
      const byTarget = new Map(report.repairs.map((r) => [r.action.kind === 'copy' || r.action.kind === 'hide' ? r.action.target : '', r]));
      await applyPlan(
        (async function* () {
          for (const r of report.repairs) yield r.action;
        })(),
        {
          buckets, sourceBucket: where.bucket, targetBucket: where.bucket, dryRun: !o.repair, concurrency,
          onAction: (a, err) => {
            if (!o.repair || (a.kind !== 'copy' && a.kind !== 'hide')) return;
            const r = byTarget.get(a.target);
            if (r === undefined) return;
            const f = report.findings[r.finding] as Finding;
            report.findings[r.finding] = { ...f, repair: err !== undefined ? 'failed' : a.kind === 'copy' ? 'restored' : 'hidden' };
            if (err === undefined) repaired += 1;
          },
        },
      );
    }
    if (o.repair) {
      report.findings.forEach((f, i) => {
        if ((f.code === 'corrupt' || f.code === 'empty') && f.goodVersion === undefined) report.findings[i] = { ...f, repair: 'no good version' };
      });
    }
    const { repairs: _r, ...rest } = report;
    const openings = keys?.openings();
    const ok = !report.findings.some((f) => FAILING.has(f.code)) && openings?.every((k) => k.opened) !== false;
    return { target: where.label, mode: mode(cycle).kind, state: name, previous: previous?.name ?? null, report: rest, repaired, ...(openings !== undefined ? { keys: openings } : {}), ok };
}
