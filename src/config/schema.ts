// The rwm config file (YAML). Strict: an unknown key is an error, reported with its path.
import { z } from 'zod';
import { parseRepoPath } from '../backend/repo-path.js';
import { parseSize } from '../util/size.js';

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const repoPath = z.string().transform((v, ctx) => {
  try {
    return parseRepoPath(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const userRuleSchema = z.strictObject({
  /** Repository paths (and everything below them) the user may use. Default: /<user>/ with private repos, else all. */
  repos: z.array(repoPath).min(1).optional(),
  appendOnly: z.boolean().optional(),
  maxSize: size.optional(),
});

export const serveSectionSchema = z.strictObject({
  users: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'user names may use letters, digits, ".", "_" and "-"'), userRuleSchema).default({}),
});

export const configSchema = z.strictObject({
  serve: serveSectionSchema.default({ users: {} }),
});

export type RwmConfig = z.infer<typeof configSchema>;
export type UserRuleConfig = z.infer<typeof userRuleSchema>;
