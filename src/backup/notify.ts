// Notifications of a run: healthchecks-style pings, ntfy, a JSON webhook. Retried a few times; a
// failure is returned as a warning and never changes the backup's own result.
import type { NotifyConfig } from './config.js';

export type NotifyEvent = 'start' | 'success' | 'failure';

export interface NotifyMessage {
  readonly event: NotifyEvent;
  readonly profile: string;
  readonly host: string;
  /** The run's summary, or the log tail on failure. */
  readonly text: string;
  readonly report?: unknown;
}

async function send(url: string, init: RequestInit, retries: number, timeoutMs: number): Promise<void> {
  let last: unknown;
  for (let i = 0; i <= retries; i++) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
    } catch (err) {
      last = err;
    }
    if (i < retries) await new Promise((r) => setTimeout(r, 250 * 2 ** i));
  }
  throw last instanceof Error ? last : new Error(String(last));
}

function healthchecksUrl(base: string, event: NotifyEvent): string {
  const b = base.replace(/\/+$/, '');
  return event === 'start' ? `${b}/start` : event === 'failure' ? `${b}/fail` : b;
}

/** Sends one event to every configured target; resolves with the warnings of the ones that failed. */
export async function notify(cfg: NotifyConfig | undefined, m: NotifyMessage, timeoutMs = 10_000): Promise<string[]> {
  if (cfg === undefined || (cfg.on !== undefined && !cfg.on.includes(m.event))) return [];
  const tail = m.text.slice(-10_000);
  const jobs: [string, Promise<void>][] = [];
  if (cfg.healthchecks !== undefined) jobs.push(['healthchecks', send(healthchecksUrl(cfg.healthchecks, m.event), { method: 'POST', body: tail }, cfg.retries, timeoutMs)]);
  if (cfg.ntfy !== undefined) {
    const title = `rwm backup ${m.profile} on ${m.host}: ${m.event}`;
    jobs.push(['ntfy', send(cfg.ntfy, { method: 'POST', body: tail, headers: { Title: title, Priority: m.event === 'failure' ? 'high' : 'default', Tags: m.event === 'failure' ? 'warning' : 'floppy_disk' } }, cfg.retries, timeoutMs)]);
  }
  if (cfg.webhook !== undefined) {
    const body = JSON.stringify({ source: 'rwm', kind: 'backup', event: m.event, profile: m.profile, host: m.host, text: tail, report: m.report });
    jobs.push(['webhook', send(cfg.webhook, { method: 'POST', body, headers: { 'content-type': 'application/json' } }, cfg.retries, timeoutMs)]);
  }
  const warnings: string[] = [];
  for (const [what, p] of jobs) {
    try {
      await p;
    } catch (err) {
      warnings.push(`the ${what} notification (${m.event}) failed: ${(err as Error).message}`);
    }
  }
  return warnings;
}
