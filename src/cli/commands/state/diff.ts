// `rwm state diff BUCKET[/PREFIX] --from STATE|TIME [--to STATE|TIME|now]`: keys added, changed and
// deleted between two points, classified for restic. Exit 1 when there is tampering or an alarm.
import type { Command } from 'commander';
import { S3Buckets } from '../../../s3/s3-buckets.js';
import { diffStates, type Change, type ChangeKind, type Severity } from '../../../state/diff.js';
import { CommandExit, EXIT } from '../../exit.js';
import { withConnection, withStorage, type ConnectionOptions, type StorageDeps } from '../storage/common.js';
import { describeTarget, parseTarget, resolvePoint, stateDirOf } from './common.js';

interface DiffFlags extends ConnectionOptions {
  from: string;
  to: string;
  stateDir?: string;
  json?: boolean;
  all?: boolean;
}

export interface DiffSummary {
  readonly added: number;
  readonly changed: number;
  readonly deleted: number;
  readonly rewritten: number;
  readonly tampering: number;
  readonly alarms: number;
}

const LABEL: Record<Severity, string> = { tampering: 'TAMPERING', alarm: 'ALARM', normal: '' };

function describeChange(c: Change, kp: string): string {
  const rel = c.key.slice(kp.length);
  const versions = c.kind === 'changed' || c.kind === 'rewritten' ? ` (version ${c.from?.versionId ?? '?'} -> ${c.to?.versionId ?? '?'}${c.kind === 'rewritten' ? ', same bytes' : ''}${c.to?.owner ? `, by ${c.to.owner}` : ''})` : c.kind === 'added' && c.to?.owner ? ` (by ${c.to.owner})` : '';
  const tag = LABEL[c.severity];
  return `${tag === '' ? '' : `${tag} `}${c.kind} ${rel}${versions}`;
}

export function registerStateDiff(state: Command, deps: () => StorageDeps): void {
  withConnection(state.command('diff').argument('<bucket[/prefix]>'))
    .description('what changed between two points (states or times): a changed content-addressed file is tampering, a changed config or keys/ file an alarm; new snapshots and index files are listed by id')
    .requiredOption('--from <state|time>', 'a state name (rwm state list), a state file, an RFC 3339 time with zone, or an age (3d)')
    .option('--to <state|time|now>', 'the later point', 'now')
    .option('--state-dir <dir>', 'local state directory, for states not in the bucket')
    .option('--all', 'also list deleted packs one by one (default: only their count; a prune deletes many)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit status: 0 nothing alarming, 1 tampering or alarms found (or the diff could not run), 2 wrong usage.')
    .action(async (arg: string, opts: DiffFlags, cmd: Command) => {
      const d = deps();
      const t = parseTarget(arg);
      const stateDir = stateDirOf(opts.stateDir, d.env);
      const json = opts.json === true;
      const counts: Record<ChangeKind, number> = { added: 0, changed: 0, deleted: 0, rewritten: 0 };
      let tampering = 0;
      let alarms = 0;
      let deletedData = 0;
      await withStorage(opts, cmd, d, async (s) => {
        const buckets = new S3Buckets(s.client);
        const from = resolvePoint(buckets, t, opts.from, stateDir);
        const to = resolvePoint(buckets, t, opts.to, stateDir);
        const changes = diffStates(await from.entries(), await to.entries(), t.kp);
        if (json) d.stdout.write(`{"bucket":${JSON.stringify(t.bucket)},"prefix":${JSON.stringify(t.prefix)},"from":${JSON.stringify(from.label)},"to":${JSON.stringify(to.label)},"changes":[`);
        else d.stdout.write(`${describeTarget(t)}: from ${from.label} to ${to.label}\n`);
        let n = 0;
        for await (const c of changes) {
          counts[c.kind] += 1;
          if (c.severity === 'tampering') tampering += 1;
          if (c.severity === 'alarm') alarms += 1;
          if (json) {
            d.stdout.write(`${n++ === 0 ? '' : ','}\n${JSON.stringify({ kind: c.kind, severity: c.severity, type: c.type, key: c.key, ...(c.id !== undefined ? { id: c.id } : {}), from: c.from ?? null, to: c.to ?? null })}`);
          } else if (c.kind === 'deleted' && c.type === 'data' && opts.all !== true) deletedData += 1;
          else d.stdout.write(`  ${describeChange(c, t.kp)}\n`);
        }
      });
      const summary: DiffSummary = { ...counts, tampering, alarms };
      if (json) d.stdout.write(`\n],"summary":${JSON.stringify(summary)}}\n`);
      else {
        if (deletedData > 0) d.stdout.write(`  deleted ${deletedData} packs (data/; --all lists them)\n`);
        d.stdout.write(`${counts.added} added, ${counts.changed} changed, ${counts.deleted} deleted, ${counts.rewritten} rewritten with the same bytes; ${tampering} tampering, ${alarms} alarms\n`);
      }
      if (tampering + alarms > 0) throw new CommandExit(EXIT.FAILURE);
    });
}
