// Benchmark of the whole whytop process against htop, side by side: the real TUI and htop, each in
// a tmux pane of the same size, one after the other, over the same harness process.
//
//   npm run bench:tui -- [--threads 1000,10000] [--shapes idle,busy] [--interval 1000]
//                        [--seconds 20] [--warmup-seconds 30] [--reps 2] [--width 160] [--height 48]
//                        [--no-build] [--no-native] [--no-bpf] [--tui-json bench/tui-results.json] [--cpu-prof DIR]
//   npm run bench -- [reader benchmark options] [the options above]
//
// For each thread count and shape the driver starts bench/.build/harness N SHAPE, then, `--reps`
// times, runs
//   whytop  node bin/whytop.js --interval MS   (XDG_CONFIG_HOME: a fresh temp dir: the defaults,
//                                              i.e. the threads list)
//   htop    htop -d MS/100                     (HOME and XDG_CONFIG_HOME: a fresh temp dir: the
//                                              defaults, which show every userland thread)
// each alone in its own tmux server (pane WIDTH × HEIGHT, no status line), the order alternating
// from one repetition to the next. Each program gets `--warmup-seconds` to start and settle, then
// a window of `--seconds`: utime + stime of the program's process (/proc/PID/stat fields 14 and 15,
// every thread of it) at both ends of the window, divided by the refreshes in the window (window /
// interval), gives its CPU ms per refresh. The sum of the threads' schedstat on-CPU time is kept
// as a cross-check with finer resolution. For whytop, VmHWM (peak) and VmRSS (at the end of the
// window) come from /proc/PID/status. Before a run counts, the screen is checked: whytop's status
// line must list at least N rows in threads mode, htop's header at least N threads, and htop's
// saved htoprc must say hide_userland_threads=0.
//
// Medians over the repetitions; the table marks the issue's targets: whytop/htop CPU ratio ≤ 0.6
// with idle pools and ≤ 1.0 with every thread busy; whytop's peak RSS < 100 MiB at 1000 threads
// and < 160 MiB at 10000.
//
// --cpu-prof DIR runs whytop alone (no htop, one run per cell) under `node --cpu-prof`, writes the
// profile to DIR and prints the functions with the most self time within the measured window,
// grouped by part of whytop (sampler, derive, rows, render, blessed, GC, ...).
//
// `npm run bench` runs this file with --with-sampler: bench/sampler.ts (the per-task reader
// benchmark) runs first with every option this file does not own, plus the shared --threads,
// --shapes and --interval; then this benchmark.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import * as os from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.js';
import { Flags, failWith } from './cli.js';
import type { Fail } from './cli.js';
import { describeMachine, loadAverages, machineFacts } from './machine.js';
import { SHAPES, SHAPE_TEXT, killChildren, schedNs, sleep, startHarness, stopHarness } from './processes.js';
import type { Shape } from './processes.js';
import { fmt, fmtRatio, table, writeResults } from './report.js';
import { median } from './stats.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const BENCH_DIR = dirname(THIS_FILE);
const ROOT = resolve(BENCH_DIR, '..');
const WHYTOP_BIN = join(ROOT, 'bin/whytop.js');

type Program = 'whytop' | 'htop';

/** The issue's targets. */
const RATIO_TARGET: Record<Shape, number> = { idle: 0.6, busy: 1.0 };
function rssTargetMiB(threads: number): number {
  return threads <= 1000 ? 100 : 160;
}

interface Options {
  threads: number[];
  shapes: Shape[];
  intervalMs: number;
  seconds: number;
  warmupSeconds: number;
  reps: number;
  width: number;
  height: number;
  build: boolean;
  /** Run whytop with --no-native (its TypeScript reader). */
  noNative: boolean;
  /** Run whytop with --no-bpf (the native /proc reader). Otherwise a run counts only with the reader a user gets: bpf as root, else native. */
  noBpf: boolean;
  json: string;
  cpuProf: string | null;
  withSampler: boolean;
  /** Options for bench/sampler.ts (--with-sampler): everything this file does not own. */
  samplerArgs: string[];
}

/** One program, one run. */
interface Run {
  program: Program;
  rep: number;
  pid: number;
  ok: boolean;
  problem: string | null;
  windowMs: number;
  refreshes: number;
  cpuTicks: number;
  /** utime + stime per refresh (the measure). */
  cpuMsPerRefresh: number;
  /** Sum of the threads' schedstat on-CPU time per refresh (cross-check, ns resolution). */
  schedMsPerRefresh: number;
  /** Share of one CPU the program used in the window. */
  cpuShare: number;
  rssPeakMiB: number;
  rssFinalMiB: number;
  threadsOfProgram: number;
  /** CPU ms per refresh of the main thread and of the others, by name (see ticksByThreadName). */
  cpuMsPerRefreshByThread: Record<string, number>;
  /** Share of the whole machine's CPU time that was busy during the window (noise indicator). */
  hostBusyPct: number;
  /** Load averages (1, 5, 15 min) at the end of the window. */
  loadavg: number[];
  /** Threads on the whole machine at the start and the end of the window (other users' too). */
  systemThreads: [number, number];
  /** What the screen showed: whytop rows, htop threads. */
  tasksShown: number | null;
  /** whytop: the reader named on the status line. */
  reader: string | null;
  /** The last screen, for the JSON (trimmed). */
  screen: string[];
}

interface Cell {
  threads: number;
  shape: Shape;
  harnessPid: number;
  runs: Run[];
  whytopMsPerRefresh: number | null;
  htopMsPerRefresh: number | null;
  ratio: number | null;
  ratioTarget: number;
  ratioMet: boolean | null;
  whytopRssPeakMiB: number | null;
  whytopRssFinalMiB: number | null;
  rssTargetMiB: number;
  rssMet: boolean | null;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const fail: Fail = failWith('bench:tui');

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime (clock ticks) of every thread of `pid`, from /proc/PID/stat fields 14 and 15. */
function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
  return Number(f[11]) + Number(f[12]);
}

/**
 * utime + stime (clock ticks) of each thread of `pid`, summed by thread: "main" (the thread whose
 * tid is the pid: for node the JavaScript thread) and "other <comm>" (for node: V8's workers, which
 * run concurrent GC marking and compilation, and the libuv pool; node leaves them all named "node").
 */
function ticksByThreadName(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : `other ${text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))}`;
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (/proc/stat), for the share of it that was busy. */
function hostJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Threads on the whole machine (the total of /proc/loadavg's fourth field). */
function systemThreads(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1] ?? NaN);
}

/** VmHWM, VmRSS (MiB) and Threads from /proc/PID/status. */
function memStatus(pid: number): { peakMiB: number; rssMiB: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { peakMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024, threads: kb('Threads') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// tmux servers (the harness and its children: ./processes.ts)

const tmuxSockets = new Set<string>();

/** A tmux server of its own with one pane running one program. */
class Pane {
  readonly socket = `whytop-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly dir = mkdtempSync(join(os.tmpdir(), 'whytop-bench-tui-'));

  constructor(readonly width: number, readonly height: number) {
    tmuxSockets.add(this.socket);
    // No status line, so the pane is the full size from the start; a 256-colour terminal.
    writeFileSync(join(this.dir, 'tmux.conf'), 'set -g status off\nset -g default-terminal tmux-256color\n');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', join(this.dir, 'tmux.conf'), ...args], { encoding: 'utf8' });
  }

  /** Starts `argv` (exec'd, so the pane's pid is the program's) with `env` added. */
  start(argv: string[], env: Record<string, string>): void {
    const vars = Object.entries({ LANG: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = `exec env ${vars.join(' ')} ${argv.map(shellQuote).join(' ')}`;
    this.tmux('new-session', '-d', '-s', 'bench', '-x', String(this.width), '-y', String(this.height), command);
  }

  pid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'bench', '#{pane_pid}').trim());
  }

  screen(): string[] {
    try {
      return this.tmux('capture-pane', '-p', '-t', 'bench').split('\n');
    } catch {
      return [];
    }
  }

  keys(...keys: string[]): void {
    try {
      this.tmux('send-keys', '-t', 'bench', ...keys);
    } catch {
      // the pane is gone
    }
  }

  stop(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    tmuxSockets.delete(this.socket);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Quits the program with 'q' (htop then saves its settings; node writes a --cpu-prof profile). */
async function quit(pane: Pane, pid: number, timeoutMs = 10_000): Promise<void> {
  pane.keys('q');
  const end = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < end) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One run of one program

/** The node flags whytop runs with: those on bin/whytop.js's `#!/usr/bin/env -S node ...` line. */
function whytopNodeFlags(): string[] {
  const first = readFileSync(WHYTOP_BIN, 'utf8').split('\n', 1)[0];
  return first.split(/\s+/).filter((w) => w.startsWith('--'));
}

function programArgv(program: Program, opts: Options, cpuProfDir: string | null): string[] {
  if (program === 'htop') return ['htop', '-d', String(Math.max(1, Math.round(opts.intervalMs / 100)))];
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  return [process.execPath, ...whytopNodeFlags(), ...prof, WHYTOP_BIN, '--interval', String(opts.intervalMs), ...(opts.noNative ? ['--no-native'] : []), ...(opts.noBpf ? ['--no-bpf'] : [])];
}

/** What the screen shows of the harness: whytop's row count (threads mode), htop's thread count. */
function readScreen(program: Program, lines: string[]): { tasks: number | null; reader: string | null; problem: string | null } {
  const text = lines.join('\n');
  if (program === 'whytop') {
    const status = lines.find((l) => /\b(LIVE|PAUSED)\b.*\brows\b/.test(l)) ?? '';
    const rows = /(\d+) rows/.exec(status);
    const reader = /\b(\w+) reader\b/.exec(status)?.[1] ?? null;
    if (!rows) return { tasks: null, reader, problem: 'no status line with a row count on screen' };
    if (!/\bthreads\b/.test(status)) return { tasks: Number(rows[1]), reader, problem: 'whytop is not in threads mode' };
    return { tasks: Number(rows[1]), reader, problem: null };
  }
  const m = /Tasks:\s*(\d+),\s*(\d+)\s*thr/.exec(text);
  if (!m) return { tasks: null, reader: null, problem: 'no "Tasks: N, M thr" on screen' };
  return { tasks: Number(m[2]), reader: null, problem: null };
}

async function runProgram(program: Program, rep: number, threads: number, opts: Options, cpuProfDir: string | null = null): Promise<Run & { startedNs: bigint; windowStartNs: bigint; windowEndNs: bigint }> {
  const pane = new Pane(opts.width, opts.height);
  const config = join(pane.dir, 'config');
  mkdirSync(config);
  const env: Record<string, string> = { XDG_CONFIG_HOME: config, HOME: program === 'htop' ? pane.dir : (process.env.HOME ?? '/root') };
  const base = {
    program,
    rep,
    pid: 0,
    ok: false,
    problem: null as string | null,
    windowMs: NaN,
    refreshes: NaN,
    cpuTicks: NaN,
    cpuMsPerRefresh: NaN,
    schedMsPerRefresh: NaN,
    cpuShare: NaN,
    rssPeakMiB: NaN,
    rssFinalMiB: NaN,
    threadsOfProgram: NaN,
    cpuMsPerRefreshByThread: {} as Record<string, number>,
    hostBusyPct: NaN,
    loadavg: [] as number[],
    systemThreads: [NaN, NaN] as [number, number],
    tasksShown: null as number | null,
    reader: null as string | null,
    screen: [] as string[],
    startedNs: 0n,
    windowStartNs: 0n,
    windowEndNs: 0n,
  };
  try {
    const startedNs = process.hrtime.bigint();
    pane.start(programArgv(program, opts, cpuProfDir), env);
    // The pane's pid becomes the program's once `env` has exec'd it.
    let pid = 0;
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      const p = pane.pid();
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        if (program === 'whytop' ? cmd.includes('whytop.js') : basename(cmd.split('\0')[0]) === 'htop') {
          pid = p;
          break;
        }
      } catch {
        // not yet
      }
    }
    if (!pid) return { ...base, problem: `${program} did not start`, screen: pane.screen() };
    await sleep(opts.warmupSeconds * 1000 - Number(process.hrtime.bigint() - startedNs) / 1e6);
    if (!alive(pid)) return { ...base, pid, problem: `${program} exited during warm-up`, screen: pane.screen() };

    const t0 = process.hrtime.bigint();
    const c0 = cpuTicks(pid);
    const s0 = schedNs(pid);
    const b0 = ticksByThreadName(pid);
    const h0 = hostJiffies();
    const n0 = systemThreads();
    await sleep(opts.seconds * 1000);
    const c1 = cpuTicks(pid);
    const s1 = schedNs(pid);
    const b1 = ticksByThreadName(pid);
    const h1 = hostJiffies();
    const n1 = systemThreads();
    const t1 = process.hrtime.bigint();
    const mem = memStatus(pid);
    const lines = pane.screen();
    const shown = readScreen(program, lines);

    const windowMs = Number(t1 - t0) / 1e6;
    const refreshes = windowMs / opts.intervalMs;
    const cpuMs = ((c1 - c0) * 1000) / CLK_TCK;
    const byThread: Record<string, number> = {};
    const used = [...b1].map(([name, ticks]) => [name, ticks - (b0.get(name) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
    for (const [name, ticks] of used) byThread[name] = Number(((ticks * 1000) / CLK_TCK / refreshes).toFixed(2));
    let problem = shown.problem;
    if (problem === null && shown.tasks !== null && shown.tasks < threads) problem = `${program} shows only ${shown.tasks} ${program === 'whytop' ? 'rows' : 'threads'} (< ${threads})`;
    const wantReader = opts.noNative ? 'ts' : opts.noBpf || process.getuid?.() !== 0 ? 'native' : 'bpf';
    if (problem === null && program === 'whytop' && shown.reader !== wantReader) problem = `whytop used the ${shown.reader ?? 'unknown'} reader, not the ${wantReader} one`;

    await quit(pane, pid);
    if (program === 'htop' && problem === null) {
      // htop saves its settings on quit: confirm it ran with userland threads shown.
      try {
        const rc = readFileSync(join(config, 'htop', 'htoprc'), 'utf8');
        if (!/^hide_userland_threads=0$/m.test(rc)) problem = 'htop hides userland threads';
      } catch {
        // no htoprc written: the defaults (which show them) were in use
      }
    }
    return {
      ...base,
      pid,
      ok: problem === null,
      problem,
      windowMs,
      refreshes,
      cpuTicks: c1 - c0,
      cpuMsPerRefresh: cpuMs / refreshes,
      schedMsPerRefresh: (s1 - s0) / 1e6 / refreshes,
      cpuShare: cpuMs / windowMs,
      rssPeakMiB: mem.peakMiB,
      rssFinalMiB: mem.rssMiB,
      threadsOfProgram: mem.threads,
      cpuMsPerRefreshByThread: byThread,
      hostBusyPct: (100 * (h1.busy - h0.busy)) / Math.max(1, h1.total - h0.total),
      loadavg: loadAverages(1),
      systemThreads: [n0, n1],
      tasksShown: shown.tasks,
      reader: shown.reader,
      screen: lines.filter((l) => l.trim() !== '').slice(0, 6).concat(lines.filter((l) => /\b(LIVE|PAUSED)\b.*\brows\b/.test(l))),
      startedNs,
      windowStartNs: t0,
      windowEndNs: t1,
    };
  } finally {
    pane.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The comparison

/** Extra attempts for a run that other users' processes disturbed (see runCell). */
const RETRIES = 2;

async function runCell(threads: number, shape: Shape, opts: Options, harnessBin: string): Promise<Cell> {
  const harness = await startHarness(harnessBin, threads, shape);
  const runs: Run[] = [];
  try {
    await sleep(2000);
    // The machine is shared: when the number of threads on it moves by more than 10 % from what it
    // was once the harness was up (someone else started or ended a few thousand threads), the two
    // programs would not read the same tree, so the run is not counted and is tried again.
    const baseline = systemThreads();
    const tolerance = Math.max(200, 0.1 * baseline);
    for (let rep = 0; rep < opts.reps; rep++) {
      const order: Program[] = rep % 2 === 0 ? ['whytop', 'htop'] : ['htop', 'whytop'];
      for (const program of order) {
        for (let attempt = 0; attempt <= RETRIES; attempt++) {
          if (process.stderr.isTTY) process.stderr.write(`\r  ${threads} threads, ${shape}: ${program}, repetition ${rep + 1}/${opts.reps}        `);
          const { startedNs: _s, windowStartNs: _a, windowEndNs: _b, ...run } = await runProgram(program, rep, threads, opts);
          const drift = Math.max(...run.systemThreads.map((n) => Math.abs(n - baseline)));
          if (run.ok && drift > tolerance) {
            run.ok = false;
            run.problem = `threads on the machine moved from ${baseline} to ${run.systemThreads.join('–')} (other users)`;
          }
          runs.push(run);
          await sleep(1000);
          if (run.ok) break;
          console.error(`bench:tui: ${threads} ${shape} ${program} rep ${rep + 1}: ${run.problem}${attempt < RETRIES ? '; again' : ''}`);
        }
      }
    }
    if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(70) + '\r');
  } finally {
    await stopHarness(harness);
  }
  const med = (program: Program, f: (r: Run) => number) => median(runs.filter((r) => r.ok && r.program === program).map(f));
  const w = med('whytop', (r) => r.cpuMsPerRefresh);
  const h = med('htop', (r) => r.cpuMsPerRefresh);
  const ratio = w !== null && h !== null && h > 0 ? w / h : null;
  const peak = med('whytop', (r) => r.rssPeakMiB);
  return {
    threads,
    shape,
    harnessPid: harness.pid,
    runs,
    whytopMsPerRefresh: w,
    htopMsPerRefresh: h,
    ratio,
    ratioTarget: RATIO_TARGET[shape],
    ratioMet: ratio === null ? null : ratio <= RATIO_TARGET[shape],
    whytopRssPeakMiB: peak,
    whytopRssFinalMiB: med('whytop', (r) => r.rssFinalMiB),
    rssTargetMiB: rssTargetMiB(threads),
    rssMet: peak === null ? null : peak < rssTargetMiB(threads),
  };
}

function met(v: boolean | null): string {
  return v === null ? 'n/a' : v ? 'met' : 'MISSED';
}

/** whytop: the reader and the threads that used the CPU, e.g. "native reader; node 40.1, V8 DefaultWorke 5.2". */
function threadNote(r: Run): string {
  const threads = Object.entries(r.cpuMsPerRefreshByThread).filter(([, ms]) => ms > 0);
  if (r.program !== 'whytop') return '';
  return [r.reader ? `${r.reader} reader` : null, threads.map(([n, ms]) => `${n} ${fmt(ms)}`).join(', ')].filter(Boolean).join('; ');
}

function cellReport(cell: Cell): string {
  const rows: string[][] = [['run', 'program', 'CPU ms/refresh', 'schedstat ms', 'CPU %', 'peak RSS MiB', 'RSS MiB', 'shown', 'sys threads', 'host busy %', 'note']];
  for (const r of cell.runs) {
    rows.push([
      String(r.rep + 1),
      r.program,
      fmt(r.cpuMsPerRefresh),
      fmt(r.schedMsPerRefresh),
      fmt(r.cpuShare * 100, 1),
      fmt(r.rssPeakMiB, 1),
      fmt(r.rssFinalMiB, 1),
      r.tasksShown === null ? '–' : String(r.tasksShown),
      `${r.systemThreads[0]}–${r.systemThreads[1]}`,
      fmt(r.hostBusyPct, 0),
      r.ok ? threadNote(r) : `not counted: ${r.problem}`,
    ]);
  }
  return [`${cell.threads} harness threads, ${SHAPE_TEXT[cell.shape]}`, table(rows)].join('\n');
}

function summaryTable(cells: Cell[]): string {
  const rows: string[][] = [['N', 'shape', 'whytop ms/refresh', 'htop ms/refresh', 'whytop/htop', 'target', 'CPU', 'whytop RSS MiB peak/final', 'target', 'RSS']];
  for (const c of cells) {
    rows.push([
      String(c.threads),
      c.shape,
      fmt(c.whytopMsPerRefresh),
      fmt(c.htopMsPerRefresh),
      fmtRatio(c.ratio),
      `≤ ${c.ratioTarget.toFixed(1)}`,
      met(c.ratioMet),
      `${fmt(c.whytopRssPeakMiB, 1)} / ${fmt(c.whytopRssFinalMiB, 1)}`,
      `< ${c.rssTargetMiB}`,
      met(c.rssMet),
    ]);
  }
  return table(rows);
}

// ---------------------------------------------------------------------------------------------
// --cpu-prof: where whytop's CPU time goes

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const GROUPS = ['sampler/native reader', 'derive (model)', 'rows/sort', 'render (whytop screen text)', 'blessed (parse, draw, write)', 'app loop/history', 'hints', 'GC', 'VM/native (program)', 'other'] as const;
type Group = (typeof GROUPS)[number];

/** The group of a script URL, or null for code that belongs to its caller (node internals, ''). */
function groupOfUrl(url: string): Group | null {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = relative(ROOT, path);
  if (rel.startsWith('node_modules/blessed') || rel.includes('neo-blessed')) return 'blessed (parse, draw, write)';
  if (rel.startsWith('node_modules/')) return 'other';
  if (!rel.startsWith('dist/')) return null;
  const f = rel.slice('dist/'.length);
  if (f.startsWith('sources/') || f.startsWith('native/')) return 'sampler/native reader';
  if (f.startsWith('model/')) return 'derive (model)';
  if (['ui/rows.js', 'ui/columns.js', 'ui/keys.js'].includes(f)) return 'rows/sort';
  if (f.startsWith('ui/panels/') || ['ui/screen.js', 'ui/format.js', 'ui/tagged.js', 'ui/style.js'].includes(f)) return 'render (whytop screen text)';
  if (['ui/app.js', 'ui/history.js', 'ui/state.js', 'ui/config.js', 'cli.js'].includes(f)) return 'app loop/history';
  if (f.startsWith('hints/')) return 'hints';
  return 'other';
}

const sourceMaps = new Map<string, SourceMap | null>();

/** `file:line` in src/ for a dist/ frame (through its source map), else the script's own place. */
function place(url: string, line: number, column: number): string {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(join(ROOT, 'dist') + '/')) {
    let map = sourceMaps.get(path);
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(path + '.map', 'utf8')));
      } catch {
        map = null;
      }
      sourceMaps.set(path, map);
    }
    const e = map?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
    if (e?.originalSource) {
      const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : resolve(dirname(path), e.originalSource);
      return `${relative(ROOT, src)}:${(e.originalLine ?? 0) + 1}`;
    }
  }
  const rel = path.startsWith('/') ? relative(ROOT, path) : path;
  return `${rel}:${line + 1}`;
}

interface ProfileSummary {
  file: string;
  windowMs: number;
  /** CPU time sampled in the window (everything but idle). */
  busyMs: number;
  groups: Array<{ group: Group; ms: number; pct: number }>;
  top: Array<{ fn: string; where: string; group: Group; selfMs: number; pct: number; totalMs: number }>;
}

/** Self and total time per function within [fromUs, toUs] of the profile's clock. */
function summarizeProfile(file: string, fromUs: number, toUs: number, topN = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const groupOf = new Map<number, Group>();
  const nodeGroup = (id: number): Group => {
    const known = groupOf.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    let g: Group | null = null;
    if (name === '(garbage collector)') g = 'GC';
    else if (name === '(program)') g = 'VM/native (program)';
    else g = groupOfUrl(n.callFrame.url);
    if (g === null) {
      const p = parent.get(id);
      g = p === undefined || byId.get(p)!.callFrame.functionName === '(root)' ? 'other' : nodeGroup(p);
    }
    groupOf.set(id, g);
    return g;
  };
  // Time of each sample: the delta to the next sample (the last one gets the previous delta).
  const selfUs = new Map<number, number>();
  let t = prof.startTime;
  const times: number[] = [];
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    times.push(t);
  }
  for (let i = 0; i < prof.samples.length; i++) {
    if (times[i] < fromUs || times[i] > toUs) continue;
    const dur = i + 1 < times.length ? times[i + 1] - times[i] : (prof.timeDeltas[i] ?? 0);
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dur);
  }
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\t${n.callFrame.url}\t${n.callFrame.lineNumber}\t${n.callFrame.columnNumber}`;
  // Total time: self time of the node and its descendants, counted once per function on a stack.
  const totalUs = new Map<string, number>();
  const self = new Map<string, { us: number; node: ProfileNode }>();
  const groupUs = new Map<Group, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const k = keyOf(n);
    const s = self.get(k) ?? { us: 0, node: n };
    s.us += us;
    self.set(k, s);
    const g = nodeGroup(id);
    groupUs.set(g, (groupUs.get(g) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = keyOf(byId.get(cur)!);
      if (seen.has(ck)) continue;
      seen.add(ck);
      totalUs.set(ck, (totalUs.get(ck) ?? 0) + us);
    }
  }
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const top = [...self.entries()]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, topN)
    .map(([k, s]) => {
      const cf = s.node.callFrame;
      return {
        fn: cf.functionName || '(anonymous)',
        where: cf.url ? place(cf.url, cf.lineNumber, cf.columnNumber) : '',
        group: nodeGroup(s.node.id),
        selfMs: s.us / 1000,
        pct: pct(s.us),
        totalMs: (totalUs.get(k) ?? 0) / 1000,
      };
    });
  return {
    file,
    windowMs: (toUs - fromUs) / 1000,
    busyMs: busyUs / 1000,
    groups: GROUPS.filter((g) => groupUs.has(g))
      .map((g) => ({ group: g, ms: groupUs.get(g)! / 1000, pct: pct(groupUs.get(g)!) }))
      .sort((a, b) => b.ms - a.ms),
    top,
  };
}

function profileReport(s: ProfileSummary, refreshes: number): string {
  const per = (ms: number) => fmt(ms / refreshes);
  const groups = table([['group (self time, callees outside whytop billed to the caller)', 'ms/refresh', '%'], ...s.groups.map((g) => [g.group, per(g.ms), fmt(g.pct, 1)])]);
  const top = table([['function', 'where', 'group', 'self ms/refresh', 'self %', 'total ms/refresh'], ...s.top.map((f) => [f.fn, f.where, f.group, per(f.selfMs), fmt(f.pct, 1), per(f.totalMs)])]);
  return [
    `  profile ${relative(process.cwd(), s.file)}: ${fmt(s.busyMs / 1000, 2)} s CPU sampled in a ${fmt(s.windowMs / 1000, 1)} s window (${per(s.busyMs)} ms per refresh)`,
    groups,
    '',
    `  top ${s.top.length} functions by self time (V8 samples the main thread only, and bills wall time between samples:`,
    `  on a loaded machine, time spent waiting for a CPU goes to the function that was running)`,
    top,
  ].join('\n');
}

async function runProfiles(opts: Options, harnessBin: string): Promise<unknown[]> {
  const dir = resolve(opts.cpuProf!);
  mkdirSync(dir, { recursive: true });
  const out: unknown[] = [];
  for (const threads of opts.threads) {
    for (const shape of opts.shapes) {
      const harness = await startHarness(harnessBin, threads, shape);
      let result;
      try {
        await sleep(2000);
        const before = new Set(readdirSync(dir));
        result = await runProgram('whytop', 0, threads, opts, dir);
        // The profile is written when whytop exits (runProgram quit it with 'q').
        let file: string | undefined;
        for (let i = 0; i < 50 && !file; i++) {
          file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
          if (!file) await sleep(100);
        }
        if (!file) throw new Error('whytop wrote no .cpuprofile');
        const named = join(dir, `whytop-${threads}-${shape}.cpuprofile`);
        rmSync(named, { force: true });
        execFileSync('mv', [join(dir, file), named]);
        // Profile timestamps are CLOCK_MONOTONIC µs, as is process.hrtime.
        const from = Number(result.windowStartNs / 1000n);
        const to = Number(result.windowEndNs / 1000n);
        const summary = summarizeProfile(named, from, to);
        console.log(
          `${threads} harness threads, ${SHAPE_TEXT[shape]}: whytop under --cpu-prof, ${fmt(result.cpuMsPerRefresh)} ms CPU per refresh ` +
            `(utime+stime, all threads, profiler included), peak RSS ${fmt(result.rssPeakMiB, 1)} MiB, host busy ${fmt(result.hostBusyPct, 0)}%` +
            `${result.ok ? '' : ` (${result.problem})`}\n  by thread (ms/refresh): ${threadNote(result)}`,
        );
        console.log(profileReport(summary, result.refreshes) + '\n');
        const { startedNs: _s, windowStartNs: _a, windowEndNs: _b, ...run } = result;
        out.push({ threads, shape, run, profile: summary });
      } finally {
        await stopHarness(harness);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The driver

/** Options of bench/sampler.ts that this benchmark shares (both get them under --with-sampler). */
const SHARED = new Set(['--threads', '--shapes', '--interval']);

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    threads: [1000, 10000],
    shapes: [...SHAPES],
    intervalMs: 1000,
    seconds: 20,
    warmupSeconds: 30,
    reps: 2,
    width: 160,
    height: 48,
    build: true,
    noNative: false,
    noBpf: false,
    json: join(BENCH_DIR, 'tui-results.json'),
    cpuProf: null,
    withSampler: false,
    samplerArgs: [],
  };
  const flags = new Flags(fail);
  const rest: string[] = [];
  flags.each(argv, (flag, next) => {
    // A shared option goes to bench/sampler.ts too, with its value.
    const value = () => {
      const v = next();
      if (SHARED.has(flag)) rest.push(flag, v);
      return v;
    };
    switch (flag) {
      case '--threads':
        opts.threads = value().split(',').map((v) => flags.number(flag, v, 1));
        break;
      case '--shapes':
        opts.shapes = flags.list(flag, value(), SHAPES);
        break;
      case '--interval':
        opts.intervalMs = flags.number(flag, value(), 100);
        if (opts.intervalMs % 100 !== 0) fail('--interval must be a multiple of 100 ms (htop -d counts tenths of a second)');
        break;
      case '--seconds':
        opts.seconds = flags.number(flag, value(), 1, false);
        break;
      case '--warmup-seconds':
        opts.warmupSeconds = flags.number(flag, value(), 1, false);
        break;
      case '--reps':
        opts.reps = flags.number(flag, value(), 1);
        break;
      case '--width':
        opts.width = flags.number(flag, value(), 20);
        break;
      case '--height':
        opts.height = flags.number(flag, value(), 10);
        break;
      case '--no-build':
        opts.build = false;
        break;
      case '--no-native':
        opts.noNative = true;
        break;
      case '--no-bpf':
        opts.noBpf = true;
        break;
      case '--tui-json':
        opts.json = resolve(value());
        break;
      case '--cpu-prof':
        opts.cpuProf = value();
        break;
      case '--with-sampler':
        opts.withSampler = true;
        break;
      case '-h':
      case '--help':
        console.log(
          'usage: npm run bench:tui -- [--threads 1000,10000] [--shapes idle,busy] [--interval 1000]\n' +
            '                            [--seconds 20] [--warmup-seconds 30] [--reps 2] [--width 160] [--height 48]\n' +
            '                            [--no-build] [--no-native] [--no-bpf] [--tui-json bench/tui-results.json] [--cpu-prof DIR]\n' +
            '       npm run bench -- [reader benchmark options, see tsx bench/sampler.ts --help] [the options above]',
        );
        process.exit(0);
      default:
        if (!argv.includes('--with-sampler')) fail(`unknown option ${flag} (try --help)`);
        // Under --with-sampler, anything else belongs to bench/sampler.ts, which checks it.
        rest.push(flag);
    }
  });
  opts.samplerArgs = rest;
  return opts;
}

function machineInfo() {
  let htop = 'unknown';
  try {
    htop = execFileSync('htop', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    // reported when htop is run
  }
  return {
    ...machineFacts(),
    htop,
    tmux: spawnSync('tmux', ['-V'], { encoding: 'utf8' }).stdout.trim(),
    loadavg: loadAverages(2),
  };
}

function cleanup(): void {
  killChildren();
  for (const socket of tmuxSockets) spawnSync('tmux', ['-L', socket, 'kill-server']);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  process.on('SIGINT', () => {
    cleanup();
    process.stderr.write('\nbench:tui: SIGINT, stopped\n');
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(143);
  });
  process.on('exit', cleanup);

  if (opts.withSampler) {
    const sampler = spawnSync(process.execPath, [...process.execArgv, join(BENCH_DIR, 'sampler.ts'), ...opts.samplerArgs], { stdio: 'inherit' });
    if (sampler.status !== 0) process.exit(sampler.status ?? 1);
    console.log('');
  }

  for (const tool of ['tmux', 'htop']) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) fail(`${tool} is not installed`);
  }
  if (opts.build) {
    console.error('bench:tui: compiling whytop (tsc -p tsconfig.build.json)');
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
    if (tsc.status !== 0) fail('tsc failed; fix the build or run with --no-build to use the dist/ there is');
  }
  const { harness } = ensureBuilt((line) => console.error(`bench:tui: ${line}`));
  const machine = machineInfo();
  const date = new Date().toISOString();

  if (opts.cpuProf) {
    const profiles = await runProfiles(opts, harness);
    const file = join(resolve(opts.cpuProf), 'summary.json');
    writeFileSync(file, JSON.stringify({ benchmark: 'whytop CPU profile', date, machine, options: opts, profiles }, null, 2) + '\n');
    console.log(`Profiles and summary.json written to ${relative(process.cwd(), resolve(opts.cpuProf)) || '.'}`);
    return;
  }

  const refreshText = `${opts.intervalMs / 1000} s`;
  console.log(
    [
      'whytop vs htop: CPU time per refresh of the whole program (utime + stime of every thread, /proc/PID/stat)',
      `  whytop  node ${whytopNodeFlags().join(' ')} bin/whytop.js --interval ${opts.intervalMs} (defaults: threads list), fresh XDG_CONFIG_HOME`,
      `  htop    htop -d ${Math.round(opts.intervalMs / 100)} (defaults: every userland thread shown), fresh HOME`,
      `Each alone in tmux at ${opts.width}x${opts.height}, one after the other, over the same harness; ${opts.warmupSeconds} s warm-up, then a`,
      `${opts.seconds} s window = ${fmt(opts.seconds / (opts.intervalMs / 1000), 0)} refreshes of ${refreshText}; ${opts.reps} repetition(s), order alternating; medians.`,
      `Machine: ${describeMachine(machine)}, ${machine.htop}, ` +
        `${machine.tmux}; load ${machine.loadavg.join(' ')}; ${date}`,
      '',
    ].join('\n'),
  );

  const cells: Cell[] = [];
  for (const threads of opts.threads) {
    for (const shape of opts.shapes) {
      const cell = await runCell(threads, shape, opts, harness);
      cells.push(cell);
      console.log(cellReport(cell) + '\n');
    }
  }
  console.log('Summary (medians; CPU target: whytop/htop ≤ 0.6 idle, ≤ 1.0 busy; RSS target on the peak, VmHWM):');
  console.log(summaryTable(cells) + '\n');

  const json = {
    benchmark: 'whytop vs htop, whole process',
    date,
    machine: { ...machine, loadavgAtEnd: loadAverages(2) },
    options: { ...opts, json: undefined, samplerArgs: undefined, withSampler: undefined },
    targets: { ratio: RATIO_TARGET, rssMiB: { 1000: rssTargetMiB(1000), 10000: rssTargetMiB(10000) } },
    cells,
  };
  writeResults(opts.json, json);
}

main().catch((err: unknown) => {
  cleanup();
  console.error(`bench:tui: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
