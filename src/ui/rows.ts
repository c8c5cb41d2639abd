// The main list's rows: threads or processes of a frame, joined with their process (or main
// thread), filtered and sorted as the UI state says, or laid out as a process tree.
import type { Hint, Severity } from '../hints/types.js';
import type { Frame, ProcessFrame, ThreadFrame } from '../model/frame.js';
import type { SortSpec, UiState } from './state.js';

/** One row of the main list. */
export interface ListRow {
  /** tid for thread rows, pid for process rows: what the selection follows. */
  key: number;
  kind: 'thread' | 'process';
  /** The thread (thread rows) or the main thread (process rows; may be missing). */
  thread: ThreadFrame | null;
  /** The process of the row (thread rows: the process the thread belongs to). */
  process: ProcessFrame | null;
  /** States of all threads of a process row; the thread's own state for thread rows. */
  states: string;
  /** Tree drawing before the name (tree mode), e.g. "├─ ". */
  treePrefix: string;
  /** The most severe active hint about this row's thread or process, if any. */
  hint?: Severity;
}

const RANK: Record<Severity, number> = { crit: 3, warn: 2, info: 1 };

/** Marks each row with the most severe hint about its thread (thread rows) or process. */
export function annotateHints(rows: ListRow[], hints: readonly Hint[]): void {
  const threads = new Map<number, Severity>();
  const processes = new Map<number, Severity>();
  const keep = (m: Map<number, Severity>, id: number, s: Severity): void => {
    const old = m.get(id);
    if (!old || RANK[s] > RANK[old]) m.set(id, s);
  };
  for (const h of hints) {
    if (h.subject.id === undefined) continue;
    if (h.subject.kind === 'thread') keep(threads, h.subject.id, h.severity);
    if (h.subject.kind === 'process') keep(processes, h.subject.id, h.severity);
  }
  // Rows come from buildRows unmarked: without hints about threads or processes there is nothing to do.
  if (threads.size === 0 && processes.size === 0) return;
  for (const row of rows) {
    row.hint = row.kind === 'thread' ? threads.get(row.key) ?? (row.process ? processes.get(row.process.pid) : undefined) : processes.get(row.key);
  }
}

/** A value a column sorts by. */
export type SortValue = number | string | null;

/** Compiles the filter regex (case-insensitive); an invalid pattern matches as plain text. */
export function compileFilter(source: string | null): ((text: string) => boolean) | null {
  if (!source) return null;
  try {
    const re = new RegExp(source, 'i');
    return (text) => re.test(text);
  } catch {
    const needle = source.toLowerCase();
    return (text) => text.toLowerCase().includes(needle);
  }
}

/** The texts a filter or search matches a row against: its name and command line. */
export function rowTexts(row: ListRow): string[] {
  const texts: string[] = [];
  if (row.thread) texts.push(row.thread.comm);
  if (row.process) {
    texts.push(row.process.comm);
    if (row.process.cmdline) texts.push(row.process.cmdline);
  }
  return texts;
}

/** Rows of every thread, each with its process. */
function threadRows(frame: Frame, byPid: Map<number, ProcessFrame>): ListRow[] {
  const rows: ListRow[] = new Array(frame.threads.length);
  let process = null as ProcessFrame | null;
  for (let i = 0; i < rows.length; i++) {
    const t = frame.threads[i];
    // Threads of a process come one after another: look it up once per run.
    if (process?.pid !== t.pid) process = byPid.get(t.pid) ?? null;
    rows[i] = { key: t.tid, kind: 'thread', thread: t, process, states: t.state, treePrefix: '', hint: undefined };
  }
  return rows;
}

/** Rows of every process, each with its main thread and its threads' states. */
function processRows(frame: Frame, threadsByPid: Map<number, ThreadFrame[]>): ListRow[] {
  return frame.processes.map((p) => {
    const own = threadsByPid.get(p.pid) ?? [];
    return { key: p.pid, kind: 'process', thread: own.find((t) => t.tid === p.pid) ?? own[0] ?? null, process: p, states: own.map((t) => t.state).join(''), treePrefix: '', hint: undefined };
  });
}

/** A row with its sort value, while sorting. */
interface SortEntry {
  value: SortValue;
  key: number;
  row: ListRow;
}

/** Orders sort entries by value (nulls last), ties by key; `dir` 1 ascending, -1 descending. */
function compareEntries(a: SortEntry, b: SortEntry, dir: number): number {
  const x = a.value;
  const y = b.value;
  if (x === null || y === null) return x === y ? a.key - b.key : x === null ? 1 : -1;
  const cmp = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  return cmp !== 0 ? cmp * dir : a.key - b.key;
}
// Module-level comparators: no closure is made per call on a refresh path (README, Performance).
const ascending = (a: SortEntry, b: SortEntry): number => compareEntries(a, b, 1);
const descending = (a: SortEntry, b: SortEntry): number => compareEntries(a, b, -1);

/** Sorts rows in place by a column's value: nulls last whatever the direction, ties by key. */
export function sortRows(rows: ListRow[], sort: SortSpec, value: (row: ListRow) => SortValue): void {
  const entries: SortEntry[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) entries[i] = { value: value(rows[i]), key: rows[i].key, row: rows[i] };
  entries.sort(sort.descending ? descending : ascending);
  for (let i = 0; i < rows.length; i++) rows[i] = entries[i].row;
}

/** True when a row passes the user, state and text filters. */
function passes(row: ListRow, state: UiState, textFilter: ((text: string) => boolean) | null): boolean {
  if (state.userFilter !== null && (row.process?.user ?? row.thread?.user) !== state.userFilter) return false;
  if (state.stateFilter && ![...row.states].some((s) => state.stateFilter!.includes(s))) return false;
  if (textFilter && !rowTexts(row).some(textFilter)) return false;
  return true;
}

/**
 * The rows of the main list for a frame: filtered and sorted. In tree mode, processes are nested
 * under their parents (sorted among siblings) and each process's other threads under it.
 */
export function buildRows(frame: Frame, state: UiState, value: (row: ListRow) => SortValue): ListRow[] {
  const byPid = new Map<number, ProcessFrame>();
  for (const p of frame.processes) byPid.set(p.pid, p);
  const textFilter = compileFilter(state.filter);
  if (state.listMode === 'threads') {
    const all = threadRows(frame, byPid);
    const rows = state.userFilter === null && !state.stateFilter && !textFilter ? all : all.filter((r) => passes(r, state, textFilter));
    sortRows(rows, state.sort, value);
    return rows;
  }
  const threadsByPid = new Map<number, ThreadFrame[]>();
  for (const t of frame.threads) {
    let list = threadsByPid.get(t.pid);
    if (!list) threadsByPid.set(t.pid, (list = []));
    list.push(t);
  }
  const procs = processRows(frame, threadsByPid);
  if (state.listMode === 'processes') {
    const rows = procs.filter((r) => passes(r, state, textFilter));
    sortRows(rows, state.sort, value);
    return rows;
  }
  return treeRows(procs, threadsByPid, byPid, state, textFilter, value);
}

function treeRows(
  procs: ListRow[],
  threadsByPid: Map<number, ThreadFrame[]>,
  byPid: Map<number, ProcessFrame>,
  state: UiState,
  textFilter: ((text: string) => boolean) | null,
  value: (row: ListRow) => SortValue,
): ListRow[] {
  // With a filter on, keep matching processes and their ancestors, so the tree stays a tree.
  const keep = new Set<number>();
  for (const row of procs) {
    if (!passes(row, state, textFilter)) continue;
    for (let pid: number | undefined = row.key; pid !== undefined && !keep.has(pid); pid = parentOf(byPid.get(pid), byPid)) keep.add(pid);
  }
  const children = new Map<number, ListRow[]>();
  const roots: ListRow[] = [];
  for (const row of procs) {
    if (!keep.has(row.key)) continue;
    const parent = parentOf(row.process ?? undefined, byPid);
    if (parent !== undefined && keep.has(parent)) {
      let list = children.get(parent);
      if (!list) children.set(parent, (list = []));
      list.push(row);
    } else roots.push(row);
  }
  const out: ListRow[] = [];
  const walk = (siblings: ListRow[], indent: string): void => {
    sortRows(siblings, state.sort, value);
    siblings.forEach((row, i) => {
      const last = i === siblings.length - 1;
      out.push({ ...row, treePrefix: indent === '' && roots.includes(row) ? '' : indent + (last ? '└─ ' : '├─ ') });
      const nextIndent = indent === '' && roots.includes(row) ? ' ' : indent + (last ? '   ' : '│  ');
      const threads = (threadsByPid.get(row.key) ?? []).filter((t) => t.tid !== row.key);
      const kids = children.get(row.key) ?? [];
      threads.forEach((t, j) => {
        const lastThread = j === threads.length - 1 && kids.length === 0;
        out.push({ key: t.tid, kind: 'thread', thread: t, process: row.process, states: t.state, treePrefix: nextIndent + (lastThread ? '└─ ' : '├─ '), hint: undefined });
      });
      walk(kids, nextIndent);
    });
  };
  walk(roots, '');
  return out;
}

/** The parent pid of a process when its parent is in the frame. */
function parentOf(process: ProcessFrame | undefined, byPid: Map<number, ProcessFrame>): number | undefined {
  const ppid = process?.ppid;
  return ppid !== undefined && ppid !== null && byPid.has(ppid) ? ppid : undefined;
}
