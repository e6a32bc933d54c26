// What `rwm state ...` and `rwm restore` share: BUCKET[/PREFIX] arguments, the local state directory,
// naming a point in time (a state, a time, or now), and a progress bar on a terminal.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { SingleBar, Presets } from 'cli-progress';
import type { VersionedBuckets } from '../../../s3/bucket.js';
import { keyPrefix } from '../../../s3/names.js';
import { stateAt } from '../../../state/at-time.js';
import { findState, StateNotFound } from '../../../state/catalog.js';
import { StateFormatError, type StateEntry, type StateHeader } from '../../../state/format.js';
import { looksLikeTime, parseTime, TimeError } from '../../../state/time.js';
import { EXIT, UserError } from '../../exit.js';
import { version } from '../../version.js';
import { parseBucket, parsePrefix, type StorageDeps } from '../storage/common.js';

export interface Target {
  readonly bucket: string;
  readonly prefix: string;
  /** The key prefix: '' or ending in '/'. */
  readonly kp: string;
}

/** "bucket" or "bucket/some/prefix". */
export function parseTarget(text: string): Target {
  const i = text.indexOf('/');
  const bucket = parseBucket(i < 0 ? text : text.slice(0, i));
  const prefix = parsePrefix(i < 0 ? '' : text.slice(i + 1));
  return { bucket, prefix, kp: keyPrefix(prefix) };
}

export const describeTarget = (t: { bucket: string; prefix: string }): string => (t.prefix === '' ? t.bucket : `${t.bucket}/${t.prefix}`);

/** --state-dir, else RWM_STATE_DIR, else /var/lib/rwm for root, else $XDG_STATE_HOME/rwm (~/.local/state/rwm). */
export function stateDirOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined && flag !== '') return flag;
  if (env.RWM_STATE_DIR !== undefined && env.RWM_STATE_DIR !== '') return env.RWM_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/rwm';
  const xdg = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(env.HOME ?? homedir(), '.local', 'state');
  return join(xdg, 'rwm');
}

export function writerOf(command: string): StateHeader['writer'] {
  return { tool: `rwm ${version}`, host: hostname(), command };
}

export interface Point {
  /** For messages: 'state 2026…', '2026-05-01T12:00:00.000Z', 'now'. */
  readonly label: string;
  /** Fresh entries each call (a state file or a new listing). */
  entries(): Promise<AsyncIterable<StateEntry>>;
  readonly time: number;
}

/** A state name (or file), a time, or "now". */
export function resolvePoint(buckets: VersionedBuckets, t: Target, spec: string, stateDir: string | undefined, kind: 'state' | 'time' | 'any' = 'any'): Point {
  if (spec === 'now' && kind !== 'state') return { label: 'now', time: Infinity, entries: async () => stateAt(buckets.listVersions(t.bucket, t.kp), Infinity) };
  if (kind === 'time' || (kind === 'any' && looksLikeTime(spec))) {
    let time: number;
    try {
      time = parseTime(spec);
    } catch (err) {
      if (err instanceof TimeError) throw new UserError(err.message, EXIT.USAGE, { cause: err });
      throw err;
    }
    return { label: new Date(time).toISOString(), time, entries: async () => stateAt(buckets.listVersions(t.bucket, t.kp), time) };
  }
  let created = NaN;
  return {
    label: `state ${spec}`,
    get time() {
      return created;
    },
    entries: async () => {
      try {
        const { state } = await findState(buckets, t.bucket, t.prefix, spec, stateDir);
        created = Date.parse(state.header.created);
        if (state.header.bucket !== t.bucket || state.header.prefix !== t.prefix) {
          throw new UserError(`state ${spec} is of ${describeTarget(state.header)}, not of ${describeTarget(t)}`, EXIT.USAGE);
        }
        return state.entries;
      } catch (err) {
        if (err instanceof StateNotFound || err instanceof StateFormatError) throw new UserError(err.message, EXIT.FAILURE, { cause: err });
        throw err;
      }
    },
  };
}

export interface Progress {
  tick(done: number, total?: number): void;
  stop(): void;
}

/** A bar on stderr when it is a terminal and the output is not --json; nothing otherwise. */
export function progressBar(deps: StorageDeps, label: string, json: boolean): Progress {
  const tty = (deps.stderr as { isTTY?: boolean }).isTTY === true && !json;
  if (!tty) return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label} {value}/{total} [{bar}]`, clearOnComplete: true, stream: deps.stderr }, Presets.shades_classic);
  let started = false;
  return {
    tick(done, total) {
      if (!started) {
        bar.start(total ?? 0, 0);
        started = true;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
