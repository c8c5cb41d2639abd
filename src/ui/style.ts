// Colour and emphasis for screen text, as blessed tags. Text from the kernel is escaped here so a
// name holding '{' can never start a tag; widths are computed on plain text before styling.

/** A colour or style that a panel may use; the theme maps each to blessed tags. */
export type Tone =
  | 'user'
  | 'nice'
  | 'system'
  | 'irq'
  | 'softirq'
  | 'iowait'
  | 'steal'
  | 'anon'
  | 'cache'
  | 'shmem'
  | 'slab'
  | 'swap'
  | 'dim'
  | 'bold'
  | 'title'
  | 'warn'
  | 'crit'
  | 'ok'
  | 'selected'
  | 'header'
  | 'status'
  | 'key';

const THEME: Record<Tone, string> = {
  user: 'green-fg',
  nice: 'blue-fg',
  system: 'red-fg',
  irq: 'yellow-fg',
  softirq: 'magenta-fg',
  iowait: 'light-black-fg',
  steal: 'cyan-fg',
  anon: 'green-fg',
  cache: 'yellow-fg',
  shmem: 'magenta-fg',
  slab: 'light-blue-fg',
  swap: 'red-fg',
  dim: 'light-black-fg',
  bold: 'bold',
  title: 'cyan-fg',
  warn: 'yellow-fg',
  crit: 'red-fg',
  ok: 'green-fg',
  selected: 'black-fg}{cyan-bg',
  header: 'black-fg}{green-bg',
  status: 'black-fg}{cyan-bg',
  key: 'bold',
};

/** Every tone the theme styles. */
export const THEME_TONES = Object.keys(THEME) as Tone[];

/** Each tone's opening and closing tags, made once per theme (tone() runs for every cell). */
const TAGS = {} as Record<Tone, { open: string; close: string }>;

function makeTags(): void {
  for (const t of THEME_TONES) {
    const names = THEME[t].split('}{');
    let close = '';
    for (let i = names.length - 1; i >= 0; i--) close += `{/${names[i]}}`;
    TAGS[t] = { open: `{${THEME[t]}}`, close };
  }
}
makeTags();

/**
 * Adapts the theme to a terminal with only 8 colours, where bright black would show as black on
 * black: dim text becomes plain white there.
 */
export function adaptToColors(colors: number): void {
  if (colors < 16) THEME.dim = THEME.iowait = 'white-fg';
  makeTags();
}

function escapeBrace(c: string): string {
  return c === '{' ? '{open}' : '{close}';
}

/** Escapes text so blessed shows it literally. */
export function esc(text: string): string {
  return text.indexOf('{') < 0 && text.indexOf('}') < 0 ? text : text.replace(/[{}]/g, escapeBrace);
}

/** Styles already-escaped text with a tone. */
export function tone(t: Tone, escapedText: string): string {
  if (escapedText === '') return '';
  const tags = TAGS[t];
  return tags.open + escapedText + tags.close;
}

/** Escapes plain text and styles it (the usual way to colour a value). */
export function paint(t: Tone, plainText: string): string {
  return tone(t, esc(plainText));
}
