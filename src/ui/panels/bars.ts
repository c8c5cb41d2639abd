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
  const chars: string[] = new Array(inner).fill(' ');
  const tones: Array<Tone | null> = new Array(inner).fill(null);
  let exact = 0;
  let filled = 0;
  for (const part of parts) {
    exact += ((part.pct ?? 0) / 100) * inner;
    for (const upto = Math.min(inner, Math.round(exact)); filled < upto; filled++) {
      chars[filled] = fillChar;
      tones[filled] = part.tone;
    }
  }
  const label2 = fit(text, Math.min(text.length, inner));
  for (let i = 0; i < label2.length; i++) {
    chars[inner - label2.length + i] = label2[i];
    tones[inner - label2.length + i] = 'dim';
  }
  let out = '';
  for (let i = 0; i < inner; ) {
    let j = i;
    while (j < inner && tones[j] === tones[i]) j++;
    const run = chars.slice(i, j).join('');
    out += tones[i] === null ? esc(run) : paint(tones[i]!, run);
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
