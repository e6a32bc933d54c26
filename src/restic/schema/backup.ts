// `restic backup --json`: one JSON message per line — progress (`status`), per-file (`verbose_status`
// with --verbose), per-item read errors (`error`) and one `summary` at the end.
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const backupStatusSchema = z.object({
  message_type: z.literal('status'),
  percent_done: z.number(),
  seconds_elapsed: z.number().optional(),
  seconds_remaining: z.number().optional(),
  total_files: count.optional(),
  files_done: count.optional(),
  total_bytes: count.optional(),
  bytes_done: count.optional(),
  error_count: count.optional(),
  current_files: z.array(z.string()).nullish(),
});

export const backupErrorSchema = z.object({
  message_type: z.literal('error'),
  // restic 0.14 marshals the Go error value, which is usually `{}`; newer versions give {message}
  error: z.unknown(),
  during: z.string(),
  item: z.string(),
});

export const backupVerboseSchema = z.object({
  message_type: z.literal('verbose_status'),
  action: z.string(),
  item: z.string(),
  duration: z.number().optional(),
  data_size: count.optional(),
  metadata_size: count.optional(),
  total_files: count.optional(),
});

export const backupSummarySchema = z.object({
  message_type: z.literal('summary'),
  files_new: count,
  files_changed: count,
  files_unmodified: count,
  dirs_new: count,
  dirs_changed: count,
  dirs_unmodified: count,
  data_blobs: z.number().int(),
  tree_blobs: z.number().int(),
  data_added: count,
  total_files_processed: count,
  total_bytes_processed: count,
  total_duration: z.number(),
  /** Absent with --dry-run. */
  snapshot_id: z.string().regex(/^[0-9a-f]{8,64}$/).optional(),
});

export const backupMessageSchema = z.discriminatedUnion('message_type', [backupStatusSchema, backupErrorSchema, backupVerboseSchema, backupSummarySchema]);

export type BackupStatus = z.infer<typeof backupStatusSchema>;
export type BackupItemError = z.infer<typeof backupErrorSchema>;
export type BackupSummary = z.infer<typeof backupSummarySchema>;
export type BackupMessage = z.infer<typeof backupMessageSchema>;

/**
 * One stdout line of `backup --json`: a message, `undefined` for a line that is not a known message
 * (blank, or a message type a newer restic added), or a thrown Error for a known type that is malformed.
 */
export function parseBackupLine(line: string): BackupMessage | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  const type = (v as { message_type?: unknown }).message_type;
  if (type !== 'status' && type !== 'error' && type !== 'verbose_status' && type !== 'summary') return undefined;
  return backupMessageSchema.parse(v);
}
