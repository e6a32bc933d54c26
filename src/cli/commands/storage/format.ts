// Text output of the storage commands, for people; `--json` prints the objects themselves.
import type { CheckReport } from '../../../storage/findings.js';
import type { Inventory } from '../../../storage/inventory.js';

export function formatCheck(r: CheckReport, verbose = false): string {
  const lines = [`${r.bucket}: ${r.ok ? 'policed' : `NOT policed (${r.findings.length} finding${r.findings.length === 1 ? '' : 's'})`}`];
  for (const f of r.findings) lines.push(`  - [${f.code}] ${f.message}`);
  if (r.probes.length > 0) {
    const refused = r.probes.filter((p) => p.outcome === 'refused').length;
    lines.push(`  tried ${r.probes.length} requests with the backup user's keys: ${refused} forbidden ones refused`);
    if (verbose) for (const p of r.probes) lines.push(`    ${p.outcome.padEnd(12)} ${p.action}: ${p.detail}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return `${lines.join('\n')}\n`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u] ?? ''}`;
}

export function formatInventory(i: Inventory): string[] {
  return [
    `current versions:    ${i.current.count} (${formatBytes(i.current.bytes)})`,
    `noncurrent versions: ${i.noncurrent.count} (${formatBytes(i.noncurrent.bytes)})`,
    `delete markers:      ${i.deleteMarkers.count}`,
    `incomplete uploads:  ${i.incompleteUploads}`,
  ];
}

/** A plain table: columns padded to their widest cell; `right` lists right-aligned columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
