// `rwm serve`: the append-only restic REST server, on TCP (HTTP or HTTPS) or on stdin/stdout.
// Flags follow rest-server where the meaning is the same.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import type { Store } from '../../backend/backend.js';
import { LocalStore } from '../../backend/local/store.js';
import { GROUP_MODES, PRIVATE_MODES, type LocalModes } from '../../backend/local/local.js';
import { startCpuProfile } from '../cpu-profile.js';
import { S3Store } from '../../backend/s3/store.js';
import type { S3Settings } from '../../backend/s3/settings.js';
import { parseRepoPath } from '../../backend/repo-path.js';
import { Htpasswd } from '../../auth/htpasswd.js';
import { loadConfig } from '../../config/load.js';
import { createRestMetrics } from '../../rest/metrics.js';
import { accessConfigOf, createServeHandler } from '../../rest/setup.js';
import { checkUserRules } from '../../auth/rules-check.js';
import { listenTcp, parseListen, type TlsFiles } from '../../rest/transport/tcp.js';
import { serveStdio } from '../../rest/transport/stdio.js';
import { parseSize } from '../../util/size.js';
import { createAccessLog, createLogger } from '../logger.js';
import { EXIT, EXIT_HELP, UserError } from '../exit.js';
import { resolveS3Settings } from '../s3-settings.js';
import { AsOfStore } from '../../backend/s3/as-of.js';
import { createS3Clients } from '../../backend/s3/client.js';
import { S3Buckets } from '../../s3/s3-buckets.js';
import { keyPrefix } from '../../s3/names.js';
import { createStateSaver, type StateSaver } from '../../state/after-backup.js';
import { findState } from '../../state/catalog.js';
import { viewAtTime, viewOfState } from '../../state/point.js';
import { looksLikeTime, parseTime, TimeError } from '../../state/time.js';
import { writerOf } from './state/common.js';
import { createLocalLedger, createS3Ledger, type ArrivalLedger } from '../../ledger/arrival.js';

export interface ServeOptions {
  path: string;
  listen: string;
  appendOnly: boolean;
  privateRepos: boolean;
  htpasswdFile?: string;
  auth: boolean;
  tls: boolean;
  tlsCert?: string;
  tlsKey?: string;
  prometheus: boolean;
  prometheusNoAuth: boolean;
  maxSize?: string;
  maxUploadSize: string;
  log?: string;
  logLevel?: string;
  config?: string;
  stdio: boolean;
  s3?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3BucketLookup?: string;
  s3Acl?: boolean;
  asOf?: string;
  s3State?: boolean;
  stateDelay?: string;
  s3UploadBuffer?: string;
  debug?: boolean;
  cpuProfile?: string;
  groupAccessibleRepos?: boolean;
  tlsMinVer?: string;
  verifyUpload?: boolean;
  /** Where --path came from ('default', 'env', 'cli'): --path and S3 together are an error. */
  pathSource?: string;
}

export interface ServeDeps {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<void>;
  readonly onListening?: (url: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export function registerServe(program: Command, deps: () => ServeDeps): void {
  program
    .command('serve')
    .description('serve restic repositories over the REST protocol, append-only by default')
    .argument('[args...]', 'with --stdio: the repository path below --path (restic\'s rclone backend passes "restic <name>")')
    .addOption(new Option('--path <dir>', 'data directory holding the repositories').default('./rwm-data').env('RWM_PATH'))
    .option('--listen <addr>', 'listen address (host:port)', '127.0.0.1:8000')
    .option('--append-only', 'clients may add files and delete locks, nothing else', true)
    .option('--no-append-only', 'allow clients to delete files (only for a trusted host)')
    .option('--private-repos', 'users may only reach repositories under /<username>/', false)
    .option('--htpasswd-file <file>', 'htpasswd file with bcrypt (or {SHA}) hashes (default: <path>/.htpasswd)')
    .option('--no-auth', 'disable authentication (anyone who reaches the port may back up)')
    .option('--tls', 'serve HTTPS (HTTP/2 and HTTP/1.1)', false)
    .option('--tls-cert <file>', 'TLS certificate (default: <path>/public_key)')
    .option('--tls-key <file>', 'TLS private key (default: <path>/private_key)')
    .option('--prometheus', 'serve Prometheus metrics on /metrics', false)
    .option('--prometheus-no-auth', 'serve /metrics without authentication', false)
    .option('--max-size <size>', 'maximum bytes stored under --path in all (e.g. 500G)')
    .option('--max-upload-size <size>', 'largest single upload accepted', '256MiB')
    .option('--log <file>', 'write an access log (JSON lines) to this file, "-" for stdout')
    .option('--log-level <level>', 'log level for stderr: fatal, error, warn, info, debug (default: info; warn with --stdio)')
    .option('--config <file>', 'rwm config file (YAML) with per-user rules')
    .option('--stdio', 'serve HTTP/2 on stdin/stdout (for restic -o rclone.program=..., or an SSH forced command)', false)
    .option('--s3 <bucket[/prefix]>', 'store the repositories in this S3 bucket instead of --path (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or serve.s3 in --config)')
    .option('--s3-endpoint <url>', 'S3 endpoint, e.g. https://s3.example.com (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .option('--s3-bucket-lookup <mode>', 'auto (path-style with --s3-endpoint), path or dns')
    .option('--no-s3-acl', 'do not upload with the ACL bucket-owner-full-control (for S3 servers that refuse ACLs)')
    .option('--as-of <state|time>', 'with --s3: serve the repositories read-only exactly as they were at a time (RFC 3339 with zone, or an age like 2h) or a saved state of the --s3 prefix or above it (rwm state list); lock files live in memory')
    .option('--no-s3-state', 'with --s3: do not save a state of a repository after each backup')
    .option('--s3-upload-buffer <size>', 'with --s3: memory for uploads buffered whole (up to 4 MiB, or of unknown length); uploads beyond get 503 and restic retries', '256MiB')
    .option('--state-delay <seconds>', 'with --s3: save the state this long after the last snapshot upload of a burst', '10')
    .option('--debug', 'log at debug level (rest-server\'s flag; the same as --log-level debug)')
    .option('--cpu-profile <file>', 'write a V8 CPU profile (.cpuprofile, for Chrome DevTools) of the whole run to this file on exit')
    .option('--group-accessible-repos', 'with --path: the group may read repository files and change directories (modes 0440/0770 instead of 0400/0700)')
    .option('--tls-min-ver <version>', 'with --tls: the oldest TLS version accepted, 1.2 or 1.3', '1.2')
    .addOption(new Option('--no-verify-upload', 'refused: rwm always verifies uploads').hideHelp())
    .addOption(new Option('--b2-hard-delete', 'accepted for compatibility with restic\'s rclone backend; ignored').hideHelp())
    .addHelpText('after', `
Examples:
  rwm serve --path /srv/restic --htpasswd-file /etc/rwm/htpasswd
  restic -r rest:http://user:pass@127.0.0.1:8000/user/repo init
  rwm serve --stdio --path /srv/restic/host1            # as an SSH forced command
  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... rwm serve --s3 backups/restic --s3-endpoint https://s3.example.com --htpasswd-file /etc/rwm/htpasswd
  rwm serve --stdio --s3 backups/hosts/host1 --config /etc/rwm/rwm.yaml   # forced command; keys in the config file
  restic -r rclone:repo -o rclone.program="rwm" init   # restic runs "rwm serve restic --stdio ... repo"
  restic -r rclone:repo -o rclone.program="rwm" -o rclone.args="serve --stdio --path /srv/restic" init   # /srv/restic/repo
${EXIT_HELP}`)
    .action(async (args: string[], opts: ServeOptions, cmd: Command) => {
      const { s3Acl, ...rest } = opts;
      const acl = cmd.getOptionValueSource('s3Acl') === 'cli' && s3Acl !== undefined ? { s3Acl } : {};
      await runServe(args, { ...rest, ...acl, pathSource: cmd.getOptionValueSource('path') ?? 'default' }, deps());
    });
}

async function readTls(opts: ServeOptions, s3: boolean): Promise<TlsFiles | undefined> {
  if (opts.tlsMinVer !== undefined && opts.tlsMinVer !== '1.2' && opts.tlsMinVer !== '1.3') throw new UserError(`--tls-min-ver must be 1.2 or 1.3, not "${opts.tlsMinVer}"`);
  if (!opts.tls) {
    if (opts.tlsCert !== undefined || opts.tlsKey !== undefined) throw new UserError('--tls-cert and --tls-key need --tls');
    return undefined;
  }
  const minVersion = opts.tlsMinVer === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
  if (s3 && (opts.tlsCert === undefined || opts.tlsKey === undefined)) throw new UserError('with --s3, give the TLS files explicitly: --tls-cert FILE --tls-key FILE');
  const certPath = opts.tlsCert ?? join(opts.path, 'public_key');
  const keyPath = opts.tlsKey ?? join(opts.path, 'private_key');
  try {
    return { cert: await readFile(certPath), key: await readFile(keyPath), minVersion };
  } catch (err) {
    throw new UserError(`cannot read TLS certificate or key: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** The repository served at "/" in stdio mode: --path itself, or the name restic's rclone backend passes. */
export function stdioRepoSegments(args: readonly string[]): string[] {
  const rest = args[0] === 'restic' ? args.slice(1) : [...args];
  if (rest.length > 1) throw new UserError(`too many arguments: ${rest.join(' ')}`);
  const name = rest[0];
  if (name === undefined || name === '' || name === '/') return [];
  try {
    return parseRepoPath(name);
  } catch (err) {
    throw new UserError(`invalid repository name "${name}": ${(err as Error).message}`, undefined, { cause: err });
  }
}

async function openHtpasswd(opts: ServeOptions, logger: Logger, s3: boolean): Promise<Htpasswd | undefined> {
  if (!opts.auth) return undefined;
  if (s3 && opts.htpasswdFile === undefined) throw new UserError('with --s3, give the credentials file explicitly: --htpasswd-file FILE (or run with --no-auth)');
  const file = opts.htpasswdFile ?? join(opts.path, '.htpasswd');
  if (!existsSync(file)) {
    throw new UserError(`no htpasswd file at ${file}: create one with "htpasswd -B -c ${file} USER", or run with --no-auth`);
  }
  const h = await Htpasswd.open(file, (w) => logger.warn({ file: w.path, line: w.line }, w.message));
  if (h.userCount === 0) logger.warn({ file }, 'htpasswd file has no usable (bcrypt or {SHA}) entries: every request will be refused');
  return h;
}

export async function runServe(args: string[], opts: ServeOptions, deps: ServeDeps): Promise<void> {
  if (opts.verifyUpload === false) {
    throw new UserError('--no-verify-upload is refused: rwm checks every upload against its name (SHA-256) before storing it, and that check is what keeps a compromised client from storing corrupt or planted data under a valid name; it cannot be turned off. Remove the flag.');
  }
  const logger = createLogger(opts.logLevel ?? (opts.debug === true ? 'debug' : opts.stdio ? 'warn' : 'info'));
  const profile = opts.cpuProfile === undefined ? undefined : await startCpuProfile(opts.cpuProfile);
  try {
    await serveWith(args, opts, deps, logger);
  } finally {
    await profile?.stop().catch((err: unknown) => logger.error({ err }, `could not write the CPU profile to ${opts.cpuProfile}`));
  }
}

async function serveWith(args: string[], opts: ServeOptions, deps: ServeDeps, logger: Logger): Promise<void> {
  const { config, warnings } = await loadConfig(opts.config);
  for (const w of warnings) logger.warn(w);
  const s3 = resolveS3Settings(opts, deps.env, config.serve.s3);
  if (s3 !== undefined && opts.pathSource !== undefined && opts.pathSource !== 'default') {
    throw new UserError(`--path (or RWM_PATH) and S3 storage (${opts.s3 !== undefined ? '--s3' : 'serve.s3 in the config'}) cannot be used together`);
  }
  if (opts.groupAccessibleRepos === true && s3 !== undefined) throw new UserError('--group-accessible-repos sets file modes under --path: it does not apply to S3 storage');
  const modes = opts.groupAccessibleRepos === true ? GROUP_MODES : PRIVATE_MODES;
  if (opts.asOf !== undefined && s3 === undefined) throw new UserError('--as-of serves a versioned S3 bucket as it was: it needs --s3 BUCKET[/PREFIX]');
  const maxSize = opts.maxSize === undefined ? undefined : parseSizeFlag('--max-size', opts.maxSize);
  const maxUploadSize = parseSizeFlag('--max-upload-size', opts.maxUploadSize);
  const common = {
    appendOnly: opts.appendOnly,
    users: config.serve.users,
    prometheus: opts.prometheus,
    prometheusNoAuth: opts.prometheusNoAuth,
    maxSize,
    maxUploadSize,
    logger,
    metrics: createRestMetrics(),
  };

  if (opts.stdio) {
    if (deps.stdin.isTTY || deps.stdout.isTTY) throw new UserError('--stdio speaks HTTP/2 on stdin/stdout and refuses to run on a terminal');
    if (opts.log === '-') throw new UserError('--log - would write to stdout, which is the protocol in --stdio mode');
    if (opts.privateRepos) throw new UserError('--private-repos needs authenticated users; in --stdio mode SSH authenticates, so serve the user\'s own --path instead');
    const segments = stdioRepoSegments(args);
    const opened = s3 === undefined ? openLocal(opts.path, segments, modes) : await openS3({ ...s3, prefix: [s3.prefix, ...segments].filter((p) => p !== '').join('/') }, opts, logger);
    const { store } = opened;
    try {
      const handler = createServeHandler({ ...common, store, ledger: opened.ledger, htpasswd: undefined, privateRepos: false, accessLog: opts.log ? createAccessLog(opts.log) : undefined });
      logger.info({ root: store.location, appendOnly: opts.appendOnly }, 'serving restic REST over stdio (HTTP/2)');
      const session = serveStdio(handler, { input: deps.stdin, output: deps.stdout });
      // A stop signal ends the session: serving on would use a store closed below.
      await Promise.race([session.closed, deps.stopSignal]);
      await session.close();
      logger.info('stdio session closed');
    } finally {
      await opened.states?.flush();
      await store.close();
    }
    return;
  }

  if (args.length > 0) throw new UserError(`unexpected arguments: ${args.join(' ')} (repository names are only taken with --stdio)`);
  if (opts.privateRepos && !opts.auth) throw new UserError('--private-repos needs authentication; it cannot be combined with --no-auth');
  try {
    parseListen(opts.listen);
  } catch (err) {
    throw new UserError((err as Error).message, undefined, { cause: err });
  }
  if (opts.auth) {
    const rules = checkUserRules(accessConfigOf({ users: config.serve.users, privateRepos: opts.privateRepos, appendOnly: opts.appendOnly }));
    if (rules.errors.length > 0) throw new UserError(`${opts.config ?? 'config'}: ${rules.errors.join('; ')}`);
    for (const w of rules.warnings) logger.warn(w);
  }
  const htpasswd = await openHtpasswd(opts, logger, s3 !== undefined);
  const tls = await readTls(opts, s3 !== undefined);
  const opened: OpenedStore = s3 === undefined ? openLocal(opts.path, [], modes) : await openS3(s3, opts, logger);
  const { store } = opened;
  const handler = createServeHandler({ ...common, store, ledger: opened.ledger, htpasswd, privateRepos: opts.privateRepos, accessLog: opts.log ? createAccessLog(opts.log) : undefined });
  const listening = await listenTcp(handler, opts.listen, tls).catch((err: unknown) => {
    throw new UserError(`cannot listen on ${opts.listen}: ${(err as Error).message}`, EXIT.FAILURE, { cause: err });
  });
  logger.info({ url: listening.url, path: store.location, appendOnly: opts.appendOnly, auth: opts.auth, privateRepos: opts.privateRepos }, 'rwm serve listening');
  if (!opts.auth) logger.warn('authentication is disabled (--no-auth)');
  if (!opts.appendOnly) logger.warn('append-only mode is OFF: clients may delete files');
  deps.onListening?.(listening.url);
  await deps.stopSignal;
  logger.info('shutting down');
  await listening.close();
  await opened.states?.flush();
  await store.close();
}

interface OpenedStore {
  readonly store: Store;
  /** Saves states after backups (S3, unless --no-s3-state or --as-of). */
  readonly states?: StateSaver;
  /** The snapshot ledger (not with --as-of, which stores nothing). */
  readonly ledger?: ArrivalLedger;
}

/** --path (and in stdio mode the repository below it); the ledger lives in --path/.rwm/ledger/. */
function openLocal(path: string, segments: readonly string[], modes: LocalModes): OpenedStore {
  const root = resolve(path);
  return { store: new LocalStore(join(root, ...segments), modes), ledger: createLocalLedger(root, segments) };
}

async function openS3(settings: S3Settings, opts: ServeOptions, logger: Logger): Promise<OpenedStore> {
  if (opts.asOf !== undefined) return { store: await openAsOf(settings, opts.asOf) };
  const delay = Number(opts.stateDelay ?? '10');
  if (!Number.isFinite(delay) || delay < 0 || delay > 86_400) throw new UserError(`--state-delay must be a number of seconds from 0 to 86400, not "${opts.stateDelay}"`);
  let states: StateSaver | undefined;
  let store: S3Store;
  const uploadBuffer = parseSizeFlag('--s3-upload-buffer', opts.s3UploadBuffer ?? '256MiB');
  try {
    store = await S3Store.open(settings, { uploadBuffer, ...(opts.s3State === false ? {} : { onSnapshot: (root: string) => states?.snapshotStored(root) }) });
  } catch (err) {
    throw new UserError((err as Error).message, EXIT.FAILURE, { cause: err });
  }
  const buckets = new S3Buckets(store.clients.client, { ownerFullControl: settings.bucketOwnerFullControl });
  if (opts.s3State !== false) {
    states = createStateSaver({ buckets, bucket: store.bucket, writer: writerOf('serve'), logger, delayMs: delay * 1000, maxWaitMs: Math.max(60_000, delay * 6000) });
  }
  const ledger = createS3Ledger(buckets, store.bucket, (repo) => store.rootOf(repo === '' ? [] : repo.split('/')));
  return { store, ledger, ...(states !== undefined ? { states } : {}) };
}

/** --as-of: the bucket's versions at a state or a time, read-only. */
async function openAsOf(settings: S3Settings, spec: string): Promise<AsOfStore> {
  const clients = createS3Clients(settings);
  const fail = (message: string, cause?: unknown): never => {
    clients.destroy();
    throw new UserError(message, EXIT.FAILURE, { cause });
  };
  const buckets = new S3Buckets(clients.client);
  const kp = keyPrefix(settings.prefix);
  try {
    if (!(await buckets.exists(settings.bucket))) fail(`bucket "${settings.bucket}" does not exist`);
    if ((await buckets.versioning(settings.bucket)) === 'Unversioned') fail(`bucket "${settings.bucket}" has no versioning: there is no earlier point to serve`);
    if (looksLikeTime(spec)) {
      const t = parseTime(spec);
      return new AsOfStore(buckets, settings.bucket, kp, viewAtTime(buckets, settings.bucket, t), new Date(t).toISOString(), () => clients.destroy());
    }
    const { info, state } = await findState(buckets, settings.bucket, settings.prefix, spec, undefined);
    const sp = keyPrefix(state.header.prefix);
    if (state.header.bucket !== settings.bucket || !kp.startsWith(sp)) fail(`state ${spec} is of ${state.header.bucket}/${state.header.prefix}, which does not hold ${settings.bucket}/${settings.prefix}`);
    return new AsOfStore(buckets, settings.bucket, kp, await viewOfState(state.entries, kp), `state ${info.name}`, () => clients.destroy());
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof TimeError) {
      clients.destroy();
      throw new UserError(err.message, EXIT.USAGE, { cause: err });
    }
    return fail(`--as-of ${spec}: ${(err as Error).message}`, err);
  }
}

function parseSizeFlag(flag: string, value: string): number {
  try {
    return parseSize(value);
  } catch (err) {
    throw new UserError(`${flag}: ${(err as Error).message}`, undefined, { cause: err });
  }
}
