// The live TUI: the thin blessed adapter around the pure parts. One timer drives sampling; each
// frame or key ends in exactly one screen.render(). The terminal is restored on every way out.
import blessed from 'blessed';
import * as os from 'node:os';
import { evaluateHints, initialHintState } from '../hints/engine.js';
import type { Hint } from '../hints/types.js';
import { derive } from '../model/derive.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { trackStateSince } from '../model/threadState.js';
import type { StateSince } from '../model/threadState.js';
import { Sampler } from '../sources/sampler.js';
import { readTaskKernelDetail } from '../sources/taskKernel.js';
import type { TaskKernelDetail } from '../sources/taskKernel.js';
import { columnsFor, fitColumns, sortColumn } from './columns.js';
import { configPath, loadSettings, saveSettings } from './config.js';
import { ThreadHistory } from './history.js';
import { followSelection, handleKey, scrollToSelection } from './keys.js';
import type { Effect } from './keys.js';
import { annotateHints, buildRows } from './rows.js';
import type { ListRow } from './rows.js';
import { listHeight, renderScreen } from './screen.js';
import type { ScreenModel } from './screen.js';
import { initialState } from './state.js';
import { adaptToColors } from './style.js';
import type { UiState } from './state.js';

/** How to start the TUI. */
export interface TuiOptions {
  procRoot: string;
  noNative: boolean;
  /** Interval from the command line; null: the saved one or 1 s. */
  intervalMs: number | null;
}

/** TERM values whose terminfo the blessed family mis-parses, and what to use instead. */
const TERM_FALLBACK: Record<string, string> = {
  'tmux-256color': 'xterm-256color',
  'screen-256color': 'xterm-256color',
  'tmux-direct': 'xterm-256color',
  'screen.xterm-256color': 'xterm-256color',
};

/** Delay of the first derived frame after the baseline sample: rates fill in quickly. */
const FIRST_FRAME_MS = 250;

/** Creates the blessed screen with a TERM it can parse, keeping its terminfo noise off stderr. */
function createScreen(): blessed.Widgets.Screen {
  const term = process.env.TERM ?? 'xterm';
  const terminal = TERM_FALLBACK[term] ?? term;
  // In a UTF-8 locale, draw box and block characters as themselves, not as the terminal's
  // alternate character set (which tmux and some terminals show as letters).
  const locale = process.env.LC_ALL || process.env.LC_CTYPE || process.env.LANG || '';
  if (/utf-?8/i.test(locale) && process.env.NCURSES_NO_UTF8_ACS === undefined) process.env.NCURSES_NO_UTF8_ACS = '1';
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const screen = blessed.screen({ terminal, smartCSR: true, fullUnicode: true, warnings: false, autoPadding: false, title: 'whytop' });
    adaptToColors((screen.tput as unknown as { colors: number }).colors);
    return screen;
  } finally {
    process.stderr.write = write;
  }
}

/** Maps a blessed keypress to the names keys.ts understands. */
function keyName(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined): string {
  const name = key?.name ?? '';
  // For a carriage return blessed emits 'enter' and then 'return': take one of them only.
  if (name === 'enter') return '';
  if (name === 'return' || name === 'linefeed') return 'enter';
  if (name === 'space' || ch === ' ') return 'space';
  if (['escape', 'backspace', 'tab', 'up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'delete'].includes(name)) return name;
  if (/^f\d+$/.test(name)) return name;
  if (key?.ctrl) return key.full;
  if (ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f') return ch;
  return key?.full ?? '';
}

/** Runs the live TUI until the user quits; resolves to the exit status. */
export function runTui(opts: TuiOptions): Promise<number> {
  return new Promise((resolve) => {
    const file = configPath();
    const loaded = loadSettings(file);
    let state: UiState = { ...initialState(1000), ...loaded.settings, message: loaded.problem };
    if (opts.intervalMs !== null) state.intervalMs = opts.intervalMs;

    const sampler = new Sampler({ procRoot: opts.procRoot, noNative: opts.noNative });
    const screen = createScreen();
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
    const history = new ThreadHistory();
    let since: StateSince = new Map();
    let frame: Frame | null = null;
    let prev: Snapshot | null = null;
    let rows: ListRow[] = [];
    let rowsKey = '';
    let kernelDetail: TaskKernelDetail | null = null;
    let hintState = initialHintState();
    let hints: Hint[] = [];
    let timer: NodeJS.Timeout | null = null;
    let finished = false;

    /** Threads whose per-thread io and wchan the next pass reads: those on screen and in detail. */
    const detailTids = (): Set<number> => {
      const tids = new Set<number>();
      const visible = listHeight(frame, screen.width as number, screen.height as number);
      for (const row of rows.slice(state.scrollTop, state.scrollTop + visible)) if (row.thread) tids.add(row.thread.tid);
      if (state.overlay?.kind === 'detail') tids.add(state.overlay.tid);
      if (frame && (state.view === 'states' || state.view === 'modes')) {
        const interesting = frame.threads.filter((t) => t.state === 'D' || (t.system_pct ?? 0) > 0).sort((a, b) => (b.system_pct ?? 0) - (a.system_pct ?? 0));
        for (const t of interesting.slice(0, 40)) tids.add(t.tid);
      }
      return tids;
    };

    const refreshRows = (): void => {
      if (!frame) return;
      const key = `${frame.time}|${state.listMode}|${state.sort.column}|${state.sort.descending}|${state.filter}|${state.userFilter}|${state.stateFilter}`;
      if (key === rowsKey) return;
      const col = sortColumn(state.listMode, state.sort.column);
      rows = buildRows(frame, state, (r) => col.value(r));
      annotateHints(rows, hints);
      rowsKey = key;
    };

    const render = (): void => {
      if (finished) return;
      const width = screen.width as number;
      const height = screen.height as number;
      refreshRows();
      state = followSelection(state, rows);
      state = scrollToSelection(state, rows.length, listHeight(frame, width, height));
      const model: ScreenModel = {
        frame,
        rows,
        columns: fitColumns(state.listMode, state.hiddenColumns, width),
        allColumns: columnsFor(state.listMode),
        since,
        history,
        kernelDetail,
        modeLabel: 'LIVE',
        hints,
      };
      box.setContent(renderScreen(model, state, width, height).join('\n'));
      screen.render();
    };

    const sampleOnce = (): void => {
      const cur = sampler.sample(detailTids());
      if (prev) {
        frame = derive(prev, cur);
        const evaluated = evaluateHints(hintState, frame);
        hintState = evaluated.state;
        hints = evaluated.hints;
        since = trackStateSince(since, frame);
        history.add(frame);
      }
      prev = cur;
      if (state.overlay?.kind === 'detail' && frame) {
        const tid = state.overlay.tid;
        const t = frame.threads.find((x) => x.tid === tid);
        kernelDetail = t ? readTaskKernelDetail(opts.procRoot, t.pid, tid, os.arch()) : null;
      }
    };

    const schedule = (delayMs: number): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(tick, delayMs);
    };

    function tick(): void {
      if (finished) return;
      const started = performance.now();
      if (!state.paused) {
        sampleOnce();
        render();
      }
      schedule(Math.max(10, state.intervalMs - (performance.now() - started)));
    }

    const finish = (code: number, error?: unknown): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      try {
        screen.destroy();
      } catch {
        // the terminal may be gone already (SIGHUP); nothing left to restore
      }
      sampler.close();
      if (error) process.stderr.write(`whytop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      for (const [sig, handler] of signalHandlers) process.off(sig, handler);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      resolve(code);
    };

    const persist = (): void => {
      const problem = saveSettings(file, state);
      if (problem) state = { ...state, message: problem };
    };

    const apply = (effect: Effect): void => {
      switch (effect.type) {
        case 'quit':
          return finish(0);
        case 'suspend':
          (screen as unknown as { sigtstp(resumed: () => void): void }).sigtstp(() => {
            screen.alloc();
            render();
          });
          return;
        case 'interval':
          schedule(state.intervalMs);
          return;
        case 'persist':
          return persist();
        case 'signal':
          for (const pid of effect.pids) {
            try {
              process.kill(pid, effect.signal as NodeJS.Signals);
              state = { ...state, message: `sent ${effect.signal} to ${pid}` };
            } catch (err) {
              state = { ...state, message: `cannot send ${effect.signal} to ${pid}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
            }
          }
          return;
        case 'renice': {
          const tids = 'tid' in effect.target ? [effect.target.tid] : (frame?.threads.filter((t) => t.pid === (effect.target as { pid: number }).pid).map((t) => t.tid) ?? []);
          try {
            for (const tid of tids) os.setPriority(tid, Math.max(-20, Math.min(19, os.getPriority(tid) + effect.delta)));
            state = { ...state, message: `nice ${effect.delta > 0 ? '+1' : '-1'} for ${tids.length} thread${tids.length === 1 ? '' : 's'}` };
          } catch (err) {
            state = { ...state, message: `cannot renice: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
          }
          return;
        }
      }
    };

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (finished) return;
      const name = keyName(ch, key);
      if (!name) return;
      const width = screen.width as number;
      const result = handleKey(state, name, {
        rows,
        pageSize: Math.max(1, listHeight(frame, width, screen.height as number) - 1),
        columns: columnsFor(state.listMode),
        users: [...new Set(frame?.processes.map((p) => p.user).filter((u): u is string => u !== null))].sort(),
        live: true,
        hints,
      });
      const detailBefore = state.overlay?.kind === 'detail' ? state.overlay.tid : null;
      state = result.state;
      for (const effect of result.effects) apply(effect);
      if (finished) return;
      if (state.overlay?.kind === 'detail' && state.overlay.tid !== detailBefore && frame) {
        const tid = state.overlay.tid;
        const t = frame.threads.find((x) => x.tid === tid);
        kernelDetail = t ? readTaskKernelDetail(opts.procRoot, t.pid, tid, os.arch()) : null;
      }
      render();
    });
    screen.on('resize', () => render());

    const onCrash = (err: unknown): void => finish(1, err);
    const signalHandlers: Array<[NodeJS.Signals, () => void]> = [
      ['SIGTERM', () => finish(143)],
      ['SIGHUP', () => finish(129)],
      ['SIGINT', () => finish(0)],
      ['SIGQUIT', () => finish(131)],
    ];
    for (const [sig, handler] of signalHandlers) process.on(sig, handler);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);

    // Baseline now, a first frame shortly after, then the interval.
    try {
      sampleOnce();
    } catch (err) {
      finish(1, err);
      return;
    }
    render();
    schedule(Math.min(FIRST_FRAME_MS, state.intervalMs));
  });
}
