// Reading /proc-style files, and the number syntax their parsers share.
import { readFileSync } from 'node:fs';

/** errno codes that mean "this file is not there for us": absent, not permitted, or the task vanished. */
const ABSENT_CODES: ReadonlySet<string> = new Set(['ENOENT', 'EACCES', 'EPERM', 'ESRCH', 'ENOTDIR', 'EINVAL']);

/** Reads a whole /proc-style file as UTF-8; null when it is absent, not permitted or its task vanished. */
export function readProcText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrnoCode(err, ABSENT_CODES)) return null;
    throw err;
  }
}

/** True when `err` is a Node system error whose `code` is one of `codes`. */
export function isErrnoCode(err: unknown, codes: ReadonlySet<string>): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && codes.has(code);
}

const UINT_RE = /^\d+$/;
const INT_RE = /^-?\d+$/;
const DECIMAL_RE = /^-?\d+(?:\.\d+)?$/;

/** Parses an unsigned decimal integer token ("123"); NaN for anything else (signs, junk, empty). */
export function parseUint(token: string | undefined): number {
  return token !== undefined && UINT_RE.test(token) ? Number(token) : NaN;
}

/** Parses a signed decimal integer token ("-12"); NaN for anything else. */
export function parseInteger(token: string | undefined): number {
  return token !== undefined && INT_RE.test(token) ? Number(token) : NaN;
}

/** Parses a plain decimal token ("0.24", "-1.5", "3"); NaN for anything else (no exponents, no hex). */
export function parseDecimal(token: string | undefined): number {
  return token !== undefined && DECIMAL_RE.test(token) ? Number(token) : NaN;
}

/** Splits text into lines, then each line into whitespace-separated tokens, dropping empty lines. */
export function tokenizeLines(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length === 1 && tokens[0] === '') continue;
    out.push(tokens);
  }
  return out;
}
