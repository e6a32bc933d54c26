// Reads and validates the config file once; the rest of the program gets typed objects.
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import { configSchema, type RwmConfig } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(text: string, source: string): RwmConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new ConfigError(`${source}: invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

export async function loadConfig(path: string | undefined): Promise<{ config: RwmConfig; warnings: string[] }> {
  if (path === undefined) return { config: configSchema.parse({}), warnings: [] };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const warnings: string[] = [];
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) warnings.push(`config file ${path} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
  return { config: parseConfig(text, path), warnings };
}
