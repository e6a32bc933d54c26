// mkdir -p that reports the real error. Node 20's mkdir({ recursive: true }) reports ENOENT when a
// directory cannot be created on a read-only file system (EROFS), which made `?create=true` a 404.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from './fs-errors.js';

export async function mkdirp(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    await mkdirp(parent, mode);
    try {
      await mkdir(dir, { mode });
    } catch (again) {
      if (errnoCode(again) !== 'EEXIST') throw again;
    }
  }
}
