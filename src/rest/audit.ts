// Keeping what clients send from flooding the logs: client-chosen strings (paths, user names,
// methods) are clipped before they are logged, and repeated audit events of one kind from one address
// are logged a few times per window and then summarised with a count.

/** Longest client-chosen string logged as is. */
export const MAX_LOGGED_CHARS = 256;

/** `s` cut to `max` characters, with a marker saying how much was left out. */
export function clip(s: string, max?: number): string;
export function clip(s: string | undefined, max?: number): string | undefined;
export function clip(s: string | undefined, max = MAX_LOGGED_CHARS): string | undefined {
  if (s === undefined || s.length <= max) return s;
  return `${s.slice(0, max)}…[${s.length - max} more chars]`;
}

export interface AuditLimit {
  /** Events of one key logged per window; more are counted and summarised. */
  readonly burst: number;
  readonly windowMs: number;
}

export const DEFAULT_AUDIT_LIMIT: AuditLimit = { burst: 100, windowMs: 10_000 };

// Beyond this many keys (reason + address) in one window, events are keyed by reason alone, so that
// a client with many addresses cannot grow the table.
const MAX_KEYS = 10_000;

interface Window {
  readonly start: number;
  logged: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

export class AuditLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: AuditLimit,
    /** Called once per window in which events were suppressed, when the window ends. */
    private readonly onSuppressed: (reason: string, addr: string | undefined, count: number) => void,
  ) {}

  /** Whether to log this event; if not, it is counted into the summary of its window. */
  admit(reason: string, addr: string | undefined): boolean {
    const now = Date.now();
    let key = `${reason}\0${addr ?? ''}`;
    let keyAddr = addr;
    if (!this.windows.has(key) && this.windows.size >= MAX_KEYS) {
      this.sweep(now);
      if (this.windows.size >= MAX_KEYS) {
        key = `${reason}\0*`;
        keyAddr = '*';
      }
    }
    let w = this.windows.get(key);
    if (w !== undefined && now - w.start >= this.limit.windowMs && w.timer === undefined) {
      this.windows.delete(key);
      w = undefined;
    }
    if (w === undefined) {
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.logged < this.limit.burst) {
      w.logged++;
      return true;
    }
    w.suppressed++;
    if (w.timer === undefined) {
      const win = w;
      win.timer = setTimeout(() => {
        this.windows.delete(key);
        this.onSuppressed(reason, keyAddr, win.suppressed);
      }, Math.max(0, win.start + this.limit.windowMs - now));
      win.timer.unref();
    }
    return false;
  }

  /** Drops windows that ended and have nothing to summarise. */
  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.timer === undefined && now - w.start >= this.limit.windowMs) this.windows.delete(k);
  }
}
