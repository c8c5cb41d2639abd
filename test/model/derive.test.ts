import { describe, expect, it } from 'vitest';
import { derive, ratePerSec } from '../../src/model/derive.js';
import type { Frame } from '../../src/model/frame.js';
import { cpuTimes, makeSnapshot } from './snapshotBuilder.js';

function statWith(cpus: Array<[number, Parameters<typeof cpuTimes>[0]]>, extra: Partial<{ ctxt: number; intrTotal: number; processes: number; procsRunning: number; procsBlocked: number }> = {}) {
  const times = cpus.map(([cpu, t]) => ({ cpu, times: cpuTimes(t) }));
  const total = cpuTimes({});
  for (const c of times) for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += c.times[k];
  return { total, cpus: times, ctxt: 1000, intrTotal: 5000, processes: 300, procsRunning: 1, procsBlocked: 0, bootTimeSec: 0, ...extra };
}

/** Every number in a frame, with its path. */
function numbers(value: unknown, path = ''): Array<[string, number]> {
  if (typeof value === 'number') return [[path, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
}

describe('ratePerSec', () => {
  it('is null, never negative or NaN, when a counter goes backwards or is unknown', () => {
    expect(ratePerSec(10, 30, 2)).toBe(10);
    expect(ratePerSec(30, 10, 2)).toBeNull();
    expect(ratePerSec(NaN, 10, 2)).toBeNull();
    expect(ratePerSec(1, 10, 0)).toBeNull();
    expect(ratePerSec(null, 10, 1)).toBeNull();
  });
});

describe('derive: CPUs and system', () => {
  it('splits CPU time by mode from tick deltas, per CPU and in total', () => {
    const prev = makeSnapshot(0, { stat: statWith([[0, { user: 100, idle: 100 }], [1, { user: 0, idle: 200 }]]) });
    const cur = makeSnapshot(1, {
      stat: statWith([[0, { user: 150, system: 20, softirq: 10, idle: 120 }], [1, { user: 0, iowait: 50, idle: 250 }]], { ctxt: 3000, intrTotal: 5500, processes: 310, procsRunning: 5 }),
    });
    const f = derive(prev, cur);
    expect(f.cpus[0]).toMatchObject({ cpu: 0, user_pct: 50, system_pct: 20, softirq_pct: 10, idle_pct: 20 });
    expect(f.cpus[1]).toMatchObject({ cpu: 1, iowait_pct: 50, idle_pct: 50 });
    expect(f.cpu_total).toMatchObject({ user_pct: 25, system_pct: 10, iowait_pct: 25 });
    expect(f.system).toMatchObject({ ctxsw_per_s: 2000, interrupts_per_s: 500, forks_per_s: 10, procs_running: 5, runnable_waiting: 3, online_cpus: 2 });
    expect(f.interval_s).toBe(1);
  });

  it('gives no rate for a CPU that came online, and no total when the CPU set changed', () => {
    const prev = makeSnapshot(0, { stat: statWith([[0, { user: 100, idle: 100 }]]) });
    const cur = makeSnapshot(1, { stat: statWith([[0, { user: 150, idle: 150 }], [1, { user: 10, idle: 10 }]]) });
    const f = derive(prev, cur);
    expect(f.cpus[0].user_pct).toBe(50);
    expect(f.cpus[1].user_pct).toBeNull();
    expect(f.cpu_total?.user_pct).toBeNull();
  });

  it('gives no rate for a mode whose counter went backwards, and none at all when total time did', () => {
    const prev = makeSnapshot(0, { stat: statWith([[0, { user: 100, iowait: 50, idle: 100 }]], { ctxt: 5000 }) });
    const cur = makeSnapshot(1, { stat: statWith([[0, { user: 150, iowait: 40, idle: 160 }]], { ctxt: 10 }) });
    const f = derive(prev, cur);
    expect(f.cpus[0].iowait_pct).toBeNull();
    expect(f.cpus[0].user_pct).toBeCloseTo(50);
    expect(f.system.ctxsw_per_s).toBeNull();
    const back = derive(cur, prev);
    expect(back.cpus[0].user_pct).toBeNull();
    for (const [p, v] of numbers(back)) expect(Number.isNaN(v) || v < 0, p).toBe(false);
  });
});

describe('derive: memory, paging, softirqs, pressure', () => {
  it('splits memory as documented (page cache excludes shmem) and computes swap used', () => {
    const meminfoKb = { MemTotal: 1000, MemFree: 100, MemAvailable: 600, AnonPages: 300, Cached: 500, Buffers: 20, Shmem: 50, Slab: 40, SReclaimable: 30, Dirty: 7, Writeback: 1, SwapTotal: 200, SwapFree: 150, SwapCached: 5 };
    const f = derive(makeSnapshot(0), makeSnapshot(1, { meminfoKb }));
    expect(f.memory).toEqual({
      total_bytes: 1000 * 1024, free_bytes: 100 * 1024, available_bytes: 600 * 1024, anon_bytes: 300 * 1024,
      page_cache_bytes: 470 * 1024, shmem_bytes: 50 * 1024, buffers_bytes: 20 * 1024, slab_bytes: 40 * 1024,
      slab_reclaimable_bytes: 30 * 1024, dirty_bytes: 7 * 1024, writeback_bytes: 1024, swap_total_bytes: 200 * 1024,
      swap_used_bytes: 50 * 1024, swap_cached_bytes: 5 * 1024,
    });
  });

  it('reports memory it cannot read as null, not 0', () => {
    const f = derive(makeSnapshot(0), makeSnapshot(1));
    expect(f.memory.total_bytes).toBeNull();
    expect(f.paging.pswpout_per_s).toBeNull();
    expect(f.pressure).toBeNull();
  });

  it('turns vmstat counters into per-second rates, summing pgsteal sources', () => {
    const a = { pswpin: 0, pswpout: 100, pgmajfault: 10, pgfault: 1000, pgpgin: 0, pgpgout: 0, pgscan_kswapd: 0, pgscan_direct: 0, pgsteal_kswapd: 10, pgsteal_direct: 5 };
    const b = { ...a, pswpout: 300, pgmajfault: 30, pgsteal_kswapd: 30, pgsteal_direct: 25 };
    const f = derive(makeSnapshot(0, { vmstat: a }), makeSnapshot(2, { vmstat: b }));
    expect(f.paging).toMatchObject({ pswpout_per_s: 100, pswpin_per_s: 0, pgmajfault_per_s: 10, pgsteal_per_s: 20, pgscan_per_s: 0 });
  });

  it('counts reclaim inside a memory cgroup, which only the per-type reclaim counters see', () => {
    // A cgroup at its limit reclaims 1000 pages/s: kswapd and direct counters stay still.
    const a = { pgscan_kswapd: 50, pgscan_direct: 0, pgscan_anon: 400, pgscan_file: 600, pgsteal_kswapd: 40, pgsteal_direct: 0, pgsteal_anon: 300, pgsteal_file: 500 };
    const b = { ...a, pgscan_anon: 1400, pgscan_file: 1600, pgsteal_anon: 1100, pgsteal_file: 1300 };
    const f = derive(makeSnapshot(0, { vmstat: a }), makeSnapshot(1, { vmstat: b }));
    expect(f.paging).toMatchObject({ pgscan_kswapd_per_s: 0, pgscan_direct_per_s: 0, pgscan_per_s: 2000, pgsteal_per_s: 1600 });
  });

  it('computes softirqs per CPU per type, matching CPUs by number', () => {
    const prev = makeSnapshot(0, { softirqs: { cpus: [0, 1], counts: { NET_RX: [10, 20], TIMER: [100, 100] } } });
    const cur = makeSnapshot(1, { softirqs: { cpus: [0, 1], counts: { NET_RX: [110, 20], TIMER: [150, 90] } } });
    const f = derive(prev, cur);
    expect(f.softirq_cpus).toEqual([0, 1]);
    expect(f.softirqs.NET_RX).toEqual([100, 0]);
    expect(f.softirqs.TIMER).toEqual([50, null]);
  });

  it('keeps PSI averages and derives the stall share of the interval', () => {
    const line = (totalUs: number) => ({ avg10: 1.5, avg60: 1, avg300: 0.5, totalUs });
    const prev = makeSnapshot(0, { pressure: { cpu: { some: line(1000), full: null }, memory: null, io: { some: line(0), full: line(0) } } });
    const cur = makeSnapshot(1, { pressure: { cpu: { some: line(251000), full: null }, memory: null, io: { some: line(100000), full: line(50000) } } });
    const f = derive(prev, cur);
    expect(f.pressure?.cpu).toMatchObject({ some_avg10: 1.5, some_stall_pct: 25, full_avg10: null, full_stall_pct: null });
    expect(f.pressure?.memory).toBeNull();
    expect(f.pressure?.io).toMatchObject({ some_stall_pct: 10, full_stall_pct: 5 });
  });
});

describe('derive: sharing idle threads with the previous frame', () => {
  it('gives the same frame with or without the previous one, and shares the objects of idle threads', () => {
    const t = (tid: number, utime: number, vcsw: number) => ({ pid: 10, tid, utime, stime: 1, runNs: utime * 1e7, waitNs: 0, vcsw, ivcsw: 0 });
    const procs = [{ pid: 10 }];
    const s0 = makeSnapshot(0, { tasks: [t(10, 5, 1), t(11, 7, 2), t(12, 9, 3)], procs });
    const s1 = makeSnapshot(1, { tasks: [t(10, 6, 1), t(11, 7, 2), t(12, 9, 3)], procs });
    const s2 = makeSnapshot(2, { tasks: [t(10, 9, 4), t(11, 7, 2), t(12, 9, 5)], procs });
    const s3 = makeSnapshot(3, { tasks: [t(10, 9, 4), t(11, 7, 2), t(12, 9, 5)], procs });
    const f1 = derive(s0, s1);
    const f2 = derive(s1, s2, f1);
    const f3 = derive(s2, s3, f2);
    expect(f2).toEqual(derive(s1, s2));
    expect(f3).toEqual(derive(s2, s3));
    expect(f2.threads[1]).toBe(f1.threads[1]); // idle in both intervals: shared
    expect(f2.threads[2]).not.toBe(f1.threads[2]); // it switched: a new frame
    expect(f3.threads[2]).not.toBe(f2.threads[2]); // idle now, but its old frame shows activity
    expect(f3.threads[2].vcsw_per_s).toBe(0);
    expect(derive(s2, s3, f1).threads[1]).not.toBe(f1.threads[1]); // not the frame ending at prev: ignored
  });

  it('does not share the frame of a thread in D once the probes stop measuring it', () => {
    const d = (offcpuDNs: number) => ({ pid: 10, tid: 10, state: 'D', utime: 5, stime: 1, runNs: 5e7, waitNs: 0, vcsw: 1, ivcsw: 0, offcpuDNs });
    const procs = [{ pid: 10 }];
    const s0 = makeSnapshot(0, { tasks: [d(1e9)], procs });
    const s1 = makeSnapshot(1, { tasks: [d(1e9)], procs });
    const s2 = makeSnapshot(2, { tasks: [d(1e9)], procs });
    const s3 = makeSnapshot(3, { tasks: [d(NaN)], procs });
    const f1 = derive(s0, s1);
    const f2 = derive(s1, s2, f1);
    const f3 = derive(s2, s3, f2);
    expect(f2.threads[0]).toBe(f1.threads[0]);
    expect(f2.threads[0].offcpu_d_pct).toBe(100);
    expect(f3).toEqual(derive(s2, s3));
    expect(f3.threads[0].offcpu_d_pct).toBeNull();
  });
});

describe('derive: threads and processes', () => {
  const procs = [{ pid: 10, rssAnonKb: 100, rssFileKb: 50, rssShmemKb: 10, vmSwapKb: 0, readBytes: 0, writeBytes: 0 }];
  const memInfo = { MemTotal: 1600 };

  it('computes per-thread percentages of one CPU, run-queue wait and switch rates', () => {
    const prev = makeSnapshot(0, { tasks: [{ pid: 10, tid: 10, utime: 100, stime: 50, runNs: 1e9, waitNs: 0, vcsw: 10, ivcsw: 5, majflt: 1 }], procs });
    const cur = makeSnapshot(2, {
      tasks: [{ pid: 10, tid: 10, utime: 200, stime: 60, runNs: 2.2e9, waitNs: 0.5e9, vcsw: 30, ivcsw: 5, majflt: 5 }],
      procs: [{ ...procs[0], readBytes: 4096, writeBytes: 8192 }],
      meminfoKb: memInfo,
    });
    const f = derive(prev, cur);
    expect(f.threads[0]).toMatchObject({ user_pct: 50, system_pct: 5, cpu_pct: 60, runq_wait_pct: 25, vcsw_per_s: 10, ivcsw_per_s: 0, majflt_per_s: 2, cpu_time_s: 2.6, user: 'root' });
    expect(f.processes[0]).toMatchObject({ pid: 10, threads: 1, user_pct: 50, cpu_pct: 60, read_bytes_per_s: 2048, write_bytes_per_s: 4096, rss_bytes: 160 * 1024, mem_pct: 10 });
  });

  it('sums thread counters per process (switches are per thread in the kernel)', () => {
    const t = (tid: number, vcsw: number) => ({ pid: 10, tid, vcsw, ivcsw: 0, utime: 0, stime: 0 });
    const f = derive(makeSnapshot(0, { tasks: [t(10, 0), t(11, 0), t(12, 0)], procs }), makeSnapshot(1, { tasks: [t(10, 5), t(11, 10), t(12, 100)], procs }));
    expect(f.processes[0].vcsw_per_s).toBe(115);
    expect(f.processes[0].threads).toBe(3);
    expect(f.threads_by_state.S).toBe(3);
  });

  it('treats a reused tid (new start time) as a new task: no rate from the old one', () => {
    const prev = makeSnapshot(0, { tasks: [{ pid: 10, tid: 11, start: 5, utime: 1000, vcsw: 500 }], procs });
    // Started before the previous pass by its own clock (uptime 100): not born in the interval.
    const cur = makeSnapshot(1, { tasks: [{ pid: 10, tid: 11, start: 50, utime: 10, vcsw: 3 }], procs, uptimeS: 101 });
    const f = derive(prev, cur);
    expect(f.threads[0].user_pct).toBeNull();
    expect(f.threads[0].vcsw_per_s).toBeNull();
  });

  it('counts all of a thread born during the interval as that interval\'s work', () => {
    const prev = makeSnapshot(0, { tasks: [], procs: [], uptimeS: 100 });
    const cur = makeSnapshot(1, { tasks: [{ pid: 20, tid: 20, start: 100 * 100 + 50, utime: 30, vcsw: 4 }], procs: [{ pid: 20, start: 100 * 100 + 50 }], uptimeS: 101 });
    const f = derive(prev, cur);
    expect(f.threads[0].user_pct).toBe(30);
    expect(f.threads[0].vcsw_per_s).toBe(4);
  });

  it('clamps percentages to [0, 100] and never yields NaN or negative numbers', () => {
    const prev = makeSnapshot(0, { tasks: [{ pid: 10, tid: 10, utime: 0, runNs: 0, waitNs: 0 }], procs });
    const cur = makeSnapshot(1, { tasks: [{ pid: 10, tid: 10, utime: 150, runNs: 3e9, waitNs: 2e9 }], procs });
    const f: Frame = derive(prev, cur);
    expect(f.threads[0].user_pct).toBe(100);
    expect(f.threads[0].runq_wait_pct).toBe(100);
    for (const [p, v] of numbers(f)) expect(Number.isNaN(v) || v < 0, p).toBe(false);
  });
});
