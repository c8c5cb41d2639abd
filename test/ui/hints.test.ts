// The TUI's hints with real hints: the line under the header, the '!' column on rows, the `w` list
// and Enter on a hint (thread, process, CPU, memory, disk), markers in the Softirq and Memory views.
import { describe, expect, it } from 'vitest';
import type { Hint } from '../../src/hints/types.js';
import { columnsFor, fitColumns, sortColumn } from '../../src/ui/columns.js';
import { followSelection, handleKey, jumpToSubject, whyIndex } from '../../src/ui/keys.js';
import type { KeyContext } from '../../src/ui/keys.js';
import { annotateHints, buildRows } from '../../src/ui/rows.js';
import type { ListRow } from '../../src/ui/rows.js';
import { renderScreen } from '../../src/ui/screen.js';
import type { ScreenModel } from '../../src/ui/screen.js';
import { initialState } from '../../src/ui/state.js';
import type { UiState, WhyList } from '../../src/ui/state.js';
import { stripTags } from '../../src/ui/tagged.js';
import { DeviceHistory, ThreadHistory } from '../../src/ui/history.js';
import { memoryView, softirqView } from '../../src/ui/panels/views.js';
import type { Frame } from '../../src/model/frame.js';
import { frameWith, proc, thread } from '../model/frameBuilder.js';

const F: Frame = {
  ...frameWith(
    [thread(1, 1, { cpu_pct: 5, comm: 'init' }), thread(10, 10, { cpu_pct: 50, state: 'R', comm: 'busy' }), thread(11, 10, { cpu_pct: 20, comm: 'worker' }), thread(20, 20, { state: 'D', comm: 'stuck', wchan: 'io_schedule' })],
    [proc(1, { comm: 'init' }), proc(10, { ppid: 1, threads: 2, cpu_pct: 70, comm: 'busy' }), proc(20, { ppid: 1, comm: 'stuck' })],
  ),
  softirq_cpus: [0, 1, 2, 3],
  softirqs: { NET_RX: [10, 90000, 5, 5], TIMER: [100, 100, 100, 100] },
  softirq_time_pct: { NET_RX: [null, null, null, null], TIMER: [null, null, null, null] },
};
F.cpus = [0, 1, 2, 3].map((cpu) => ({ ...F.cpus[0], cpu, softirq_pct: cpu === 1 ? 30 : 1 }));

const hint = (id: string, severity: Hint['severity'], subject: Hint['subject'], message: string): Hint => ({ id, severity, subject, message, explain: `Why ${id}: a paragraph about it.` });

/** Hints as the engine lists them: most severe first. */
const HINTS: Hint[] = [
  hint('swapping', 'crit', { kind: 'memory' }, 'swapping: 2.0K pages/s out, 10 in — anonymous paging, the bad kind'),
  hint('softirq-high', 'warn', { kind: 'cpu', id: 1 }, 'CPU 1: 30% in softirq, mostly NET_RX (90K/s)'),
  hint('thread-blocked', 'warn', { kind: 'thread', id: 20, pid: 20 }, 'stuck (20) blocked in D in io_schedule: Enter shows its kernel stack'),
  hint('disk-saturated', 'warn', { kind: 'system' }, 'disk sda 99% busy, queue 6.5, await 35 ms: I/O queues up'),
  hint('demand-paging', 'info', { kind: 'process', id: 10 }, 'busy (10): VSZ 64G but RSS 286M — reserved, not used; not a leak'),
  hint('net-rx-one-cpu', 'info', { kind: 'cpu', id: 1 }, 'NET_RX: 100% of 90K/s on CPU 1 while 3 other CPUs idle'),
];

function rowsFor(state: UiState, hints: readonly Hint[] = HINTS): ListRow[] {
  const col = sortColumn(state.listMode, state.sort.column);
  const rows = buildRows(F, state, (r) => col.value(r));
  annotateHints(rows, hints);
  return rows;
}

function ctxFor(state: UiState, hints: readonly Hint[] = HINTS): KeyContext {
  return { rows: rowsFor(state, hints), pageSize: 10, columns: columnsFor(state.listMode), users: ['root'], live: true, hints, stepping: false };
}

function rawScreen(state: UiState, hints: readonly Hint[] = HINTS, width = 160, height = 40): string[] {
  const rows = rowsFor(state, hints);
  const model: ScreenModel = {
    frame: F, rows, columns: fitColumns(state.listMode, state.hiddenColumns, width), allColumns: columnsFor(state.listMode),
    since: new Map(), history: new ThreadHistory(), devices: new DeviceHistory(), kernelDetail: null, modeLabel: 'LIVE', hints,
  };
  // As the app does before drawing: the selection follows its row.
  return renderScreen(model, followSelection(state, rows), width, height);
}

function screen(state: UiState, hints: readonly Hint[] = HINTS, width = 160, height = 40): string[] {
  return rawScreen(state, hints, width, height).map(stripTags);
}

/** Presses keys one after the other, as the app does. */
function press(state: UiState, keys: string[], hints: readonly Hint[] = HINTS): UiState {
  return keys.reduce((s, key) => handleKey(s, key, ctxFor(s, hints)).state, state);
}

const s0 = initialState(1000);

describe('hints on the screen', () => {
  it('show the most severe hint under the header, with how many more `w` lists', () => {
    const lines = screen(s0);
    const line = lines.find((l) => l.includes('swapping: 2.0K pages/s out'))!;
    expect(line).toMatch(/^! swapping: 2\.0K pages\/s out, 10 in .* \(\+5 more: w\)/);
    expect(screen(s0, [HINTS[4]]).some((l) => /^i busy \(10\): VSZ 64G .*\(w: why\)/.test(l))).toBe(true);
    expect(screen(s0, []).some((l) => l.startsWith('hints: nothing unusual'))).toBe(true);
  });

  it("mark the rows a hint is about in the '!' column: '!' for warnings, 'i' for information, the process's threads too", () => {
    const lines = screen(s0);
    const header = lines.find((l) => /\bTID\b.*\bCOMMAND/.test(l))!;
    const bang = header.indexOf(' ! ') + 1;
    expect(bang).toBeGreaterThan(0);
    const rowOf = (comm: string): string => lines.find((l) => l.trimEnd().endsWith(` ${comm}`) && l.indexOf(comm) > bang)!;
    expect(rowOf('stuck')[bang]).toBe('!');
    expect(rowOf('busy')[bang]).toBe('i');
    expect(rowOf('worker')[bang]).toBe('i'); // a thread of the process the hint is about
    expect(rowOf('init')[bang]).toBe(' ');
  });

  it('list every hint in `w` with the selected one explained, and follow the selection as the list re-sorts', () => {
    let s = press(s0, ['w']);
    expect(s.overlay).toEqual({ kind: 'why', index: 0, key: 'swapping|memory:' });
    s = press(s, ['down', 'down']);
    const lines = screen(s);
    expect(lines.some((l) => l.startsWith('Why: active hints'))).toBe(true);
    for (const h of HINTS) expect(lines.some((l) => l.includes(h.message.slice(0, 40)))).toBe(true);
    const selected = lines.findIndex((l) => l.startsWith('WARN stuck (20) blocked in D'));
    expect(lines[selected + 1].trim()).toBe('Why thread-blocked: a paragraph about it.');
    expect(lines.filter((l) => l.trim().startsWith('Why '))).toHaveLength(1);
    // Live: the swapping hint ended and another started; the selection stays on the blocked thread.
    const next = [hint('steal', 'crit', { kind: 'system' }, 'steal 12.0%'), ...HINTS.slice(1)];
    const why = s.overlay as WhyList;
    expect(next[whyIndex(why, next)].id).toBe('thread-blocked');
    const after = screen(s, next);
    expect(after[after.findIndex((l) => l.startsWith('WARN stuck (20) blocked in D')) + 1].trim()).toBe('Why thread-blocked: a paragraph about it.');
    expect(press(s, ['enter'], next).selectedKey).toBe(20);
    // When its hint ends, the selection stays at its place in the list.
    const gone = HINTS.filter((h) => h.id !== 'thread-blocked');
    expect(gone[whyIndex(why, gone)].id).toBe('disk-saturated');
    expect(press(s, ['down'], gone).overlay).toMatchObject({ index: 3, key: 'demand-paging|process:10' });
  });

  it('go to the subject with Enter: the thread or process selected, the CPU highlighted, memory, the disk view', () => {
    const enterOn = (index: number, from: UiState = s0): UiState => press(from, ['w', ...Array.from({ length: index }, () => 'down'), 'enter']);
    const thread = enterOn(2, { ...s0, listMode: 'processes', filter: 'nothing', view: 'memory' });
    expect(thread).toMatchObject({ overlay: null, view: 'threads', listMode: 'threads', selectedKey: 20, filter: null });
    const process = enterOn(4);
    expect(process).toMatchObject({ view: 'threads', listMode: 'processes', selectedKey: 10 });
    expect(enterOn(1)).toMatchObject({ view: 'softirq', focusCpu: 1 });
    expect(enterOn(0)).toMatchObject({ view: 'memory' });
    expect(enterOn(3)).toMatchObject({ view: 'io' });
    expect(jumpToSubject(s0, hint('disk-slower', 'warn', { kind: 'system' }, 'x')).view).toBe('io');
    expect(jumpToSubject(s0, hint('steal', 'warn', { kind: 'system' }, 'x')).view).toBe('modes');
    expect(jumpToSubject(s0, hint('cpu-saturated', 'warn', { kind: 'system' }, 'x')).view).toBe('states');
    // Choosing a view by hand ends the CPU highlight.
    expect(press(enterOn(1), ['4']).focusCpu).toBeNull();
  });

  it('show the jumped-to thread selected on screen', () => {
    const s = press({ ...s0, sort: { column: 'cpu', descending: true } }, ['w', 'down', 'down', 'enter']);
    const raw = rawScreen(s);
    const rowOf = (comm: string): string => raw.find((l) => new RegExp(`\\s${comm}\\s*$`).test(stripTags(l)))!;
    expect(rowOf('stuck').startsWith('{black-fg}{cyan-bg}')).toBe(true);
    expect(stripTags(rowOf('stuck'))).toMatch(/^\s*20\s+20\s/);
    for (const other of ['init', 'busy', 'worker']) expect(rowOf(other).startsWith('{black-fg}{cyan-bg}'), other).toBe(false);
  });
});

describe('hint markers in the views', () => {
  it('Softirq: CPUs with a hint marked, every CPU hint listed (the most severe too), the jumped-to CPU highlighted', () => {
    const only = [HINTS[1], HINTS[5]];
    const lines = softirqView(F, only, 160).map(stripTags);
    expect(lines[1]).toBe('! CPU 1: 30% in softirq, mostly NET_RX (90K/s)');
    expect(lines[2]).toBe('i NET_RX: 100% of 90K/s on CPU 1 while 3 other CPUs idle');
    const header = lines.find((l) => l.startsWith('TYPE'))!;
    expect(header.split(/\s+/)).toEqual(['TYPE', 'CPU0', '!CPU1', 'CPU2', 'CPU3']);
    // The jumped-to CPU is drawn in the selection colour (whatever hint it has), the others in their hint's.
    const raw = softirqView(F, only, 160, 1);
    const rawHeader = raw.find((l) => stripTags(l).startsWith('TYPE'))!;
    expect(rawHeader).toMatch(/\{black-fg\}\{cyan-bg\}\s*!CPU1\{/);
    expect(softirqView(F, only, 160).find((l) => stripTags(l).startsWith('TYPE'))!).toMatch(/\{yellow-fg\}\s*!CPU1\{/);
    expect(stripTags(raw.join('\n'))).toMatch(/highlighted: CPU1, the hint's CPU/);
  });

  it('Softirq: keeps the jumped-to CPU in sight when not all CPUs fit', () => {
    const many: Frame = { ...F, softirq_cpus: Array.from({ length: 32 }, (_, i) => i), softirqs: { NET_RX: Array.from({ length: 32 }, (_, i) => i * 10) }, softirq_time_pct: {} };
    const header = (focus: number | null): string[] => stripTags(softirqView(many, [], 80, focus).find((l) => stripTags(l).startsWith('TYPE'))!).trim().split(/\s+/);
    expect(header(null)).toContain('CPU0');
    expect(header(null)).not.toContain('CPU30');
    expect(header(30)).toContain('CPU30');
  });

  it('Memory: every memory hint listed, the most severe too', () => {
    const lines = memoryView(F, HINTS, 160, 40).map(stripTags);
    expect(lines[1]).toBe('! swapping: 2.0K pages/s out, 10 in — anonymous paging, the bad kind');
    expect(lines.filter((l) => /^[!i] /.test(l))).toHaveLength(1);
  });
});
