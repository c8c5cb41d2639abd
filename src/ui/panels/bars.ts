// Meter bars and sparklines drawn with text.
import { fit } from '../format.js';
import { esc, paint, tone } from '../style.js';
import type { Tone } from '../style.js';

/** One coloured part of a bar, as a percentage of the bar's full scale. */
export interface BarPart {
  tone: Tone;
  pct: number | null;
}

/**
 * An htop-style meter: `label[|||||||     text]`, `width` columns in all. Each part fills its share of
 * the inside with `fillChar` in its tone; `text` is written right-aligned inside, over the empty end.
 */
export function meter(label: string, parts: BarPart[], text: string, width: number, fillChar = '|'): string {
  const inner = Math.max(0, width - label.length - 2);
  const cells: Array<{ ch: string; tone: Tone | null }> = [];
  let exact = 0;
  for (const part of parts) {
    const pct = part.pct ?? 0;
    exact += (pct / 100) * inner;
    const upto = Math.min(inner, Math.round(exact));
    while (cells.length < upto) cells.push({ ch: fillChar, tone: part.tone });
  }
  while (cells.length < inner) cells.push({ ch: ' ', tone: null });
  const label2 = fit(text, Math.min(text.length, inner));
  for (let i = 0; i < label2.length; i++) cells[inner - label2.length + i] = { ch: label2[i], tone: 'dim' };
  let out = '';
  for (let i = 0; i < cells.length; ) {
    let j = i;
    while (j < cells.length && cells[j].tone === cells[i].tone) j++;
    const run = cells.slice(i, j).map((c) => c.ch).join('');
    out += cells[i].tone === null ? esc(run) : paint(cells[i].tone!, run);
    i = j;
  }
  return `${tone('title', esc(label))}[${out}]`;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A sparkline of the values (null: a gap) scaled to their own maximum, at most `width` columns, newest last. */
export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown.map((v) => v ?? 0));
  const chars = shown.map((v) => (v === null ? ' ' : max === 0 ? SPARK[0] : SPARK[Math.min(7, Math.floor((v / max) * 7.999))]));
  return chars.join('');
}
