// HTTP Basic credentials from an htpasswd file with bcrypt hashes (the format rest-server reads).
// The file is re-read when it changes. Successful checks are cached under an HMAC with a per-process
// key, so a backup of thousands of requests does not pay for bcrypt each time; every comparison of
// secret material is constant-time, and unknown users cost as much as known ones.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

const CACHE_TTL_MS = 5 * 60_000;
const RECHECK_MS = 1_000;
// A valid bcrypt hash of a random string, checked for unknown users so that they take as long;
// made on first use, so that servers without authentication don't pay for it at start.
let dummyHash: string | undefined;
function getDummyHash(): string {
  dummyHash ??= bcrypt.hashSync(randomBytes(16).toString('hex'), 10);
  return dummyHash;
}

export interface HtpasswdWarning {
  readonly line: number;
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
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
      warnings.push({ line: i + 1, message: `user "${user}": only bcrypt hashes are supported (htpasswd -B), ignored` });
      return;
    }
    users.set(user, hash);
  });
  return { users, warnings };
}

export class Htpasswd {
  private users = new Map<string, string>();
  private readonly cache = new Map<string, { mac: Buffer; expires: number }>();
  private readonly cacheKey = randomBytes(32);
  private signature = '';
  private lastCheck = 0;

  private constructor(
    readonly path: string,
    private readonly onWarning: (w: HtpasswdWarning & { path: string }) => void,
  ) {}

  static async open(path: string, onWarning: (w: HtpasswdWarning & { path: string }) => void = () => undefined): Promise<Htpasswd> {
    const h = new Htpasswd(path, onWarning);
    await h.reload(true);
    return h;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Re-reads the file if its identity, size or time changed. Keeps the old table if reading fails. */
  private async reload(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheck < RECHECK_MS) return;
    this.lastCheck = now;
    let sig: string;
    try {
      const st = await stat(this.path);
      sig = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (err) {
      if (force) throw err;
      return;
    }
    if (!force && sig === this.signature) return;
    const parsed = parseHtpasswd(await readFile(this.path, 'utf8'));
    for (const w of parsed.warnings) this.onWarning({ ...w, path: this.path });
    this.users = parsed.users;
    this.signature = sig;
    this.cache.clear();
  }

  private mac(user: string, hash: string, password: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(user).update('\0').update(hash).update('\0').update(password).digest();
  }

  async verify(user: string, password: string): Promise<boolean> {
    await this.reload();
    const hash = this.users.get(user);
    if (hash === undefined) {
      await bcrypt.compare(password, getDummyHash());
      return false;
    }
    const mac = this.mac(user, hash, password);
    const hit = this.cache.get(user);
    if (hit && hit.expires > Date.now() && timingSafeEqual(hit.mac, mac)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) this.cache.set(user, { mac, expires: Date.now() + CACHE_TTL_MS });
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
