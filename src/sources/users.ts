// uid → login name, from /etc/passwd (read once; a uid missing from it is shown as a number).
import { readFileSync } from 'node:fs';

/** Parses passwd(5) text into a uid → name map; malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || fields[0] === '') continue;
    const uid = Number(fields[2]);
    if (Number.isInteger(uid) && !names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}

/** Reads a passwd file into a uid → name map; an unreadable file gives an empty map. */
export function readPasswd(path = '/etc/passwd'): Map<number, string> {
  try {
    return parsePasswd(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}
