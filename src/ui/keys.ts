// Key presses → new UI state plus effects for the app to carry out. Pure: everything it needs about
// the screen comes in the context.
import { hintKey } from '../hints/types.js';
import type { Hint } from '../hints/types.js';
import type { Column } from './columns.js';
import { compileFilter, rowTexts } from './rows.js';
import type { ListRow } from './rows.js';
import { INTERVAL_STEPS_MS, VIEWS } from './state.js';
import type { Overlay, Picker, Prompt, UiState, ViewId, WhyList } from './state.js';

/** What the reducer needs to know about the screen. */
export interface KeyContext {
  rows: ListRow[];
  /** Rows the list shows at once (for PgUp/PgDn). */
  pageSize: number;
  /** Columns the current list mode offers (sortable, pickable). */
  columns: Column[];
  /** Users present in the frame, for the user filter. */
  users: string[];
  /** False in replay: no signals or renice. */
  live: boolean;
  /** Active hints, most severe first (the `w` list). */
  hints: readonly Hint[];
  /** True when the screen shows stored samples (replay, or live while paused): t/T, g, n/N work. */
  stepping: boolean;
}

/** Something the app must do outside the state. */
export type Effect =
  | { type: 'quit' }
  | { type: 'suspend' }
  | { type: 'interval' }
  | { type: 'persist' }
  | { type: 'signal'; pids: number[]; signal: string }
  | { type: 'renice'; target: { tid: number } | { pid: number }; delta: number }
  | { type: 'step'; delta: number }
  | { type: 'speed'; faster: boolean }
  | { type: 'goto'; spec: string }
  | { type: 'hintStart'; dir: 1 | -1 }
  | { type: 'record' }
  | { type: 'saveHistory' }
  | { type: 'syscalls' }
  | { type: 'probes' };

/** Result of one key. */
export interface KeyResult {
  state: UiState;
  effects: Effect[];
}

/** Signals offered by `k`, most used first. */
export const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGSTOP', 'SIGCONT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Every key and what it does, for the help screen. */
export const KEY_HELP: ReadonlyArray<[string, string]> = [
  ['? h F1', 'this help: keys, and what each column and panel means'],
  ['< > F6', 'sort by the previous / next column (F6: pick from a list)'],
  ['I  P  M', 'invert the sort order; sort by CPU%; sort by MEM%'],
  ['/ F3', 'search: select the next row whose name or command line matches'],
  ['\\ F4', 'filter: keep rows matching a regex on name or command line (empty clears)'],
  ['u  S', 'filter by user; filter by state letters (e.g. D or DR; empty clears)'],
  ['H  F5', 'threads <-> processes; processes as a tree with their threads'],
  ['F2', 'choose columns'],
  ['Enter Esc', 'thread detail; back (Esc also cancels any prompt; arrows scroll help and detail)'],
  ['Tab 1-6', 'views: 1 threads, 2 states, 3 modes, 4 softirq, 5 memory, 6 I/O'],
  ['w', 'why: every active hint with its explanation; Enter goes to what it is about'],
  ['space Z', 'pause / resume (live: sampling; replay: playing)'],
  ['t → T ←', 'paused or replaying: next / previous sample'],
  ['[ ]', 'replay: slower / faster (x0.25 .. x64)'],
  ['g', 'paused or replaying: go to a time (14:03:10, +5m, -30s, start, end)'],
  ['n N', 'paused or replaying: next / previous sample where a hint starts'],
  ['R W', 'live: start / stop recording to a file; write the kept history to a file'],
  ['+ -', 'longer / shorter sampling interval'],
  ['c', 'live, as root: count syscalls per thread and CPU on / off (slows every syscall on the machine while on)'],
  ['K', 'live, as root: kernel probes (off-CPU D/S split, switches per CPU, softirq time) off / on'],
  ['k F9', "send a signal to the selected row's process (asks first)"],
  ['F7 F8', 'nice -1 (higher priority) / nice +1 for the selected thread (or all threads of a process)'],
  ['arrows PgUp PgDn Home End', 'move the selection'],
  ['Ctrl-Z', 'suspend (fg resumes)'],
  ['q F10 Ctrl-C', 'quit'],
];

function done(state: UiState, ...effects: Effect[]): KeyResult {
  return { state, effects };
}

/** Moves the selection to row `index` (clamped) in `rows`. */
export function select(state: UiState, rows: ListRow[], index: number): UiState {
  const i = Math.max(0, Math.min(rows.length - 1, index));
  return { ...state, selectedIndex: Math.max(0, i), selectedKey: rows[i]?.key ?? null };
}

/**
 * After the rows changed: keeps the selection on the same key, or on the same index if it left.
 * Until the user picks a row (key null) the selection stays on its index: the top row at start.
 */
export function followSelection(state: UiState, rows: ListRow[]): UiState {
  if (state.selectedKey !== null) {
    const i = rows.findIndex((r) => r.key === state.selectedKey);
    if (i >= 0) return i === state.selectedIndex ? state : { ...state, selectedIndex: i };
    return select(state, rows, state.selectedIndex);
  }
  const i = Math.max(0, Math.min(rows.length - 1, state.selectedIndex));
  return i === state.selectedIndex ? state : { ...state, selectedIndex: i };
}

/** Scrolls so the selection is visible in a list `visible` rows tall. */
export function scrollToSelection(state: UiState, rowCount: number, visible: number): UiState {
  let top = state.scrollTop;
  if (state.selectedIndex < top) top = state.selectedIndex;
  if (state.selectedIndex >= top + visible) top = state.selectedIndex - visible + 1;
  top = Math.max(0, Math.min(top, Math.max(0, rowCount - visible)));
  return top === state.scrollTop ? state : { ...state, scrollTop: top };
}

function nextInterval(ms: number, longer: boolean): number {
  const steps = INTERVAL_STEPS_MS as readonly number[];
  if (longer) return steps.find((s) => s > ms) ?? steps[steps.length - 1];
  return [...steps].reverse().find((s) => s < ms) ?? steps[0];
}

/** The rows a signal or renice acts on: the selected row's process (pids) or thread (tids). */
function selectedRow(state: UiState, ctx: KeyContext): ListRow | undefined {
  return ctx.rows[state.selectedIndex];
}

function prompt(purpose: Prompt['purpose'], label: string, text: string): Prompt {
  return { kind: 'prompt', purpose, label, text };
}

/** Applies a finished prompt. */
function submitPrompt(state: UiState, p: Prompt, ctx: KeyContext): KeyResult {
  const text = p.text.trim();
  const base = { ...state, overlay: null };
  switch (p.purpose) {
    case 'filter':
      return done({ ...base, filter: text === '' ? null : text, selectedIndex: 0, scrollTop: 0 }, { type: 'persist' });
    case 'state': {
      const letters = [...text.replace(/\s/g, '')].map((c) => (c === 't' || c === 'x' ? c : c.toUpperCase())).join('');
      return done({ ...base, stateFilter: letters === '' ? null : letters, selectedIndex: 0, scrollTop: 0 }, { type: 'persist' });
    }
    case 'goto':
      return text === '' ? done(base) : done(base, { type: 'goto', spec: text });
    case 'search': {
      const match = compileFilter(text);
      if (!match) return done(base);
      const n = ctx.rows.length;
      for (let step = 1; step <= n; step++) {
        const i = (state.selectedIndex + step) % n;
        if (rowTexts(ctx.rows[i]).some(match)) return done({ ...select(base, ctx.rows, i), lastSearch: text });
      }
      return done({ ...base, lastSearch: text, message: `no match for '${text}'` });
    }
    case 'user':
      return done({ ...base, userFilter: text === '' ? null : text }, { type: 'persist' });
  }
}

function promptKey(state: UiState, p: Prompt, key: string, ctx: KeyContext): KeyResult {
  if (key === 'escape') return done({ ...state, overlay: null });
  if (key === 'enter') return submitPrompt(state, p, ctx);
  if (key === 'backspace') return done({ ...state, overlay: { ...p, text: p.text.slice(0, -1) } });
  if (key === 'C-u') return done({ ...state, overlay: { ...p, text: '' } });
  const ch = key === 'space' ? ' ' : key;
  if ([...ch].length === 1 && ch >= ' ') return done({ ...state, overlay: { ...p, text: p.text + ch } });
  return done(state);
}

function pickerKey(state: UiState, p: Picker, key: string, ctx: KeyContext): KeyResult {
  const move = (index: number): KeyResult => done({ ...state, overlay: { ...p, index: Math.max(0, Math.min(p.items.length - 1, index)) } });
  switch (key) {
    case 'up':
      return move(p.index - 1);
    case 'down':
      return move(p.index + 1);
    case 'pageup':
      return move(p.index - 10);
    case 'pagedown':
      return move(p.index + 10);
    case 'home':
      return move(0);
    case 'end':
      return move(p.items.length - 1);
    case 'escape':
    case 'q':
      return done({ ...state, overlay: null });
    case 'space':
    case 'enter':
      break;
    default:
      return done(state);
  }
  const item = p.items[p.index];
  if (!item) return done({ ...state, overlay: null });
  switch (p.purpose) {
    case 'sort':
      return done({ ...state, overlay: null, sort: { column: item.id, descending: state.sort.column === item.id ? state.sort.descending : true } }, { type: 'persist' });
    case 'user':
      return done({ ...state, overlay: null, userFilter: item.id === '' ? null : item.id, selectedIndex: 0, scrollTop: 0 }, { type: 'persist' });
    case 'columns': {
      const hidden = state.hiddenColumns.includes(item.id) ? state.hiddenColumns.filter((c) => c !== item.id) : [...state.hiddenColumns, item.id];
      const items = p.items.map((it) => (it.id === item.id ? { ...it, checked: !hidden.includes(it.id) } : it));
      return done({ ...state, hiddenColumns: hidden, overlay: { ...p, items } }, { type: 'persist' });
    }
    case 'signal': {
      const row = selectedRow(state, ctx);
      const pid = row?.process?.pid ?? row?.thread?.pid;
      if (pid === undefined) return done({ ...state, overlay: null });
      const name = row?.process?.comm ?? row?.thread?.comm ?? '';
      return done({ ...state, overlay: { kind: 'confirm', question: `send ${item.id} to process ${pid} (${name})? [y/N]`, action: { type: 'signal', pids: [pid], signal: item.id } } });
    }
  }
}

/** The view that shows a system-wide hint, by rule (the rest: States, where blocked and waiting threads are). */
const SYSTEM_HINT_VIEW: Readonly<Record<string, ViewId>> = { steal: 'modes', 'disk-saturated': 'io', 'disk-slower': 'io' };

/** The state that shows a hint's subject: its thread or process selected, its CPU highlighted, or its view. */
export function jumpToSubject(state: UiState, hint: Hint): UiState {
  const cleared = { ...state, overlay: null, filter: null, userFilter: null, stateFilter: null, scrollTop: 0, selectedIndex: 0 };
  switch (hint.subject.kind) {
    case 'thread':
      return { ...cleared, view: 'threads', listMode: 'threads', selectedKey: hint.subject.id ?? null };
    case 'process':
      return { ...cleared, view: 'threads', listMode: 'processes', selectedKey: hint.subject.id ?? null };
    case 'cpu':
      return { ...state, overlay: null, view: 'softirq', focusCpu: hint.subject.id ?? null };
    case 'memory':
      return { ...state, overlay: null, view: 'memory' };
    case 'system':
      return { ...state, overlay: null, view: SYSTEM_HINT_VIEW[hint.id] ?? 'states' };
  }
}

/** Where the `w` list's selection is in `hints`: on its hint while that is active, else at its last place. */
export function whyIndex(why: WhyList, hints: readonly Hint[]): number {
  const i = why.key === null ? -1 : hints.findIndex((h) => hintKey(h.id, h.subject) === why.key);
  return i >= 0 ? i : Math.max(0, Math.min(hints.length - 1, why.index));
}

/** The `w` list with hint `index` of `hints` selected. */
function whyAt(hints: readonly Hint[], index: number): WhyList {
  const i = Math.max(0, Math.min(hints.length - 1, index));
  const h = hints[i];
  return { kind: 'why', index: i, key: h ? hintKey(h.id, h.subject) : null };
}

function openPicker(state: UiState, purpose: Picker['purpose'], title: string, items: Picker['items'], index = 0): KeyResult {
  return done({ ...state, overlay: { kind: 'picker', purpose, title, items, index: Math.max(0, index) } });
}

/** Handles one key (blessed's full key name, or the printable character itself). */
export function handleKey(state: UiState, key: string, ctx: KeyContext): KeyResult {
  const o: Overlay | null = state.overlay;
  if (key === 'C-c') return done(state, { type: 'quit' });
  if (o?.kind === 'prompt') return promptKey(state, o, key, ctx);
  if (o?.kind === 'picker') return pickerKey(state, o, key, ctx);
  if (o?.kind === 'confirm') {
    if (key === 'y' || key === 'Y') return done({ ...state, overlay: null }, { type: o.action.type, pids: o.action.pids, signal: o.action.signal });
    return done({ ...state, overlay: null, message: 'cancelled' });
  }
  if (o?.kind === 'why') {
    const at = whyIndex(o, ctx.hints);
    if (['escape', 'q', 'w'].includes(key)) return done({ ...state, overlay: null });
    if (key === 'up' || key === 'down') return done({ ...state, overlay: whyAt(ctx.hints, at + (key === 'up' ? -1 : 1)) });
    if (key === 'enter' && ctx.hints[at]) return done(jumpToSubject(state, ctx.hints[at]));
    return done(state);
  }
  if (o?.kind === 'help' || o?.kind === 'detail') {
    if (o.kind === 'help' ? ['escape', 'q', '?', 'h', 'f1', 'enter'].includes(key) : ['escape', 'backspace', 'q'].includes(key)) return done({ ...state, overlay: null });
    const step: Record<string, number> = { up: -1, down: 1, pageup: -ctx.pageSize, pagedown: ctx.pageSize, home: -Infinity };
    if (key in step) return done({ ...state, overlay: { ...o, scroll: Math.max(0, o.scroll + step[key]) } });
  }
  const s: UiState = state.message ? { ...state, message: null } : state;
  const rows = ctx.rows;
  const sortIndex = ctx.columns.findIndex((c) => c.id === s.sort.column);
  switch (key) {
    case 'q':
    case 'f10':
      return done(s, { type: 'quit' });
    case 'C-z':
      return done(s, { type: 'suspend' });
    case '?':
    case 'h':
    case 'f1':
      return done({ ...s, overlay: { kind: 'help', scroll: 0 } });
    case 'up':
      return done(select(s, rows, s.selectedIndex - 1));
    case 'down':
      return done(select(s, rows, s.selectedIndex + 1));
    case 'pageup':
      return done(select(s, rows, s.selectedIndex - ctx.pageSize));
    case 'pagedown':
      return done(select(s, rows, s.selectedIndex + ctx.pageSize));
    case 'home':
      return done(select(s, rows, 0));
    case 'end':
      return done(select(s, rows, rows.length - 1));
    case '<':
    case '>': {
      const n = ctx.columns.length;
      const next = ctx.columns[((sortIndex < 0 ? 0 : sortIndex) + (key === '>' ? 1 : n - 1)) % n];
      return done({ ...s, sort: { column: next.id, descending: s.sort.descending } }, { type: 'persist' });
    }
    case 'f6':
      return openPicker(s, 'sort', 'Sort by', ctx.columns.map((c) => ({ id: c.id, label: c.header })), sortIndex);
    case 'I':
      return done({ ...s, sort: { ...s.sort, descending: !s.sort.descending } }, { type: 'persist' });
    case 'P':
      return done({ ...s, sort: { column: 'cpu', descending: true } }, { type: 'persist' });
    case 'M':
      return done({ ...s, sort: { column: 'mem', descending: true } }, { type: 'persist' });
    case '/':
    case 'f3':
      return done({ ...s, overlay: prompt('search', 'Search', s.lastSearch) });
    case '\\':
    case 'f4':
      return done({ ...s, overlay: prompt('filter', 'Filter (regex)', s.filter ?? '') });
    case 'S':
      return done({ ...s, overlay: prompt('state', 'States (e.g. D, DR; empty: all)', s.stateFilter ?? '') });
    case 'u':
      return openPicker(s, 'user', 'Show user', [{ id: '', label: 'all users' }, ...ctx.users.map((u) => ({ id: u, label: u }))], s.userFilter ? ctx.users.indexOf(s.userFilter) + 1 : 0);
    case 'f2':
      return openPicker(s, 'columns', 'Columns (space toggles, Esc closes)', ctx.columns.filter((c) => !c.flex).map((c) => ({ id: c.id, label: c.header, checked: !s.hiddenColumns.includes(c.id) })));
    case 'H':
      return done({ ...s, listMode: s.listMode === 'threads' ? 'processes' : 'threads', selectedKey: null, selectedIndex: 0, scrollTop: 0 }, { type: 'persist' });
    case 'f5':
      return done({ ...s, listMode: s.listMode === 'tree' ? 'processes' : 'tree', selectedKey: null, selectedIndex: 0, scrollTop: 0 }, { type: 'persist' });
    case 'enter': {
      const row = rows[s.selectedIndex];
      const tid = row?.thread?.tid;
      return tid === undefined ? done(s) : done({ ...s, overlay: { kind: 'detail', tid, scroll: 0 } });
    }
    case 'w':
      return done({ ...s, overlay: whyAt(ctx.hints, 0) });
    // Choosing a view by hand ends the highlight of a CPU jumped to from a hint.
    case 'tab':
      return done({ ...s, view: VIEWS[(VIEWS.indexOf(s.view) + 1) % VIEWS.length], focusCpu: null }, { type: 'persist' });
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
      return done({ ...s, view: VIEWS[Number(key) - 1], focusCpu: null }, { type: 'persist' });
    case 'space':
    case 'Z':
      return done({ ...s, paused: !s.paused });
    case '+':
    case '-': {
      const intervalMs = nextInterval(s.intervalMs, key === '+');
      return done({ ...s, intervalMs, message: `interval ${intervalMs / 1000}s` }, { type: 'interval' }, { type: 'persist' });
    }
    case 'c':
      return ctx.live ? done(s, { type: 'syscalls' }) : done({ ...s, message: 'syscall counting is for live sampling, not recordings' });
    case 'K':
      return ctx.live ? done(s, { type: 'probes' }) : done({ ...s, message: 'kernel probes are for live sampling, not recordings' });
    case 'k':
    case 'f9':
      if (!ctx.live) return done({ ...s, message: 'signals are for live processes, not recordings' });
      if (!rows[s.selectedIndex]) return done(s);
      return openPicker(s, 'signal', 'Send signal', SIGNALS.map((sig) => ({ id: sig, label: sig })));
    case 'f7':
    case 'f8': {
      if (!ctx.live) return done({ ...s, message: 'renice is for live processes, not recordings' });
      const row = rows[s.selectedIndex];
      if (!row) return done(s);
      const target = row.kind === 'thread' ? { tid: row.key } : { pid: row.key };
      return done(s, { type: 'renice', target, delta: key === 'f7' ? -1 : 1 });
    }
    case 't':
    case 'right':
    case 'T':
    case 'left':
      if (!ctx.stepping) return done({ ...s, message: 'pause first (space) to step through the kept history' });
      return done(s, { type: 'step', delta: key === 't' || key === 'right' ? 1 : -1 });
    case '[':
    case ']':
      return done(s, { type: 'speed', faster: key === ']' });
    case 'g':
      if (!ctx.stepping) return done({ ...s, message: 'pause first (space) to move in the kept history' });
      return done({ ...s, overlay: prompt('goto', 'Go to (HH:MM:SS, +5m, -30s, start, end)', '') });
    case 'n':
    case 'N':
      if (!ctx.stepping) return done({ ...s, message: 'pause first (space) to jump between hints' });
      return done(s, { type: 'hintStart', dir: key === 'n' ? 1 : -1 });
    case 'R':
      return ctx.live ? done(s, { type: 'record' }) : done({ ...s, message: 'this is a replay: nothing to record' });
    case 'W':
      return ctx.live ? done(s, { type: 'saveHistory' }) : done({ ...s, message: 'this is a replay: the file is already saved' });
    default:
      return done(state);
  }
}

