// What the user has chosen on screen: view, list mode, sort, filters, selection, overlays. Plain
// data; keys.ts turns key presses into new states, panels read it.

/** The views switched with Tab and 1-6. */
export const VIEWS = ['threads', 'states', 'modes', 'softirq', 'memory', 'io'] as const;

/** One of the views. */
export type ViewId = (typeof VIEWS)[number];

/** What the main list shows: threads, processes, or processes as a tree with threads nested. */
export type ListMode = 'threads' | 'processes' | 'tree';

/** Sort column (a column id) and direction. */
export interface SortSpec {
  column: string;
  descending: boolean;
}

/** A text prompt at the bottom line. */
export interface Prompt {
  kind: 'prompt';
  purpose: 'search' | 'filter' | 'state' | 'user' | 'goto';
  label: string;
  text: string;
}

/** A list to pick one item from (sort column, signal, user, columns). */
export interface Picker {
  kind: 'picker';
  purpose: 'sort' | 'signal' | 'user' | 'columns';
  title: string;
  items: Array<{ id: string; label: string; checked?: boolean }>;
  index: number;
}

/** A yes/no question before something that cannot be undone. */
export interface Confirm {
  kind: 'confirm';
  question: string;
  action: { type: 'signal'; pids: number[]; signal: string };
}

/** A page of text over the main view, scrolled by `scroll` lines. */
export type Page = { kind: 'help'; scroll: number } | { kind: 'detail'; tid: number; scroll: number };

/**
 * The list of active hints with their explanations (`w`). The selection follows the hint `key`
 * (hintKey: rule and subject) while the list re-sorts; `index` is where it was, used when that hint ends.
 */
export interface WhyList {
  kind: 'why';
  index: number;
  key: string | null;
}

/** Something drawn over the main view. */
export type Overlay = Page | WhyList | Prompt | Picker | Confirm;

/** Everything the user controls. */
export interface UiState {
  view: ViewId;
  listMode: ListMode;
  sort: SortSpec;
  /** Regex source matched against names and command lines; null: no filter. */
  filter: string | null;
  userFilter: string | null;
  /** State letters to keep (e.g. "DR"); null: all. */
  stateFilter: string | null;
  /** Key (tid, or pid in process modes) of the selected row; follows the row when it moves. */
  selectedKey: number | null;
  /** Index of the selection, used when the selected row disappears. */
  selectedIndex: number;
  scrollTop: number;
  hiddenColumns: string[];
  /** The last search text, offered again by the next search. */
  lastSearch: string;
  paused: boolean;
  intervalMs: number;
  overlay: Overlay | null;
  /** A one-line message in the status bar (errors of signals, config problems). */
  message: string | null;
  /** The CPU the Softirq view highlights: the subject of the last CPU hint jumped to (Enter in `w`). */
  focusCpu: number | null;
}

/** Smallest and largest sampling interval the + and - keys reach. */
export const INTERVAL_STEPS_MS = [250, 500, 1000, 2000, 3000, 5000, 10000] as const;

/** The state a first start shows. */
export function initialState(intervalMs: number): UiState {
  return {
    view: 'threads',
    listMode: 'threads',
    sort: { column: 'cpu', descending: true },
    filter: null,
    userFilter: null,
    stateFilter: null,
    selectedKey: null,
    selectedIndex: 0,
    scrollTop: 0,
    hiddenColumns: ['cgroup', 'swap'],
    lastSearch: '',
    paused: false,
    intervalMs,
    overlay: null,
    message: null,
    focusCpu: null,
  };
}
