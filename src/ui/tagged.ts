// Measuring and cutting blessed-tagged lines by what the terminal shows, not by string length.
import { codePointWidth, displayWidth } from './format.js';

/** A blessed tag, as blessed itself recognises them (colour names, #rrggbb, bold, open/close ...). */
export const TAG_RE = /\{(\/?[\w\-,;!#]*)\}/y;

/** Visible width of a tagged line (tags take no room; {open}/{close} take one column). */
export function taggedWidth(line: string): number {
  let width = 0;
  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 0x7b /* { */) {
      TAG_RE.lastIndex = i;
      const m = TAG_RE.exec(line);
      if (m) {
        if (m[1] === 'open' || m[1] === 'close') width += 1;
        i += m[0].length;
        continue;
      }
    }
    if (c < 0x7f && c >= 0x20) {
      width += 1;
      i++;
      continue;
    }
    const cp = line.codePointAt(i)!;
    width += codePointWidth(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return width;
}

/** Cuts a tagged line to at most `width` visible columns, keeping tags (so colours close properly). */
export function clipTagged(line: string, width: number): string {
  let used = 0;
  let out = '';
  let i = 0;
  while (i < line.length) {
    if (line[i] === '{') {
      TAG_RE.lastIndex = i;
      const m = TAG_RE.exec(line);
      if (m) {
        const visible = m[1] === 'open' || m[1] === 'close' ? 1 : 0;
        if (visible && used + 1 > width) {
          i += m[0].length;
          continue;
        }
        used += visible;
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const cp = line.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const w = displayWidth(ch);
    if (used + w <= width) {
      out += ch;
      used += w;
    }
    i += ch.length;
  }
  return out;
}

/** Pads a tagged line with spaces to exactly `width` visible columns (cutting it when longer). */
export function padTagged(line: string, width: number): string {
  const used = taggedWidth(line);
  if (used === width) return line;
  if (used < width) return line + ' '.repeat(width - used);
  const clipped = clipTagged(line, width);
  return clipped + ' '.repeat(Math.max(0, width - taggedWidth(clipped)));
}

/** Removes blessed tags, turning {open}/{close} back into braces: the plain text a tagged line shows. */
export function stripTags(line: string): string {
  return line.replace(/\{(\/?[\w\-,;!#]*)\}/g, (_, tag: string) => (tag === 'open' ? '{' : tag === 'close' ? '}' : ''));
}
