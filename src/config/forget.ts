// restic's --keep-* rules as config: shared by `maintain.<job>.forget` (trusted host) and
// `backup.profiles.<name>.forget` (the backup host's local repositories).
import { z } from 'zod';

const count = z.number().int().positive().optional();
/** restic's durations (`30d`, `1y6m`, `12h`). */
const resticDuration = z.string().regex(/^(?:[0-9]+[ymdh])+$/, 'a restic duration such as 30d, 1y6m or 12h').optional();

/** restic's --keep-* options, by their names in camelCase. */
export const keepPolicySchema = z.strictObject({
  keepLast: count,
  keepHourly: count,
  keepDaily: count,
  keepWeekly: count,
  keepMonthly: count,
  keepYearly: count,
  keepWithin: resticDuration,
  keepWithinHourly: resticDuration,
  keepWithinDaily: resticDuration,
  keepWithinWeekly: resticDuration,
  keepWithinMonthly: resticDuration,
  keepWithinYearly: resticDuration,
  keepTags: z.array(z.array(z.string().min(1)).min(1)).optional(),
});
