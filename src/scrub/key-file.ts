// Is this a restic key file? Key files are plain JSON (the master key inside is encrypted), so a
// hash-named garbage file in keys/ — which makes restic unable to open the repository at all — is
// recognised without the repository password.
import { z } from 'zod';

const b64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

const keyFileSchema = z.object({
  created: z.string().optional(),
  username: z.string().optional(),
  hostname: z.string().optional(),
  kdf: z.literal('scrypt'),
  N: z.number().int().positive(),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  salt: b64,
  data: b64,
});

/** Undefined when the bytes are a restic key file, else why not. */
export function keyFileProblem(bytes: Buffer): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const r = keyFileSchema.safeParse(v);
  return r.success ? undefined : `not a restic key file (${r.error.issues.map((i) => i.path.join('.') || i.message).slice(0, 3).join(', ')})`;
}

/** restic key files are small; a keys/ file larger than this is not one. */
export const MAX_KEY_FILE = 64 * 1024;
