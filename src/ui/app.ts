// The TUI: the thin blessed adapter around the pure parts, for live monitoring and for replay. One
// timer drives sampling (live) or playing (replay); each frame or key ends in exactly one
// screen.render(). The terminal is restored on every way out.
import blessed from 'blessed';
import * as os from 'node:os';
import { evaluateHints, initialHintState } from '../hints/engine.js';
import type { Hint } from '../hints/types.js';
import { derive } from '../model/derive.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { trackStateSince } from '../model/threadState.js';
import type { StateSince } from '../model/threadState.js';
import { MemoryKeeper } from '../memoryKeeper.js';
import { Sampler } from '../sources/sampler.js';
import { readTaskKernelDetail } from '../sources/taskKernel.js';
import type { TaskKernelDetail } from '../sources/taskKernel.js';
import { History } from '../store/history.js';
import { damageText, type RecordingReader } from '../store/reader.js';
import { Recorder } from '../store/recorder.js';
import { Timeline } from '../store/timeline.js';
import type { Moment, SnapshotStore } from '../store/timeline.js';
import { parseTimeSpec } from '../store/timeSpec.js';
import { paintScreen } from './cells.js';
import type { CellRow } from './cells.js';
import { columnsFor, fitColumns, sortColumn, unavailableColumns } from './columns.js';
import { configPath, loadSettings, saveSettings } from './config.js';
import { fmtClock, fmtDuration } from './format.js';
import { DeviceHistory, ThreadHistory } from './history.js';
import { followSelection, handleKey, scrollToSelection } from './keys.js';
import type { Effect } from './keys.js';
import { annotateHints, buildRows } from './rows.js';
import type { ListRow } from './rows.js';
import { listHeight, renderScreen } from './screen.js';
import type { ScreenModel } from './screen.js';
import { initialState } from './state.js';
import type { UiState } from './state.js';
import { adaptToColors } from './style.js';

/** How to start the TUI: sampling this machine, or replaying a recording. */
export type TuiOptions =
  | { kind: 'live'; procRoot: string; noNative: boolean; noBpf: boolean; noProbes: boolean; syscalls: boolean; intervalMs: number | null; historyMb: number }
  | { kind: 'replay'; reader: RecordingReader; intervalMs: number | null };

/** TERM values whose terminfo the blessed family mis-parses, and what to use instead. */
const TERM_FALLBACK: Record<string, string> = {
  'tmux-256color': 'xterm-256color',
  'screen-256color': 'xterm-256color',
  'tmux-direct': 'xterm-256color',
  'screen.xterm-256color': 'xterm-256color',
};

/** Delay of the first derived frame after the baseline sample: rates fill in quickly. */
const FIRST_FRAME_MS = 250;

/** Replay speeds `[` and `]` step through. */
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64] as const;

/** Shortest wait between two replay ticks: faster speeds advance several samples per tick. */
const MIN_PLAY_DELAY_MS = 20;
/** Longest wait between two replay ticks (a long gap in the recording). */
const MAX_PLAY_DELAY_MS = 60_000;
/** Most samples one replay tick advances (a run of samples with the same time). */
const MAX_PLAY_STEPS = 256;
/** Time a hint search (n, N) runs before the screen gets a turn. */
const SEARCH_SLICE_MS = 40;

/**
 * Replay pacing: how many samples the next tick advances from `position` (at most to `last`) and how
 * long to wait for it, so that the recorded time passes at `speed` × real time even where one
 * sample's gap would be shorter than the shortest tick. `gapMs` stands in for a gap not known.
 */
export function playPlan(wallMsOf: (i: number) => number | null, position: number, last: number, speed: number, gapMs: number): { steps: number; delayMs: number } {
  let steps = 0;
  let recordedMs = 0;
  while (position + steps < last && steps < MAX_PLAY_STEPS && (steps === 0 || recordedMs / speed < MIN_PLAY_DELAY_MS)) {
    const a = wallMsOf(position + steps);
    const b = wallMsOf(position + steps + 1);
    recordedMs += a !== null && b !== null ? Math.max(0, b - a) : gapMs;
    steps++;
  }
  return { steps, delayMs: Math.max(MIN_PLAY_DELAY_MS, Math.min(MAX_PLAY_DELAY_MS, (steps ? recordedMs : gapMs) / speed)) };
}

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

/** A file name for a new recording in the current directory. */
function newRecordingName(prefix: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}-${stamp}.whytop`;
}

/** Runs the TUI until the user quits; resolves to the exit status. */
export function runTui(opts: TuiOptions): Promise<number> {
  return new Promise((resolve) => {
    const file = configPath();
    const loaded = loadSettings(file);
    let state: UiState = { ...initialState(1000), ...loaded.settings, message: loaded.problem };
    if (opts.intervalMs !== null) state.intervalMs = opts.intervalMs;
    const live = opts.kind === 'live';

    const sampler = live ? new Sampler({ procRoot: opts.procRoot, noNative: opts.noNative, noBpf: opts.noBpf, noProbes: opts.noProbes, syscalls: opts.syscalls }) : null;
    const kept = live ? new History({ capBytes: opts.historyMb * 1024 * 1024 }) : null;
    const store: SnapshotStore = opts.kind === 'replay' ? opts.reader : kept!;
    const timeline = new Timeline(store);
    const screen = createScreen();
    // The screen's cell buffer: whytop paints its lines into it (cells.ts) and blessed draws what changed.
    const cells = screen as unknown as { lines: CellRow[]; dattr: number };
    let threadHistory = new ThreadHistory();
    let deviceHistory = new DeviceHistory();
    let since: StateSince = new Map();
    let frame: Frame | null = null;
    /** Live: the newest derived frame (the one shown unless paused). */
    let liveFrame: Frame | null = null;
    let hints: Hint[] = [];
    let prev: Snapshot | null = null;
    let shownSnapshot: Snapshot | null = null;
    let rows: ListRow[] = [];
    let rowsKey = '';
    let kernelDetail: TaskKernelDetail | null = null;
    let hintState = initialHintState();
    let timer: NodeJS.Timeout | null = null;
    let finished = false;
    /** Position in the store shown while paused (live) or always (replay); null: the live edge. */
    let position: number | null = live ? null : Math.min(1, timeline.positions);
    /** Live: the history's dropped count that `position` was last re-based on. */
    let positionDropped = 0;
    let speed = 1;
    /** Replay: samples the next tick advances. */
    let playSteps = 1;
    /** A hint search (n, N) in progress: it runs in slices between screen updates. */
    let search: { steps: Generator<number, number | null>; dir: 1 | -1 } | null = null;
    let recorder: Recorder | null = null;
    const memory = new MemoryKeeper();

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

    /** The kernel side of the detail thread: read live, or what the recording kept for a thread in D. */
    const refreshKernelDetail = (): void => {
      if (state.overlay?.kind !== 'detail' || !frame) return;
      const tid = state.overlay.tid;
      const t = frame.threads.find((x) => x.tid === tid);
      if (!t) kernelDetail = null;
      else if (position === null && sampler) kernelDetail = readTaskKernelDetail(opts.kind === 'live' ? opts.procRoot : '/proc', t.pid, tid, os.arch());
      else kernelDetail = { stack: shownSnapshot?.blockedStacks?.[tid] ?? null, syscall: null };
    };

    /** Shows a derived moment: the frame, its hints, and what is tracked across frames. */
    const show = (moment: Moment | { frame: Frame; hints: Hint[] }, snapshot: Snapshot | null, continuous: boolean): void => {
      const previous = continuous ? frame : null;
      frame = moment.frame;
      hints = moment.hints;
      shownSnapshot = snapshot;
      since = trackStateSince(previous ? since : new Map(), frame, previous);
      // Sparklines show frames that follow each other only: after a jump they start afresh.
      if (!continuous) {
        threadHistory = new ThreadHistory();
        deviceHistory = new DeviceHistory();
      }
      threadHistory.add(frame);
      deviceHistory.add(frame);
      rowsKey = '';
      refreshKernelDetail();
    };

    const refreshRows = (): void => {
      if (!frame) return;
      const key = `${frame.time}|${state.listMode}|${state.sort.column}|${state.sort.descending}|${state.filter}|${state.userFilter}|${state.stateFilter}`;
      if (key === rowsKey) return;
      const col = sortColumn(state.listMode, state.sort.column);
      rows = buildRows(frame, state, col.value);
      annotateHints(rows, hints);
      rowsKey = key;
    };

    const modeLabel = (): string => {
      const where = position === null ? '' : ` ${frame ? fmtClock(Date.parse(frame.time)) : '-'} ${position}/${timeline.positions}`;
      if (!live) return `REPLAY${where} x${speed}${state.paused ? ' paused' : ''}`;
      const rec = recorder ? ` REC ${recorder.path}` : '';
      const held = kept && kept.minutesHeld !== null ? ` history ${fmtDuration(kept.minutesHeld * 60_000)}` : '';
      return `${state.paused ? 'PAUSED' : 'LIVE'}${where}${rec}${held}`;
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
        columns: fitColumns(state.listMode, [...state.hiddenColumns, ...unavailableColumns(frame)], width),
        allColumns: columnsFor(state.listMode),
        since,
        history: threadHistory,
        devices: deviceHistory,
        kernelDetail,
        modeLabel: modeLabel(),
        hints,
      };
      paintScreen(cells.lines, renderScreen(model, state, width, height), cells.dattr);
      screen.render();
    };

    /**
     * Live: one sampling pass, derived against the previous one, kept in history (and the recording);
     * shown unless paused (then the screen stays on its position, which moves down as old history drops).
     */
    const sampleOnce = (): void => {
      const cur = sampler!.sample(detailTids());
      void kept!.append(cur).then(() => {
        const dropped = kept!.dropped - positionDropped;
        positionDropped = kept!.dropped;
        if (position !== null && dropped > 0) position = Math.max(1, position - dropped);
      });
      if (recorder) recorder.append(cur).catch((err: unknown) => stopRecording(`recording stopped: ${(err as Error).message}`));
      if (prev) {
        const previousLive = liveFrame;
        liveFrame = derive(prev, cur, liveFrame);
        const evaluated = evaluateHints(hintState, liveFrame);
        hintState = evaluated.state;
        if (position === null) show({ frame: liveFrame, hints: evaluated.hints }, cur, frame === previousLive);
      }
      prev = cur;
    };

    /** Moves the shown position (replay, or paused live) to `i`, clamped. */
    const moveTo = (i: number): void => {
      const target = Math.max(1, Math.min(timeline.positions, i));
      const continuous = position !== null && target === position + 1;
      const moment = timeline.at(target);
      position = target;
      if (moment) show(moment, store.sample(target), continuous);
      else state = { ...state, message: `sample ${target} is damaged or missing` };
    };

    const schedule = (delayMs: number): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(tick, delayMs);
    };

    /** Replay: plans the next tick (samples to advance, and when) at the current speed; returns its delay. */
    const planPlay = (): number => {
      const plan = playPlan((i) => (opts.kind === 'replay' ? opts.reader.wallMsOf(i) : null), position ?? timeline.positions, timeline.positions, speed, state.intervalMs);
      playSteps = plan.steps;
      return plan.delayMs;
    };

    function tick(): void {
      if (finished) return;
      const started = performance.now();
      if (live) {
        // Paused, a recording goes on in the background: the screen stays on its position.
        if (!state.paused || recorder) {
          sampleOnce();
          render();
          memory.afterRefresh();
        }
        schedule(Math.max(10, state.intervalMs - (performance.now() - started)));
        return;
      }
      if (!state.paused && !search && position !== null && position < timeline.positions) {
        for (let k = 0; k < playSteps && position < timeline.positions; k++) moveTo(position + 1);
        render();
        memory.afterRefresh();
      }
      schedule(planPlay());
    }

    /** Runs the hint search for a slice of time, then moves to what it found or shows its progress. */
    const continueSearch = (renderAfter: boolean): void => {
      const s = search;
      if (!s || finished) return;
      const deadline = performance.now() + SEARCH_SLICE_MS;
      let step = s.steps.next();
      while (!step.done && performance.now() < deadline) step = s.steps.next();
      if (step.done) {
        search = null;
        if (step.value === null) state = { ...state, message: `no hint starts ${s.dir > 0 ? 'later' : 'earlier'}` };
        else {
          state = { ...state, message: null };
          moveTo(step.value);
        }
      } else {
        state = { ...state, message: `looking for the ${s.dir > 0 ? 'next' : 'previous'} hint start: ${Math.floor(step.value * 100)}% (any key stops)` };
        setImmediate(() => continueSearch(true));
      }
      if (renderAfter) render();
    };

    const stopRecording = (message: string): void => {
      const r = recorder;
      recorder = null;
      if (r) void r.close();
      state = { ...state, message };
    };

    const finish = (code: number, error?: unknown): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      try {
        screen.destroy();
      } catch {
        // the terminal may be gone already (SIGHUP); nothing left to restore
      }
      sampler?.close();
      const closing = recorder ? recorder.close() : Promise.resolve();
      if (opts.kind === 'replay') opts.reader.close();
      if (error) process.stderr.write(`whytop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      for (const [sig, handler] of signalHandlers) process.off(sig, handler);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      closing.then(() => resolve(code), () => resolve(code));
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
          const target = effect.target;
          const tids = 'tid' in target ? [target.tid] : (frame?.threads.filter((t) => t.pid === target.pid).map((t) => t.tid) ?? []);
          try {
            for (const tid of tids) os.setPriority(tid, Math.max(-20, Math.min(19, os.getPriority(tid) + effect.delta)));
            state = { ...state, message: `nice ${effect.delta > 0 ? '+1' : '-1'} for ${tids.length} thread${tids.length === 1 ? '' : 's'}` };
          } catch (err) {
            state = { ...state, message: `cannot renice: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
          }
          return;
        }
        case 'step':
          return moveTo((position ?? timeline.positions) + effect.delta);
        case 'speed': {
          const i = SPEEDS.indexOf(speed as (typeof SPEEDS)[number]);
          speed = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + (effect.faster ? 1 : -1)))];
          state = { ...state, message: `speed x${speed}` };
          if (!live) schedule(planPlay());
          return;
        }
        case 'goto': {
          const first = store.count > 0 ? store.sample(0) : null;
          const last = store.count > 0 ? store.sample(store.count - 1) : null;
          if (!first || !last) return;
          try {
            const base = frame ? Date.parse(frame.time) : first.wallMs;
            const ms = parseTimeSpec(effect.spec, { startMs: first.wallMs, endMs: last.wallMs, baseMs: base });
            moveTo(opts.kind === 'replay' ? opts.reader.indexAtTime(ms) : indexAtOrBefore(store, ms));
          } catch (err) {
            state = { ...state, message: (err as Error).message };
          }
          return;
        }
        case 'hintStart':
          search = { steps: timeline.searchHintStart(position ?? timeline.positions, effect.dir), dir: effect.dir };
          return continueSearch(false);
        case 'record': {
          if (recorder) return stopRecording(`recording saved: ${recorder.path} (${recorder.samples} samples)`);
          try {
            recorder = Recorder.open(newRecordingName('whytop'), sampler!.host);
            state = { ...state, message: `recording to ${recorder.path} (R stops)` };
          } catch (err) {
            state = { ...state, message: `cannot record: ${(err as Error).message}` };
          }
          return;
        }
        case 'syscalls': {
          const on = !sampler!.syscalls;
          const why = sampler!.setSyscalls(on);
          state = { ...state, message: why ?? (on ? 'counting syscalls (every syscall on the machine now costs more: c stops)' : 'syscall counting off') };
          return;
        }
        case 'probes': {
          const on = !sampler!.probesOn;
          const why = sampler!.setProbes(on);
          state = { ...state, message: why ?? (on ? 'kernel probes on' : 'kernel probes off (K turns them back on)') };
          return;
        }
        case 'saveHistory': {
          const path = newRecordingName('whytop-history');
          kept!.saveTo(path).then(
            () => {
              state = { ...state, message: `history (${kept!.count} samples) written to ${path}` };
              render();
            },
            (err: unknown) => {
              state = { ...state, message: `cannot write history: ${(err as Error).message}` };
              render();
            },
          );
          return;
        }
      }
    };

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      if (finished) return;
      const name = keyName(ch, key);
      if (!name) return;
      // Any key stops a hint search in progress (and does what it does).
      const stoppedSearch = search !== null;
      search = null;
      const width = screen.width as number;
      const wasPaused = state.paused;
      const result = handleKey(state, name, {
        rows,
        pageSize: Math.max(1, listHeight(frame, width, screen.height as number) - 1),
        columns: columnsFor(state.listMode),
        users: [...new Set(frame?.processes.map((p) => p.user).filter((u): u is string => u !== null))].sort(),
        live,
        hints,
        stepping: !live || state.paused,
      });
      const detailBefore = state.overlay?.kind === 'detail' ? state.overlay.tid : null;
      state = result.state;
      if (stoppedSearch && !state.message) state = { ...state, message: 'hint search stopped' };
      for (const effect of result.effects) apply(effect);
      if (finished) return;
      if (live && wasPaused !== state.paused) {
        // Pausing freezes the screen on the newest kept sample; resuming returns to the live edge.
        position = state.paused ? timeline.positions : null;
        positionDropped = kept!.dropped;
        if (state.paused && recorder) state = { ...state, message: 'paused: the recording goes on (R stops it)' };
        if (!state.paused) schedule(0);
      }
      if (state.overlay?.kind === 'detail' && state.overlay.tid !== detailBefore) refreshKernelDetail();
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

    if (opts.kind === 'replay' && opts.reader.damage.length > 0) {
      const [first, ...more] = opts.reader.damage;
      const also = more.length ? `, and ${more.length} more (whytop info lists them)` : '';
      const damage = `damaged recording: ${damageText(first)}${also}`;
      state = { ...state, message: state.message ? `${state.message}; ${damage}` : damage };
    }
    try {
      if (live) sampleOnce();
      else if (position !== null && position >= 1) moveTo(position);
      else state = { ...state, message: 'the recording holds fewer than two samples: nothing to show' };
    } catch (err) {
      finish(1, err);
      return;
    }
    render();
    // Live: the baseline now, a first frame shortly after, then the interval. Replay: play on.
    schedule(live ? Math.min(FIRST_FRAME_MS, state.intervalMs) : planPlay());
  });
}

/** The last stored sample at or before `wallMs` (at least position 1). */
function indexAtOrBefore(store: SnapshotStore, wallMs: number): number {
  let lo = 0;
  let hi = store.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const s = store.sample(mid);
    if (s && s.wallMs <= wallMs) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(1, lo);
}
