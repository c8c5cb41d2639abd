// The cell painter (cells.ts) against blessed itself: the same tagged lines, put on a blessed box
// with tags (what whytop did before) and painted straight into the cell buffer, give the same cells.
import blessed from 'blessed';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { paintRow, paintScreen } from '../../src/ui/cells.js';
import type { CellRow } from '../../src/ui/cells.js';
import { columnsFor, fitColumns, sortColumn } from '../../src/ui/columns.js';
import { DeviceHistory, ThreadHistory } from '../../src/ui/history.js';
import { buildRows } from '../../src/ui/rows.js';
import { renderScreen } from '../../src/ui/screen.js';
import { initialState } from '../../src/ui/state.js';
import { esc, paint, tone, THEME_TONES } from '../../src/ui/style.js';
import { padTagged } from '../../src/ui/tagged.js';
import { frameWith, proc, thread } from '../model/frameBuilder.js';

const F = frameWith(
  [thread(1, 1, { cpu_pct: 5 }), thread(10, 10, { cpu_pct: 50, state: 'R', comm: 'busy {x}' }), thread(20, 20, { cpu_pct: null, state: 'D', comm: '日本語' })],
  [proc(1), proc(10, { ppid: 1, cpu_pct: 50, comm: 'busy {x}', cmdline: 'busy --hard' }), proc(20, { ppid: 1, comm: '日本語' })],
);

/** A blessed screen on a fake terminal of the given size. */
function fakeScreen(width: number, height: number): blessed.Widgets.Screen {
  const output = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: true, columns: width, rows: height });
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  return blessed.screen({ input, output, terminal: 'xterm-256color', fullUnicode: true, warnings: false, autoPadding: false } as unknown as blessed.Widgets.IScreenOptions);
}

const screens: blessed.Widgets.Screen[] = [];
afterAll(() => screens.forEach((s) => s.destroy()));

/** The cells blessed makes of `lines` on a tagged box filling the screen, the filler after a wide character as a blank. */
function blessedCells(lines: string[], width: number, height: number): Array<Array<[number, string]>> {
  const screen = fakeScreen(width, height);
  screens.push(screen);
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
  box.setContent(lines.join('\n'));
  screen.render();
  const rows = (screen as unknown as { lines: CellRow[] }).lines;
  return rows.map((row) => row.map(([attr, ch]): [number, string] => [attr, ch === '\x03' ? ' ' : ch]));
}

/** The cells the painter makes of `lines` on blank rows (blessed's default attribute). */
function paintedCells(lines: string[], width: number, height: number): Array<Array<[number, string]>> {
  const screen = fakeScreen(width, height);
  screens.push(screen);
  const s = screen as unknown as { lines: CellRow[]; dattr: number };
  paintScreen(s.lines, lines, s.dattr);
  return s.lines.map((row) => row.map(([attr, ch]): [number, string] => [attr, ch]));
}

describe('cell painter', () => {
  it('gives the cells a tagged blessed box gives, for every view and tone', () => {
    const s0 = initialState(1000);
    const col = sortColumn(s0.listMode, s0.sort.column);
    const rows = buildRows(F, s0, col.value);
    for (const [w, h] of [[80, 24], [160, 48]]) {
      const model = {
        frame: F, rows, columns: fitColumns('threads', [], w), allColumns: columnsFor('threads'),
        since: new Map(), history: new ThreadHistory(), devices: new DeviceHistory(), kernelDetail: null, modeLabel: 'LIVE', hints: [],
      };
      for (const view of ['threads', 'states', 'modes', 'softirq', 'memory', 'io'] as const) {
        const lines = renderScreen(model, { ...s0, view }, w, h);
        expect(paintedCells(lines, w, h)).toEqual(blessedCells(lines, w, h));
      }
    }
    const w = 60;
    const toned = THEME_TONES.map((t) => padTagged(tone(t, esc(`${t} {braces} 日本 e\u0301 end`)) + ' after', w));
    const nested = [padTagged(tone('selected', paint('warn', 'inner') + ' outer') + ' plain', w), padTagged(paint('bold', 'b') + '{/}x', w)];
    const lines = [...toned, ...nested];
    expect(paintedCells(lines, w, lines.length)).toEqual(blessedCells(lines, w, lines.length));
  });

  it('marks a row dirty only when a cell changed, and blanks what a shorter line leaves', () => {
    const screen = fakeScreen(20, 2);
    screens.push(screen);
    const s = screen as unknown as { lines: CellRow[]; dattr: number };
    const row = s.lines[0];
    paintRow(row, paint('warn', 'abcdef'), s.dattr);
    expect(row.dirty).toBe(true);
    row.dirty = false;
    paintRow(row, paint('warn', 'abcdef'), s.dattr);
    expect(row.dirty).toBe(false);
    paintRow(row, 'ab', s.dattr);
    expect(row.dirty).toBe(true);
    expect(row.map((c) => c[1]).join('')).toBe('ab' + ' '.repeat(18));
    expect(row.every((c) => c[0] === s.dattr)).toBe(true);
  });
});
