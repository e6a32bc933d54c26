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
  const warning = looseModeWarning('config file', path, st.mode);
  if (warning !== undefined) warnings.push(warning);
  return { config: parseConfig(text, path), warnings };
}

/** A warning when group or others may use a file that holds secrets (any of 0o077); undefined if it is private. */
export function looseModeWarning(what: string, file: string, mode: number): string | undefined {
  const perms = mode & 0o777;
  if ((perms & 0o077) === 0) return undefined;
  const how = [(perms & 0o044) !== 0 ? 'readable' : '', (perms & 0o022) !== 0 ? 'writable' : ''].filter((x) => x !== '').join(' and ') || 'accessible';
  return `${what} ${file} is ${how} by group or others (mode ${perms.toString(8).padStart(3, '0')}): chmod 600 ${file}`;
}
