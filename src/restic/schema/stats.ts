// `restic stats --json`: one object. Which fields appear depends on --mode (raw-data adds blob counts
// and, on repository format 2 with restic ≥ 0.15, compression figures).
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const statsSchema = z.object({
  total_size: count,
  total_file_count: count,
  total_blob_count: count.optional(),
  snapshots_count: count.optional(),
  total_uncompressed_size: count.optional(),
  compression_ratio: z.number().optional(),
  compression_progress: z.number().optional(),
  compression_space_saving: z.number().optional(),
});

export type Stats = z.infer<typeof statsSchema>;

export type StatsMode = 'restore-size' | 'files-by-contents' | 'raw-data' | 'blobs-per-file';
