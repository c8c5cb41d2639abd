// /proc/softirqs: per-CPU softirq counts by type since boot.
import type { Softirqs } from '../model/snapshot.js';
import { parseUint, readProcText, tokenizeLines } from './procFile.js';

const CPU_HEADER_RE = /^CPU(\d+)$/;
const ROW_NAME_RE = /^([A-Za-z0-9_]+):$/;

/**
 * Parses /proc/softirqs text. The header names the columns (the kernel prints every *possible* CPU,
 * so offline CPUs keep a column); a row shorter than the header, or with a non-number, is skipped.
 */
export function parseSoftirqs(text: string): Softirqs {
  let cpus: number[] | null = null;
  const counts: Record<string, number[]> = {};
  for (const tokens of tokenizeLines(text)) {
    if (cpus === null) {
      if (!CPU_HEADER_RE.test(tokens[0])) continue;
      // A truncated header keeps its leading well-formed columns.
      const header: number[] = [];
      for (const t of tokens) {
        const m = CPU_HEADER_RE.exec(t);
        if (!m) break;
        header.push(Number(m[1]));
      }
      cpus = header;
      continue;
    }
    const m = ROW_NAME_RE.exec(tokens[0]);
    if (!m || m[1] === '__proto__' || Object.hasOwn(counts, m[1]) || tokens.length - 1 < cpus.length) continue;
    const row = tokens.slice(1, 1 + cpus.length).map(parseUint);
    if (row.some(Number.isNaN)) continue;
    counts[m[1]] = row;
  }
  return { cpus: cpus ?? [], counts };
}

/** Reads `<procRoot>/softirqs`; null when the file is unreadable or has no header or no usable row. */
export function readSoftirqs(procRoot: string): Softirqs | null {
  const text = readProcText(`${procRoot}/softirqs`);
  if (text === null) return null;
  const parsed = parseSoftirqs(text);
  return parsed.cpus.length > 0 && Object.keys(parsed.counts).length > 0 ? parsed : null;
}
