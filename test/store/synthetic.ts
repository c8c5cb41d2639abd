// A deterministic series of realistic snapshots of a busy-ish host, for recording tests and the
// recording benchmark. System-wide parts start from the fixture tree test/fixtures/proc/threads.
//
// Each second: 1 thread in 100 is busy (CPU ticks, run/wait time, switches, faults, CPU moves), 1 % more
// are busy by chance, 14 % wake up briefly (a few voluntary switches and some µs on CPU), the rest
// sleep untouched; 10 % of processes do some I/O; every 10th sample one thread exits and a new one
// starts; vmstat, meminfo, /proc/stat and softirq counters move.
import { fileURLToPath } from 'node:url';
import { allocProcTable, allocTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../../src/model/snapshot.js';
import type { ProcTable, Snapshot, TaskTable } from '../../src/model/snapshot.js';
import { Sampler } from '../../src/sources/sampler.js';

/** Root of the fixture proc tree the system-wide parts come from. */
export const THREADS_FIXTURE = fileURLToPath(new URL('../fixtures/proc/threads', import.meta.url));

/** A seeded pseudo-random generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cloneTasks(t: TaskTable): TaskTable {
  const c = { count: t.count, state: t.state, comm: t.comm.slice(), wchan: t.wchan.slice() } as TaskTable;
  for (const k of TASK_NUMERIC_COLUMNS) c[k] = t[k].slice();
  return c;
}

function cloneProcs(p: ProcTable): ProcTable {
  const c = { count: p.count, cmdline: p.cmdline.slice(), cgroup: p.cgroup.slice() } as ProcTable;
  for (const k of PROC_NUMERIC_COLUMNS) c[k] = p[k].slice();
  return c;
}

/** Returns a function giving the next snapshot of the series, one second after the previous one. */
export function syntheticSeries(threads = 1000, processes = 100, seed = 42): () => Snapshot {
  const sampler = new Sampler({ procRoot: THREADS_FIXTURE, noNative: true });
  const base = sampler.sample();
  sampler.close();
  const r = seededRandom(seed);
  const int = (max: number): number => Math.floor(r() * max);
  const t = allocTaskTable(threads);
  const p = allocProcTable(processes);
  const perProc = Math.ceil(threads / processes);
  for (let i = 0; i < processes; i++) {
    p.pid[i] = 1000 + i * 37;
    p.starttimeTicks[i] = 5000 + i * 13;
    p.uid[i] = i % 5 === 0 ? 0 : 1000;
    p.vmSizeKb[i] = int(4e6);
    p.rssAnonKb[i] = int(5e5);
    p.rssFileKb[i] = int(1e5);
    p.rssShmemKb[i] = int(1000);
    p.vmSwapKb[i] = 0;
    for (const c of ['rchar', 'wchar', 'syscr', 'syscw', 'readBytes', 'writeBytes', 'cancelledWriteBytes'] as const) p[c][i] = int(1e9);
    p.cmdline[i] = `/usr/bin/service-${i} --config /etc/service-${i}.conf`;
    p.cgroup[i] = `0::/system.slice/service-${i % 20}.service`;
  }
  const states: string[] = [];
  let nextTid = 1000 + processes * 37;
  for (let i = 0; i < threads; i++) {
    const pi = Math.min(processes - 1, Math.floor(i / perProc));
    t.pid[i] = p.pid[pi];
    t.tid[i] = i % perProc === 0 ? p.pid[pi] : nextTid++;
    t.ppid[i] = 1;
    t.starttimeTicks[i] = p.starttimeTicks[pi] + (i % perProc);
    t.comm[i] = i % perProc === 0 ? `service-${pi}` : `worker-${i % perProc}`;
    states.push('S');
    t.utimeTicks[i] = int(1e5);
    t.stimeTicks[i] = int(1e4);
    t.minflt[i] = int(1e6);
    t.majflt[i] = int(100);
    t.processor[i] = int(8);
    t.priority[i] = 20;
    t.nice[i] = 0;
    t.vsizeBytes[i] = p.vmSizeKb[pi] * 1024;
    t.rssPages[i] = Math.floor(p.rssAnonKb[pi] / 4);
    t.runNs[i] = int(1e12);
    t.waitNs[i] = int(1e10);
    t.timeslices[i] = int(1e6);
    t.vcsw[i] = int(1e6);
    t.ivcsw[i] = int(1e4);
  }
  t.state = states.join('');
  let wallMs = 1_700_000_000_000;
  let monoNs = 1e12;
  let n = 0;
  return () => {
    n++;
    wallMs += 1000;
    monoNs += 1e9;
    for (let i = 0; i < threads; i++) {
      const x = r();
      if (i % 100 === 0 || x < 0.01) {
        t.utimeTicks[i] += int(60);
        t.stimeTicks[i] += int(20);
        t.runNs[i] += int(8e8);
        t.waitNs[i] += int(1e7);
        t.timeslices[i] += int(200);
        t.ivcsw[i] += int(50);
        t.vcsw[i] += int(100);
        t.minflt[i] += int(100);
        t.processor[i] = int(8);
        states[i] = r() < 0.5 ? 'R' : 'S';
      } else if (x < 0.15) {
        const k = 1 + int(10);
        t.vcsw[i] += k;
        t.timeslices[i] += k;
        t.runNs[i] += int(2e5);
        t.waitNs[i] += int(1e4);
        states[i] = 'S';
      }
    }
    if (n % 10 === 0) {
      const i = 1 + int(threads - 1);
      if (i % perProc !== 0) {
        t.tid[i] = nextTid++;
        t.starttimeTicks[i] = 100_000 + n * 100;
        for (const c of ['utimeTicks', 'stimeTicks', 'runNs', 'waitNs', 'timeslices', 'vcsw', 'ivcsw', 'minflt'] as const) t[c][i] = int(10);
      }
    }
    t.state = states.join('');
    for (let i = 0; i < processes; i++) {
      if (r() >= 0.1) continue;
      p.rchar[i] += int(1e5);
      p.syscr[i] += int(100);
      p.wchar[i] += int(1e4);
      p.syscw[i] += int(50);
      if (r() < 0.3) p.rssAnonKb[i] += int(100) - 50;
    }
    const vmstat = { ...base.vmstat! };
    for (const k of Object.keys(vmstat).slice(0, 40)) vmstat[k] += int(1000) * n;
    const meminfoKb = { ...base.meminfoKb! };
    for (const k of Object.keys(meminfoKb).slice(0, 8)) meminfoKb[k] += int(100);
    const stat = structuredClone(base.stat!);
    stat.total.user += n * 150;
    stat.total.idle += n * 40;
    stat.ctxt! += n * 12345 + int(1000);
    for (const c of stat.cpus) {
      c.times.user += n * 75 + int(10);
      c.times.idle += n * 20 + int(10);
    }
    const softirqs = structuredClone(base.softirqs!);
    for (const k of Object.keys(softirqs.counts)) softirqs.counts[k] = softirqs.counts[k].map((v) => v + n * int(300));
    return {
      ...base,
      wallMs,
      monoNs,
      vmstat,
      meminfoKb,
      stat,
      softirqs,
      uptimeS: 12345 + n,
      taskSample: { monoNs: monoNs + 5e6, tasks: cloneTasks(t), procs: cloneProcs(p) },
      userNames: { 0: 'root', 1000: 'user' },
      sampler: { backend: 'native', backendReason: null, sampleMs: 20 + r() * 5, sampleCpuMs: 15 + r() * 5 },
    };
  };
}
