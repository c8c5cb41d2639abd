// Helpers for the live tests: start workloads and independent tools, sample `whytop dump` over the
// same window as the tools, parse sysstat/procps output, and clean up whatever was started, even
// when a test fails (stopAll in afterAll, plus a last-resort kill on process exit).
//
// Every process started here runs in its own process group (spawn detached), so stopping it stops
// the children it forked too (stress-ng workers, the iperf3 server, ...); processes are only ever
// killed by the ids recorded here.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuPercentages, Frame, PressureResourceFrame, ProcessFrame, ThreadFrame } from '../../src/model/frame.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/whytop.js');

/** Environment for tools: C locale and 24-hour ISO times, so their output parses the same everywhere. */
const TOOL_ENV: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', S_TIME_FORMAT: 'ISO', S_COLORS: 'never' };

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const IN_CI = Boolean(process.env.CI);

// ---- prerequisites ------------------------------------------------------------------------------

const EXTRA_PATH = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Full path of an executable on PATH (or in the sbin directories), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_PATH];
  for (const dir of dirs) {
    const full = path.join(dir, name);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      if (fs.statSync(full).isFile()) return full;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Why a test cannot run here (a missing tool, not root, a missing kernel file), or null when it can.
 * Callers skip with this reason in the test name and a console.warn, never silently.
 */
export function missingPrereqs(req: { tools?: string[]; root?: boolean; paths?: string[] }): string | null {
  const missing: string[] = [];
  if (req.root && !IS_ROOT) missing.push('root privileges');
  for (const t of req.tools ?? []) if (which(t) === null) missing.push(`'${t}' on PATH`);
  for (const p of req.paths ?? []) if (!fs.existsSync(p)) missing.push(p);
  return missing.length === 0 ? null : `needs ${missing.join(', ')}`;
}

/** A test title that says why it is skipped (and warns once), or the plain title. */
export function titled(title: string, skipReason: string | null): string {
  if (skipReason === null) return title;
  console.warn(`[live] SKIPPING "${title}": ${skipReason}`);
  return `${title} [skipped: ${skipReason}]`;
}

// ---- processes ----------------------------------------------------------------------------------

/** A process started by a live test. */
export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  running(): boolean;
  /** Stops the process group (TERM, then KILL after a grace period) and waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

const started = new Set<Started>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Parent pid of every process, from /proc/PID/stat. */
function ppidMap(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), Number(rest[1]));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Pids of the direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const [p, ppid] of ppidMap()) if (ppid === pid) out.push(p);
  return out.sort((a, b) => a - b);
}

/** Pids of every descendant of `pid` (children, grandchildren, ...). */
export function descendantsOf(pid: number): number[] {
  const map = ppidMap();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, ppid] of map) {
      if (ppid === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** True when the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts `cmd args` in its own process group, capturing its output; stopAll() will stop it. */
export function start(cmd: string, args: string[], opts: { name?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Started {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? TOOL_ENV, cwd: opts.cwd });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  let done = false;
  // 'exit': the process is gone; 'close': its output is also fully read (a child that inherited
  // the pipes can hold that back). `exit` below is the latter, for tools whose output we parse.
  const gone = new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const handle: Started = {
    name: opts.name ?? path.basename(cmd),
    pid,
    child,
    exit,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    running: () => !done,
    async stop(graceMs = 3000) {
      if (!done) {
        const family = descendantsOf(pid);
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          killGroup(pid, 'SIGKILL');
          for (const p of family) killGroup(p, 'SIGKILL');
        }, graceMs);
        await gone;
        clearTimeout(timer);
        // A descendant that left the group (or ignored TERM) must not outlive the test.
        for (const p of family) if (alive(p)) killGroup(p, 'SIGKILL');
        await Promise.race([exit, sleep(2000)]);
      }
      started.delete(handle);
    },
  };
  started.add(handle);
  void exit.then(() => {
    if (!handle.running()) started.delete(handle);
  });
  return handle;
}

/** Runs a command to completion; resolves with its output (rejects on a non-zero exit unless allowed). */
export async function run(cmd: string, args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(cmd, args);
  const timer = setTimeout(() => void p.stop(500), opts.timeoutMs ?? 30_000);
  const { code } = await p.exit;
  clearTimeout(timer);
  started.delete(p);
  const result = { code, stdout: p.stdout(), stderr: p.stderr() };
  if (code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${result.stderr.trim()}`);
  return result;
}

const tempDirs = new Set<string>();

/** Stops every process still running that a live test started, and removes its temp dirs (call from afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop()));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort (a worker torn down mid-test): kill what is left, synchronously.
process.on('exit', () => {
  for (const p of started) if (p.running()) killGroup(p.pid, 'SIGKILL');
});

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than null/undefined/false; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** The children of a stress-ng parent whose comm starts with `prefix` (its workers), once they exist. */
export async function stressWorkers(stress: Started, prefix: string, count = 1): Promise<number[]> {
  return waitFor(`${count} ${prefix} worker(s) of stress-ng ${stress.pid}`, () => {
    if (!stress.running()) throw new Error(`stress-ng exited early: ${stress.stderr().trim()}`);
    const kids = childrenOf(stress.pid).filter((p) => comm(p)?.startsWith(prefix));
    return kids.length >= count ? kids : null;
  });
}

/** comm of a process, or null. */
export function comm(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The one-letter state of a task (/proc/PID/task/TID/stat), or null. */
export function taskState(pid: number, tid = pid): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] ?? null;
  } catch {
    return null;
  }
}

/** A value from /proc/PID/status in kB (VmRSS, VmSwap, ...), or null. */
export function statusKb(pid: number, key: string): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** /proc/meminfo as name → kB. */
export function meminfoKb(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of fs.readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\S+):\s+(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Compiles a C source into a temp dir; resolves to the binary's path. */
export async function compileC(name: string, source: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-live-'));
  tempDirs.add(dir);
  fs.writeFileSync(path.join(dir, `${name}.c`), source);
  await run(which('cc') ?? 'cc', ['-O2', '-o', path.join(dir, name), path.join(dir, `${name}.c`)]);
  return path.join(dir, name);
}

// ---- shared workloads ---------------------------------------------------------------------------

/** C source of a page dirtier: `toucher MIB RATE SECS` touches an MIB buffer's pages round-robin at RATE pages/s. */
export const TOUCHER_C = `
// Touches one byte of every page of an N MiB buffer round-robin at R pages/s for S seconds. Under a
// memory limit below N, LRU evicts exactly the pages touched longest ago: the ones touched next.
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  size_t mib = strtoul(argv[1], 0, 10);
  double rate = atof(argv[2]), secs = atof(argv[3]);
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = mib * 1024 * 1024 / page;
  char *p = mmap(0, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  memset(p, 1, n * page);
  double t0 = now();
  for (unsigned long done = 0, i = 0;; i = (i + 1) % n) {
    p[i * page]++;
    if (++done % 32 == 0) {
      double t = now() - t0;
      if (t > secs) break;
      double ahead = done / rate - t;
      if (ahead > 0) { struct timespec d = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) }; nanosleep(&d, 0); }
    }
  }
  return 0;
}
`;

/** C source of a parent blocked in vfork() (state D) until its child, sleeping `argv[1]` seconds, exits. */
export const VFORK_C = `
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int secs = argc > 1 ? atoi(argv[1]) : 10;
  pid_t pid = vfork();            /* the parent sleeps in D until the child execs or exits */
  if (pid == 0) { sleep(secs); _exit(0); }
  return pid < 0;
}
`;

/** True when `file` is an active swap area (listed in /proc/swaps). */
export function swapActive(file: string): boolean {
  return fs.readFileSync('/proc/swaps', 'utf8').split('\n').some((l) => l.split(/\s+/)[0] === file);
}

/** Creates a swap file of `mib` MiB (fallocate, else dd) and switches it on. */
export async function makeSwapFile(file: string, mib: number): Promise<void> {
  const make = async (how: 'fallocate' | 'dd'): Promise<void> => {
    fs.rmSync(file, { force: true });
    if (how === 'fallocate') await run('fallocate', ['-l', mib % 1024 === 0 ? `${mib / 1024}G` : `${mib}M`, file]);
    else await run('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`, 'status=none']);
    fs.chmodSync(file, 0o600);
    await run(which('mkswap') ?? 'mkswap', [file]);
    await run(which('swapon') ?? 'swapon', [file]);
  };
  try {
    if (which('fallocate') === null) throw new Error('no fallocate');
    await make('fallocate');
  } catch {
    await make('dd'); // file systems that refuse swap files with unwritten extents
  }
}

/** Switches the swap file off (if active) and deletes it. */
export async function removeSwapFile(file: string): Promise<void> {
  if (swapActive(file)) await run(which('swapoff') ?? 'swapoff', [file], { timeoutMs: 60_000 });
  fs.rmSync(file, { force: true });
}

/** Removes a cgroup directory once its last task has left (waits up to 10 s); no-op if absent. */
export async function removeCgroupDir(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  // rmdir fails (EBUSY) until the last task has left; the workload was stopped just before.
  await waitFor(`${dir} to be removable`, () => {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }, 10_000, 200);
}

// ---- whytop -------------------------------------------------------------------------------------

/** A running `whytop dump`: frames arrive as they are printed. */
export interface WhytopRun {
  readonly proc: Started;
  readonly frames: Frame[];
  /** Resolves with every frame when whytop exits 0; rejects (with its stderr) otherwise. */
  readonly done: Promise<Frame[]>;
}

/** Starts `whytop dump ARGS` (the real bin, as a user runs it); `onFrame` sees each frame on arrival. */
export function whytop(args: string[], onFrame?: (frame: Frame, index: number) => void): WhytopRun {
  const proc = start(process.execPath, [BIN, 'dump', ...args], { name: 'whytop', env: process.env });
  const frames: Frame[] = [];
  let pending = '';
  proc.child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() === '') continue;
      const frame = JSON.parse(line) as Frame;
      frames.push(frame);
      onFrame?.(frame, frames.length - 1);
    }
  });
  const done = proc.exit.then(({ code, signal }) => {
    if (code !== 0) throw new Error(`whytop ${args.join(' ')} exited ${code ?? signal}: ${proc.stderr().trim()}`);
    return frames;
  });
  done.catch(() => undefined); // awaited by callers that need it; never an unhandled rejection
  return { proc, frames, done };
}

/** A tool to run over the same window as whytop: `args` must make it report `intervals` 1-second intervals. */
export interface ToolSpec {
  cmd: string;
  args: string[];
}

/** What sampleAligned returns: per whytop instance `intervals` frames, and each tool's stdout. */
export interface AlignedSample {
  frames: Frame[][];
  /** Per whytop instance, the frame whose (later) sample was taken as the tools started. */
  atStart: Frame[];
  tools: string[];
  /** How late the tools started against whytop's sample boundary (ms; ~0-10 when aligned). */
  toolLagMs: number;
  /** Largest gap between one of whytop's sample times and the matching tool second boundary (ms). */
  skewMs: number;
}

/**
 * The task readers a live test runs side by side, as extra whytop arguments: the default (the BPF
 * task iterator as root, else the native /proc reader), the native /proc reader, and the
 * TypeScript one. Each frame's sampler.backend says which one made it.
 */
export const READER_ARGS: readonly string[][] = [[], ['--no-bpf'], ['--no-native']];

/** READER_ARGS, each after `extra`. */
export function readerArgs(...extra: string[]): string[][] {
  return READER_ARGS.map((args) => [...extra, ...args]);
}

/**
 * Samples whytop and the tools over the same 1-second intervals. Each whytop instance (one per
 * entry of `whytopArgs`, e.g. [] and ['--no-native']) runs `whytop dump --interval 1000`. When the
 * first instance's first frame arrives we know its wall-clock sample times (frame.time + k seconds:
 * dump samples on a drift-free schedule), so the tools are started just before its next sample
 * time that is still ahead: tool interval i then covers the same second as one of whytop's frames,
 * whatever whytop's start-up or pass cost. Returns `intervals` aligned frames per instance.
 */
export async function sampleAligned(opts: {
  intervals: number;
  whytopArgs?: string[][];
  tools: ToolSpec[];
  settleFrames?: number;
  /**
   * For bursty quantities: when whytop's samples strayed further than this from the tools'
   * seconds (its passes overran the interval on a crowded machine), sample again once, then fail
   * saying so rather than compare different seconds.
   */
  maxSkewMs?: number;
}): Promise<AlignedSample> {
  for (let attempt = 1; ; attempt++) {
    const result = await sampleAlignedOnce(opts);
    if (opts.maxSkewMs === undefined || result.skewMs <= opts.maxSkewMs) return result;
    const passes = Math.max(...result.frames[0].map((f) => f.sampler.sample_ms));
    const why = `whytop's samples strayed up to ${result.skewMs} ms from the tools' seconds (its passes took up to ${Math.round(passes)} ms: the machine is crowded)`;
    if (attempt >= 2) throw new Error(`cannot align whytop with the tools: ${why}`);
    console.warn(`[live] ${why}; sampling again`);
  }
}

async function sampleAlignedOnce(opts: { intervals: number; whytopArgs?: string[][]; tools: ToolSpec[]; settleFrames?: number }): Promise<AlignedSample> {
  const intervalMs = 1000;
  const settle = opts.settleFrames ?? 0; // frames to let pass first (whytop's first passes read more)
  const instances = opts.whytopArgs ?? [[]];
  let toolsStarted: Started[] = [];
  let toolLagMs = 0;
  let boundary = NaN; // wall time at which the tools took their first reading
  let toolTimer: NodeJS.Timeout | undefined;
  const runs = instances.map((extra, i) =>
    // No --count: whytop runs until it is stopped (SIGTERM: it finishes cleanly, exit 0) once the
    // aligned frames are in, however late its first frame came.
    // --align: every instance samples on the same wall-clock seconds, whenever it started.
    whytop(['--interval', String(intervalMs), '--align', ...extra], (frame, index) => {
      if (i !== 0 || index !== settle) return;
      const time0 = Date.parse(frame.time);
      let k = 1;
      while (time0 + k * intervalMs - Date.now() < 5) k++; // a sample time still ahead of us
      if (k > 2) console.warn(`[live] whytop's first frame came ${Date.now() - time0} ms after its sample (crowded machine)`);
      boundary = time0 + k * intervalMs;
      toolTimer = setTimeout(() => {
        toolLagMs = Date.now() - boundary;
        toolsStarted = opts.tools.map((t) => start(t.cmd, t.args));
      }, boundary - Date.now() - 3); // exec + the tool's first read take a few ms
    }),
  );
  try {
    await waitFor(
      'whytop frames covering the tools\' window',
      () => {
        for (const r of runs) if (!r.proc.running()) throw new Error(`whytop exited early: ${r.proc.stderr().trim()}`);
        if (Number.isNaN(boundary) || toolsStarted.length !== opts.tools.length) return false;
        return runs.every((r) => {
          const first = firstFrameAfter(r.frames, boundary + intervalMs / 2);
          if (first === 0) throw new Error(`a whytop instance's first frame came after the tools started: ${r.frames[0].time}`);
          return first > 0 && r.frames.length >= first + opts.intervals;
        });
      },
      (opts.intervals + settle) * intervalMs + 40_000, // generous: passes slow down a lot on a crowded machine
      20,
    );
    const results = await Promise.all(toolsStarted.map(async (t) => ({ t, r: await t.exit })));
    for (const { t, r } of results) if (r.code !== 0) throw new Error(`${t.name} exited ${r.code ?? r.signal}: ${t.stderr().trim()}`);
    // How far whytop's actual sample times (a slow pass can delay the next one) strayed from the
    // tools' second boundaries, over the aligned window.
    // Each instance started on its own, so its frames are found by time, not by index.
    let skewMs = Math.abs(toolLagMs);
    const firsts = runs.map((r) => firstFrameAfter(r.frames, boundary + intervalMs / 2));
    runs.forEach((r, i) => {
      for (let j = firsts[i] - 1; j < firsts[i] + opts.intervals; j++) {
        skewMs = Math.max(skewMs, Math.abs(Date.parse(r.frames[j].time) - (boundary + (j - firsts[i] + 1) * intervalMs)));
      }
    });
    if (skewMs > 50) console.warn(`[live] whytop's samples and the tools' seconds were up to ${skewMs} ms apart: windows only roughly aligned (crowded machine)`);
    const frames = runs.map((r, i) => r.frames.slice(firsts[i], firsts[i] + opts.intervals));
    const atStart = runs.map((r, i) => r.frames[firsts[i] - 1]);
    return { frames, atStart, tools: toolsStarted.map((t) => t.stdout()), toolLagMs, skewMs };
  } finally {
    clearTimeout(toolTimer);
    await Promise.all([...runs.map((r) => r.proc.stop()), ...toolsStarted.map((t) => t.stop())]);
  }
}

/** Index of the first frame sampled after wall time `ms` (it ends the interval that contains `ms`), or -1. */
function firstFrameAfter(frames: Frame[], ms: number): number {
  return frames.findIndex((f) => Date.parse(f.time) > ms);
}

export function threadOf(frame: Frame, tid: number): ThreadFrame | undefined {
  return frame.threads.find((t) => t.tid === tid);
}

export function processOf(frame: Frame, pid: number): ProcessFrame | undefined {
  return frame.processes.find((p) => p.pid === pid);
}

// ---- tool output --------------------------------------------------------------------------------

/** vmstat -n output → one record per data line (the first line is the since-boot average). */
export function parseVmstat(text: string): Array<Record<string, number>> {
  let header: string[] | null = null;
  const rows: Array<Record<string, number>> = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens[0] === 'r' && tokens.includes('cs')) {
      header = tokens;
      continue;
    }
    if (header === null || !/^\d+$/.test(tokens[0] ?? '')) continue;
    const row: Record<string, number> = {};
    header.forEach((name, i) => (row[name] = Number(tokens[i])));
    rows.push(row);
  }
  return rows;
}

/** The per-interval vmstat rows (since-boot line dropped). */
export function vmstatIntervals(text: string): Array<Record<string, number>> {
  return parseVmstat(text).slice(1);
}

/**
 * sysstat (pidstat, mpstat) output → one block per interval, each a list of rows keyed by the
 * header names (the first column, the time, is `time`). A block is the run of rows with the same
 * time (pidstat prints its header once; mpstat repeats it per interval) in which no row repeats an
 * earlier one's identity (its first three columns after the time: two readings taken either side of
 * a second boundary print the same time). "Average:" rows are dropped.
 */
export function parseSysstat(text: string): Array<Array<Record<string, string>>> {
  const blocks: Array<Array<Record<string, string>>> = [];
  let header: string[] | null = null;
  let block: Array<Record<string, string>> | null = null;
  let blockTime = '';
  let blockKeys = new Set<string>();
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (line.trim() === '' || tokens[0] === 'Linux') {
      header = null;
      continue;
    }
    if (tokens[0] === 'Average:') {
      header = null;
      block = null;
      continue;
    }
    if (header === null) {
      header = ['time', ...tokens.slice(1)];
      block = null;
      continue;
    }
    const key = tokens.slice(1, 4).join(' ');
    if (block === null || tokens[0] !== blockTime || blockKeys.has(key)) {
      block = [];
      blockTime = tokens[0];
      blockKeys = new Set();
      blocks.push(block);
    }
    blockKeys.add(key);
    const row: Record<string, string> = {};
    header.forEach((name, i) => (row[name] = tokens[i] ?? ''));
    block.push(row);
  }
  return blocks;
}

// ---- statistics and comparison -----------------------------------------------------------------

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** A number from a frame field that must be present. */
export function num(value: number | null | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what} is ${value}`);
  return value;
}

/**
 * |actual - expected| ≤ max(rel × |expected|, abs): the allowed gap between whytop and a tool.
 * Returns a message for a failed expect, or null.
 */
export function disagreement(what: string, actual: number, expected: number, tol: { rel?: number; abs?: number }): string | null {
  const allowed = Math.max((tol.rel ?? 0) * Math.abs(expected), tol.abs ?? 0);
  const gap = Math.abs(actual - expected);
  return gap <= allowed ? null : `${what}: whytop ${round(actual)} vs tool ${round(expected)} (gap ${round(gap)} > allowed ${round(allowed)})`;
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Logs one line of observed agreement (shown in the vitest output, quoted in reports). */
export function report(test: string, values: Record<string, unknown>): void {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : JSON.stringify(v)}`);
  console.log(`[live ${test}] ${parts.join(' ')}`);
}

/** The blocks of parseSysstat(text) that hold column `column`: one report of a multi-report run (sar -q ALL prints four tables per interval), one block per interval. */
export function sysstatSection(text: string, column: string): Array<Array<Record<string, string>>> {
  return parseSysstat(text).filter((block) => block.length > 0 && column in block[0]);
}

// ---- polling /proc around whytop's samples ------------------------------------------------------

/** Timestamped reads of a /proc file (or anything cheap), taken every few ms until stopped. */
export interface Poller<T> {
  readonly reads: Array<{ ms: number; value: T }>;
  stop(): void;
}

/**
 * Reads `read()` every `stepMs` (null results are dropped) until stop(). With `dump --align`
 * whytop samples at known wall times (frame.time), so the reads taken just around a frame's time
 * bracket what whytop must have seen (see readsAround).
 */
export function poll<T>(read: () => T | null, stepMs = 5): Poller<T> {
  const reads: Array<{ ms: number; value: T }> = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    const ms = Date.now();
    const value = read();
    if (value !== null) reads.push({ ms, value });
    timer = setTimeout(tick, stepMs);
  };
  tick();
  return {
    reads,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The polled values read from `beforeMs` before to `afterMs` after wall time `ms` (a frame's
 * time: whytop reads its system files within a ms or two of it, its task files a little later).
 */
export function readsAround<T>(p: Poller<T>, ms: number, beforeMs = 50, afterMs = 250): T[] {
  return p.reads.filter((r) => r.ms >= ms - beforeMs && r.ms <= ms + afterMs).map((r) => r.value);
}

/**
 * Null when `value` lies within the range of `seen` widened by `slack`, else a message for a
 * failed expect (also when nothing was seen around that moment).
 */
export function outsideRange(what: string, value: number, seen: number[], slack: number): string | null {
  if (seen.length === 0) return `${what}: no independent read around that moment`;
  const lo = Math.min(...seen) - slack;
  const hi = Math.max(...seen) + slack;
  return value >= lo && value <= hi ? null : `${what}: whytop ${round(value)} outside ${round(lo)}..${round(hi)} (${seen.length} reads ± ${round(slack)})`;
}

// ---- comparisons shared by several live tests ---------------------------------------------------

/**
 * mpstat's value for each of whytop's CPU mode shares. mpstat takes guest time out of %usr and
 * guest-nice out of %nice (and shows them apart); whytop, like /proc/stat, keeps them in.
 */
export const MPSTAT_MODES: ReadonlyArray<[keyof CpuPercentages, (row: Record<string, string>) => number]> = [
  ['user_pct', (r) => Number(r['%usr']) + Number(r['%guest'])],
  ['nice_pct', (r) => Number(r['%nice']) + Number(r['%gnice'])],
  ['system_pct', (r) => Number(r['%sys'])],
  ['iowait_pct', (r) => Number(r['%iowait'])],
  ['irq_pct', (r) => Number(r['%irq'])],
  ['softirq_pct', (r) => Number(r['%soft'])],
  ['steal_pct', (r) => Number(r['%steal'])],
  ['idle_pct', (r) => Number(r['%idle'])],
];

/**
 * Every mode of every CPU (cpus[]) and of all of them (cpu_total, mpstat's "all") against
 * `mpstat -P ALL` over the same seconds: `frames[i]` and `blocks[i]` must cover the same interval.
 * Medians over the window; `tol.cpu` points per CPU, `tol.total` for the total. Returns the
 * disagreements and the medians compared, per CPU ("all" for the total) as [whytop, mpstat].
 */
export function compareCpuModes(
  frames: Frame[],
  blocks: Array<Array<Record<string, string>>>,
  tol: { cpu: number; total: number },
): { problems: string[]; medians: Record<string, Record<string, [number, number]>> } {
  const problems: string[] = [];
  const medians: Record<string, Record<string, [number, number]>> = {};
  if (frames.length !== blocks.length || frames.length === 0) return { problems: [`${frames.length} frames vs ${blocks.length} mpstat intervals`], medians };
  const cpuIds = [...frames[0].cpus.map((c) => String(c.cpu)), 'all'];
  for (const id of cpuIds) {
    const rows = blocks.map((b) => b.find((r) => r.CPU === id));
    if (!rows.every(Boolean)) {
      problems.push(`mpstat did not report CPU ${id} in every interval`);
      continue;
    }
    medians[id] = {};
    for (const [mode, col] of MPSTAT_MODES) {
      const w = median(frames.map((f) => num(id === 'all' ? f.cpu_total?.[mode] : f.cpus.find((c) => String(c.cpu) === id)?.[mode], `cpu ${id} ${mode}`)));
      const m = median(rows.map((r) => col(r!)));
      medians[id][mode] = [round(w), round(m)];
      const bad = disagreement(`${id === 'all' ? 'cpu_total' : `cpus[${id}]`}.${mode} vs mpstat -P ${id}`, w, m, { abs: id === 'all' ? tol.total : tol.cpu });
      if (bad) problems.push(bad);
    }
  }
  return { problems, medians };
}

/** sar -q ALL's column prefixes for each PSI resource: some, full. */
const SAR_PSI: ReadonlyArray<['cpu' | 'io' | 'memory', string, string | null]> = [
  ['cpu', '%scpu', null],
  ['io', '%sio', '%fio'],
  ['memory', '%smem', '%fmem'],
];

/**
 * pressure.* against `sar -q ALL` (sysstat ≥ 12.5 reads /proc/pressure too) over the same
 * seconds: `frames[i]` and sar's interval `sarIntervals[i]` (0: its first) must be the same second. The stall shares of
 * the interval (some/full_stall_pct vs %scpu, %sio, %fio, ...) are compared as medians within
 * `tol.stallPct` points; the kernel's running averages (avg10/60/300), which it updates every 2 s,
 * as medians within `tol.avg` points. Returns the disagreements, the medians compared, and
 * whytop's median some_stall_pct per resource (to check that the workload moved it).
 */
export function comparePressure(
  frames: Frame[],
  sarText: string,
  sarIntervals: number[],
  tol: { stallPct: number; avg: number },
): { problems: string[]; medians: Record<string, Record<string, [number, number]>>; someStall: Record<string, number> } {
  const problems: string[] = [];
  const medians: Record<string, Record<string, [number, number]>> = {};
  const someStall: Record<string, number> = {};
  for (const [resource, some, full] of SAR_PSI) {
    medians[resource] = {};
    for (const [kind, prefix] of [['some', some], ['full', full]] as const) {
      if (prefix === null) continue;
      const all = sysstatSection(sarText, prefix);
      const blocks = sarIntervals.map((i) => all[i]);
      if (frames.length !== sarIntervals.length || !blocks.every(Boolean)) {
        problems.push(`sar -q ALL gave ${all.length} ${prefix} intervals, wanted ${sarIntervals.join(',')} for ${frames.length} frames`);
        continue;
      }
      const pairs: Array<[keyof PressureResourceFrame, string, number]> = [
        [`${kind}_stall_pct`, prefix, tol.stallPct],
        [`${kind}_avg10`, `${prefix}-10`, tol.avg],
        [`${kind}_avg60`, `${prefix}-60`, tol.avg],
        [`${kind}_avg300`, `${prefix}-300`, tol.avg],
      ];
      for (const [field, col, allowed] of pairs) {
        const w = median(frames.map((f) => num(f.pressure?.[resource]?.[field], `pressure.${resource}.${field}`)));
        const s = median(blocks.map((b) => Number(b[0][col])));
        medians[resource][field] = [round(w), round(s)];
        const bad = disagreement(`pressure.${resource}.${field} vs sar -q ${col}`, w, s, { abs: allowed });
        if (bad) problems.push(bad);
        if (field === 'some_stall_pct') someStall[resource] = w;
      }
    }
  }
  return { problems, medians, someStall };
}
