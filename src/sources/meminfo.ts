// /proc/meminfo: memory totals by the kernel's names.
import { parseInteger, readProcText } from './procFile.js';

const LINE_RE = /^([A-Za-z0-9_()]+):\s*(-?\d+)(?:\s+kB)?$/;

/**
 * Parses /proc/meminfo text into name → value as written: kB for `kB` lines, plain counts for the
 * unitless ones (HugePages_Total, ...). Malformed lines are skipped; the first of duplicate names wins.
 */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = LINE_RE.exec(line.trim());
    if (!m || m[1] === '__proto__' || Object.hasOwn(out, m[1])) continue;
    const v = parseInteger(m[2]);
    if (!Number.isNaN(v)) out[m[1]] = v;
  }
  return out;
}

/** Reads `<procRoot>/meminfo`; null when the file is unreadable or no line parsed. */
export function readMeminfo(procRoot: string): Record<string, number> | null {
  const text = readProcText(`${procRoot}/meminfo`);
  if (text === null) return null;
  const parsed = parseMeminfo(text);
  return Object.keys(parsed).length > 0 ? parsed : null;
}
