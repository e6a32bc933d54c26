// Loggers: structured JSON to stderr (never stdout: in --stdio mode stdout is the protocol), and
// an optional access log to a file or stdout. Secrets are never passed to a logger; the redact list
// is a second line of defence.
import pino, { type Logger } from 'pino';
import { UserError } from './exit.js';

const REDACT = ['authorization', 'password', 'req.headers.authorization', '*.password', '*.secretAccessKey'];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The stderr logger at a level given by the user (--log-level): an unknown level is a usage error. */
export function createLogger(level: string): Logger {
  if (!LEVELS.includes(level)) throw new UserError(`--log-level: unknown level "${level}" (use one of ${LEVELS.join(', ')})`);
  return pino({ level, redact: REDACT, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}

export function createAccessLog(target: string): Logger {
  const dest = target === '-' ? pino.destination({ dest: 1, sync: false }) : pino.destination({ dest: target, append: true, mkdir: true, sync: false });
  return pino({ redact: REDACT, base: null }, dest);
}
