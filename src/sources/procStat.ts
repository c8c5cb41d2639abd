// /proc/stat: CPU times (total and per online CPU) and the system-wide counters.
import type { CpuTimesTicks, ProcStat } from '../model/snapshot.js';
import { parseUint, readProcText, tokenizeLines } from './procFile.js';

/** The CPU-time columns in the kernel's order; the first MIN_CPU_COLUMNS are required. */
const CPU_COLUMNS = [
  'user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice',
] as const;

/** user..steal: kernels since 2.6.11 print at least these; a shorter cpu line is malformed. */
const MIN_CPU_COLUMNS = 8;

const CPU_NAME_RE = /^cpu(\d*)$/;

/** CPU times with every column NaN (used for the total when /proc/stat has no usable `cpu` line). */
function unknownCpuTimes(): CpuTimesTicks {
  const times = {} as CpuTimesTicks;
  for (const name of CPU_COLUMNS) times[name] = NaN;
  return times;
}

/**
 * Reads the numbers after a `cpu`/`cpuN` label. Takes the leading run of valid numbers (at most 10);
 * null when fewer than 8. guest/guestNice, which kernels before 2.6.24/2.6.33 did not account, are 0.
 */
function parseCpuTimes(tokens: string[]): CpuTimesTicks | null {
  const values: number[] = [];
  for (let i = 1; i < tokens.length && values.length < CPU_COLUMNS.length; i++) {
    const v = parseUint(tokens[i]);
    if (Number.isNaN(v)) break;
    values.push(v);
  }
  if (values.length < MIN_CPU_COLUMNS) return null;
  const times = {} as CpuTimesTicks;
  for (let i = 0; i < CPU_COLUMNS.length; i++) times[CPU_COLUMNS[i]] = i < values.length ? values[i] : 0;
  return times;
}

/** Parses /proc/stat text; unparseable lines are skipped, absent counters are null, an absent total is NaN. */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimesTicks | null = null;
  const cpus = new Map<number, CpuTimesTicks>();
  const scalars: Record<string, number | null> = {
    ctxt: null,
    intr: null,
    processes: null,
    procs_running: null,
    procs_blocked: null,
    btime: null,
  };

  for (const tokens of tokenizeLines(text)) {
    const key = tokens[0];
    const cpuMatch = CPU_NAME_RE.exec(key);
    if (cpuMatch) {
      const times = parseCpuTimes(tokens);
      if (times === null) continue;
      if (cpuMatch[1] === '') {
        total ??= times;
      } else {
        const n = Number(cpuMatch[1]);
        if (!cpus.has(n)) cpus.set(n, times);
      }
      continue;
    }
    if (Object.hasOwn(scalars, key) && scalars[key] === null) {
      // For `intr` only the first number (the total over all sources) is kept.
      const v = parseUint(tokens[1]);
      if (!Number.isNaN(v)) scalars[key] = v;
    }
  }

  return {
    total: total ?? unknownCpuTimes(),
    cpus: [...cpus.entries()].sort((a, b) => a[0] - b[0]).map(([cpu, times]) => ({ cpu, times })),
    ctxt: scalars.ctxt,
    intrTotal: scalars.intr,
    processes: scalars.processes,
    procsRunning: scalars.procs_running,
    procsBlocked: scalars.procs_blocked,
    bootTimeSec: scalars.btime,
  };
}

/** Reads `<procRoot>/stat`; null when the file is unreadable or nothing in it could be parsed. */
export function readProcStat(procRoot: string): ProcStat | null {
  const text = readProcText(`${procRoot}/stat`);
  if (text === null) return null;
  const stat = parseProcStat(text);
  const parsedSomething =
    !Number.isNaN(stat.total.user) ||
    stat.cpus.length > 0 ||
    [stat.ctxt, stat.intrTotal, stat.processes, stat.procsRunning, stat.procsBlocked, stat.bootTimeSec].some(
      (v) => v !== null,
    );
  return parsedSomething ? stat : null;
}
