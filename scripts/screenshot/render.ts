// Terminal bytes → PNG: replays what the program wrote into a headless xterm, draws the resulting
// screen as an SVG with one positioned element per cell, and converts it with rsvg-convert.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import xtermHeadless from '@xterm/headless';
import type { IBufferCell, Terminal as XTerminal } from '@xterm/headless';

const { Terminal } = xtermHeadless;

/** Font size in pixels; DejaVu Sans Mono advances 0.602 em per character. */
const FONT_SIZE = 15;
/** Cell size in pixels: every cell is drawn at x = col * CELL_W, y = row * CELL_H. */
const CELL_W = 9;
const CELL_H = 18;
/** Baseline of the text within a cell (DejaVu Sans Mono: ascent 0.93 em, descent 0.24 em). */
const BASELINE = 14;
/** Margin around the screen, in the default background colour. */
const PAD = 10;
/** Default foreground and background (light grey on black, as a dark-themed xterm). */
const DEFAULT_FG = '#e5e5e5';
const DEFAULT_BG = '#000000';

/** The 16 ANSI colours of xterm's default palette. */
const ANSI16 = [
  '#000000', '#cd0000', '#00cd00', '#cdcd00', '#0000ee', '#cd00cd', '#00cdcd', '#e5e5e5',
  '#7f7f7f', '#ff0000', '#00ff00', '#ffff00', '#5c5cff', '#ff00ff', '#00ffff', '#ffffff',
];

/** xterm's 256-colour palette: the 16 ANSI colours, a 6×6×6 cube and 24 greys. */
const PALETTE: string[] = (() => {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  const levels = [0, 95, 135, 175, 215, 255];
  const out = [...ANSI16];
  for (let i = 0; i < 216; i++) out.push(`#${hex(levels[Math.floor(i / 36)])}${hex(levels[Math.floor(i / 6) % 6])}${hex(levels[i % 6])}`);
  for (let i = 0; i < 24; i++) out.push(`#${hex(8 + 10 * i).repeat(3)}`);
  return out;
})();

/** Block elements drawn as rectangles (fractions of the cell: x, y, width, height, opacity). */
const BLOCKS: Record<string, [number, number, number, number, number]> = {
  '▀': [0, 0, 1, 1 / 2, 1],
  '▔': [0, 0, 1, 1 / 8, 1],
  '▐': [1 / 2, 0, 1 / 2, 1, 1],
  '▕': [7 / 8, 0, 1 / 8, 1, 1],
  '░': [0, 0, 1, 1, 0.25],
  '▒': [0, 0, 1, 1, 0.5],
  '▓': [0, 0, 1, 1, 0.75],
};
for (let i = 1; i <= 8; i++) BLOCKS[String.fromCodePoint(0x2580 + i)] = [0, 1 - i / 8, 1, i / 8, 1]; // ▁ … █
for (let i = 1; i <= 7; i++) BLOCKS[String.fromCodePoint(0x2590 - i)] = [0, 0, i / 8, 1, 1]; // ▏ … ▉

/** Light box-drawing characters drawn as lines from the cell centre: arms up, right, down, left. */
const BOX: Record<string, string> = {
  '─': '-r-l', '│': 'u-d-', '┌': '-rd-', '┐': '--dl', '└': 'ur--', '┘': 'u--l', '╭': '-rd-', '╮': '--dl',
  '╰': 'ur--', '╯': 'u--l', '├': 'urd-', '┤': 'u-dl', '┬': '-rdl', '┴': 'ur-l', '┼': 'urdl',
};

/** Replays `bytes` into a headless xterm of the given size and returns it once everything is parsed. */
export async function replay(bytes: Buffer, cols: number, rows: number): Promise<XTerminal> {
  // The headless build counts reading the buffer as proposed API.
  const term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(bytes, resolve));
  return term;
}

/** The visible screen of `term` as text, one right-trimmed string per row. */
export function screenText(term: XTerminal): string[] {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < term.rows; y++) lines.push(buf.getLine(buf.viewportY + y)?.translateToString(true).trimEnd() ?? '');
  return lines;
}

/** Foreground and background of a cell as CSS colours, after bold-is-bright and inverse. */
function cellColors(cell: IBufferCell): { fg: string; bg: string | null } {
  let fg = DEFAULT_FG;
  if (cell.isFgPalette()) {
    const n = cell.getFgColor();
    fg = PALETTE[cell.isBold() && n < 8 ? n + 8 : n];
  } else if (cell.isFgRGB()) fg = `#${cell.getFgColor().toString(16).padStart(6, '0')}`;
  let bg: string | null = null;
  if (cell.isBgPalette()) bg = PALETTE[cell.getBgColor()];
  else if (cell.isBgRGB()) bg = `#${cell.getBgColor().toString(16).padStart(6, '0')}`;
  if (cell.isInverse()) return { fg: bg ?? DEFAULT_BG, bg: fg };
  return { fg, bg };
}

/** Escapes text for an SVG text node. */
function xmlEscape(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Rounds a pixel coordinate for the SVG. */
function px(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** SVG elements for one cell's glyph at pixel (x, y), `w` cells wide. */
function glyph(ch: string, x: number, y: number, w: number, fg: string, cell: IBufferCell): string {
  const block = BLOCKS[ch];
  if (block) {
    const [bx, by, bw, bh, op] = block;
    return `<rect x="${px(x + bx * CELL_W)}" y="${px(y + by * CELL_H)}" width="${px(bw * CELL_W)}" height="${px(bh * CELL_H)}" fill="${fg}"${op < 1 ? ` fill-opacity="${op}"` : ''}/>`;
  }
  const arms = BOX[ch];
  if (arms) {
    const cx = x + Math.floor(CELL_W / 2) + 0.5;
    const cy = y + Math.floor(CELL_H / 2) + 0.5;
    const ends: Record<string, [number, number]> = { u: [cx, y], r: [x + CELL_W, cy], d: [cx, y + CELL_H], l: [x, cy] };
    const d = [...arms].filter((a) => a !== '-').map((a) => `M${px(cx)} ${px(cy)}L${px(ends[a][0])} ${px(ends[a][1])}`).join('');
    return `<path d="${d}" stroke="${fg}" stroke-width="1" stroke-linecap="square"/>`;
  }
  const attrs = [`x="${px(x)}"`, `y="${px(y + BASELINE)}"`, `fill="${fg}"`];
  if (w === 2) attrs.push(`textLength="${2 * CELL_W}"`, 'lengthAdjust="spacingAndGlyphs"');
  if (cell.isBold()) attrs.push('font-weight="bold"');
  if (cell.isItalic()) attrs.push('font-style="italic"');
  if (cell.isDim()) attrs.push('fill-opacity="0.5"');
  let out = `<text ${attrs.join(' ')}>${xmlEscape(ch)}</text>`;
  if (cell.isUnderline()) out += `<rect x="${px(x)}" y="${px(y + BASELINE + 2)}" width="${w * CELL_W}" height="1" fill="${fg}"/>`;
  return out;
}

/** Draws the visible screen of `term` as an SVG document. */
export function toSvg(term: XTerminal): string {
  const buf = term.buffer.active;
  const width = term.cols * CELL_W + 2 * PAD;
  const height = term.rows * CELL_H + 2 * PAD;
  const backgrounds: string[] = [];
  const glyphs: string[] = [];
  for (let row = 0; row < term.rows; row++) {
    const line = buf.getLine(buf.viewportY + row);
    if (!line) continue;
    const y = PAD + row * CELL_H;
    let run: { bg: string; from: number; to: number } | null = null;
    const flush = (): void => {
      if (run) backgrounds.push(`<rect x="${px(PAD + run.from * CELL_W)}" y="${y}" width="${px((run.to - run.from) * CELL_W)}" height="${CELL_H}" fill="${run.bg}"/>`);
      run = null;
    };
    for (let col = 0; col < term.cols; col++) {
      const cell = line.getCell(col);
      if (!cell || cell.getWidth() === 0) continue;
      const w = cell.getWidth();
      const { fg, bg } = cellColors(cell);
      if (bg !== null && run !== null && run.bg === bg && run.to === col) run.to = col + w;
      else {
        flush();
        if (bg !== null) run = { bg, from: col, to: col + w };
      }
      const ch = cell.getChars();
      if (ch !== '' && ch !== ' ' && !cell.isInvisible()) glyphs.push(glyph(ch, PAD + col * CELL_W, y, w, fg, cell));
    }
    flush();
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="${DEFAULT_BG}"/>`,
    ...backgrounds,
    `<g font-family="DejaVu Sans Mono" font-size="${FONT_SIZE}px" shape-rendering="crispEdges">`,
    ...glyphs,
    '</g>',
    '</svg>',
  ].join('\n');
}

/** Why PNGs cannot be made here (rsvg-convert missing, with how to install it), or null. */
export function rendererMissing(): string | null {
  if (spawnSync('rsvg-convert', ['--version']).status === 0) return null;
  return 'rsvg-convert was not found: install it with `apt-get install librsvg2-bin` (Debian/Ubuntu)';
}

/** Writes `svg` to `svgPath` and converts it to the PNG `pngPath`. */
export function writePng(svg: string, svgPath: string, pngPath: string): void {
  fs.writeFileSync(svgPath, svg);
  const r = spawnSync('rsvg-convert', ['--format', 'png', '--output', pngPath, svgPath], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rsvg-convert failed for ${pngPath}: ${r.stderr || r.error?.message}`);
}
