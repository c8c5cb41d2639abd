// The TUI's pure parts: formatting, tagged-text measuring, column fitting, rows, keys.
import { describe, expect, it } from 'vitest';
import { COLUMNS, columnsFor, fitColumns, sortColumn } from '../../src/ui/columns.js';
import { displayWidth, fit, fmtBytes, fmtCount, fmtCpuTime, fmtPct, safeName } from '../../src/ui/format.js';
import { followSelection, handleKey, scrollToSelection } from '../../src/ui/keys.js';
import type { KeyContext } from '../../src/ui/keys.js';
import { buildRows, compileFilter } from '../../src/ui/rows.js';
import { renderScreen } from '../../src/ui/screen.js';
import { initialState } from '../../src/ui/state.js';
import type { UiState } from '../../src/ui/state.js';
import { clipTagged, padTagged, stripTags, taggedWidth } from '../../src/ui/tagged.js';
import { esc, paint } from '../../src/ui/style.js';
import { DeviceHistory, ThreadHistory } from '../../src/ui/history.js';
import { headerHeight, headerLines } from '../../src/ui/panels/header.js';
import { carriedOver, trackStateSince } from '../../src/model/threadState.js';
import { frameWith, proc, thread } from '../model/frameBuilder.js';

const F = frameWith(
  [thread(1, 1, { cpu_pct: 5 }), thread(10, 10, { cpu_pct: 50, state: 'R', comm: 'busy' }), thread(11, 10, { cpu_pct: 20, comm: 'worker' }), thread(20, 20, { cpu_pct: null, state: 'D', user: 'bob', uid: 1000 })],
  [proc(1), proc(10, { ppid: 1, threads: 2, cpu_pct: 70, comm: 'busy', cmdline: 'busy --hard' }), proc(20, { ppid: 1, user: 'bob', uid: 1000, comm: 'io' })],
);

const cpuValue = (s: UiState) => {
  const col = sortColumn(s.listMode, s.sort.column);
  return (r: Parameters<typeof col.value>[0]) => col.value(r);
};

describe('formatting', () => {
  it('formats numbers compactly and null as "-" (not available is not zero)', () => {
    expect([fmtPct(12.345), fmtPct(100), fmtPct(null)]).toEqual(['12.3', '100', '-']);
    expect([fmtCount(950), fmtCount(9500), fmtCount(12_000), fmtCount(3_400_000), fmtCount(0)]).toEqual(['950', '9.5K', '12K', '3.4M', '0']);
    expect([fmtBytes(512), fmtBytes(4096), fmtBytes(12 * 1024 * 1024), fmtBytes(null)]).toEqual(['512', '4.0K', '12M', '-']);
    expect([fmtCpuTime(65.5), fmtCpuTime(3725), fmtCpuTime(90000)]).toEqual(['1:05.50', '1h02:05', '1d1h']);
  });

  it('escapes control bytes and fits wide characters by terminal columns', () => {
    expect(safeName('a\x1b[31m\nb\x7f')).toBe('a\\x1b[31m\\x0ab\\x7f');
    expect(displayWidth('日本')).toBe(4);
    expect(fit('日本語テキスト', 6)).toBe('日本… ');
    expect(displayWidth(fit('日本語テキスト', 6))).toBe(6);
    expect(fit('abc', 5, true)).toBe('  abc');
  });
});

describe('tagged text', () => {
  it('measures and clips by visible columns, keeping tags and escaped braces', () => {
    const line = paint('warn', 'hello') + esc(' {x} ') + '{#8a8a8a-fg}dim{/#8a8a8a-fg}';
    expect(taggedWidth(line)).toBe(5 + 5 + 3);
    expect(stripTags(line)).toBe('hello {x} dim');
    expect(stripTags(clipTagged(line, 8))).toBe('hello {x');
    expect(taggedWidth(padTagged(line, 20))).toBe(20);
  });
});

describe('columns', () => {
  it('drop lowest priority first, never the command, and never exceed the width', () => {
    for (const width of [40, 80, 120, 200]) {
      const cols = fitColumns('threads', [], width);
      expect(cols.some((c) => c.id === 'command')).toBe(true);
      expect(cols.reduce((s, c) => s + c.width + 1, 0)).toBeLessThanOrEqual(Math.max(width, 14));
    }
    const narrow = fitColumns('threads', [], 80).map((c) => c.id);
    expect(narrow).toContain('cpu');
    expect(narrow).toContain('wait');
    expect(narrow).not.toContain('cgroup');
    expect(fitColumns('threads', ['user'], 300).map((c) => c.id)).not.toContain('user');
  });

  it('offer TID in thread mode only, disk rates in process modes only', () => {
    expect(columnsFor('threads').map((c) => c.id)).toContain('tid');
    expect(columnsFor('processes').map((c) => c.id)).not.toContain('tid');
    expect(columnsFor('processes').map((c) => c.id)).toContain('dread');
    expect(columnsFor('threads').map((c) => c.id)).not.toContain('dread');
    expect(new Set(COLUMNS.map((c) => c.id)).size).toBe(COLUMNS.length);
  });
});

describe('rows', () => {
  it('sort by a column with unknown values last, whichever the direction', () => {
    const s = initialState(1000);
    expect(buildRows(F, s, cpuValue(s)).map((r) => r.key)).toEqual([10, 11, 1, 20]);
    const asc = { ...s, sort: { column: 'cpu', descending: false } };
    expect(buildRows(F, asc, cpuValue(asc)).map((r) => r.key)).toEqual([1, 11, 10, 20]);
  });

  it('filter by regex on name or command line, by user, by state', () => {
    const s = initialState(1000);
    expect(buildRows(F, { ...s, filter: 'work' }, cpuValue(s)).map((r) => r.key)).toEqual([11]);
    expect(buildRows(F, { ...s, filter: '--hard' }, cpuValue(s)).map((r) => r.key)).toEqual([10, 11]);
    expect(buildRows(F, { ...s, userFilter: 'bob' }, cpuValue(s)).map((r) => r.key)).toEqual([20]);
    expect(buildRows(F, { ...s, stateFilter: 'DR' }, cpuValue(s)).map((r) => r.key)).toEqual([10, 20]);
    expect(compileFilter('[unclosed')!('a [unclosed b')).toBe(true);
  });

  it('nest processes under parents and threads under their process in the tree', () => {
    const s = { ...initialState(1000), listMode: 'tree' as const };
    const rows = buildRows(F, s, cpuValue(s));
    expect(rows.map((r) => `${r.kind}:${r.key}:${r.treePrefix}`)).toEqual(['process:1:', 'process:10: ├─ ', 'thread:11: │  └─ ', 'process:20: └─ ']);
  });
});

describe('keys', () => {
  const s0 = initialState(1000);
  const rows = buildRows(F, s0, cpuValue(s0));
  const ctx: KeyContext = { rows, pageSize: 2, columns: columnsFor('threads'), users: ['bob', 'root'], live: true, hints: [], stepping: false };

  it('move the selection and keep it on the same row when rows re-sort', () => {
    let s = handleKey(followSelection(s0, rows), 'down', ctx).state;
    expect(s.selectedKey).toBe(11);
    s = handleKey(s, 'end', ctx).state;
    expect(s.selectedKey).toBe(20);
    const resorted = [...rows].reverse();
    expect(followSelection(s, resorted).selectedIndex).toBe(0);
    expect(scrollToSelection({ ...s, selectedIndex: 3 }, 4, 2).scrollTop).toBe(2);
  });

  it('change sort and views, and ask before sending a signal', () => {
    expect(handleKey(s0, '>', ctx).state.sort.column).toBe('usr');
    expect(handleKey(s0, 'I', ctx).state.sort.descending).toBe(false);
    expect(handleKey(s0, 'M', ctx).state.sort.column).toBe('mem');
    expect(handleKey(s0, '3', ctx).state.view).toBe('modes');
    expect(handleKey(s0, 'tab', ctx).state.view).toBe('states');
    const picker = handleKey(s0, 'k', ctx).state;
    expect(picker.overlay?.kind).toBe('picker');
    const confirm = handleKey(picker, 'enter', ctx).state;
    expect(confirm.overlay?.kind).toBe('confirm');
    expect(handleKey(confirm, 'n', ctx).effects).toEqual([]);
    expect(handleKey(confirm, 'y', ctx).effects).toEqual([{ type: 'signal', pids: [10], signal: 'SIGTERM' }]);
    expect(handleKey(s0, 'k', { ...ctx, live: false }).state.overlay).toBeNull();
  });

  it('type into prompts, cancel with Esc, and search the next match', () => {
    let s = handleKey(s0, '\\', ctx).state;
    for (const ch of 'bu') s = handleKey(s, ch, ctx).state;
    s = handleKey(s, 'backspace', ctx).state;
    s = handleKey(s, 'u', ctx).state;
    expect(handleKey(s, 'escape', ctx).state.filter).toBeNull();
    expect(handleKey(s, 'enter', ctx).state.filter).toBe('bu');
    let q = handleKey(s0, '/', ctx).state;
    for (const ch of 'worker') q = handleKey(q, ch, ctx).state;
    expect(handleKey(q, 'enter', ctx).state.selectedKey).toBe(11);
    expect(handleKey(s0, 'q', ctx).effects).toEqual([{ type: 'quit' }]);
    expect(handleKey({ ...s0, overlay: { kind: 'help', scroll: 0 } }, 'q', ctx).effects).toEqual([]);
  });
});

describe('screen', () => {
  const model = (width: number) => ({
    frame: F, rows, columns: fitColumns('threads', [], width), allColumns: columnsFor('threads'),
    since: new Map(), history: new ThreadHistory(), devices: new DeviceHistory(), kernelDetail: null, modeLabel: 'LIVE', hints: [],
  });
  const s0 = initialState(1000);
  const rows = buildRows(F, s0, cpuValue(s0));

  it('fills exactly the terminal, for every view, at sizes from tiny to wide', () => {
    for (const [w, h] of [[40, 10], [80, 24], [160, 48], [250, 60]]) {
      for (const view of ['threads', 'states', 'modes', 'softirq', 'memory', 'io'] as const) {
        const lines = renderScreen(model(w), { ...s0, view }, w, h);
        expect(lines).toHaveLength(h);
        for (const l of lines) expect(taggedWidth(l)).toBe(w);
      }
    }
    const tiny = renderScreen(model(30), s0, 30, 8).map(stripTags);
    expect(tiny[0]).toMatch(/terminal too small/);
  });
});

describe('header', () => {
  it('knows its height without drawing, for any CPU count and size', () => {
    for (const n of [0, 1, 2, 7, 64]) {
      const cpus = Array.from({ length: n }, (_, cpu) => ({ ...F.cpus[0], cpu }));
      for (const [w, h] of [[40, 10], [80, 24], [109, 30], [110, 30], [160, 48], [250, 60]]) {
        expect(headerHeight({ ...F, cpus }, w, h)).toBe(headerLines({ ...F, cpus }, w, h).length);
      }
    }
  });
});

describe('tracking threads across frames', () => {
  // Frames as derive makes them: an idle thread is the same object in the next frame.
  const idle = thread(1, 1, { comm: 'idle' });
  const f1 = { ...F, time: '2026-11-26T00:00:00.000Z', threads: [idle, thread(2, 1, { cpu_pct: 10, state: 'R' }), thread(3, 1)] };
  const f2 = { ...F, time: '2026-11-26T00:00:01.000Z', threads: [idle, thread(2, 1, { cpu_pct: 30, state: 'R' }), thread(4, 1, { comm: 'new' })] };
  const f3 = { ...F, time: '2026-11-26T00:00:02.000Z', threads: [idle, thread(2, 1, { state: 'S' }), f2.threads[2]] };

  it('finds the thread objects carried over from the previous frame', () => {
    expect([...carriedOver(null, f1)]).toEqual([-1, -1, -1]);
    expect([...carriedOver(f1, f2)]).toEqual([0, -1, -1]);
    expect([...carriedOver(f2, f3)]).toEqual([0, -1, 2]);
    expect([...carriedOver(f3, { ...f3, threads: [idle, f3.threads[2]] })]).toEqual([0, 2]);
  });

  it('keeps when each thread entered its state, forgetting threads that left', () => {
    let since = trackStateSince(new Map(), f1, null);
    since = trackStateSince(since, f2, f1);
    expect([...since.keys()].sort()).toEqual([1, 2, 4]);
    expect(since.get(1)).toMatchObject({ group: 'S', sinceMs: Date.parse(f1.time), atLeast: true });
    expect(since.get(4)).toMatchObject({ group: 'S', sinceMs: Date.parse(f2.time), atLeast: true });
    since = trackStateSince(since, f3, f2);
    expect(since.get(2)).toMatchObject({ group: 'S', sinceMs: Date.parse(f3.time), atLeast: false });
    expect(since.get(1)?.sinceMs).toBe(Date.parse(f1.time));
  });

  it('keeps each thread\'s last values, oldest first, and forgets threads that left', () => {
    const history = new ThreadHistory(2);
    for (const f of [f1, f2, f3]) history.add(f);
    expect(history.get(1)?.cpu_pct).toEqual([0, 0]);
    expect(history.get(2)?.cpu_pct).toEqual([30, 0]);
    expect(history.get(4)?.rwsc_per_s).toEqual([null, null]);
    expect(history.get(3)).toBeNull();
    // A reused tid with another name is another thread: its past starts over.
    history.add({ ...f3, threads: [thread(3, 1, { cpu_pct: 7 })] });
    expect(history.get(3)?.cpu_pct).toEqual([7]);
    expect(history.get(1)).toBeNull();
  });
});
