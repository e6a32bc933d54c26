// The restic REST server as a request handler, independent of transport (TCP, TLS, stdio) and of
// storage (any Store). Order per request: parse and canonicalise the path, authenticate, authorise
// on the canonical repository path, wrap the repository's backend for this user's rights, dispatch.
import type { Logger } from 'pino';
import type { Backend, Store } from '../backend/backend.js';
import { appendOnly } from '../backend/wrap/append-only.js';
import { onlyKeyFilesInKeys } from '../backend/wrap/key-files.js';
import { withQuotas, type Quota } from '../backend/wrap/quota.js';
import { withLedger } from '../backend/wrap/ledger.js';
import type { ArrivalLedger } from '../ledger/arrival.js';
import { LockOwners } from '../backend/wrap/lock-owners.js';
import { decideAccess, type AccessConfig } from '../auth/access.js';
import { AuthBusyError, parseBasicAuth, type Htpasswd } from '../auth/htpasswd.js';
import { parseRequestUrl, RouteError, routeTypeLabel } from './route.js';
import { failureFor } from './status.js';
import { abandonUnreadBody, sendStatus, type Req, type Res, type RequestContext } from './context.js';
import { allowedMethods, routeHandler } from './routes/table.js';
import { methodLabel, statusLabel, type RestMetrics } from './metrics.js';
import { AuditLimiter, clip, DEFAULT_AUDIT_LIMIT, type AuditLimit } from './audit.js';

export interface AppOptions {
  readonly store: Store;
  /** undefined means no authentication (--no-auth, or stdio where SSH authenticated). */
  readonly htpasswd: Htpasswd | undefined;
  readonly access: AccessConfig;
  readonly logger: Logger;
  readonly accessLog?: Logger | undefined;
  readonly metrics: RestMetrics;
  /** Serve /metrics; with `metricsNoAuth` without credentials. */
  readonly prometheus: boolean;
  readonly metricsNoAuth: boolean;
  readonly maxUploadSize: number;
  /** Limits that apply to every request (the whole store), and per user. */
  readonly storeQuota?: Quota | undefined;
  readonly userQuota?: ((user: string, roots: readonly (readonly string[])[]) => Quota | undefined) | undefined;
  /** How many audit events of one reason from one address are logged per window (default 100 per 10 s). */
  readonly auditLimit?: AuditLimit | undefined;
  /** Where the arrival of every stored snapshot file is recorded (the snapshot ledger). */
  readonly ledger?: ArrivalLedger | undefined;
}

export type RequestHandler = (req: Req, res: Res) => void;

/** Who asked for what, as logged: every client-chosen string already clipped. */
interface Who {
  readonly user: string | undefined;
  readonly addr: string | undefined;
  readonly method: string;
  readonly path: string;
}

export function createApp(opts: AppOptions): RequestHandler {
  const { logger, metrics } = opts;
  const limiter = new AuditLimiter(opts.auditLimit ?? DEFAULT_AUDIT_LIMIT, (reason, addr, suppressed) => {
    logger.warn({ audit: true, reason, addr, suppressed }, `${suppressed} more "${reason}" audit events from this address were not logged`);
  });

  function refuse(who: Who, res: Res, status: number, reason: string, message: string, type: string): void {
    metrics.refusals.inc({ reason, type });
    if (limiter.admit(reason, who.addr)) {
      logger.warn({ audit: true, reason, user: who.user, addr: who.addr, method: who.method, path: who.path, status }, `refused: ${clip(message)}`);
    }
    sendStatus(res, status, status === 401 ? undefined : message);
  }

  /** ok, or why not: bad credentials, or too many password checks running (the client should retry). */
  async function authenticate(req: Req): Promise<{ ok: boolean; busy?: true; user: string | undefined }> {
    if (opts.htpasswd === undefined) return { ok: true, user: undefined };
    const creds = parseBasicAuth(req.headers.authorization);
    if (creds === undefined) return { ok: false, user: undefined };
    try {
      return { ok: await opts.htpasswd.verify(creds.user, creds.password), user: creds.user };
    } catch (err) {
      if (err instanceof AuthBusyError) return { ok: false, busy: true, user: creds.user };
      throw err;
    }
  }

  function refuseAuth(auth: { busy?: true }, who: Who, res: Res, type: string): void {
    if (auth.busy) {
      res.setHeader('Retry-After', '1');
      refuse(who, res, 503, 'auth-busy', 'too many password checks at once, retry', type);
      return;
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="restic"');
    refuse(who, res, 401, 'auth-failed', 'authentication failed', type);
  }

  const lockOwners = new LockOwners();

  function backendFor(storeRepo: readonly string[], user: string | undefined, who: Who, appendOnlyMode: boolean, quotaRoots: readonly (readonly string[])[]): Backend {
    const ownLocksOnly = user !== undefined && opts.access.users.get(user)?.deleteLocks === 'own';
    let b = lockOwners.wrap(onlyKeyFilesInKeys(withLedger(opts.store.repo(storeRepo), opts.ledger, { repo: storeRepo.join('/'), user: who.user, addr: who.addr })), storeRepo.join('/'), user, ownLocksOnly);
    if (appendOnlyMode) b = appendOnly(b);
    const quotas: Quota[] = [];
    if (opts.storeQuota) quotas.push(opts.storeQuota);
    const uq = user === undefined ? undefined : opts.userQuota?.(user, quotaRoots);
    if (uq) quotas.push(uq);
    return withQuotas(b, quotas);
  }

  async function serveMetrics(req: Req, res: Res, who: Who): Promise<void> {
    if (!opts.metricsNoAuth && opts.htpasswd !== undefined) {
      const auth = await authenticate(req);
      if (!auth.ok || (opts.access.privateRepos && auth.user !== 'metrics')) {
        refuseAuth(auth, { ...who, user: clip(auth.user) }, res, 'metrics');
        return;
      }
    }
    const body = await metrics.registry.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.end(body);
  }

  async function handle(req: Req, res: Res, signal: AbortSignal, meta: { type: string }): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const who0: Who = { user: undefined, addr: req.socket.remoteAddress, method: clip(method), path: clip(rawUrl) };
    if (opts.prometheus && rawUrl.split('?')[0] === '/metrics' && (method === 'GET' || method === 'HEAD')) {
      await serveMetrics(req, res, who0);
      return;
    }
    let parsed;
    try {
      parsed = parseRequestUrl(rawUrl);
    } catch (err) {
      if (!(err instanceof RouteError)) throw err;
      refuse(who0, res, 400, 'bad-path', err.message, 'invalid');
      return;
    }
    const { route, query } = parsed;
    const typeLabel = routeTypeLabel(route);
    meta.type = typeLabel;

    const auth = await authenticate(req);
    const who: Who = { ...who0, user: clip(auth.user) };
    if (!auth.ok) {
      refuseAuth(auth, who, res, typeLabel);
      return;
    }
    const decision = decideAccess(opts.access, auth.user, route.repo);
    if (!decision.allowed) {
      refuse(who, res, 403, 'repo-forbidden', decision.reason, typeLabel);
      return;
    }

    const handler = routeHandler(route.kind, method);
    if (handler === undefined) {
      if (route.kind === 'repo' && (method === 'GET' || method === 'HEAD')) {
        sendStatus(res, 404); // includes restic's start-up probe, GET /file-<random>
        return;
      }
      res.setHeader('Allow', allowedMethods(route.kind).join(', '));
      // restic never deletes config: an attempt is worth an audit event like any other delete
      if (method === 'DELETE') refuse(who, res, 405, 'delete-refused', `${method} not allowed here`, typeLabel);
      else sendStatus(res, 405);
      return;
    }
    const ctx: RequestContext = {
      req, res, method, route, query, signal, typeLabel, metrics,
      backend: backendFor(decision.storeRepo, auth.user, who, decision.appendOnly, decision.quotaRoots),
      maxUploadSize: opts.maxUploadSize,
      blob: (op, bytes) => metrics.blob(op, { user: who.user ?? '', repo: route.repo.join('/'), type: typeLabel }, bytes),
    };
    try {
      await handler(ctx);
      // Deleting a lock is allowed, but a client removing another's lock (the trusted host's prune
      // lock) must leave a trace.
      if (route.kind === 'file' && route.type === 'locks' && method === 'DELETE' && limiter.admit('lock-deleted', who.addr)) {
        logger.info({ audit: true, reason: 'lock-deleted', user: who.user, addr: who.addr, method: who.method, path: who.path, status: res.statusCode }, 'lock deleted');
      }
    } catch (err) {
      if (signal.aborted) {
        logger.info({ method: who.method, path: who.path, user: who.user }, 'client went away during the request; nothing stored');
        return;
      }
      if (res.headersSent) throw err;
      abandonUnreadBody(req, res);
      let failure = failureFor(err);
      // A list must never look like "no files" (a 404 once let `restic prune` wipe a repository):
      // any failure that is not already a server error becomes a 500; "storage unavailable" stays 503.
      if (route.kind === 'list' && failure.status < 500) failure = { status: 500, message: 'internal server error' };
      if (failure.status >= 500) logger.error({ err, method: who.method, path: who.path, user: who.user }, 'request failed');
      if (failure.auditReason !== undefined) {
        const reason = method === 'DELETE' && failure.status === 403 ? 'delete-refused' : failure.auditReason;
        refuse(who, res, failure.status, reason, failure.message, typeLabel);
      } else {
        sendStatus(res, failure.status, failure.status >= 500 ? undefined : failure.message);
      }
    }
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const ac = new AbortController();
    const meta = { type: 'invalid' };
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
      const { type } = meta;
      const label = methodLabel(req.method);
      metrics.requests.inc({ method: label, type, status: statusLabel(res.statusCode) });
      metrics.duration.observe({ method: label, type }, Number(process.hrtime.bigint() - started) / 1e9);
      const accessLog = opts.accessLog;
      // --debug (rest-server's flag) logs every request to stderr as well
      const debug = logger.isLevelEnabled('debug');
      if (accessLog !== undefined || debug) {
        const line = { addr: req.socket.remoteAddress, method: clip(req.method ?? 'GET'), path: clip(req.url), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
        accessLog?.info(line, 'request');
        if (debug) logger.debug(line, 'request');
      }
    });
    handle(req, res, ac.signal, meta).catch((err: unknown) => {
      logger.error({ err, method: clip(req.method), path: clip(req.url) }, 'request failed');
      if (!res.headersSent) sendStatus(res, 500);
      else res.destroy();
    });
  };
}
