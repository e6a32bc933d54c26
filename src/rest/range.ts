// HTTP Range requests as restic sends them: "bytes=a-b", "bytes=a-" and the suffix form "bytes=-n".

export type RangeResult = { readonly start: number; readonly end: number } | 'none' | 'unsatisfiable';

/** Parses a single byte range against a file of `size` bytes; `end` is inclusive. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return 'none';
  // RFC 9110 §14.2: a range unit the server does not know is ignored (the whole file is sent);
  // range units are case-insensitive (§14.1)
  if (!/^\s*bytes=/i.test(header)) return 'none';
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'unsatisfiable';
  const a = m[1] === '' ? undefined : Number(m[1]);
  // §14.1.1: a last-pos at or past the end means the end, however many digits it has (a number
  // beyond 2^53 is past any file); likewise a suffix longer than the file means all of it.
  const b = m[2] === '' ? undefined : Math.min(Number(m[2]), Number.MAX_SAFE_INTEGER);
  if (a !== undefined && !Number.isSafeInteger(a)) return 'unsatisfiable';
  if (a === undefined) {
    // suffix: the last b bytes
    if (b === undefined || b === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - b), end: size - 1 };
  }
  if (a >= size) return 'unsatisfiable';
  if (b !== undefined && b < a) return 'unsatisfiable';
  return { start: a, end: b === undefined ? size - 1 : Math.min(b, size - 1) };
}
