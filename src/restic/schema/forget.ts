// `restic forget --json`: one line holding an array of groups (by host and paths, by default), each
// with the snapshots kept and removed and why. With `--prune`, prune's plain-text report follows on
// later lines; when no snapshot matches, restic 0.14 prints nothing at all.
import { z } from 'zod';
import { snapshotBodySchema, snapshotSchema } from './snapshots.js';

export const forgetReasonSchema = z.object({
  // restic 0.14 prints the snapshot without its id here
  snapshot: snapshotBodySchema.extend({ id: z.string().optional(), short_id: z.string().optional() }),
  matches: z.array(z.string()).nullable(),
  counters: z.record(z.string(), z.number()).nullish(),
});

export const forgetGroupSchema = z.object({
  tags: z.array(z.string()).nullable(),
  host: z.string(),
  paths: z.array(z.string()).nullable(),
  keep: z.array(snapshotSchema).nullable().transform((v) => v ?? []),
  remove: z.array(snapshotSchema).nullable().transform((v) => v ?? []),
  reasons: z.array(forgetReasonSchema).nullable().transform((v) => v ?? []),
});

export const forgetSchema = z.array(forgetGroupSchema);

export type ForgetGroup = z.infer<typeof forgetGroupSchema>;

/** Splits forget's stdout into the JSON groups (first line starting with `[`) and the text after it. */
export function splitForgetOutput(stdout: string): { json: string | undefined; rest: string[] } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith('['));
  if (at < 0) return { json: undefined, rest: lines.filter((l) => l.trim() !== '') };
  return { json: lines[at], rest: [...lines.slice(0, at), ...lines.slice(at + 1)].filter((l) => l.trim() !== '') };
}
