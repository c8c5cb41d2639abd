// `whytop dump` output: a frame as one JSON line, or as CSV rows of one section.
import type { Hint } from '../hints/types.js';
import type { Frame } from '../model/frame.js';
import { escapeControl, toSafeJson } from './text.js';

/** Sections a CSV dump can print, one table each. */
export const CSV_SECTIONS = ['threads', 'processes', 'cpus', 'system', 'memory', 'softirqs', 'disks', 'nets', 'softnet', 'hints'] as const;

/** A hint as dump prints it: without the long explanation. */
export type DumpHint = Omit<Hint, 'explain'>;

/** One dump record: the frame plus the hints active at it. */
export type DumpRecord = Frame & { hints: DumpHint[] };

/** The dump record of a frame and its active hints. */
export function dumpRecord(frame: Frame, hints: readonly Hint[]): DumpRecord {
  return { ...frame, hints: hints.map(({ explain: _explain, ...h }) => h) };
}

/** Name of a CSV section. */
export type CsvSection = (typeof CSV_SECTIONS)[number];

/** A dump record as one JSON line (rates rounded to what the kernel's counters can tell apart). */
export function recordToJsonLine(record: DumpRecord): string {
  return toSafeJson(roundNumbers(record));
}

/** Rounds every non-integer number to 3 decimals (the counters do not carry more). */
function roundNumbers(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Math.round(value * 1000) / 1000;
  if (Array.isArray(value)) return value.map(roundNumbers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = roundNumbers(v);
    return out;
  }
  return value;
}

type Row = Record<string, unknown>;

/** Flattens nested objects into `a.b` keys (arrays are left to the caller). */
function flatten(prefix: string, value: unknown, out: Row): Row {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else out[prefix] = value;
  return out;
}

/** The rows of one section of a record, each starting with the frame's time. */
export function sectionRows(frame: DumpRecord, section: CsvSection): Row[] {
  const time = frame.time;
  switch (section) {
    case 'threads':
      return frame.threads.map((t) => ({ time, ...t }));
    case 'processes':
      return frame.processes.map((p) => ({ time, ...p }));
    case 'cpus':
      return frame.cpus.map((c) => ({ time, ...c }));
    case 'memory':
      return [{ time, ...frame.memory }];
    case 'hints':
      return frame.hints.map((h) => ({ time, id: h.id, severity: h.severity, kind: h.subject.kind, subject_id: h.subject.id ?? null, pid: h.subject.pid ?? null, message: h.message }));
    case 'softirqs':
      return Object.entries(frame.softirqs).flatMap(([type, perCpu]) =>
        perCpu.map((perSec, i) => ({ time, type, cpu: frame.softirq_cpus[i], per_s: perSec })),
      );
    case 'disks':
      return frame.disks.map((d) => ({ time, ...d }));
    case 'nets':
      return frame.nets.map((n) => ({ time, ...n }));
    case 'softnet':
      return frame.softnet.map((s) => ({ time, ...s }));
    case 'system':
      return [
        flatten('', {
          time,
          interval_s: frame.interval_s,
          sampler: frame.sampler,
          system: frame.system,
          cpu_total: frame.cpu_total,
          threads_by_state: frame.threads_by_state,
          paging: frame.paging,
          pressure: frame.pressure,
        }, {}),
      ];
  }
}

/** One CSV field: numbers rounded, null empty, text quoted when needed and control bytes escaped. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(Number.isInteger(value) ? value : Math.round(value * 1000) / 1000);
  const text = escapeControl(String(value));
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Turns rows into CSV text; the first call fixes the columns and writes the header line. */
export class CsvWriter {
  private columns: string[] | null = null;

  /** CSV lines for `rows` (plus the header the first time rows arrive). */
  write(rows: Row[]): string {
    if (rows.length === 0) return '';
    const lines: string[] = [];
    if (this.columns === null) {
      this.columns = Object.keys(rows[0]);
      lines.push(this.columns.join(','));
    }
    const columns = this.columns;
    for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
    return lines.join('\n') + '\n';
  }
}
