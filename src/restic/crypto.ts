// restic's repository cryptography, implemented from its design document (doc/design.rst, "Keys,
// Encryption and MAC" and "Unpacked Data Format"), in plain Node: a key file's scrypt parameters turn
// the password into a user key that decrypts the master key; every other file (config, index,
// snapshots, locks) is IV (16 bytes) || AES-256-CTR ciphertext || Poly1305-AES MAC (16 bytes) of the
// ciphertext. Used by scrub to tell restic's index and snapshot files from hash-named junk that
// would make restic fail; this module never writes a repository.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Decompress } from 'fzstd';
import { z } from 'zod';

/** A repository's master key: AES-256 for encryption, Poly1305-AES (k, r) for authentication. */
export interface MasterKey {
  readonly encrypt: Buffer;
  readonly macK: Buffer;
  readonly macR: Buffer;
}

export type ResticCryptoCode = 'WRONG_PASSWORD' | 'MAC' | 'FORMAT';

export class ResticCryptoError extends Error {
  override readonly name = 'ResticCryptoError';
  constructor(
    readonly code: ResticCryptoCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

const IV_SIZE = 16;
const MAC_SIZE = 16;
/** Bigger plaintexts than this are not restic's (index files are kept below 8 MiB). */
export const MAX_PLAINTEXT = 256 * 1024 * 1024;
/** scrypt parameters needing more memory (128·N·r·p bytes) are not restic's: never tried. */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

// ---- Poly1305-AES (Bernstein, "The Poly1305-AES message-authentication code", 2005) ----

const P1305 = (1n << 130n) - 5n;
const MASK128 = (1n << 128n) - 1n;
const MASK130 = (1n << 130n) - 1n;
/** r's clamp: the top four bits of r[3], r[7], r[11], r[15] and the low two of r[4], r[8], r[12] cleared. */
const R_CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn;
const HIBIT = 1n << 128n;

const le128 = (b: Buffer, at = 0): bigint => b.readBigUInt64LE(at) | (b.readBigUInt64LE(at + 8) << 64n);

/** Poly1305 of `msg` with the 16-byte key r (clamped here) and the 16-byte s (exported for its test vectors). */
export function poly1305(msg: Buffer, r: Buffer, s: Buffer): Buffer {
  const rr = le128(r) & R_CLAMP;
  let h = 0n;
  const full = msg.length - (msg.length % 16);
  for (let i = 0; i < full; i += 16) {
    // Kept below 2^131 by folding the bits above 2^130 back (2^130 ≡ 5); fully reduced at the end.
    const x = (h + (le128(msg, i) | HIBIT)) * rr;
    h = (x & MASK130) + (x >> 130n) * 5n;
  }
  if (full < msg.length) {
    const last = Buffer.alloc(16);
    msg.copy(last, 0, full);
    const x = (h + (le128(last) | (1n << BigInt(8 * (msg.length - full))))) * rr;
    h = (x & MASK130) + (x >> 130n) * 5n;
  }
  const tag = ((h % P1305) + le128(s)) & MASK128;
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(tag & 0xffffffffffffffffn, 0);
  out.writeBigUInt64LE(tag >> 64n, 8);
  return out;
}

/** Poly1305-AES: s is AES-128 with key k of the nonce (restic's IV). */
function macOf(key: MasterKey, iv: Buffer, ciphertext: Buffer): Buffer {
  const aes = createCipheriv('aes-128-ecb', key.macK, null).setAutoPadding(false);
  const s = Buffer.concat([aes.update(iv), aes.final()]);
  return poly1305(ciphertext, key.macR, s);
}

function ctr(key: MasterKey, iv: Buffer, data: Buffer): Buffer {
  const c = createDecipheriv('aes-256-ctr', key.encrypt, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** Decrypts IV || CIPHERTEXT || MAC; throws ResticCryptoError 'MAC' when the MAC does not match (wrong key or changed bytes). */
export function decrypt(key: MasterKey, bytes: Buffer): Buffer {
  if (bytes.length < IV_SIZE + MAC_SIZE) throw new ResticCryptoError('MAC', `${bytes.length} bytes: too short for restic's encryption (IV and MAC alone are 32)`);
  const iv = bytes.subarray(0, IV_SIZE);
  const ciphertext = bytes.subarray(IV_SIZE, bytes.length - MAC_SIZE);
  const mac = bytes.subarray(bytes.length - MAC_SIZE);
  if (!timingSafeEqual(macOf(key, iv, ciphertext), mac)) throw new ResticCryptoError('MAC', 'the MAC does not match: not encrypted with this repository\'s key');
  return ctr(key, iv, ciphertext);
}

/** Encrypts as restic does (a random IV unless one is given). For tests and tools; rwm never writes repository files. */
export function encrypt(key: MasterKey, plaintext: Buffer, iv: Buffer = randomBytes(IV_SIZE)): Buffer {
  const ciphertext = ctr(key, iv, plaintext);
  return Buffer.concat([iv, ciphertext, macOf(key, iv, ciphertext)]);
}

// ---- key files ----

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const keyFileSchema = z.object({ kdf: z.literal('scrypt'), N: z.number().int().min(2), r: z.number().int().positive(), p: z.number().int().positive(), salt: b64, data: b64 });
const masterKeySchema = z.object({ mac: z.object({ k: b64, r: b64 }), encrypt: b64 });

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Node refuses 128·N·r above maxmem; p runs sequentially, so it adds time, not memory.
    scrypt(password, salt, 64, { N, r, p, maxmem: 128 * N * r + 16 * 1024 * 1024 }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** The master key inside one key file, or undefined when the file is not a key file or not for this password. */
async function openKeyFile(file: Buffer, password: string): Promise<MasterKey | undefined> {
  let parsed: z.infer<typeof keyFileSchema>;
  try {
    parsed = keyFileSchema.parse(JSON.parse(file.toString('utf8')));
  } catch {
    return undefined;
  }
  const { N, r, p } = parsed;
  if ((N & (N - 1)) !== 0 || 128 * N * r * p > MAX_SCRYPT_MEMORY) return undefined;
  const derived = await scryptAsync(password, Buffer.from(parsed.salt, 'base64'), N, r, p);
  const user: MasterKey = { encrypt: derived.subarray(0, 32), macK: derived.subarray(32, 48), macR: derived.subarray(48, 64) };
  let plain: Buffer;
  try {
    plain = decrypt(user, Buffer.from(parsed.data, 'base64'));
  } catch {
    return undefined;
  }
  const mk = masterKeySchema.safeParse(safeJson(plain));
  if (!mk.success) return undefined;
  const key = { encrypt: Buffer.from(mk.data.encrypt, 'base64'), macK: Buffer.from(mk.data.mac.k, 'base64'), macR: Buffer.from(mk.data.mac.r, 'base64') };
  return key.encrypt.length === 32 && key.macK.length === 16 && key.macR.length === 16 ? key : undefined;
}

/**
 * Opens the repository's master key with the password, trying the key files (the bytes of keys/
 * files) in order. A file that is not a key file, or is one for another password, is skipped.
 * Rejects with ResticCryptoError 'WRONG_PASSWORD' when none opens.
 */
export async function openMasterKey(keyFiles: Buffer[], password: string): Promise<MasterKey> {
  for (const f of keyFiles) {
    const key = await openKeyFile(f, password);
    if (key !== undefined) return key;
  }
  throw new ResticCryptoError('WRONG_PASSWORD', keyFiles.length === 0 ? 'the repository has no key files' : `the password opens none of the repository's ${keyFiles.length} key file(s)`);
}

// ---- unpacked files: encoding version, zstd, JSON ----

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Refuses zstd frames whose window or declared content exceeds `max` before fzstd allocates them
 * (it allocates what a frame header declares, up to 2 GiB): the backup host knows the password and
 * can encrypt whatever it likes.
 */
function checkZstdFrames(data: Buffer, max: number): void {
  const bad = (why: string): never => {
    throw new ResticCryptoError('FORMAT', `zstd: ${why}`);
  };
  let i = 0;
  while (i < data.length) {
    if (data.length - i < 8) bad('truncated frame');
    const magic = data.readUInt32LE(i);
    if (magic >>> 4 === 0x184d2a5) {
      i += 8 + data.readUInt32LE(i + 4);
      continue;
    }
    if (magic !== 0xfd2fb528) bad('not a zstd frame');
    const fhd = data[i + 4] as number;
    const single = (fhd & 0x20) !== 0;
    let p = i + 5;
    let window = 0;
    if (!single) {
      const wd = data[p++] as number;
      const base = 2 ** ((wd >> 3) + 10);
      window = base + (base / 8) * (wd & 7);
    }
    p += [0, 1, 2, 4][fhd & 3] as number;
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >> 6] as number;
    if (p + fcsBytes > data.length) bad('truncated frame header');
    let size = 0;
    for (let b = 0; b < fcsBytes; b++) size += (data[p + b] as number) * 2 ** (8 * b);
    if (fcsBytes === 2) size += 256;
    p += fcsBytes;
    if (single) window = size;
    if (window > max || size > max) bad(`a frame declares more than ${max} bytes`);
    for (;;) {
      if (p + 3 > data.length) bad('truncated block');
      const bh = (data[p] as number) | ((data[p + 1] as number) << 8) | ((data[p + 2] as number) << 16);
      const type = (bh >> 1) & 3;
      if (type === 3) bad('reserved block type');
      p += 3 + (type === 1 ? 1 : bh >>> 3);
      if ((bh & 1) !== 0) break;
    }
    i = p + ((fhd & 4) !== 0 ? 4 : 0);
  }
}

function unzstd(data: Buffer, max: number): Buffer {
  checkZstdFrames(data, max);
  const out: Buffer[] = [];
  let total = 0;
  const d = new Decompress((chunk) => {
    total += chunk.length;
    if (total > max) throw new ResticCryptoError('FORMAT', `zstd: decompresses to more than ${max} bytes`);
    out.push(Buffer.from(chunk));
  });
  try {
    d.push(data, true);
  } catch (err) {
    if (err instanceof ResticCryptoError) throw err;
    throw new ResticCryptoError('FORMAT', `zstd: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(out, total);
}

/**
 * The JSON document of a decrypted unpacked file (config, index, snapshot, lock): plain JSON when
 * it starts with '{' or '[' (repository v1), zstd-compressed JSON after a version byte 2 (v2).
 */
export function parseUnpacked(plain: Buffer, max = MAX_PLAINTEXT): unknown {
  const v = plain[0];
  let json: Buffer;
  if (v === 0x7b || v === 0x5b) json = plain;
  else if (v === 2) json = unzstd(plain.subarray(1), max);
  else throw new ResticCryptoError('FORMAT', plain.length === 0 ? 'empty plaintext' : `unknown encoding version 0x${v?.toString(16).padStart(2, '0')}`);
  const doc = safeJson(json);
  if (doc === undefined) throw new ResticCryptoError('FORMAT', 'the plaintext is not JSON');
  return doc;
}

// As lenient as restic's own decoding (Go's encoding/json: a nil slice is null, hex in either case),
// so that nothing restic can read is called junk.
const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/);
const count = z.number().int().nonnegative();
const packSchema = z.object({ id: hex64, blobs: z.array(z.object({ id: hex64, type: z.enum(['data', 'tree']), offset: count, length: count, uncompressed_length: count.optional() })).nullable() });
const indexSchema = z.object({ supersedes: z.array(hex64).nullish(), packs: z.array(packSchema).nullable() });
// the index format before restic 0.2: the array of packs alone (restic still reads it)
const oldIndexSchema = z.array(packSchema);
const snapshotSchema = z.object({
  time: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/),
  tree: hex64,
  paths: z.array(z.string()),
});

/**
 * Undefined when `bytes` are a restic file of that kind encrypted with `key`, else why not (it
 * does not decrypt, is not JSON, or is JSON restic cannot use as an index or a snapshot).
 */
export function junkProblem(kind: 'index' | 'snapshots', key: MasterKey, bytes: Buffer): string | undefined {
  let doc: unknown;
  try {
    doc = parseUnpacked(decrypt(key, bytes));
  } catch (err) {
    if (err instanceof ResticCryptoError) return err.message;
    throw err;
  }
  const r = (kind === 'snapshots' ? snapshotSchema : Array.isArray(doc) ? oldIndexSchema : indexSchema).safeParse(doc);
  if (r.success) return undefined;
  const where = r.error.issues.slice(0, 3).map((i) => i.path.join('.') || i.message);
  return `not a restic ${kind === 'index' ? 'index' : 'snapshot'} (${where.join(', ')})`;
}
