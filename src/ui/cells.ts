// Puts tagged screen lines (style.ts's blessed tags) straight into blessed's cell buffer, the way a
// blessed box with `tags: true` would, without its content pipeline: blessed turns a box's content
// into escape sequences with four regex passes, wraps it, and parses the sequences back cell by
// cell — about 1.5 ms per refresh for one full screen, every refresh. Here each line is read once.
import { codePointWidth } from './format.js';
import { TAG_RE } from './tagged.js';

/** One cell of blessed's screen buffer: [attribute, character]. */
export type Cell = [number, string];

/** One row of blessed's screen buffer; `dirty` tells blessed to redraw it. */
export type CellRow = Cell[] & { dirty?: boolean };

// blessed's attribute code: flags << 18 | foreground << 9 | background (0x1ff: the terminal's default colour).
const BOLD = 1;

/** The colour names the theme uses, as blessed numbers them (the 16 ANSI colours). */
const COLOR_NUMBERS: Readonly<Record<string, number>> = {
  black: 0, red: 1, green: 2, yellow: 3, blue: 4, magenta: 5, cyan: 6, white: 7,
  'light-black': 8, 'light-red': 9, 'light-green': 10, 'light-yellow': 11, 'light-blue': 12, 'light-magenta': 13, 'light-cyan': 14, 'light-white': 15,
};

/**
 * What an opening tag sets: a foreground, a background, or a flag. null for any other tag, which is
 * shown as text: blessed knows more (#rrggbb, 256-colour names), but style.ts's theme uses only these.
 */
function tagEffect(name: string): { kind: 'fg' | 'bg' | 'flag'; value: number } | null {
  if (name === 'bold') return { kind: 'flag', value: BOLD };
  const m = /^(.+)-(fg|bg)$/.exec(name);
  if (!m) return null;
  const color = COLOR_NUMBERS[m[1]];
  return color === undefined ? null : { kind: m[2] as 'fg' | 'bg', value: color };
}
const EFFECTS = new Map<string, ReturnType<typeof tagEffect>>();
/** tagEffect, worked out once per tag name. */
function effectOf(name: string): ReturnType<typeof tagEffect> {
  let e = EFFECTS.get(name);
  if (e === undefined) EFFECTS.set(name, (e = tagEffect(name)));
  return e;
}

/** The tag state of one line: blessed keeps a stack per kind, and a closing tag returns to what is under it. */
class TagState {
  readonly fg: number[] = [];
  readonly bg: number[] = [];
  readonly flags: number[] = [];
  constructor(private readonly base: number) {}
  attr(): number {
    const base = this.base;
    const fg = this.fg.length ? this.fg[this.fg.length - 1] : (base >> 9) & 0x1ff;
    const bg = this.bg.length ? this.bg[this.bg.length - 1] : base & 0x1ff;
    let flags = (base >> 18) & 0x1ff;
    for (const f of this.flags) flags |= f;
    return (flags << 18) | (fg << 9) | bg;
  }
  /** Applies a tag ("green-fg", "/green-fg", "/" resets all); false for a tag tagEffect does not know (shown as text). */
  apply(tag: string): boolean {
    if (tag === '/') {
      this.fg.length = this.bg.length = this.flags.length = 0;
      return true;
    }
    const closing = tag.charCodeAt(0) === 0x2f;
    const effect = effectOf(closing ? tag.slice(1) : tag);
    if (effect === null) return false;
    const stack = effect.kind === 'fg' ? this.fg : effect.kind === 'bg' ? this.bg : this.flags;
    if (closing) stack.pop();
    else stack.push(effect.value);
    return true;
  }
}

/** Writes cell `x` of `row` if it differs; true when it did. */
function put(row: CellRow, x: number, attr: number, ch: string): boolean {
  const cell = row[x];
  if (cell[0] === attr && cell[1] === ch) return false;
  cell[0] = attr;
  cell[1] = ch;
  return true;
}

/**
 * Paints one tagged line into `row` from column 0, as many columns as the row has (the rest of the
 * row is blanked in `baseAttr`); marks the row dirty when a cell changed. A wide character takes
 * two cells (the second a blank blessed skips), a zero-width one joins the cell before it.
 */
export function paintRow(row: CellRow, line: string, baseAttr: number): void {
  const state = new TagState(baseAttr);
  let attr = baseAttr;
  let changed = false;
  let x = 0;
  let i = 0;
  while (i < line.length && x < row.length) {
    const c = line.charCodeAt(i);
    if (c === 0x7b /* { */) {
      TAG_RE.lastIndex = i;
      const m = TAG_RE.exec(line);
      if (m) {
        i += m[0].length;
        if (m[1] === 'open' || m[1] === 'close') {
          changed = put(row, x++, attr, m[1] === 'open' ? '{' : '}') || changed;
        } else if (state.apply(m[1])) {
          attr = state.attr();
        } else {
          for (const ch of m[0]) if (x < row.length) changed = put(row, x++, attr, ch) || changed;
        }
        continue;
      }
    }
    if (c < 0x20 || c === 0x7f) {
      i++; // a control character: blessed drops it (none reach here: text is escaped before it is tagged)
      continue;
    }
    if (c < 0x7f) {
      changed = put(row, x++, attr, line[i++]) || changed;
      continue;
    }
    const cp = line.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    const w = codePointWidth(cp);
    if (w === 0) {
      if (x > 0) changed = put(row, x - 1, row[x - 1][0], row[x - 1][1] + ch) || changed;
    } else if (w === 2 && x + 1 < row.length) {
      changed = put(row, x++, attr, ch) || changed;
      changed = put(row, x++, attr, ' ') || changed;
    } else {
      // A wide character with one column left shows as a blank, as blessed draws it.
      changed = put(row, x++, attr, w === 2 ? ' ' : ch) || changed;
    }
  }
  while (x < row.length) changed = put(row, x++, baseAttr, ' ') || changed;
  if (changed) row.dirty = true;
}

/** Paints `lines` into blessed's screen rows, one line per row (rows past the lines are blanked). */
export function paintScreen(rows: CellRow[], lines: readonly string[], baseAttr: number): void {
  for (let y = 0; y < rows.length; y++) paintRow(rows[y], y < lines.length ? lines[y] : '', baseAttr);
}
