// /proc/loadavg: load averages and the runnable/total scheduling-entity counts.
import type { LoadAvg } from '../model/snapshot.js';
import { parseDecimal, parseUint, readProcText } from './procFile.js';

/**
 * Parses /proc/loadavg text (`0.00 0.01 0.05 1/123 4567`). Null unless the three load averages parse;
 * runnable/total are NaN when the `R/T` field is missing or malformed.
 */
export function parseLoadAvg(text: string): LoadAvg | null {
  const tokens = text.trim().split(/\s+/);
  const [load1, load5, load15] = tokens.slice(0, 3).map(parseDecimal);
  if ([load1, load5, load15].some((v) => v === undefined || Number.isNaN(v) || v < 0)) return null;
  const counts = (tokens[3] ?? '').split('/');
  const ok = counts.length === 2;
  return {
    load1,
    load5,
    load15,
    runnable: ok ? parseUint(counts[0]) : NaN,
    total: ok ? parseUint(counts[1]) : NaN,
  };
}

/** Reads `<procRoot>/loadavg`; null when the file is unreadable or has no load averages. */
export function readLoadAvg(procRoot: string): LoadAvg | null {
  const text = readProcText(`${procRoot}/loadavg`);
  return text === null ? null : parseLoadAvg(text);
}
