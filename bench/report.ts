// Text and JSON output of the benchmarks: number formats, plain text tables, the results file.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/** `v` with `digits` decimals (by default 0 from 100 up, 1 from 10 up, else 2); '–' when missing or not finite. */
export function fmt(v: number | null | undefined, digits?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const d = digits ?? (v >= 100 ? 0 : v >= 10 ? 1 : 2);
  return v.toFixed(d);
}

/** A ratio as `1.23×`; '–' when missing or not finite. */
export function fmtRatio(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`;
}

/** Renders rows as a plain text table; the first row is the header. Numeric-looking cells align right. */
export function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c > 0 && /^[\d.–×\s[\]/-]+$/.test(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '─'.repeat(w)).join('  '));
  return lines.map((l) => indent + l).join('\n');
}

/** Writes `json` (indented, with a final newline) to `file` and says so on stdout. */
export function writeResults(file: string, json: unknown): void {
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  console.log(`Results written to ${relative(process.cwd(), file) || file}`);
}
