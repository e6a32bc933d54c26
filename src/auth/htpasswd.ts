// HTTP Basic credentials from an htpasswd file with the hashes rest-server accepts: bcrypt
// (`htpasswd -B`) and SHA-1 (`{SHA}`, `htpasswd -s`; weak, accepted for existing files).
// The file is re-read when it changes. Successful checks are cached under an HMAC with a per-process
// key, so a backup of thousands of requests does not pay for bcrypt each time; failed checks are
// cached briefly, so a client repeating wrong credentials does not either. Every comparison of secret
// material is constant-time, and unknown users cost as much as known ones: their dummy hash has the
// cost the file's hashes have. bcrypt runs on the event loop, so at most `maxConcurrent` checks run
// at once; beyond that verify() fails fast with AuthBusyError instead of stalling every client.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

const CACHE_TTL_MS = 5 * 60_000;
const NEGATIVE_TTL_MS = 10_000;
const NEGATIVE_MAX = 10_000;
const RECHECK_MS = 1_000;
const DEFAULT_MAX_CONCURRENT = 8;
const HASH_RE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SHA_RE = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/** Whether the password matches a hash of the file (of a form parseHtpasswd accepted). */
async function matches(password: string, hash: string): Promise<boolean> {
  if (SHA_RE.test(hash)) {
    const want = Buffer.from(hash.slice(5), 'base64');
    return timingSafeEqual(createHash('sha1').update(password).digest(), want);
  }
  return bcrypt.compare(password, hash);
}

// Valid bcrypt hashes of a random string, by cost, checked for unknown users so that they take as
// long as known ones; made on first use, so that servers without authentication don't pay for them.
const dummyHashes = new Map<number, Promise<string>>();
function dummyHash(cost: number): Promise<string> {
  let h = dummyHashes.get(cost);
  if (h === undefined) {
    h = bcrypt.hash(randomBytes(16).toString('hex'), cost);
    dummyHashes.set(cost, h);
    h.catch(() => dummyHashes.delete(cost));
  }
  return h;
}

/** The cost most of the hashes have (the higher one on a tie); 4, the cheapest, for an empty table. */
export function typicalCost(hashes: Iterable<string>): number {
  const counts = new Map<number, number>();
  for (const h of hashes) {
    const cost = Number(HASH_RE.exec(h)?.[1] ?? NaN);
    if (Number.isInteger(cost)) counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = 4;
  let bestCount = 0;
  for (const [cost, n] of counts) {
    if (n > bestCount || (n === bestCount && cost > best)) [best, bestCount] = [cost, n];
  }
  return best;
}

/** Too many password checks are running at once: the client should retry (HTTP 503). */
export class AuthBusyError extends Error {
  override readonly name = 'AuthBusyError';
  constructor() {
    super('too many password checks at once');
  }
}

export interface HtpasswdOptions {
  /** bcrypt checks allowed to run at once (default 8). */
  readonly maxConcurrent?: number;
  /** How often the file is looked at for changes (default 1 s). */
  readonly recheckMs?: number;
}

export interface HtpasswdWarning {
  /** The line of the file, for a problem with one entry. */
  readonly line?: number;
  readonly message: string;
}

export function parseHtpasswd(text: string): { users: Map<string, string>; warnings: HtpasswdWarning[] } {
  const users = new Map<string, string>();
  const warnings: HtpasswdWarning[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      warnings.push({ line: i + 1, message: 'not in "user:hash" form, ignored' });
      return;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!HASH_RE.test(hash) && !SHA_RE.test(hash)) {
      warnings.push({ line: i + 1, message: `user "${user}": only bcrypt (htpasswd -B) and {SHA} (htpasswd -s) hashes are supported, ignored` });
      return;
    }
    if (SHA_RE.test(hash)) warnings.push({ line: i + 1, message: `user "${user}": a {SHA} hash (unsalted SHA-1) is weak: replace it with htpasswd -B` });
    users.set(user, hash);
  });
  return { users, warnings };
}

export class Htpasswd {
  private users = new Map<string, string>();
  private readonly cache = new Map<string, { mac: Buffer; expires: number }>();
  /** HMACs of recently refused (user, hash, password) triples, with their expiry. */
  private readonly refused = new Map<string, number>();
  private readonly cacheKey = randomBytes(32);
  private signature = '';
  private lastCheck = 0;
  private dummyCost = 4;
  private running = 0;
  private readonly maxConcurrent: number;
  private readonly recheckMs: number;
  /** The problem last reported about the file, so that each is reported once, not per request. */
  private problem: string | undefined;

  private constructor(
    readonly path: string,
    private readonly onWarning: (w: HtpasswdWarning & { path: string }) => void,
    opts: HtpasswdOptions,
  ) {
    this.maxConcurrent = opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    this.recheckMs = opts.recheckMs ?? RECHECK_MS;
  }

  static async open(path: string, onWarning: (w: HtpasswdWarning & { path: string }) => void = () => undefined, opts: HtpasswdOptions = {}): Promise<Htpasswd> {
    const h = new Htpasswd(path, onWarning, opts);
    await h.reload(true);
    return h;
  }

  get userCount(): number {
    return this.users.size;
  }

  /**
   * Re-reads the file if its identity, size or time changed. A file that is gone revokes every user
   * (deleting the file is how an operator locks everyone out); a file that cannot be read (replaced
   * by a directory, made unreadable) keeps the old table, since failing every request helps no one.
   */
  private async reload(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheck < this.recheckMs) return;
    this.lastCheck = now;
    let sig: string;
    let text: string;
    try {
      const st = await stat(this.path);
      sig = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (!force && sig === this.signature) return;
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (force) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.users = new Map();
        this.signature = '';
        this.cache.clear();
        this.refused.clear();
        this.report('the htpasswd file is gone: every user is refused until it is back');
      } else {
        this.report(`cannot read the htpasswd file (${code ?? (err as Error).message}): keeping the ${this.users.size} users read before`);
      }
      return;
    }
    this.problem = undefined;
    const parsed = parseHtpasswd(text);
    for (const w of parsed.warnings) this.onWarning({ ...w, path: this.path });
    this.users = parsed.users;
    this.signature = sig;
    this.dummyCost = typicalCost(parsed.users.values());
    // made now, so that the first unknown user does not pay for it (and stand out)
    if (parsed.users.size > 0) dummyHash(this.dummyCost).catch(() => undefined);
    this.cache.clear();
    this.refused.clear();
  }

  private report(message: string): void {
    if (message === this.problem) return;
    this.problem = message;
    this.onWarning({ path: this.path, message });
  }

  private mac(user: string, hash: string, password: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(user).update('\0').update(hash).update('\0').update(password).digest();
  }

  /** Whether the password is the user's. MUST throw AuthBusyError, without checking, when saturated. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.reload();
    const hash = this.users.get(user);
    const mac = this.mac(user, hash ?? '', password);
    const now = Date.now();
    const hit = this.cache.get(user);
    if (hash !== undefined && hit && hit.expires > now && timingSafeEqual(hit.mac, mac)) return true;
    // The key is an HMAC: equal only for equal triples, so a map lookup reveals nothing about the secret.
    const refusedKey = mac.toString('base64');
    const refusedUntil = this.refused.get(refusedKey);
    if (refusedUntil !== undefined && refusedUntil > now) return false;
    if (this.running >= this.maxConcurrent) throw new AuthBusyError();
    this.running++;
    let ok: boolean;
    try {
      ok = hash === undefined ? (await bcrypt.compare(password, await dummyHash(this.dummyCost)), false) : await matches(password, hash);
    } finally {
      this.running--;
    }
    if (ok) {
      this.cache.set(user, { mac, expires: Date.now() + CACHE_TTL_MS });
    } else {
      this.refused.delete(refusedKey);
      if (this.refused.size >= NEGATIVE_MAX) this.refused.delete(this.refused.keys().next().value as string);
      this.refused.set(refusedKey, Date.now() + NEGATIVE_TTL_MS);
    }
    return ok;
  }
}

/** Parses an `Authorization: Basic ...` header. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
