// `restic snapshots --json`: one JSON array of snapshots. Objects are not strict: newer restic adds
// fields (program_version, summary in 0.17), which are kept where rwm reads them and dropped otherwise.
import { z } from 'zod';

const hexId = z.string().regex(/^[0-9a-f]{64}$/, 'a 64-digit hex id');

/** The fields of a snapshot restic prints everywhere (forget's reasons omit the ids). */
export const snapshotBodySchema = z.object({
  time: z.string().min(1),
  tree: hexId,
  paths: z.array(z.string()),
  hostname: z.string(),
  username: z.string(),
  uid: z.number().int().optional(),
  gid: z.number().int().optional(),
  tags: z.array(z.string()).nullish(),
  excludes: z.array(z.string()).nullish(),
  parent: hexId.optional(),
  original: hexId.optional(),
  program_version: z.string().optional(),
  /** restic ≥ 0.17 only. */
  summary: z.record(z.string(), z.unknown()).optional(),
});

export const snapshotSchema = snapshotBodySchema.extend({
  id: hexId,
  short_id: z.string().regex(/^[0-9a-f]{8,}$/),
});

export const snapshotsSchema = z.array(snapshotSchema);

export type Snapshot = z.infer<typeof snapshotSchema>;
