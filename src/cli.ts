// Command line: parses arguments and wires sources → derive → output. The only file that knows
// about every part.
import { derive } from './model/derive.js';
import type { Frame } from './model/frame.js';
import type { Snapshot } from './model/snapshot.js';
import { evaluateHints, initialHintState } from './hints/engine.js';
import { CSV_SECTIONS, CsvWriter, dumpRecord, recordToJsonLine, sectionRows } from './output/dump.js';
import type { CsvSection } from './output/dump.js';
import { Sampler } from './sources/sampler.js';
import { runTui } from './ui/app.js';
import { batchText } from './ui/batch.js';
import { initialState } from './ui/state.js';

const USAGE = `whytop: see why a Linux machine is slow

Usage:
  whytop [options]              live monitor (full screen; plain text when not on a terminal)
  whytop dump [options]         sample live and print one derived frame per interval

Options:
  --interval MS        sampling interval in milliseconds (default 1000, minimum 100)
  --batch              print a plain text table per interval instead of the full screen
  --count N            frames to print (dump, batch) after the baseline sample (default: until interrupted)
  --format jsonl|csv   dump output format (default jsonl)
  --section NAME       CSV table: ${CSV_SECTIONS.join('|')} (default threads)
  --detail             also read per-thread io and wchan for every thread (costs more)
  --proc-root DIR      read this tree instead of /proc (for fixtures and tests)
  --no-native          use the TypeScript task reader instead of the native addon
  -h, --help           print this help

Output schema: see README.md ("dump schema").
`;

/** Parsed command line. */
export interface CliOptions {
  command: 'live' | 'dump';
  /** null: the default (or, live, the saved interval). */
  intervalMs: number | null;
  batch: boolean;
  count: number | null;
  format: 'jsonl' | 'csv';
  section: CsvSection;
  detail: boolean;
  procRoot: string;
  noNative: boolean;
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
    intervalMs: null,
    batch: false,
    count: null,
    format: 'jsonl',
    section: 'threads',
    detail: false,
    procRoot: '/proc',
    noNative: false,
    help: false,
  };
  const args = [...argv];
  if (args[0] === 'dump') {
    opts.command = 'dump';
    args.shift();
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
      case '--proc-root': {
        const v = takeValue();
        if (!v) throw new UsageError('--proc-root needs a directory');
        opts.procRoot = v;
        break;
      }
      case '--no-native':
        opts.noNative = true;
        break;
      default:
        throw new UsageError(arg.startsWith('-') ? `unknown option '${flag}'` : `unknown command '${arg}'`);
    }
  }
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

/** Writes to stdout; resolves false when the reader has gone (EPIPE: `| head`). */
function writeOut(text: string): Promise<boolean> {
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
  const sampler = new Sampler({ procRoot: opts.procRoot, noNative: opts.noNative });
  const intervalMs = opts.intervalMs ?? 1000;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onSignal);
  try {
    const detail = opts.detail ? 'all' : 'none';
    const start = performance.now();
    let prev: Snapshot = sampler.sample(detail);
    for (let printed = 0; opts.count === null || printed < opts.count; printed++) {
      await sleep(start + (printed + 1) * intervalMs - performance.now(), stop.signal);
      if (stop.signal.aborted) break;
      const cur = sampler.sample(detail);
      const frame = derive(prev, cur);
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

/** `whytop dump`: JSON lines or CSV rows per frame. */
function runDump(opts: CliOptions): Promise<number> {
  const csv = new CsvWriter();
  let hintState = initialHintState();
  return printFrames(opts, (frame) => {
    const evaluated = evaluateHints(hintState, frame);
    hintState = evaluated.state;
    const record = dumpRecord(frame, evaluated.hints);
    return opts.format === 'csv' ? csv.write(sectionRows(record, opts.section)) : recordToJsonLine(record) + '\n';
  });
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
    if (opts.command === 'dump') return await runDump(opts);
    if (opts.batch || !process.stdout.isTTY || !process.stdin.isTTY) return await runBatch(opts);
    return await runTui({ procRoot: opts.procRoot, noNative: opts.noNative, intervalMs: opts.intervalMs });
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('cannot read proc root')) {
      process.stderr.write(`whytop: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
