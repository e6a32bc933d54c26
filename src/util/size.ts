// Byte sizes as people write them: 1048576, 512M, 10GiB, 1.5G (binary multiples).
const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

export function parseSize(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0) throw new Error(`invalid size ${text}`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m?.[1] || unit === undefined) throw new Error(`invalid size "${text}" (examples: 1048576, 512M, 10GiB)`);
  const value = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(value)) throw new Error(`size "${text}" is too large`);
  return value;
}
