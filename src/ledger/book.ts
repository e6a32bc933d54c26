// The trusted host's own record of a repository's snapshots (its "book"), in the state directory:
// every snapshot it has ever seen with the facts it had then (host, paths, tags, restic's time, the
// trusted arrival time, size), every one it removed itself and with which run, and the findings an
// operator accepted. Facts are written when a snapshot is first seen and never changed after, so a
// later tampering cannot rewrite them.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const FINDING_CODES = ['vanished', 'time-forged', 'shrunk', 'unexpected', 'unrecorded'] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

const entrySchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  hostname: z.string(),
  paths: z.array(z.string()),
  tags: z.array(z.string()),
  /** restic's own `time` (chosen by the backup host). */
  time: z.string(),
  tree: z.string(),
  /** The trusted arrival time (ISO). */
  arrival: z.string(),
  /** server: rwm serve's ledger; bucket: the first version's LastModified (S3); file: the file's mtime. */
  arrivalSource: z.enum(['server', 'bucket', 'file']),
  /** rwm serve recorded storing it. */
  recorded: z.boolean(),
  user: z.string().optional(),
  addr: z.string().optional(),
  /** restic stats --mode restore-size: files (and directories) and bytes of the restored tree. */
  files: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative().optional(),
  firstSeen: z.string(),
  /** Removed by a trusted run (rwm maintain / rwm ledger forget). */
  removed: z.strictObject({ at: z.string(), run: z.string() }).optional(),
  /** Findings an operator accepted for this snapshot (rwm ledger accept). */
  accepted: z.strictObject({ at: z.string(), codes: z.array(z.enum(FINDING_CODES)), reason: z.string().optional() }).optional(),
});

export const bookSchema = z.strictObject({
  format: z.literal('rwm-ledger-book'),
  version: z.literal(1),
  repository: z.string(),
  created: z.string(),
  updated: z.string(),
  /** Sorted by arrival, oldest first. */
  snapshots: z.array(entrySchema),
});

export type BookEntry = z.infer<typeof entrySchema>;
export type Book = z.infer<typeof bookSchema>;

export class BookError extends Error {
  override readonly name = 'BookError';
}

/** STATE_DIR/ledger/<bucket or _local>/<prefix or path hash>/book.json */
export function bookFile(stateDir: string, dirBucket: string, dirPrefix: string): string {
  return join(stateDir, 'ledger', dirBucket, ...(dirPrefix === '' ? [] : dirPrefix.split('/')), 'book.json');
}

export function emptyBook(repository: string, now: Date): Book {
  return { format: 'rwm-ledger-book', version: 1, repository, created: now.toISOString(), updated: now.toISOString(), snapshots: [] };
}

export async function loadBook(file: string, repository: string, now: Date): Promise<Book> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyBook(repository, now);
    throw err;
  }
  let parsed;
  try {
    parsed = bookSchema.safeParse(JSON.parse(text));
  } catch (err) {
    throw new BookError(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!parsed.success) throw new BookError(`${file} is not a ledger book rwm understands: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`);
  if (parsed.data.repository !== repository) throw new BookError(`${file} is the book of ${parsed.data.repository}, not of ${repository}`);
  return parsed.data;
}

/** Writes the book atomically (temp file, rename), readable by its owner only. */
export async function saveBook(file: string, book: Book): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(book, null, 1)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

export const byArrival = (a: BookEntry, b: BookEntry): number => Date.parse(a.arrival) - Date.parse(b.arrival) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
