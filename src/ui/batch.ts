// Batch mode (stdout not a terminal, or --batch): a plain text summary and thread table per
// interval, like `top -b`. Names are escaped; no colour, no cursor movement.
import type { Hint } from '../hints/types.js';
import type { Frame } from '../model/frame.js';
import { fitColumns, sortColumn, unavailableColumns } from './columns.js';
import { headerLines } from './panels/header.js';
import { tableLines } from './panels/table.js';
import { safeName } from './format.js';
import { annotateHints, buildRows } from './rows.js';
import type { UiState } from './state.js';
import { clipTagged, stripTags } from './tagged.js';

/** One frame as plain text: header lines, active hints, then every row of the list (threads by CPU%). */
export function batchText(frame: Frame, hints: readonly Hint[], state: UiState, width: number): string {
  const col = sortColumn(state.listMode, state.sort.column);
  const rows = buildRows(frame, state, col.value);
  annotateHints(rows, hints);
  const header = headerLines(frame, width, 30).map((l) => stripTags(clipTagged(l, width)));
  const table = tableLines(fitColumns(state.listMode, [...state.hiddenColumns, ...unavailableColumns(frame)], width), rows, state.sort, -1, 0, width, rows.length + 1).map(stripTags);
  const hintLines = hints.map((h) => `${h.severity.toUpperCase()}: ${safeName(h.message)}`.slice(0, width));
  return [`whytop ${frame.time}  interval ${frame.interval_s.toFixed(2)}s  ${frame.sampler.backend} reader`, ...header, ...hintLines, '', ...table.map((l) => l.trimEnd()), '', ''].join('\n');
}
