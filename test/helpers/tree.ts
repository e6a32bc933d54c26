// Snapshots of a directory tree (path -> SHA-256), to assert that nothing changed byte for byte.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export async function treeDigest(root: string, ignore: (rel: string) => boolean = (r) => r.startsWith('.rwm-tmp')): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      const rel = relative(root, p);
      if (ignore(rel)) continue;
      if (e.isDirectory()) {
        out.set(rel + '/', 'dir');
        await walk(p);
      } else {
        out.set(rel, createHash('sha256').update(await readFile(p)).digest('hex'));
      }
    }
  }
  await walk(root);
  return out;
}
