// Builds small synthetic snapshots for derivation tests.
import { allocProcTable, allocTaskTable } from '../../src/model/snapshot.js';
import type { CpuTimesTicks, HostInfo, Snapshot } from '../../src/model/snapshot.js';

export const HOST: HostInfo = { hostname: 'test', kernelRelease: '6.1.0', clkTck: 100, pageSizeBytes: 4096, cpuCount: 2, meltdown: 'Mitigation: PTI' };

/** CPU times with the given fields, others 0. */
export function cpuTimes(t: Partial<CpuTimesTicks>): CpuTimesTicks {
  return { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0, ...t };
}

/** A task row for `makeSnapshot`. */
export interface TaskSpec {
  pid: number;
  tid: number;
  start?: number;
  state?: string;
  comm?: string;
  utime?: number;
  stime?: number;
  runNs?: number;
  waitNs?: number;
  vcsw?: number;
  ivcsw?: number;
  majflt?: number;
  minflt?: number;
  /** Nanoseconds in D measured by the kernel probes (default unknown). */
  offcpuDNs?: number;
}

/** A process row for `makeSnapshot`. */
export interface ProcSpec {
  pid: number;
  start?: number;
  uid?: number;
  rssAnonKb?: number;
  rssFileKb?: number;
  rssShmemKb?: number;
  vmSwapKb?: number;
  readBytes?: number;
  writeBytes?: number;
}

/** A snapshot at `seconds` (monotonic) with the given parts. */
export function makeSnapshot(seconds: number, parts: Partial<Snapshot> & { tasks?: TaskSpec[]; procs?: ProcSpec[] } = {}): Snapshot {
  const taskSpecs = parts.tasks ?? [];
  const procSpecs = parts.procs ?? [];
  const tasks = allocTaskTable(taskSpecs.length);
  tasks.state = taskSpecs.map((t) => t.state ?? 'S').join('');
  taskSpecs.forEach((t, i) => {
    tasks.pid[i] = t.pid;
    tasks.tid[i] = t.tid;
    tasks.starttimeTicks[i] = t.start ?? 10;
    tasks.comm[i] = t.comm ?? `t${t.tid}`;
    tasks.utimeTicks[i] = t.utime ?? 0;
    tasks.stimeTicks[i] = t.stime ?? 0;
    tasks.runNs[i] = t.runNs ?? NaN;
    tasks.waitNs[i] = t.waitNs ?? NaN;
    tasks.vcsw[i] = t.vcsw ?? NaN;
    tasks.ivcsw[i] = t.ivcsw ?? NaN;
    tasks.majflt[i] = t.majflt ?? 0;
    tasks.minflt[i] = t.minflt ?? 0;
    tasks.offcpuDNs[i] = t.offcpuDNs ?? NaN;
  });
  const procs = allocProcTable(procSpecs.length);
  procSpecs.forEach((p, i) => {
    procs.pid[i] = p.pid;
    procs.starttimeTicks[i] = p.start ?? 10;
    procs.uid[i] = p.uid ?? 0;
    procs.rssAnonKb[i] = p.rssAnonKb ?? NaN;
    procs.rssFileKb[i] = p.rssFileKb ?? NaN;
    procs.rssShmemKb[i] = p.rssShmemKb ?? NaN;
    procs.vmSwapKb[i] = p.vmSwapKb ?? NaN;
    procs.readBytes[i] = p.readBytes ?? NaN;
    procs.writeBytes[i] = p.writeBytes ?? NaN;
  });
  const { tasks: _t, procs: _p, ...rest } = parts;
  return {
    host: HOST,
    wallMs: 1_700_000_000_000 + seconds * 1000,
    monoNs: seconds * 1e9,
    stat: null,
    softirqs: null,
    loadavg: null,
    meminfoKb: null,
    vmstat: null,
    pressure: { cpu: null, memory: null, io: null },
    uptimeS: 100 + seconds,
    taskSample: { monoNs: seconds * 1e9, tasks, procs },
    userNames: { 0: 'root' },
    blockedStacks: {},
    sampler: { backend: 'ts', backendReason: 'test', sampleMs: 1, sampleCpuMs: 1 },
    ...rest,
  };
}
