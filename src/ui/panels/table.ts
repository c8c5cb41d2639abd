// The main list as text: a header row with the sort column marked, then the visible rows, the
// selected one highlighted. Columns that do not fit are dropped by priority (columns.ts).
import type { Column } from '../columns.js';
import { fit } from '../format.js';
import type { ListRow } from '../rows.js';
import type { SortSpec } from '../state.js';
import { esc, paint, tone } from '../style.js';

/** Widths of the columns for a screen `width` wide: the flexible column takes the rest. */
export function columnWidths(columns: Column[], width: number): number[] {
  const fixed = columns.reduce((sum, c) => sum + (c.flex ? 0 : c.width + 1), 0);
  return columns.map((c) => (c.flex ? Math.max(c.width, width - fixed) : c.width));
}

/** The header row: column names, the sort column with an arrow. */
export function tableHeader(columns: Column[], widths: number[], sort: SortSpec): string {
  const cells = columns.map((c, i) => {
    const mark = c.id === sort.column ? (sort.descending ? '▼' : '▲') : '';
    return fit(c.header + mark, widths[i], c.right && !c.flex);
  });
  return tone('header', esc(cells.join(' ')));
}

/** Tone for a cell worth noticing: D and Z states, busy CPU, long run-queue waits. */
function cellTone(column: Column, row: ListRow): 'crit' | 'warn' | null {
  switch (column.id) {
    case 'state': {
      const v = column.value(row);
      return v === 'D' ? 'crit' : v === 'Z' ? 'warn' : null;
    }
    case 'wait': {
      const v = column.value(row);
      return typeof v === 'number' && v >= 10 ? (v >= 50 ? 'crit' : 'warn') : null;
    }
    case 'majf': {
      const v = column.value(row);
      return typeof v === 'number' && v > 0 ? 'warn' : null;
    }
    case 'hint':
      return row.hint === 'crit' ? 'crit' : row.hint === 'warn' ? 'warn' : null;
    case 'class': {
      const v = column.value(row);
      return v === 'io-bound' ? 'crit' : v === 'starved' ? 'warn' : null;
    }
    default:
      return null; // no tone: the value is not even computed
  }
}

/** One row as text; the selected row is drawn plain on the selection colour. */
export function tableRow(columns: Column[], widths: number[], row: ListRow, selected: boolean): string {
  // A loop, not callbacks: no closure is made per call on a refresh path (README, Performance).
  let plain = '';
  let toned = '';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const text = fit(c.text(row), widths[i], c.right && !c.flex);
    const sep = i === 0 ? '' : ' ';
    plain += sep + text;
    if (!selected) {
      const t = cellTone(c, row);
      toned += sep + (t ? paint(t, text) : esc(text));
    }
  }
  return selected ? tone('selected', esc(plain)) : toned;
}

/** The list's lines: header, then rows from `scrollTop`, at most `height` lines in all. */
export function tableLines(
  columns: Column[],
  rows: ListRow[],
  sort: SortSpec,
  selectedIndex: number,
  scrollTop: number,
  width: number,
  height: number,
): string[] {
  const widths = columnWidths(columns, width);
  const lines = [tableHeader(columns, widths, sort)];
  for (let i = scrollTop; i < rows.length && lines.length < height; i++) lines.push(tableRow(columns, widths, rows[i], i === selectedIndex));
  return lines;
}
