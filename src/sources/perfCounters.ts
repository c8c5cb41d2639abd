// The perf tier: where BPF is not allowed (no CAP_BPF) or not there, but perf counters are
// (CAP_PERFMON), per-CPU counting events give context switches per CPU, and with --syscalls the
// raw_syscalls:sys_enter tracepoint counted per CPU. Per-thread values (off-CPU time, syscalls)
// and softirq time need the eBPF tier.
import * as fs from 'node:fs';
import type { ProbeCounters } from '../model/snapshot.js';
import type { PerfCalls } from '../native/index.js';
import { possibleCpus } from './kernelProbes.js';

const PERF_TYPE_SOFTWARE = 1;
const PERF_TYPE_TRACEPOINT = 2;
const PERF_COUNT_SW_CONTEXT_SWITCHES = 3;

/** The tracepoint's id under tracefs (where the kernel lists events), or null. */
function tracepointId(event: string): number | null {
  for (const root of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    try {
      const id = Number(fs.readFileSync(`${root}/events/${event}/id`, 'utf8').trim());
      if (Number.isInteger(id)) return id;
    } catch {
      // not mounted here
    }
  }
  return null;
}

/** Per-CPU perf counters: context switches always, syscalls while counting is on. */
export class PerfCounters {
  private syscallFds: number[] = [];

  private constructor(
    private readonly calls: PerfCalls,
    private readonly switchFds: number[],
  ) {}

  /** Opens a context-switch counter on every CPU; throws (closing what it opened) when perf refuses. */
  static open(calls: PerfCalls): PerfCounters {
    const cpus = possibleCpus(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
    return new PerfCounters(calls, PerfCounters.openAll(calls, cpus, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES));
  }

  /** One event per CPU (-1 for a CPU that is offline or absent). */
  private static openAll(calls: PerfCalls, cpus: number, type: number, config: number): number[] {
    const fds: number[] = [];
    let opened = 0;
    let firstError: unknown = null;
    for (let cpu = 0; cpu < cpus; cpu++) {
      try {
        fds.push(calls.perfOpen(type, config, cpu));
        opened++;
      } catch (err) {
        fds.push(-1);
        firstError ??= err;
      }
    }
    if (opened === 0) throw firstError ?? new Error('no CPU to count on');
    return fds;
  }

  /** True while syscalls are counted. */
  get syscalls(): boolean {
    return this.syscallFds.length > 0;
  }

  /** Starts or stops counting syscalls per CPU; throws when the kernel refuses. */
  setSyscalls(on: boolean): void {
    if (on === this.syscalls) return;
    if (!on) {
      for (const fd of this.syscallFds.splice(0)) if (fd >= 0) this.calls.perfClose(fd);
      return;
    }
    const id = tracepointId('raw_syscalls/sys_enter');
    if (id === null) throw new Error('tracepoint raw_syscalls:sys_enter not found (is tracefs mounted?)');
    this.syscallFds = PerfCounters.openAll(this.calls, this.switchFds.length, PERF_TYPE_TRACEPOINT, id);
  }

  /** The counts now, per CPU (NaN for a CPU without a counter). */
  read(): ProbeCounters {
    const read = (fd: number): number => (fd < 0 ? NaN : this.calls.perfRead(fd));
    return { ctxsw: this.switchFds.map(read), syscalls: this.syscallFds.map(read), softirqNs: [] };
  }

  /** Closes every counter. */
  close(): void {
    this.setSyscalls(false);
    for (const fd of this.switchFds.splice(0)) if (fd >= 0) this.calls.perfClose(fd);
  }
}
