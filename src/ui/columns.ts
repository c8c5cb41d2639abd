// Columns of the main list: what each shows, how wide, how it sorts, and which go first when the
// terminal is too narrow. Meanings come from the metric catalog.
import { classifyThread } from '../hints/workloadClass.js';
import { rwSyscallsPerSec } from '../model/frame.js';
import type { Frame } from '../model/frame.js';
import { metric } from '../model/metrics.js';
import type { ListRow, SortValue } from './rows.js';
import type { ListMode } from './state.js';
import { fmtBytes, fmtCount, fmtCpuTime, fmtPct, NA, safeName } from './format.js';

/** One column of the main list. */
export interface Column {
  id: string;
  header: string;
  /** Width in terminal columns; the command column takes what is left (at least this). */
  width: number;
  right: boolean;
  /** Higher is kept longer when columns do not fit. */
  priority: number;
  /** List modes that show it. */
  modes: readonly ('thread' | 'process')[];
  /** Catalog id of the metric shown, for the help screen. */
  metricId: string | null;
  /** One line for the help screen when there is no catalog entry. */
  help?: string;
  value(row: ListRow): SortValue;
  text(row: ListRow): string;
  flex?: boolean;
}

const BOTH = ['thread', 'process'] as const;
const THREAD = ['thread'] as const;
const PROCESS = ['process'] as const;

/** A numeric column over the row's thread (thread rows) or process (process rows). */
function num(
  id: string,
  header: string,
  width: number,
  priority: number,
  field: string,
  format: (v: number | null) => string,
  modes: readonly ('thread' | 'process')[] = BOTH,
): Column {
  const pick = (row: ListRow): number | null => {
    const source = row.kind === 'thread' ? row.thread : row.process;
    const v = source ? (source as unknown as Record<string, unknown>)[field] : null;
    return typeof v === 'number' ? v : null;
  };
  return {
    id,
    header,
    width,
    right: true,
    priority,
    modes,
    metricId: `${modes.length === 1 && modes[0] === 'process' ? 'processes' : 'threads'}[].${field}`,
    value: pick,
    text: (row) => format(pick(row)),
  };
}

/** A numeric column always taken from the row's process (memory is per process). */
function procNum(id: string, header: string, width: number, priority: number, field: string, format: (v: number | null) => string): Column {
  const pick = (row: ListRow): number | null => {
    const v = row.process ? (row.process as unknown as Record<string, unknown>)[field] : null;
    return typeof v === 'number' ? v : null;
  };
  return { id, header, width, right: true, priority, modes: BOTH, metricId: `processes[].${field}`, value: pick, text: (row) => format(pick(row)) };
}

function commandText(row: ListRow): string {
  const name = row.kind === 'process' ? row.process?.cmdline || row.process?.comm || '' : row.thread?.comm ?? '';
  const kernelThread = row.kind === 'process' && row.process?.cmdline === '';
  return row.treePrefix + safeName(kernelThread ? `[${row.process?.comm ?? ''}]` : name);
}

/** Every column, in screen order. */
export const COLUMNS: readonly Column[] = [
  num('tid', 'TID', 7, 95, 'tid', (v) => (v === null ? NA : String(v)), THREAD),
  {
    // In the tree, a nested thread row shows its own id here (there is no TID column).
    id: 'pid', header: 'PID', width: 7, right: true, priority: 70, modes: BOTH, metricId: 'threads[].pid',
    value: (r) => (r.kind === 'thread' && r.treePrefix !== '' ? r.key : (r.process?.pid ?? r.thread?.pid ?? null)),
    text: (r) => String(r.kind === 'thread' && r.treePrefix !== '' ? r.key : (r.process?.pid ?? r.thread?.pid ?? NA)),
  },
  {
    id: 'user', header: 'USER', width: 8, right: false, priority: 60, modes: BOTH, metricId: 'processes[].user',
    value: (r) => r.process?.user ?? r.thread?.user ?? null,
    text: (r) => r.process?.user ?? r.thread?.user ?? NA,
  },
  { ...num('nice', 'NI', 3, 40, 'nice', (v) => (v === null ? NA : String(v))), value: (r) => r.thread?.nice ?? null, text: (r) => (r.thread?.nice == null ? NA : String(r.thread.nice)) },
  {
    id: 'hint', header: '!', width: 1, right: false, priority: 92, modes: BOTH, metricId: null,
    help: 'a hint is active about this thread or process (! warning or critical, i information): press w to read it',
    value: (r) => (r.hint === 'crit' ? 3 : r.hint === 'warn' ? 2 : r.hint === 'info' ? 1 : null),
    text: (r) => (r.hint === 'crit' || r.hint === 'warn' ? '!' : r.hint === 'info' ? 'i' : ' '),
  },
  {
    id: 'state', header: 'S', width: 1, right: false, priority: 90, modes: BOTH, metricId: 'threads[].state',
    value: (r) => r.thread?.state ?? null,
    text: (r) => r.thread?.state ?? NA,
  },
  num('threads', 'THR', 5, 52, 'threads', (v) => (v === null ? NA : String(v)), PROCESS),
  num('cpu', 'CPU%', 5, 100, 'cpu_pct', fmtPct),
  num('usr', 'USR%', 5, 45, 'user_pct', fmtPct),
  num('sys', 'SYS%', 5, 56, 'system_pct', fmtPct),
  num('wait', 'WAIT%', 5, 85, 'runq_wait_pct', fmtPct),
  num('dpct', 'D%', 5, 84, 'offcpu_d_pct', fmtPct),
  num('spct', 'S%', 5, 34, 'offcpu_s_pct', fmtPct),
  num('sysc', 'SYSC/s', 6, 67, 'syscalls_per_s', fmtCount),
  num('vcsw', 'VCSW/s', 6, 66, 'vcsw_per_s', fmtCount),
  num('ivcsw', 'ICSW/s', 6, 65, 'ivcsw_per_s', fmtCount),
  {
    id: 'rwsys', header: 'RWSC/s', width: 6, right: true, priority: 35, modes: BOTH, metricId: null,
    help: 'read + write syscalls per second from the io file: a proxy for syscalls/s (all syscalls need the eBPF tier); read only for rows on screen',
    value: (r) => { const s = r.kind === 'thread' ? r.thread : r.process; return s ? rwSyscallsPerSec(s) : null; },
    text: (r) => { const s = r.kind === 'thread' ? r.thread : r.process; return fmtCount(s ? rwSyscallsPerSec(s) : null); },
  },
  num('majf', 'MAJF/s', 6, 50, 'majflt_per_s', fmtCount),
  num('dread', 'DRD/s', 6, 48, 'read_bytes_per_s', fmtBytes, PROCESS),
  num('dwrite', 'DWR/s', 6, 47, 'write_bytes_per_s', fmtBytes, PROCESS),
  procNum('rss', 'RSS', 6, 58, 'rss_bytes', fmtBytes),
  procNum('mem', 'MEM%', 5, 57, 'mem_pct', fmtPct),
  procNum('swap', 'SWAP', 6, 20, 'swap_bytes', fmtBytes),
  num('time', 'TIME+', 9, 75, 'cpu_time_s', fmtCpuTime),
  {
    id: 'class', header: 'CLASS', width: 10, right: false, priority: 80, modes: BOTH, metricId: null,
    help: 'what a busy thread is limited by: cpu-bound (mostly on a CPU), starved (waiting for a CPU), io-bound (in D), lock-wait or event-wait (sleeping in a futex, poll ...)',
    value: (r) => (r.thread ? classifyThread(r.thread) : null),
    text: (r) => (r.thread ? (classifyThread(r.thread) ?? '') : ''),
  },
  {
    id: 'wchan', header: 'WCHAN', width: 14, right: false, priority: 30, modes: BOTH, metricId: 'threads[].wchan',
    value: (r) => r.thread?.wchan ?? null,
    text: (r) => (r.thread?.wchan ? safeName(r.thread.wchan) : NA),
  },
  {
    id: 'cgroup', header: 'CGROUP', width: 24, right: false, priority: 10, modes: BOTH, metricId: 'processes[].cgroup',
    value: (r) => r.process?.cgroup ?? null,
    text: (r) => safeName(r.process?.cgroup ?? NA),
  },
  {
    id: 'command', header: 'COMMAND', width: 12, right: false, priority: 100, modes: BOTH, metricId: 'threads[].comm', flex: true,
    value: (r) => (r.kind === 'process' ? r.process?.cmdline || r.process?.comm : r.thread?.comm) ?? null,
    text: commandText,
  },
];

/** The columns a list mode offers (before hiding and width fitting). */
export function columnsFor(mode: ListMode): Column[] {
  return COLUMNS_BY_MODE[mode].slice();
}

function offeredColumns(mode: ListMode): Column[] {
  const kind = mode === 'threads' ? 'thread' : 'process';
  return COLUMNS.filter((c) => c.modes.includes(kind) && !(mode === 'tree' && c.id === 'tid'));
}
// Worked out once: no closure is made per call on a refresh path (README, Performance).
const COLUMNS_BY_MODE: Record<ListMode, readonly Column[]> = { threads: offeredColumns('threads'), processes: offeredColumns('processes'), tree: offeredColumns('tree') };

/** Room the command column keeps before other columns are dropped (the tree needs more for its drawing). */
const COMMAND_MIN = { threads: 24, processes: 28, tree: 40 } as const;

/**
 * Columns whose data this frame's kernel tier does not have (their cells would all read '-'): the
 * off-CPU sleep split without the kernel probes, syscalls/s without syscall counting.
 */
export function unavailableColumns(frame: Frame | null): string[] {
  const out: string[] = [];
  if (frame?.kernel.tier !== 'ebpf') out.push('dpct', 'spct');
  if (frame?.kernel.tier !== 'ebpf' || frame.system.syscalls_per_s === null) out.push('sysc');
  return out;
}

/** The columns that fit in `width`: hidden ones removed, then the lowest priority dropped first. */
export function fitColumns(mode: ListMode, hidden: readonly string[], width: number): Column[] {
  const shown = columnsFor(mode)
    .filter((c) => !hidden.includes(c.id) || c.id === 'command')
    .map((c) => (c.flex ? { ...c, width: Math.min(COMMAND_MIN[mode], Math.max(12, width - 20)) } : c));
  const total = (cols: Column[]): number => cols.reduce((sum, c) => sum + c.width + 1, 0);
  while (shown.length > 1 && total(shown) > width) {
    let lowest = 0;
    for (let i = 1; i < shown.length; i++) if (shown[i].priority < shown[lowest].priority) lowest = i;
    shown.splice(lowest, 1);
  }
  return shown;
}

/** The column a sort id names in a mode, or CPU% when that mode has no such column. */
export function sortColumn(mode: ListMode, id: string): Column {
  return columnsFor(mode).find((c) => c.id === id) ?? COLUMNS.find((c) => c.id === 'cpu')!;
}

/** Help line for a column: its catalog meaning. */
export function columnHelp(c: Column): string {
  return (c.metricId ? metric(c.metricId)?.meaning : undefined) ?? c.help ?? '';
}
