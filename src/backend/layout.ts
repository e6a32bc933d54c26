// restic's on-disk and object-key layout ("default layout"): data files are spread over 256
// sub-directories by their first two hex digits; other types sit flat; `config` at the top.
import type { FileType, Handle } from './handle.js';

/** Path segments of a file relative to the repository root, e.g. ['data', 'ab', 'ab12…']. */
export function handlePath(h: Handle): string[] {
  if (h.type === 'config') return ['config'];
  if (h.type === 'data') return ['data', h.name.slice(0, 2), h.name];
  return [h.type, h.name];
}

export function isSharded(type: FileType): boolean {
  return type === 'data';
}

/** The 256 shard directory names of `data/`, as restic's local backend creates them. */
export function shardNames(): string[] {
  return Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
}
