// Typed errors for running restic, and the one place that turns restic's exit status and stderr into
// them. restic 0.14 exits 1 for every fatal error (10/11/12 arrived in 0.17), so the kind is read from
// stderr — carefully: 0.14 prints "unable to open config file ... Is there a repository at the
// following location?" for a refused connection or an access-denied too, and only a real not-found may
// become NOT_FOUND (STYLE.md, Errors: a misread not-found once let a prune wipe a repository).

export type ResticErrorCode =
  | 'NOT_FOUND' // no repository at that location (the store said so; not a network or auth failure)
  | 'WRONG_PASSWORD' // the password file does not open any key of the repository
  | 'LOCKED' // another restic holds a conflicting lock (maybe stale: `restic unlock`)
  | 'FORBIDDEN' // the store refused the credentials (S3 access denied, HTTP 401/403)
  | 'UNAVAILABLE' // the store could not be reached (connection refused, DNS, timeout, TLS)
  | 'INTEGRITY' // `restic check` found errors in the repository
  | 'INTERRUPTED' // cancelled through the AbortSignal, or restic got SIGINT/SIGTERM from elsewhere
  | 'TIMEOUT' // the run took longer than timeoutMs and was stopped
  | 'NOT_INSTALLED' // no restic binary on PATH
  | 'TOO_OLD' // restic is older than rwm supports
  | 'BAD_OUTPUT' // restic's output did not match the schema rwm expects
  | 'INVALID' // settings or arguments refused before restic was started
  | 'FAILED'; // any other failure

export const INSTALL_HINT = 'install restic (Debian: apt-get install restic) — rwm needs 0.14 or newer';

export interface ResticErrorDetails {
  readonly cause?: unknown;
  /** The restic command (`snapshots`, `forget`, ...), if restic was run. */
  readonly command?: string;
  readonly exitCode?: number | null;
  readonly signal?: NodeJS.Signals | null;
  /** The last lines restic wrote to stderr, secrets redacted. */
  readonly stderr?: readonly string[];
}

export class ResticError extends Error {
  override readonly name = 'ResticError';
  readonly command: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: NodeJS.Signals | null | undefined;
  readonly stderr: readonly string[];

  constructor(
    readonly code: ResticErrorCode,
    message: string,
    details: ResticErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? {} : { cause: details.cause });
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderr = details.stderr ?? [];
  }
}

export function isResticError(err: unknown, code?: ResticErrorCode): err is ResticError {
  return err instanceof ResticError && (code === undefined || err.code === code);
}

const WRONG_PASSWORD = /wrong password or no key found/i;
const LOCKED = /unable to create lock|repository is already locked/i;
const CONFIG_OPEN = /unable to open config file|Is there a repository at the following location\?/i;
// What the local, REST and S3 backends of restic 0.14 say when the config really is absent
// ("stat …/config: no such file or directory", "<config/> does not exist", "The specified bucket
// does not exist.", NoSuchKey).
const REALLY_ABSENT = /no such file or directory|does not exist|NoSuchKey|NoSuchBucket/i;
const REFUSED = /access denied|AccessDenied|forbidden|\b40[13]\b|unauthori[sz]ed|InvalidAccessKeyId|SignatureDoesNotMatch|permission denied/i;
const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|timeout|timed out|network is unreachable|connection reset|no route to host|tls:|x509:|certificate|\bEOF\b|server misbehaving/i;
const CHECK_ERRORS = /repository contains errors/i;

export interface FailureFacts {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last stderr lines, already redacted. */
  readonly stderr: readonly string[];
}

/** Maps a failed restic run (not cancelled by rwm) to a typed error. Pure; tested on restic 0.14's texts. */
export function classifyFailure(f: FailureFacts): ResticError {
  const text = f.stderr.join('\n');
  const details = { command: f.command, exitCode: f.exitCode, signal: f.signal, stderr: f.stderr };
  const reason = lastFatal(f.stderr);
  const where = `restic ${f.command}`;
  const status = f.signal !== null ? `killed by ${f.signal}` : `exit ${String(f.exitCode)}`;

  if (f.exitCode === 130 || f.signal === 'SIGINT' || f.signal === 'SIGTERM') {
    return new ResticError('INTERRUPTED', `${where} was interrupted (${status})`, details);
  }
  if (f.exitCode === 12 || WRONG_PASSWORD.test(text)) {
    return new ResticError('WRONG_PASSWORD', `${where}: wrong password or no key found (the password file does not open this repository)`, details);
  }
  if (f.exitCode === 11 || LOCKED.test(text)) {
    return new ResticError('LOCKED', `${where}: the repository is locked by another restic (if no restic is running on it, \`restic unlock\` removes a stale lock)`, details);
  }
  if (f.exitCode === 10) {
    return new ResticError('NOT_FOUND', `${where}: there is no repository at this location`, details);
  }
  if (CONFIG_OPEN.test(text)) {
    const configLine = f.stderr.find((l) => /unable to open config file/i.test(l)) ?? text;
    if (REALLY_ABSENT.test(configLine)) {
      return new ResticError('NOT_FOUND', `${where}: there is no repository at this location (${reason})`, details);
    }
    if (REFUSED.test(configLine)) {
      return new ResticError('FORBIDDEN', `${where}: the storage refused access (${reason})`, details);
    }
    if (UNREACHABLE.test(configLine)) {
      return new ResticError('UNAVAILABLE', `${where}: the storage could not be reached (${reason})`, details);
    }
    return new ResticError('FAILED', `${where}: could not open the repository (${reason})`, details);
  }
  if (f.command === 'check' && CHECK_ERRORS.test(text)) {
    return new ResticError('INTEGRITY', `${where}: the repository contains errors (${firstCheckError(f.stderr) ?? reason})`, details);
  }
  return new ResticError('FAILED', `${where} failed (${status})${reason === '' ? '' : `: ${reason}`}`, details);
}

// restic prefixes its fatal error with "Fatal: "; otherwise the last non-empty line says most.
function lastFatal(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] ?? '';
    const at = l.indexOf('Fatal: ');
    if (at >= 0) return l.slice(at + 'Fatal: '.length).trim();
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = (lines[i] ?? '').trim();
    if (l !== '') return l;
  }
  return '';
}

function firstCheckError(lines: readonly string[]): string | undefined {
  return lines.find((l) => l.trim() !== '' && !CHECK_ERRORS.test(l))?.trim();
}
