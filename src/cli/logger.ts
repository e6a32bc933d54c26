// Loggers: structured JSON to stderr (never stdout: in --stdio mode stdout is the protocol), and
// an optional access log to a file or stdout. Secrets are never passed to a logger; the redact list
// is a second line of defence.
import pino, { type Logger } from 'pino';

const REDACT = ['authorization', 'password', 'req.headers.authorization', '*.password', '*.secretAccessKey'];

export function createLogger(level: string): Logger {
  return pino({ level, redact: REDACT, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}

export function createAccessLog(target: string): Logger {
  const dest = target === '-' ? pino.destination({ dest: 1, sync: false }) : pino.destination({ dest: target, append: true, mkdir: true, sync: false });
  return pino({ redact: REDACT, base: null }, dest);
}
