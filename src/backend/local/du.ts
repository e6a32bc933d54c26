// Bytes used by the regular files below a directory (a missing directory uses none).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './fs-errors.js';

export async function diskUsage(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await diskUsage(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}
