// Facts about the machine a benchmark ran on, for its header line and its JSON.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** The facts every benchmark records: host, kernel, CPUs, memory and Node version. */
export interface MachineFacts {
  hostname: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memoryMiB: number;
  node: string;
}

/** This machine's MachineFacts. */
export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
  };
}

/** The facts in words, e.g. "8 × Intel…, 15890 MiB, Linux 6.8.0, Node v20.11.0" (for the "Machine:" line). */
export function describeMachine(m: MachineFacts): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryMiB} MiB, Linux ${m.kernel}, Node ${m.node}`;
}

/** The soft limit on open files of this process (/proc/self/limits), or '?'. */
export function openFileLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return line ? line.slice(26).trim().split(/\s+/)[0] : '?';
  } catch {
    return '?';
  }
}

/** The 1, 5 and 15 minute load averages, rounded to `digits` decimals. */
export function loadAverages(digits: number): number[] {
  return os.loadavg().map((v) => Number(v.toFixed(digits)));
}
