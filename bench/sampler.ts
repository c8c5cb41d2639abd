// Benchmark of the per-task readers: CPU cost of one pass of the BPF task iterator reader (root),
// the native /proc reader, the TypeScript reader and a minimal C "floor" reader, side by side,
// over a harness process with N threads.
//
//   npm run bench -- [--threads 1000,10000] [--shapes idle,busy] [--passes 15] [--warmup 2]
//                    [--interval 1000] [--settle 2000] [--proc-root /proc] [--fd-budget N]
//                    [--readers bpf,native,ts,floor] [--htop] [--json bench/results.json]
//
// For each thread count and shape the driver starts bench/.build/harness, waits for it, lets it
// settle, then runs rounds `--interval` ms apart; each round runs one pass of every reader, in an
// order that rotates from round to round so that noise hits them alike. The first `--warmup`
// rounds are not counted.
//
// Each Node reader runs in its own Node process (this file with --worker), which times
// `reader.read('none')` with process.cpuUsage() (user + system of that process, so its garbage
// collection is billed to it and to no other reader) and performance.now(). The floor
// (bench/floor.c) runs as a child that times each pass itself with getrusage, so no process
// start-up is counted anywhere.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TaskReader } from '../src/sources/taskReader.js';
import { ensureBuilt } from './build.js';
import { Flags, failWith } from './cli.js';
import type { Fail } from './cli.js';
import { describeMachine, machineFacts, openFileLimit } from './machine.js';
import {
  SHAPES,
  SHAPE_TEXT,
  endChildren,
  killChildren,
  schedNs,
  sleep,
  startChild,
  startHarness,
  stderrTail,
  stopChild,
  stopHarness,
  track,
  waitExit,
} from './processes.js';
import type { Shape } from './processes.js';
import { fmt, fmtRatio, table, writeResults } from './report.js';
import { summarize } from './stats.js';
import type { Summary } from './stats.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const BENCH_DIR = dirname(THIS_FILE);

type ReaderName = 'bpf' | 'native' | 'ts' | 'floor';
const READERS: readonly ReaderName[] = ['bpf', 'native', 'ts', 'floor'];

interface Options {
  threads: number[];
  shapes: Shape[];
  readers: ReaderName[];
  passes: number;
  warmup: number;
  intervalMs: number;
  settleMs: number;
  procRoot: string;
  fdBudget: number | undefined;
  htop: boolean;
  json: string;
}

/** One measured pass of one reader. */
interface Pass {
  cpuMs: number;
  wallMs: number;
  tasks: number;
}

interface ReaderResult {
  available: boolean;
  reason: string | null;
  cpuMs: Summary | null;
  wallMs: Summary | null;
  tasks: Summary | null;
  passes: Pass[];
}

interface HtopResult {
  available: boolean;
  reason: string | null;
  /** htop's CPU time per refresh (reading and drawing), ms. */
  cpuMsPerRefresh: number | null;
  seconds: number;
  delayMs: number;
}

interface RunResult {
  threads: number;
  shape: Shape;
  harnessPid: number;
  readers: Partial<Record<ReaderName, ReaderResult>>;
  ratios: { nativeToFloor: number | null; tsToFloor: number | null; nativeToTs: number | null; bpfToNative: number | null };
  htop?: HtopResult;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const fail: Fail = failWith('bench');

function ratio(a: Summary | null | undefined, b: Summary | null | undefined): number | null {
  if (!a || !b || !(b.median > 0)) return null;
  return a.median / b.median;
}

// ---------------------------------------------------------------------------------------------
// Readers: each answers pass() with one measured pass.

interface Runner {
  readonly name: ReaderName;
  readonly reason: string | null;
  pass(): Promise<Pass>;
  close(): Promise<void>;
}

const PASS_TIMEOUT_MS = 120_000;

/** A Node reader in its own process (this file run with --worker). */
async function startWorker(name: 'bpf' | 'native' | 'ts', opts: Options): Promise<Runner> {
  const args = [...process.execArgv, THIS_FILE, '--worker', name, '--proc-root', opts.procRoot];
  if (opts.fdBudget !== undefined) args.push('--fd-budget', String(opts.fdBudget));
  const { child, channel, tail } = startChild(process.execPath, args);
  const hello = await channel.next(60_000);
  let reason: string | null = null;
  if (hello === null) reason = `worker did not start: ${tail() || 'no output'}`;
  else {
    const msg = JSON.parse(hello) as { ok: true } | { ok: false; reason: string };
    if (!msg.ok) reason = msg.reason;
  }
  if (reason !== null) await stopChild(child, 5000);
  return {
    name,
    reason,
    async pass() {
      channel.send('pass');
      const line = await channel.next(PASS_TIMEOUT_MS);
      if (line === null) throw new Error(`${name} reader worker stopped: ${tail() || 'no output'}`);
      const msg = JSON.parse(line) as Pass | { error: string };
      if ('error' in msg) throw new Error(`${name} reader: ${msg.error}`);
      return msg;
    },
    async close() {
      await stopChild(child, 10_000);
    },
  };
}

/** The C floor, waiting on stdin for each pass. */
async function startFloor(binary: string, opts: Options): Promise<Runner> {
  const { child, channel, tail } = startChild(binary, [opts.procRoot, '0', '-']);
  return {
    name: 'floor',
    reason: null,
    async pass() {
      channel.send('');
      const line = await channel.next(PASS_TIMEOUT_MS);
      if (line === null) throw new Error(`floor stopped: ${tail() || 'no output'}`);
      const [cpuMs, tasks, wallMs] = line.trim().split(/\s+/).map(Number);
      return { cpuMs, tasks, wallMs };
    },
    async close() {
      await stopChild(child, 5000);
    },
  };
}

/** Worker mode: loads one reader and answers "pass" lines with one JSON line each. */
async function workerMain(argv: string[]): Promise<void> {
  const name = argv[argv.indexOf('--worker') + 1];
  const procRoot = argv.includes('--proc-root') ? argv[argv.indexOf('--proc-root') + 1] : '/proc';
  const budgetArg = argv.includes('--fd-budget') ? Number(argv[argv.indexOf('--fd-budget') + 1]) : undefined;
  const readerOpts = budgetArg === undefined ? {} : { fdBudget: budgetArg };
  const say = (msg: unknown) => process.stdout.write(JSON.stringify(msg) + '\n');

  let reader: TaskReader;
  try {
    if (name === 'ts') {
      const { TsTaskReader } = await import('../src/sources/tsTaskReader.js');
      reader = new TsTaskReader(procRoot, readerOpts);
    } else if (name === 'bpf') {
      const { nativeBpfCalls, nativeHostConstants } = await import('../src/native/index.js');
      const { loadBpfTaskReader } = await import('../src/sources/bpfTaskReader.js');
      const bpf = nativeBpfCalls();
      const constants = nativeHostConstants();
      const loaded = loadBpfTaskReader(procRoot, constants && bpf.calls, constants ?? { clkTck: 100, pageSizeBytes: 4096 });
      if (loaded.reader === null) {
        say({ ok: false, reason: bpf.reason ?? loaded.reason });
        return;
      }
      reader = loaded.reader;
    } else {
      const { loadNativeTaskReader } = await import('../src/native/index.js');
      const loaded = loadNativeTaskReader(procRoot, readerOpts);
      if (loaded.reader === null) {
        say({ ok: false, reason: loaded.reason });
        return;
      }
      reader = loaded.reader;
    }
  } catch (err) {
    say({ ok: false, reason: `cannot load: ${(err as Error).message.split('\n')[0]}` });
    return;
  }
  say({ ok: true });

  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line !== 'pass') continue;
    try {
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      const sample = reader.read('none');
      const c = process.cpuUsage(c0);
      const wallMs = performance.now() - w0;
      say({ cpuMs: (c.user + c.system) / 1000, wallMs, tasks: sample.tasks.count });
    } catch (err) {
      say({ error: (err as Error).message });
    }
  }
  reader.close();
}

// ---------------------------------------------------------------------------------------------
// Optional: htop as an outside reference (a whole refresh, reading and drawing).

/** Sum of the on-CPU nanoseconds of every thread of `pid` (from schedstat), or NaN once it is gone. */
function processCpuNs(pid: number): number {
  try {
    return schedNs(pid);
  } catch {
    return NaN;
  }
}

async function measureHtop(opts: Options): Promise<HtopResult> {
  const delayMs = Math.max(100, Math.round(opts.intervalMs / 100) * 100);
  const seconds = ((opts.warmup + opts.passes) * delayMs) / 1000;
  const base: HtopResult = { available: false, reason: null, cpuMsPerRefresh: null, seconds, delayMs };
  const home = join(os.tmpdir(), `whytop-bench-htop-${process.pid}`);
  // htop needs a terminal: `script` gives it a pseudo-terminal; a fresh HOME gives it its defaults
  // (which show every userland thread).
  const cmd = `stty rows 50 cols 200; exec htop -d ${delayMs / 100}`;
  const child = track(
    spawn('script', ['-qfc', cmd, '/dev/null'], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, TERM: 'xterm' },
    }),
  );
  const tail = stderrTail(child);
  let htopPid = NaN;
  try {
    for (let i = 0; i < 50 && !Number.isFinite(htopPid); i++) {
      await sleep(100);
      if (child.exitCode !== null) break;
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
        for (const kid of kids) {
          if (kid && readFileSync(`/proc/${kid}/comm`, 'utf8').trim() === 'htop') htopPid = Number(kid);
        }
      } catch {
        // not yet
      }
    }
    if (!Number.isFinite(htopPid)) return { ...base, reason: `htop did not start: ${tail() || 'no htop process'}` };
    await sleep(opts.warmup * delayMs);
    const n0 = processCpuNs(htopPid);
    const t0 = performance.now();
    await sleep(opts.passes * delayMs);
    const n1 = processCpuNs(htopPid);
    const refreshes = (performance.now() - t0) / delayMs;
    if (!Number.isFinite(n1 - n0)) return { ...base, reason: 'htop exited early' };
    return { ...base, available: true, cpuMsPerRefresh: (n1 - n0) / 1e6 / refreshes };
  } finally {
    // End htop first, so that script reaps it and exits on its own.
    if (Number.isFinite(htopPid)) {
      try {
        process.kill(htopPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await waitExit(child, 2000);
    await stopChild(child, 5000);
  }
}

// ---------------------------------------------------------------------------------------------
// The driver

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    threads: [1000, 10000],
    shapes: [...SHAPES],
    readers: [...READERS],
    passes: 15,
    warmup: 2,
    intervalMs: 1000,
    settleMs: 2000,
    procRoot: '/proc',
    fdBudget: undefined,
    htop: false,
    json: join(BENCH_DIR, 'results.json'),
  };
  const flags = new Flags(fail);
  flags.each(argv, (flag, value) => {
    switch (flag) {
      case '--threads':
        opts.threads = value().split(',').map((v) => flags.number('--threads', v, 0));
        break;
      case '--shapes':
        opts.shapes = flags.list('--shapes', value(), SHAPES);
        break;
      case '--readers':
        opts.readers = flags.list('--readers', value(), READERS);
        break;
      case '--passes':
        opts.passes = flags.number(flag, value(), 1);
        break;
      case '--warmup':
        opts.warmup = flags.number(flag, value(), 0);
        break;
      case '--interval':
        opts.intervalMs = flags.number(flag, value(), 0);
        break;
      case '--settle':
        opts.settleMs = flags.number(flag, value(), 0);
        break;
      case '--proc-root':
        opts.procRoot = value();
        break;
      case '--fd-budget':
        opts.fdBudget = flags.number(flag, value(), 0);
        break;
      case '--htop':
        opts.htop = true;
        break;
      case '--json':
        opts.json = value();
        break;
      case '-h':
      case '--help':
        console.log(
          'usage: npm run bench -- [--threads 1000,10000] [--shapes idle,busy] [--passes 15] [--warmup 2]\n' +
            '                        [--interval 1000] [--settle 2000] [--readers bpf,native,ts,floor]\n' +
            '                        [--proc-root /proc] [--fd-budget N] [--htop] [--json bench/results.json]',
        );
        process.exit(0);
      default:
        fail(`unknown option ${flag} (try --help)`);
    }
  });
  return opts;
}

function machineInfo() {
  return { ...machineFacts(), openFileLimit: openFileLimit() };
}

async function runOne(
  threads: number,
  shape: Shape,
  opts: Options,
  bins: Record<'harness' | 'floor', string>,
): Promise<RunResult> {
  const harness = await startHarness(bins.harness, threads, shape);
  const runners: Runner[] = [];
  const results: Partial<Record<ReaderName, ReaderResult>> = {};
  try {
    for (const name of opts.readers) {
      runners.push(name === 'floor' ? await startFloor(bins.floor, opts) : await startWorker(name, opts));
    }
    await sleep(opts.settleMs);
    const active = runners.filter((r) => r.reason === null);
    const passes = new Map<ReaderName, Pass[]>(active.map((r) => [r.name, []]));
    const rounds = opts.warmup + opts.passes;
    const t0 = performance.now();
    for (let round = 0; round < rounds; round++) {
      await sleep(t0 + round * opts.intervalMs - performance.now());
      for (let k = 0; k < active.length; k++) {
        const runner = active[(round + k) % active.length];
        const pass = await runner.pass();
        if (round >= opts.warmup) passes.get(runner.name)!.push(pass);
      }
      if (process.stderr.isTTY) {
        process.stderr.write(`\r  ${threads} threads, ${shape}: round ${round + 1}/${rounds}${round < opts.warmup ? ' (warm-up)' : ''}   `);
      }
    }
    if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(60) + '\r');
    for (const runner of runners) {
      const p = passes.get(runner.name) ?? [];
      results[runner.name] = {
        available: runner.reason === null,
        reason: runner.reason,
        cpuMs: summarize(p.map((x) => x.cpuMs)),
        wallMs: summarize(p.map((x) => x.wallMs)),
        tasks: summarize(p.map((x) => x.tasks)),
        passes: p,
      };
    }
  } finally {
    await Promise.all(runners.map((r) => r.close()));
  }
  let htop: HtopResult | undefined;
  try {
    if (opts.htop) htop = await measureHtop(opts);
  } finally {
    await stopHarness(harness);
  }
  const cpu = (name: ReaderName) => results[name]?.cpuMs;
  return {
    threads,
    shape,
    harnessPid: harness.pid,
    readers: results,
    ratios: {
      nativeToFloor: ratio(cpu('native'), cpu('floor')),
      tsToFloor: ratio(cpu('ts'), cpu('floor')),
      nativeToTs: ratio(cpu('native'), cpu('ts')),
      bpfToNative: ratio(cpu('bpf'), cpu('native')),
    },
    ...(htop ? { htop } : {}),
  };
}

function report(run: RunResult, opts: Options): string {
  const rows: string[][] = [['reader', 'CPU ms/pass', '[p25 – p75]', 'wall ms', 'tasks/pass', '× floor']];
  const floorCpu = run.readers.floor?.cpuMs;
  const notes: string[] = [];
  for (const name of opts.readers) {
    const r = run.readers[name];
    if (!r) continue;
    if (!r.available) {
      rows.push([name, 'n/a', '', '', '', '']);
      notes.push(`  ${name}: unavailable (${r.reason ?? 'no reason given'})`);
      continue;
    }
    rows.push([
      name,
      fmt(r.cpuMs?.median),
      r.cpuMs ? `[${fmt(r.cpuMs.p25)} – ${fmt(r.cpuMs.p75)}]` : '–',
      fmt(r.wallMs?.median),
      r.tasks ? r.tasks.median.toFixed(0) : '–',
      name === 'floor' ? '1.00×' : fmtRatio(ratio(r.cpuMs, floorCpu)),
    ]);
  }
  if (run.htop) {
    const h = run.htop;
    if (h.available && h.cpuMsPerRefresh !== null) {
      rows.push(['htop', fmt(h.cpuMsPerRefresh), '', '', '', fmtRatio(floorCpu ? h.cpuMsPerRefresh / floorCpu.median : null)]);
      notes.push(`  htop: whole refresh (reading and drawing), -d ${h.delayMs / 100}, measured alone for ${h.seconds.toFixed(0)} s after the rounds`);
    } else {
      rows.push(['htop', 'n/a', '', '', '', '']);
      notes.push(`  htop: unavailable (${h.reason ?? 'no reason given'})`);
    }
  }
  const { nativeToFloor, tsToFloor, nativeToTs, bpfToNative } = run.ratios;
  return [
    `${run.threads} harness threads, ${SHAPE_TEXT[run.shape]}`,
    table(rows),
    `  ratios (medians): bpf/native ${fmtRatio(bpfToNative)}   native/floor ${fmtRatio(nativeToFloor)}   ts/floor ${fmtRatio(tsToFloor)}   native/ts ${fmtRatio(nativeToTs)}`,
    ...notes,
  ].join('\n');
}

function summaryTable(runs: RunResult[]): string {
  const rows: string[][] = [['threads', 'shape', 'tasks', 'bpf ms', 'native ms', 'ts ms', 'floor ms', 'bpf/native', 'native/floor', 'ts/floor', 'native/ts']];
  for (const run of runs) {
    const med = (name: ReaderName) => {
      const r = run.readers[name];
      if (!r) return '–';
      return r.available ? fmt(r.cpuMs?.median) : 'n/a';
    };
    const tasks = READERS.map((n) => run.readers[n]?.tasks?.median).find((t) => t !== undefined);
    rows.push([
      String(run.threads),
      run.shape,
      tasks === undefined ? '–' : tasks.toFixed(0),
      med('bpf'),
      med('native'),
      med('ts'),
      med('floor'),
      fmtRatio(run.ratios.bpfToNative),
      fmtRatio(run.ratios.nativeToFloor),
      fmtRatio(run.ratios.tsToFloor),
      fmtRatio(run.ratios.nativeToTs),
    ]);
  }
  return table(rows);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--worker')) return workerMain(argv);
  const opts = parseOptions(argv);

  const stop = (signal: NodeJS.Signals) => {
    endChildren();
    process.stderr.write(`\nbench: ${signal}, stopped\n`);
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', killChildren);

  const bins = ensureBuilt((line) => console.error(`bench: ${line}`));
  const machine = machineInfo();
  const date = new Date().toISOString();

  console.log(
    [
      'whytop task reader benchmark: CPU time (user + system) of one pass over every task in ' + opts.procRoot,
      `  native  the native addon reader, reader.read('none'), in its own Node process (process.cpuUsage)`,
      `  ts      the TypeScript reader, the same way`,
      `  floor   minimal C reader: list ${opts.procRoot} and each task dir; open, read, close stat, status and`,
      `          schedstat of every thread; nothing else (getrusage)`,
      `Harness: N threads (64 KiB stacks), wake-ups staggered. Rounds ${opts.intervalMs} ms apart, one pass of each reader`,
      `per round in rotating order; ${opts.warmup} warm-up + ${opts.passes} counted rounds. Medians; [p25 – p75] shows the spread.`,
      `Machine: ${describeMachine(machine)}, ` +
        `open-file limit ${machine.openFileLimit}; ${date}`,
      '',
    ].join('\n'),
  );

  const runs: RunResult[] = [];
  for (const threads of opts.threads) {
    for (const shape of opts.shapes) {
      const run = await runOne(threads, shape, opts, bins);
      runs.push(run);
      console.log(report(run, opts) + '\n');
    }
  }
  if (runs.length > 1) console.log('Summary (median CPU ms per pass):\n' + summaryTable(runs) + '\n');

  const json = {
    benchmark: 'whytop task readers',
    date,
    machine,
    options: { ...opts, json: undefined },
    runs,
  };
  writeResults(opts.json, json);
}

main().catch((err: unknown) => {
  endChildren();
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
