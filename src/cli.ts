// Command line: parses arguments and wires sources → derive → output. The only file that knows
// about every part.
import { derive } from './model/derive.js';
import type { Frame } from './model/frame.js';
import type { Snapshot } from './model/snapshot.js';
import { evaluateHints, initialHintState } from './hints/engine.js';
import { CSV_SECTIONS, CsvWriter, dumpRecord, recordToJsonLine, sectionRows } from './output/dump.js';
import type { CsvSection } from './output/dump.js';
import { Sampler } from './sources/sampler.js';
import type { Hint } from './hints/types.js';
import { RecordingError } from './store/format.js';
import { damageText, RecordingReader } from './store/reader.js';
import { Recorder } from './store/recorder.js';
import { parseTimeSpec } from './store/timeSpec.js';
import { Timeline } from './store/timeline.js';
import { runTui } from './ui/app.js';
import { batchText } from './ui/batch.js';
import { initialState } from './ui/state.js';
import { DEFAULT_LISTEN, parseListen, serve } from './serve/server.js';
import type { ListenAddress } from './serve/server.js';

const USAGE = `whytop: see why a Linux machine is slow

Usage:
  whytop [options]              live monitor (full screen; plain text when not on a terminal)
  whytop dump [options]         sample live and print one derived frame per interval
  whytop dump FILE [options]    print the frames of a recording (--from/--to TIME)
  whytop record FILE [options]  record raw samples to FILE (appends to a recording of this host)
  whytop replay FILE            replay a recording in the same screen as live
  whytop info FILE              a recording's header, time span, samples, size and damage
  whytop serve [options]        OpenMetrics endpoint for Prometheus (/metrics)

Options:
  --interval MS        sampling interval in milliseconds (default 1000; serve 5000; minimum 100)
  --batch              print a plain text table per interval instead of the full screen
  --count N            frames to print (dump, batch) after the baseline sample (default: until interrupted)
  --format jsonl|csv   dump output format (default jsonl)
  --section NAME       CSV table: ${CSV_SECTIONS.join('|')} (default threads)
  --detail             also read per-thread io and wchan for every thread (costs more)
  --align              dump, batch, record: sample on whole multiples of the interval on the
                       wall clock (every :00, :01 … at 1000), so runs on several machines line up
  --duration SEC       record: stop after this many seconds (or --count samples; not both)
  --cmdline            record: also record command lines (names are always recorded)
  --from TIME --to TIME  dump FILE: only frames in this span (HH:MM[:SS], ISO, start, end; --from +5m
                       counts from the start, --to +5m from --from, -30s from the end)
  --history-mb N       live: memory kept for stepping back and W (default 32)
  --listen ADDR:PORT   serve: where to listen (default 127.0.0.1:9947, loopback only)
  --top K              serve: processes with their own series, the top K by CPU (default 20)
  --proc-root DIR      read this tree instead of /proc (for fixtures and tests)
  --no-bpf             read tasks from /proc even where the BPF task iterator works (root)
  --no-probes          attach no kernel probes (off-CPU D/S time, per-CPU switches, softirq time)
  --syscalls           also count syscalls per thread and CPU (root; slows every syscall while on)
  --no-native          use the TypeScript task reader instead of the native addon (implies --no-bpf)
  -h, --help           print this help

Output schema: see README.md ("dump schema").
`;

/** Parsed command line. */
export interface CliOptions {
  command: 'live' | 'dump' | 'record' | 'replay' | 'info' | 'serve';
  /** The recording a command reads or writes. */
  file: string | null;
  durationS: number | null;
  recordCmdlines: boolean;
  from: string | null;
  to: string | null;
  historyMb: number;
  listen: ListenAddress;
  topK: number;
  /** null: the default (or, live, the saved interval). */
  intervalMs: number | null;
  batch: boolean;
  count: number | null;
  format: 'jsonl' | 'csv';
  section: CsvSection;
  detail: boolean;
  /** Sample on whole multiples of the interval on the wall clock. */
  align: boolean;
  procRoot: string;
  noNative: boolean;
  noBpf: boolean;
  noProbes: boolean;
  syscalls: boolean;
  help: boolean;
}

/** A command-line mistake: reported as one line, exit status 2. */
export class UsageError extends Error {}

function positiveInt(flag: string, value: string | undefined, min: number): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** Parses argv (without node and script) into options; throws UsageError on a bad flag or value. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = {
    command: 'live',
    file: null,
    durationS: null,
    recordCmdlines: false,
    from: null,
    to: null,
    historyMb: 32,
    listen: DEFAULT_LISTEN,
    topK: 20,
    intervalMs: null,
    batch: false,
    count: null,
    format: 'jsonl',
    section: 'threads',
    detail: false,
    align: false,
    procRoot: '/proc',
    noNative: false,
    noBpf: false,
    noProbes: false,
    syscalls: false,
    help: false,
  };
  const args = [...argv];
  const command = args[0];
  if (command === 'serve') {
    opts.command = command;
    args.shift();
  } else if (command === 'dump' || command === 'record' || command === 'replay' || command === 'info') {
    opts.command = command;
    args.shift();
    if (args[0] !== undefined && !args[0].startsWith('-')) opts.file = args.shift()!;
    if (command !== 'dump' && opts.file === null && !args.includes('--help') && !args.includes('-h')) throw new UsageError(`${command} needs a FILE`);
  }
  while (args.length > 0) {
    const arg = args.shift()!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string | undefined => (eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : args.shift());
    switch (flag) {
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--interval':
        opts.intervalMs = positiveInt(flag, takeValue(), 100);
        break;
      case '--count':
        opts.count = positiveInt(flag, takeValue(), 1);
        break;
      case '--format': {
        const v = takeValue();
        if (v !== 'jsonl' && v !== 'csv') throw new UsageError(`--format must be jsonl or csv, got '${v ?? ''}'`);
        opts.format = v;
        break;
      }
      case '--section': {
        const v = takeValue();
        if (!CSV_SECTIONS.includes(v as CsvSection)) throw new UsageError(`--section must be one of ${CSV_SECTIONS.join(', ')}, got '${v ?? ''}'`);
        opts.section = v as CsvSection;
        break;
      }
      case '--batch':
        opts.batch = true;
        break;
      case '--detail':
        opts.detail = true;
        break;
      case '--align':
        opts.align = true;
        break;
      case '--proc-root': {
        const v = takeValue();
        if (!v) throw new UsageError('--proc-root needs a directory');
        opts.procRoot = v;
        break;
      }
      case '--no-native':
        opts.noNative = true;
        break;
      case '--no-bpf':
        opts.noBpf = true;
        break;
      case '--no-probes':
        opts.noProbes = true;
        break;
      case '--syscalls':
        opts.syscalls = true;
        break;
      case '--duration':
        opts.durationS = positiveInt(flag, takeValue(), 1);
        break;
      case '--cmdline':
        opts.recordCmdlines = true;
        break;
      case '--history-mb':
        opts.historyMb = positiveInt(flag, takeValue(), 1);
        break;
      case '--top':
        opts.topK = positiveInt(flag, takeValue(), 1);
        break;
      case '--listen': {
        const v = takeValue();
        if (v === undefined) throw new UsageError('--listen needs ADDR:PORT');
        try {
          opts.listen = parseListen(v);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        break;
      }
      case '--from':
      case '--to': {
        const v = takeValue();
        if (!v) throw new UsageError(`${flag} needs a time`);
        if (flag === '--from') opts.from = v;
        else opts.to = v;
        break;
      }
      default:
        throw new UsageError(arg.startsWith('-') ? `unknown option '${flag}'` : `unknown command '${arg}'`);
    }
  }
  if (opts.durationS !== null && opts.count !== null) throw new UsageError('--duration and --count cannot be used together: give one of them');
  return opts;
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * The performance.now() from which a run counts its intervals: now, or with `align` the next
 * wall-clock multiple of the interval (waited for).
 */
async function scheduleStart(opts: CliOptions, intervalMs: number, signal: AbortSignal): Promise<number> {
  if (opts.align) await sleep(intervalMs - (Date.now() % intervalMs), signal);
  return performance.now();
}

/** Writes to stdout; resolves false when the reader has gone (EPIPE: `| head`). */
function writeOut(text: string): Promise<boolean> {
  // A closed pipe also emits 'error' on the stream: expected here, the callback reports it.
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined);
  return new Promise((resolve) => {
    if (process.stdout.destroyed || text === '') return resolve(!process.stdout.destroyed);
    process.stdout.write(text, (err) => resolve(!err));
  });
}

/**
 * Samples every interval and hands each derived frame to `print` (which returns the text to write)
 * until the count is reached, the output is closed, or a signal arrives.
 */
async function printFrames(opts: CliOptions, print: (frame: Frame) => string): Promise<number> {
  const sampler = new Sampler({ procRoot: opts.procRoot, noNative: opts.noNative, noBpf: opts.noBpf, noProbes: opts.noProbes, syscalls: opts.syscalls });
  const intervalMs = opts.intervalMs ?? 1000;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onSignal);
  try {
    const detail = opts.detail ? 'all' : 'none';
    const start = await scheduleStart(opts, intervalMs, stop.signal);
    let prev: Snapshot = sampler.sample(detail);
    let frame: Frame | null = null;
    for (let printed = 0; opts.count === null || printed < opts.count; printed++) {
      await sleep(start + (printed + 1) * intervalMs - performance.now(), stop.signal);
      if (stop.signal.aborted) break;
      const cur = sampler.sample(detail);
      frame = derive(prev, cur, frame);
      prev = cur;
      if (!(await writeOut(print(frame)))) break;
    }
  } finally {
    sampler.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** Formats dump records as JSON lines or CSV rows of the chosen section. */
function dumpPrinter(opts: CliOptions): (frame: Frame, hints: readonly Hint[]) => string {
  const csv = new CsvWriter();
  return (frame, hints) => {
    const record = dumpRecord(frame, hints);
    return opts.format === 'csv' ? csv.write(sectionRows(record, opts.section)) : recordToJsonLine(record) + '\n';
  };
}

/** `whytop dump`: JSON lines or CSV rows per frame, sampled live. */
function runDump(opts: CliOptions): Promise<number> {
  const print = dumpPrinter(opts);
  let hintState = initialHintState();
  return printFrames(opts, (frame) => {
    const evaluated = evaluateHints(hintState, frame);
    hintState = evaluated.state;
    return print(frame, evaluated.hints);
  });
}

/**
 * Opens a recording for reading (`verify`: check every frame, for exact damage), with progress on a
 * terminal; the damage found is written to stderr unless the caller shows it (`quiet`).
 */
function openRecording(file: string, { verify = false, quiet = false } = {}): RecordingReader {
  const tty = process.stderr.isTTY;
  let shown = false;
  const reader = RecordingReader.open(file, {
    verify,
    onProgress: (done, total) => {
      if (!tty || total < 64 * 1024 * 1024) return;
      shown = true;
      process.stderr.write(`\rwhytop: reading ${file}: ${Math.round((100 * done) / total)}%`);
    },
  });
  if (shown) process.stderr.write('\n');
  if (!quiet) for (const d of reader.damage) process.stderr.write(`whytop: ${file}: ${damageText(d)}\n`);
  return reader;
}

/**
 * `whytop dump FILE`: the frames of a recording whose time (their sample's) is in [--from, --to]; a
 * relative --from counts from the start (+) or the end (-), a relative --to from --from (+) or the
 * end (-). Hints are warmed up on the frames before --from.
 */
async function runDumpFile(opts: CliOptions, file: string): Promise<number> {
  const reader = openRecording(file);
  try {
    const timeline = new Timeline(reader);
    const span = { startMs: reader.firstWallMs ?? 0, endMs: reader.lastWallMs ?? 0 };
    const fromMs = opts.from ? parseTimeSpec(opts.from, { ...span, baseMs: span.startMs, backBaseMs: span.endMs }) : span.startMs;
    const from = Math.max(1, reader.indexAtOrAfterTime(fromMs));
    const to = opts.to ? reader.indexAtTime(parseTimeSpec(opts.to, { ...span, baseMs: fromMs, backBaseMs: span.endMs })) : reader.count - 1;
    const print = dumpPrinter(opts);
    for (let i = from, printed = 0; i <= to && (opts.count === null || printed < opts.count); i++) {
      const moment = timeline.at(i);
      if (!moment) continue;
      printed++;
      if (!(await writeOut(print(moment.frame, moment.hints)))) break;
    }
  } finally {
    reader.close();
  }
  return 0;
}

/** `whytop record FILE`: samples headlessly and appends raw snapshots; a summary line on stderr at the end. */
async function runRecord(opts: CliOptions, file: string): Promise<number> {
  const sampler = new Sampler({ procRoot: opts.procRoot, noNative: opts.noNative, noBpf: opts.noBpf, noProbes: opts.noProbes, syscalls: opts.syscalls });
  let recorder: Recorder;
  try {
    recorder = Recorder.open(file, sampler.host, { recordCmdlines: opts.recordCmdlines });
  } catch (err) {
    sampler.close();
    throw err;
  }
  for (const d of recorder.repaired) process.stderr.write(`whytop: ${file}: cut off a torn tail before appending: ${d.what} (${d.bytes} bytes)\n`);
  const intervalMs = opts.intervalMs ?? 1000;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  const limit = opts.count ?? (opts.durationS !== null ? Math.floor((opts.durationS * 1000) / intervalMs) + 1 : null);
  let blocked = new Set<number>();
  try {
    const start = await scheduleStart(opts, intervalMs, stop.signal);
    for (let n = 0; limit === null || n < limit; n++) {
      if (n > 0) await sleep(start + n * intervalMs - performance.now(), stop.signal);
      if (stop.signal.aborted) break;
      // The threads that were in D last time get their io and wchan read: what a replay's detail shows.
      const snapshot = sampler.sample(blocked);
      const t = snapshot.taskSample.tasks;
      blocked = new Set();
      for (let i = 0; i < t.count; i++) if (t.state[i] === 'D') blocked.add(t.tid[i]);
      await recorder.append(snapshot);
    }
  } finally {
    await recorder.close();
    sampler.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  process.stderr.write(`whytop: recorded ${recorder.samples} samples, ${recorder.bytes} bytes, to ${file}\n`);
  return 0;
}

/** `whytop info FILE`: what a recording holds. */
function runInfo(file: string): number {
  const reader = openRecording(file, { verify: true, quiet: true });
  try {
    const h = reader.header;
    const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
    const lines = [
      `file           ${file}`,
      `format         v${h.formatVersion} (written by whytop ${h.whytopVersion})`,
      `host           ${h.host.hostname}, kernel ${h.host.kernelRelease}, ${h.host.cpuCount} CPUs, CLK_TCK ${h.host.clkTck}, page ${h.host.pageSizeBytes} bytes`,
      `meltdown       ${h.host.meltdown ?? '-'}`,
      `started        ${iso(h.startWallMs)}`,
      `span           ${iso(reader.firstWallMs)} .. ${iso(reader.lastWallMs)}`,
      `samples        ${reader.count} in ${reader.chunks.length} chunks`,
      `size           ${reader.fileBytes} bytes${reader.count ? ` (${Math.round(reader.fileBytes / reader.count)} per sample)` : ''}`,
      `command lines  ${h.recordsCmdlines ? 'recorded' : 'not recorded (record with --cmdline)'}`,
      `damage         ${reader.damage.length === 0 ? 'none' : reader.damage.map(damageText).join('; ')}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    reader.close();
  }
  return 0;
}

/** Batch mode: a plain text table per frame, as wide as the terminal or $COLUMNS (default 160). */
function runBatch(opts: CliOptions): Promise<number> {
  const width = process.stdout.columns || Number(process.env.COLUMNS) || 160;
  const state = initialState(opts.intervalMs ?? 1000);
  let hintState = initialHintState();
  return printFrames({ ...opts, detail: false }, (frame) => {
    const evaluated = evaluateHints(hintState, frame);
    hintState = evaluated.state;
    return batchText(frame, evaluated.hints, state, width);
  });
}

/** Runs whytop with the given arguments; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`whytop: ${err.message} (see whytop --help)\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (opts.command === 'dump') return opts.file ? await runDumpFile(opts, opts.file) : await runDump(opts);
    if (opts.command === 'record') return await runRecord(opts, opts.file!);
    if (opts.command === 'info') return runInfo(opts.file!);
    if (opts.command === 'serve') {
      const { procRoot, noNative, noBpf, noProbes, syscalls, listen, topK } = opts;
      return await serve({ procRoot, noNative, noBpf, noProbes, syscalls, listen, topK, intervalMs: opts.intervalMs ?? 5000 }, (line) => process.stderr.write(line + '\n'));
    }
    // Replay shows the damage on its status line: stderr is hidden behind the full screen.
    if (opts.command === 'replay') return await runTui({ kind: 'replay', reader: openRecording(opts.file!, { quiet: true }), intervalMs: opts.intervalMs });
    if (opts.batch || !process.stdout.isTTY || !process.stdin.isTTY) return await runBatch(opts);
    return await runTui({ kind: 'live', procRoot: opts.procRoot, noNative: opts.noNative, noBpf: opts.noBpf, noProbes: opts.noProbes, syscalls: opts.syscalls, intervalMs: opts.intervalMs, historyMb: opts.historyMb });
  } catch (err) {
    if (err instanceof RecordingError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof Error && /^cannot read time/.test(err.message))) {
      process.stderr.write(`whytop: ${(err as Error).message}\n`);
      return 1;
    }
    if (err instanceof Error && err.message.startsWith('cannot read proc root')) {
      process.stderr.write(`whytop: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
