// /proc/pressure/{cpu,memory,io}: pressure stall information (PSI).
import type { Pressure, PressureFile, PressureLine } from '../model/snapshot.js';
import { isErrnoCode, parseDecimal, parseUint, readProcText, tokenizeLines } from './procFile.js';

/** Errors a PSI file gives when PSI is compiled in but disabled (EOPNOTSUPP; Node names it ENOTSUP). */
const PSI_DISABLED_CODES: ReadonlySet<string> = new Set(['EOPNOTSUPP', 'ENOTSUP']);

/** Parses `avg10=… avg60=… avg300=… total=…` (the tokens after some/full); null unless all four parse. */
function parsePressureLine(tokens: string[]): PressureLine | null {
  const fields = new Map<string, string>();
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq > 0 && !fields.has(t.slice(0, eq))) fields.set(t.slice(0, eq), t.slice(eq + 1));
  }
  const line: PressureLine = {
    avg10: parseDecimal(fields.get('avg10')),
    avg60: parseDecimal(fields.get('avg60')),
    avg300: parseDecimal(fields.get('avg300')),
    totalUs: parseUint(fields.get('total')),
  };
  return Object.values(line).some(Number.isNaN) ? null : line;
}

/**
 * Parses one PSI file. Null when it has no well-formed `some` line; `full` is null when absent or
 * malformed (the cpu file before Linux 5.13 has no full line).
 */
export function parsePressure(text: string): PressureFile | null {
  let some: PressureLine | null = null;
  let full: PressureLine | null = null;
  for (const tokens of tokenizeLines(text)) {
    if (tokens[0] === 'some') some ??= parsePressureLine(tokens.slice(1));
    else if (tokens[0] === 'full') full ??= parsePressureLine(tokens.slice(1));
  }
  return some === null ? null : { some, full };
}

/** Reads and parses one PSI file; null when absent, unreadable, disabled or malformed. */
function readPressureFile(path: string): PressureFile | null {
  let text: string | null;
  try {
    text = readProcText(path);
  } catch (err) {
    if (isErrnoCode(err, PSI_DISABLED_CODES)) return null;
    throw err;
  }
  return text === null ? null : parsePressure(text);
}

/** Reads `<procRoot>/pressure/{cpu,memory,io}`; each is null when unavailable (never zeros). */
export function readPressure(procRoot: string): Pressure {
  return {
    cpu: readPressureFile(`${procRoot}/pressure/cpu`),
    memory: readPressureFile(`${procRoot}/pressure/memory`),
    io: readPressureFile(`${procRoot}/pressure/io`),
  };
}
