// /proc/vmstat: virtual-memory counters by the kernel's names.
import { parseInteger, readProcText, tokenizeLines } from './procFile.js';

const NAME_RE = /^[A-Za-z0-9_]+$/;

/** Parses /proc/vmstat text (`name value` per line); malformed lines are skipped, the first duplicate wins. */
export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tokens of tokenizeLines(text)) {
    if (tokens.length !== 2) continue;
    const [name, value] = tokens;
    if (!NAME_RE.test(name) || name === '__proto__' || Object.hasOwn(out, name)) continue;
    const v = parseInteger(value);
    if (!Number.isNaN(v)) out[name] = v;
  }
  return out;
}

/** Reads `<procRoot>/vmstat`; null when the file is unreadable or no line parsed. */
export function readVmstat(procRoot: string): Record<string, number> | null {
  const text = readProcText(`${procRoot}/vmstat`);
  if (text === null) return null;
  const parsed = parseVmstat(text);
  return Object.keys(parsed).length > 0 ? parsed : null;
}
