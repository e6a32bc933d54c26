// Builds the REST handler from validated serve settings: store, credentials, access rules, quotas.
import type { Logger } from 'pino';
import type { Store } from '../backend/backend.js';
import { Quota } from '../backend/wrap/quota.js';
import type { AccessConfig, UserRule } from '../auth/access.js';
import type { Htpasswd } from '../auth/htpasswd.js';
import type { UserRuleConfig } from '../config/schema.js';
import type { ArrivalLedger } from '../ledger/arrival.js';
import { createApp, type RequestHandler } from './app.js';
import type { RestMetrics } from './metrics.js';

export interface ServeSettings {
  readonly store: Store;
  readonly htpasswd: Htpasswd | undefined;
  readonly appendOnly: boolean;
  readonly privateRepos: boolean;
  readonly users: Readonly<Record<string, UserRuleConfig>>;
  readonly prometheus: boolean;
  readonly prometheusNoAuth: boolean;
  readonly maxSize: number | undefined;
  readonly maxUploadSize: number;
  readonly logger: Logger;
  readonly accessLog: Logger | undefined;
  readonly metrics: RestMetrics;
  /** Records the arrival of every snapshot file (undefined: none, e.g. read-only --as-of). */
  readonly ledger?: ArrivalLedger | undefined;
}

/** The per-user rules of the config file, with the server's defaults, as access rules. */
export function accessConfigOf(s: Pick<ServeSettings, 'users' | 'privateRepos' | 'appendOnly'>): AccessConfig {
  const users = new Map<string, UserRule>();
  for (const [name, rule] of Object.entries(s.users)) {
    users.set(name, {
      ...(rule.root ? { root: rule.root } : {}),
      ...(rule.repos ? { repos: rule.repos } : {}),
      ...(rule.appendOnly !== undefined ? { appendOnly: rule.appendOnly } : {}),
      ...(rule.maxSize !== undefined ? { maxSize: rule.maxSize } : {}),
      ...(rule.deleteLocks !== undefined ? { deleteLocks: rule.deleteLocks } : {}),
    });
  }
  return { privateRepos: s.privateRepos, appendOnly: s.appendOnly, users };
}

export function createServeHandler(s: ServeSettings): RequestHandler {
  const access = accessConfigOf(s);
  const { users } = access;
  const quotaOpts = { onMeasureError: (err: unknown) => s.logger.warn({ err }, 'could not re-measure the storage used for quotas; the previous numbers stay in use') };
  const storeQuota = s.maxSize === undefined ? undefined : new Quota('server', s.maxSize, () => s.store.usage([]), quotaOpts);
  const userQuotas = new Map<string, Quota>();
  const userQuota = (user: string, roots: readonly (readonly string[])[]): Quota | undefined => {
    const limit = users.get(user)?.maxSize;
    if (limit === undefined) return undefined;
    let q = userQuotas.get(user);
    if (!q) {
      q = new Quota(`user ${user}`, limit, async () => {
        let total = 0;
        for (const r of roots) total += await s.store.usage(r);
        return total;
      }, quotaOpts);
      userQuotas.set(user, q);
    }
    return q;
  };
  return createApp({
    store: s.store,
    htpasswd: s.htpasswd,
    access,
    logger: s.logger,
    accessLog: s.accessLog,
    metrics: s.metrics,
    prometheus: s.prometheus,
    metricsNoAuth: s.prometheusNoAuth,
    maxUploadSize: s.maxUploadSize,
    storeQuota,
    userQuota,
    ledger: s.ledger,
  });
}
