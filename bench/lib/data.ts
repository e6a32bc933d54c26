// Generated benchmark data: deterministic, incompressible bytes, the same in every run and for every
// server, so each one backs up exactly the same files.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** `size` pseudo-random bytes, the same for the same seed: AES-128-CTR over zeros (~2 GB/s). */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const out = Buffer.allocUnsafe(size);
  const zeros = Buffer.alloc(Math.min(size, MiB));
  for (let off = 0; off < size; off += zeros.length) {
    cipher.update(zeros.subarray(0, Math.min(zeros.length, size - off))).copy(out, off);
  }
  return out;
}

/** A small seeded PRNG (mulberry32), so the file sizes are the same in every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** File sizes from 4 KiB to 64 MiB adding up to `total`, skewed towards small files (~290 per GiB). */
export function fileSizes(total: number): number[] {
  const rand = prng(0x5eed);
  const min = 4 * KiB;
  const max = Math.max(min, Math.min(64 * MiB, total));
  const sizes: number[] = [];
  for (let left = total; left > 0; ) {
    const size = Math.min(left, Math.round(min * (max / min) ** (rand() ** 2)));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** Writes the backup source tree once; both servers back up the same files. */
export async function generateTree(dir: string, totalBytes: number): Promise<{ files: number; bytes: number }> {
  const sizes = fileSizes(totalBytes);
  for (const [i, size] of sizes.entries()) {
    const sub = join(dir, `d${i % 16}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${i}.bin`), seededBytes(`file-${i}`, size));
  }
  return { files: sizes.length, bytes: totalBytes };
}
