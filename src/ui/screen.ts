// The whole screen as lines of tagged text: header, the current view, overlays, status bar. Pure:
// the blessed adapter (app.ts) only puts these lines on the terminal.
import type { Frame } from '../model/frame.js';
import type { StateSince } from '../model/threadState.js';
import type { TaskKernelDetail } from '../sources/taskKernel.js';
import type { Column } from './columns.js';
import { safeName } from './format.js';
import type { DeviceHistory, ThreadHistory } from './history.js';
import { ioView } from './panels/io.js';
import { headerHeight, headerLines } from './panels/header.js';
import type { Hint } from '../hints/types.js';
import { confirmLines, detailLines, helpLines, pickerLines, severityTone, whyLines } from './panels/overlays.js';
import { tableLines } from './panels/table.js';
import { hintMark, memoryView, modesView, softirqView, statesView } from './panels/views.js';
import { whyIndex } from './keys.js';
import type { ListRow } from './rows.js';
import type { UiState } from './state.js';
import { esc, paint, tone } from './style.js';
import { padTagged } from './tagged.js';

/** Smallest terminal whytop draws into; below it, one line says so. */
export const MIN_WIDTH = 40;
export const MIN_HEIGHT = 10;

/** What the screen shows besides the UI state. */
export interface ScreenModel {
  frame: Frame | null;
  rows: ListRow[];
  /** Columns of the main list that fit the width. */
  columns: Column[];
  /** All columns the list mode offers (for the help screen). */
  allColumns: Column[];
  since: StateSince;
  history: ThreadHistory;
  devices: DeviceHistory;
  kernelDetail: TaskKernelDetail | null;
  /** "LIVE", "PAUSED 14:03:10 12/300" or "REPLAY ..." as the status bar shows it. */
  modeLabel: string;
  /** Active hints, most severe first. */
  hints: readonly Hint[];
}

/** The hints line under the header: the most severe hint, and how many more `w` lists. */
function hintsLine(hints: readonly Hint[]): string {
  if (hints.length === 0) return tone('dim', esc('hints: nothing unusual'));
  const first = hints[0];
  const more = hints.length > 1 ? tone('dim', esc(`  (+${hints.length - 1} more: w)`)) : tone('dim', esc('  (w: why)'));
  return paint(severityTone(first.severity), `${hintMark(first.severity)} ${first.message}`) + more;
}

/** Rows the main list has room for under the header at this size. */
export function listHeight(frame: Frame | null, width: number, height: number): number {
  const header = frame ? headerHeight(frame, width, height) + 1 : 0;
  return Math.max(1, height - header - 1 - 1);
}

function statusLine(model: ScreenModel, state: UiState, width: number): string {
  const o = state.overlay;
  if (o?.kind === 'prompt') return tone('status', esc(`${o.label}: `)) + esc(safeName(o.text)) + '█' + tone('dim', '   Enter apply, Esc cancel');
  const frame = model.frame;
  const parts: string[] = [];
  parts.push(paint(state.paused ? 'warn' : 'ok', model.modeLabel));
  if (state.message) parts.push(paint('warn', safeName(state.message)));
  parts.push(esc(`every ${state.intervalMs / 1000}s`));
  if (frame) {
    const s = frame.sampler;
    parts.push(esc(`${s.backend} reader ${s.sample_cpu_ms.toFixed(0)}ms cpu/sample`));
  }
  const col = model.allColumns.find((c) => c.id === state.sort.column);
  parts.push(esc(`sort ${col?.header ?? state.sort.column}${state.sort.descending ? '▼' : '▲'}`));
  parts.push(esc(state.listMode));
  if (state.filter) parts.push(paint('warn', `filter /${safeName(state.filter)}/`));
  if (state.userFilter) parts.push(paint('warn', `user ${safeName(state.userFilter)}`));
  if (state.stateFilter) parts.push(paint('warn', `state ${state.stateFilter}`));
  parts.push(esc(`${model.rows.length} rows`));
  const left = parts.join(tone('dim', ' │ '));
  const right = tone('dim', esc('F1 help  q quit'));
  return padTagged(left, Math.max(0, width - 16)) + right;
}

function viewLines(model: ScreenModel, state: UiState, width: number, height: number): string[] {
  const frame = model.frame!;
  switch (state.view) {
    case 'threads':
      return tableLines(model.columns, model.rows, state.sort, state.selectedIndex, state.scrollTop, width, height);
    case 'states':
      return statesView(frame, model.since, width, height);
    case 'modes':
      return modesView(frame, width, height);
    case 'softirq':
      return softirqView(frame, model.hints, width, state.focusCpu);
    case 'memory':
      return memoryView(frame, model.hints, width, height);
    case 'io':
      return ioView(frame, model.devices.diskBusy, model.devices.netBytes, width, height);
  }
}

function overlayLines(model: ScreenModel, state: UiState, width: number, height: number): string[] | null {
  const o = state.overlay;
  const frame = model.frame!;
  switch (o?.kind) {
    case 'help':
      return helpLines(state.view, model.allColumns, width);
    case 'detail':
      return detailLines(frame, o.tid, model.since, model.history.get(o.tid), model.kernelDetail, width);
    case 'picker':
      return pickerLines(o, height);
    case 'confirm':
      return confirmLines(o);
    case 'why':
      return whyLines(model.hints, { ...o, index: whyIndex(o, model.hints) }, width);
    default:
      return null;
  }
}

/** The screen's `height` lines, each exactly `width` columns wide. */
export function renderScreen(model: ScreenModel, state: UiState, width: number, height: number): string[] {
  if (width < MIN_WIDTH || height < MIN_HEIGHT) {
    const text = `terminal too small (${width}x${height}); whytop needs ${MIN_WIDTH}x${MIN_HEIGHT}`;
    return [padTagged(paint('warn', text), width), ...Array.from({ length: Math.max(0, height - 1) }, () => ' '.repeat(Math.max(0, width)))];
  }
  const lines: string[] = [];
  if (!model.frame) {
    lines.push(esc('whytop: taking the first samples…'));
  } else {
    lines.push(...headerLines(model.frame, width, height), hintsLine(model.hints));
    const viewHeight = height - lines.length - 1;
    const overlay = overlayLines(model, state, width, viewHeight);
    let body = overlay ?? viewLines(model, state, width, viewHeight);
    const o = state.overlay;
    if (overlay && (o?.kind === 'help' || o?.kind === 'detail')) {
      const scroll = Math.min(o.scroll, Math.max(0, overlay.length - viewHeight + 1));
      const rest = overlay.length - scroll;
      body = overlay.slice(scroll, scroll + (rest > viewHeight ? viewHeight - 1 : viewHeight));
      if (rest > viewHeight) body.push(tone('dim', esc(`… ${rest - viewHeight + 1} more lines (↓ PgDn)`)));
    }
    lines.push(...body.slice(0, viewHeight));
  }
  while (lines.length < height - 1) lines.push('');
  lines.push(statusLine(model, state, width));
  for (let i = 0; i < lines.length; i++) lines[i] = padTagged(lines[i], width);
  return lines;
}
