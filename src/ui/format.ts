// Number and text formatting for the screen and the batch table. Pure; every function returns a
// string of at most the width it promises, and "n/a" style markers for null (not available).
import { escapeControl } from '../output/text.js';

/** Shown where a value is not available (null), as distinct from zero. */
export const NA = '-';

/** A percentage with one decimal below 100 ("12.3", "100", "250"). */
export function fmtPct(value: number | null): string {
  if (value === null) return NA;
  return value >= 99.95 ? String(Math.round(value)) : value.toFixed(1);
}

/** A rate or count, compact: 950, 9.5K, 12K, 3.4M, 1.2G. */
export function fmtCount(value: number | null): string {
  if (value === null) return NA;
  const abs = Math.abs(value);
  if (abs < 1000) return abs < 10 && !Number.isInteger(value) ? value.toFixed(1) : String(Math.round(value));
  for (const [limit, suffix] of [[1e6, 'K'], [1e9, 'M'], [1e12, 'G']] as const) {
    if (abs < limit) {
      const scaled = value / (limit / 1000);
      return (Math.abs(scaled) < 10 ? scaled.toFixed(1) : String(Math.round(scaled))) + suffix;
    }
  }
  return (value / 1e12).toFixed(1) + 'T';
}

/** Bytes in binary units, compact: 512, 4.0K, 12M, 1.5G. */
export function fmtBytes(value: number | null): string {
  if (value === null) return NA;
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return String(Math.round(v));
  return (Math.abs(v) < 10 ? v.toFixed(1) : String(Math.round(v))) + units[i];
}

/** CPU time as htop's TIME+: m:ss.cc below an hour, then h:mm:ss, then days. */
export function fmtCpuTime(seconds: number | null): string {
  if (seconds === null) return NA;
  const total = Math.max(0, seconds);
  if (total < 3600) {
    const m = Math.floor(total / 60);
    const s = total - m * 60;
    return `${m}:${s.toFixed(2).padStart(5, '0')}`;
  }
  if (total < 86400) {
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = Math.floor(total % 60);
    return `${h}h${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  }
  return `${Math.floor(total / 86400)}d${Math.floor((total % 86400) / 3600)}h`;
}

/** A duration in the largest fitting unit: 850ms, 12s, 3m05s, 2h10m. */
export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A wall-clock time as local HH:MM:SS. */
export function fmtClock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A kernel-supplied name made safe for the terminal (control bytes become \xNN). */
export function safeName(name: string): string {
  return escapeControl(name);
}

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for East Asian wide and emoji. */
export function codePointWidth(cp: number): number {
  if (cp === 0x200b || (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Terminal columns taken by text (wide characters count 2). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += codePointWidth(ch.codePointAt(0)!);
  return width;
}

/** Pads or cuts text to exactly `width` terminal columns (right-aligned when `right`); cut text ends in '…'. */
export function fit(text: string, width: number, right = false): string {
  if (width <= 0) return '';
  let used = displayWidth(text);
  if (used > width) {
    let out = '';
    used = 0;
    for (const ch of text) {
      const w = codePointWidth(ch.codePointAt(0)!);
      if (used + w > width - 1) break;
      out += ch;
      used += w;
    }
    text = out + '…';
    used += 1;
  }
  const pad = ' '.repeat(width - used);
  return right ? pad + text : text + pad;
}
