// derive(prev, cur) → Frame: the only place counters become rates and percentages. Pure: it uses
// nothing but the two snapshots (their own monotonic stamps and host constants).
import type {
  CpuFrame,
  CpuPercentages,
  DiskFrame,
  Frame,
  MemoryFrame,
  NetFrame,
  PagingFrame,
  PressureFrame,
  PressureResourceFrame,
  ProcessFrame,
  SoftnetFrame,
  SystemFrame,
  ThreadFrame,
} from './frame.js';
import { DISK_COUNTERS, NET_COUNTERS, SOFTIRQ_TYPES } from './snapshot.js';
import type { CpuTimesTicks, DiskStat, NetDevStat, PressureFile, ProcTable, Snapshot, TaskNumericColumn, TaskTable } from './snapshot.js';

const NS_PER_S = 1e9;
const KB = 1024;

/** Turns NaN/undefined (not available) into null for the frame. */
function known(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

/**
 * Rate per second of a counter over `seconds`; null when either value is unknown, the interval is
 * empty, or the counter went backwards (wrap, reset, hot-plug): never negative, never NaN.
 */
export function ratePerSec(prev: number | null | undefined, cur: number | null | undefined, seconds: number): number | null {
  if (prev == null || cur == null || Number.isNaN(prev) || Number.isNaN(cur)) return null;
  if (!(seconds > 0) || cur < prev) return null;
  return (cur - prev) / seconds;
}

/** Percent of a span: 100 × part / whole, clamped to [0, 100]; null when unknown or whole ≤ 0. */
function percentOf(part: number | null, whole: number): number | null {
  if (part === null || !(whole > 0)) return null;
  return Math.min(100, Math.max(0, (100 * part) / whole));
}

const CPU_FIELDS: Array<[keyof CpuTimesTicks, keyof CpuPercentages]> = [
  ['user', 'user_pct'],
  ['nice', 'nice_pct'],
  ['system', 'system_pct'],
  ['irq', 'irq_pct'],
  ['softirq', 'softirq_pct'],
  ['iowait', 'iowait_pct'],
  ['steal', 'steal_pct'],
  ['idle', 'idle_pct'],
];

/** Sum of the columns that make up all of a CPU's time (guest is already inside user). */
function cpuTotalTicks(t: CpuTimesTicks): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Share of each CPU-time column over the interval; a column that went backwards is null. */
export function cpuPercentages(prev: CpuTimesTicks | undefined, cur: CpuTimesTicks): CpuPercentages {
  const frame: CpuPercentages = {
    user_pct: null,
    nice_pct: null,
    system_pct: null,
    irq_pct: null,
    softirq_pct: null,
    iowait_pct: null,
    steal_pct: null,
    idle_pct: null,
  };
  if (!prev) return frame;
  const total = cpuTotalTicks(cur) - cpuTotalTicks(prev);
  for (const [tick, pct] of CPU_FIELDS) {
    const delta = cur[tick] - prev[tick];
    frame[pct] = delta >= 0 ? percentOf(delta, total) : null;
  }
  return frame;
}

/** True when syscalls were counted at both ends of the interval (--syscalls, or the key c). */
function countingSyscalls(prev: Snapshot, cur: Snapshot): boolean {
  return prev.kernel?.syscalls === true && cur.kernel?.syscalls === true;
}

function deriveCpus(prev: Snapshot, cur: Snapshot, seconds: number): { cpus: CpuFrame[]; total: CpuPercentages | null } {
  if (!cur.stat) return { cpus: [], total: null };
  const before = new Map(prev.stat?.cpus.map((c) => [c.cpu, c.times]));
  const probesBefore = prev.kernel?.counters;
  const probes = cur.kernel?.counters;
  const cpus = cur.stat.cpus.map((c) => ({
    cpu: c.cpu,
    ...cpuPercentages(before.get(c.cpu), c.times),
    ctxsw_per_s: probes && probesBefore ? ratePerSec(probesBefore.ctxsw[c.cpu], probes.ctxsw[c.cpu], seconds) : null,
    syscalls_per_s: probes && probesBefore && countingSyscalls(prev, cur) ? ratePerSec(probesBefore.syscalls[c.cpu], probes.syscalls[c.cpu], seconds) : null,
  }));
  // The total line sums online CPUs only: when the set changed, its difference is meaningless.
  const sameSet = prev.stat !== null && prev.stat.cpus.length === cur.stat.cpus.length && cur.stat.cpus.every((c) => before.has(c.cpu));
  const total = cpuPercentages(sameSet ? prev.stat!.total : undefined, cur.stat.total);
  return { cpus, total };
}

function deriveSystem(prev: Snapshot, cur: Snapshot, seconds: number): SystemFrame {
  const onlineCpus = cur.stat ? cur.stat.cpus.length : null;
  const running = cur.stat?.procsRunning ?? null;
  const a = prev.kernel?.counters;
  const b = cur.kernel?.counters;
  const total = (c: number[]): number => c.reduce((x, y) => x + y, 0);
  return {
    ctxsw_per_s: ratePerSec(prev.stat?.ctxt, cur.stat?.ctxt, seconds),
    syscalls_per_s: a && b && countingSyscalls(prev, cur) ? ratePerSec(total(a.syscalls), total(b.syscalls), seconds) : null,
    interrupts_per_s: ratePerSec(prev.stat?.intrTotal, cur.stat?.intrTotal, seconds),
    forks_per_s: ratePerSec(prev.stat?.processes, cur.stat?.processes, seconds),
    procs_running: running,
    procs_blocked: cur.stat?.procsBlocked ?? null,
    runnable_waiting: running !== null && onlineCpus ? Math.max(0, running - onlineCpus) : null,
    online_cpus: onlineCpus,
    load1: cur.loadavg?.load1 ?? null,
    load5: cur.loadavg?.load5 ?? null,
    load15: cur.loadavg?.load15 ?? null,
  };
}

function deriveSoftirqs(prev: Snapshot, cur: Snapshot, seconds: number): { cpus: number[]; perSec: Record<string, Array<number | null>> } {
  if (!cur.softirqs) return { cpus: [], perSec: {} };
  const perSec: Record<string, Array<number | null>> = {};
  const prevIndex = new Map(prev.softirqs?.cpus.map((cpu, i) => [cpu, i]));
  for (const [type, counts] of Object.entries(cur.softirqs.counts)) {
    const before = prev.softirqs?.counts[type];
    const cpus = cur.softirqs.cpus;
    const rates: Array<number | null> = new Array(cpus.length);
    for (let i = 0; i < cpus.length; i++) {
      const j = prevIndex.get(cpus[i]);
      rates[i] = before && j !== undefined ? ratePerSec(before[j], counts[i], seconds) : null;
    }
    perSec[type] = rates;
  }
  return { cpus: cur.softirqs.cpus, perSec };
}

/**
 * Share of each CPU's time spent handling each softirq type (kernel probes), by type, one entry per
 * CPU in `cpus` (the softirq frame's order); null without the probes in both snapshots.
 */
function deriveSoftirqTime(prev: Snapshot, cur: Snapshot, cpus: number[], seconds: number): Record<string, Array<number | null>> {
  const a = prev.kernel?.counters;
  const b = cur.kernel?.counters;
  const out: Record<string, Array<number | null>> = {};
  SOFTIRQ_TYPES.forEach((type, t) => {
    out[type] = cpus.map((cpu) => (a && b ? percentOfCpu(ratePerSec(a.softirqNs[t]?.[cpu], b.softirqNs[t]?.[cpu], seconds), NS_PER_S) : null));
  });
  return out;
}

function deriveMemory(cur: Snapshot): MemoryFrame {
  const m = cur.meminfoKb ?? {};
  const bytes = (key: string): number | null => (m[key] === undefined ? null : m[key] * KB);
  const cached = bytes('Cached');
  const buffers = bytes('Buffers');
  const shmem = bytes('Shmem');
  const swapTotal = bytes('SwapTotal');
  const swapFree = bytes('SwapFree');
  return {
    total_bytes: bytes('MemTotal'),
    free_bytes: bytes('MemFree'),
    available_bytes: bytes('MemAvailable'),
    anon_bytes: bytes('AnonPages'),
    page_cache_bytes: cached !== null && buffers !== null && shmem !== null ? Math.max(0, cached + buffers - shmem) : null,
    shmem_bytes: shmem,
    buffers_bytes: buffers,
    slab_bytes: bytes('Slab'),
    slab_reclaimable_bytes: bytes('SReclaimable'),
    dirty_bytes: bytes('Dirty'),
    writeback_bytes: bytes('Writeback'),
    swap_total_bytes: swapTotal,
    swap_used_bytes: swapTotal !== null && swapFree !== null ? Math.max(0, swapTotal - swapFree) : null,
    swap_cached_bytes: bytes('SwapCached'),
  };
}

/** Sum of the named vmstat counters that this kernel has (e.g. every pgsteal source); null if it has none. */
function vmstatSum(v: Record<string, number> | null, names: readonly string[]): number | null {
  if (!v) return null;
  let sum = 0;
  let found = false;
  for (const name of names) {
    if (v[name] !== undefined) {
      sum += v[name];
      found = true;
    }
  }
  return found ? sum : null;
}

/**
 * Reclaim counters by who reclaimed. Reclaim inside a memory cgroup at its limit is counted in none
 * of them, only in the per-type totals (`_anon` + `_file`, Linux 5.17+), which count all reclaim.
 */
const PGSTEAL_BY_TYPE = ['pgsteal_anon', 'pgsteal_file'] as const;
const PGSTEAL_BY_RECLAIMER = ['pgsteal_kswapd', 'pgsteal_direct', 'pgsteal_khugepaged'] as const;
const PGSCAN_BY_TYPE = ['pgscan_anon', 'pgscan_file'] as const;
const PGSCAN_BY_RECLAIMER = ['pgscan_kswapd', 'pgscan_direct', 'pgscan_khugepaged'] as const;

/** Rate of all reclaim counted by type where the kernel has those counters, else by reclaimer. */
function reclaimRate(prev: Snapshot, cur: Snapshot, byType: readonly string[], byReclaimer: readonly string[], seconds: number): number | null {
  const names = cur.vmstat?.[byType[0]] !== undefined ? byType : byReclaimer;
  return ratePerSec(vmstatSum(prev.vmstat, names), vmstatSum(cur.vmstat, names), seconds);
}

/**
 * Rate of counter `k` between two records (null without the earlier one). Derivation uses this and
 * other module-level helpers, not closures made per call (README, Performance).
 */
function fieldRate<K extends string>(p: Readonly<Record<K, number>> | null | undefined, c: Readonly<Record<K, number>> | null | undefined, k: K, seconds: number): number | null {
  return p && c ? ratePerSec(p[k], c[k], seconds) : null;
}

/** Rate of one /proc/vmstat counter; null when either snapshot lacks it. */
function vmstatRate(prev: Snapshot, cur: Snapshot, name: string, seconds: number): number | null {
  return ratePerSec(prev.vmstat?.[name], cur.vmstat?.[name], seconds);
}

function derivePaging(prev: Snapshot, cur: Snapshot, seconds: number): PagingFrame {
  return {
    pswpin_per_s: vmstatRate(prev, cur, 'pswpin', seconds),
    pswpout_per_s: vmstatRate(prev, cur, 'pswpout', seconds),
    pgmajfault_per_s: vmstatRate(prev, cur, 'pgmajfault', seconds),
    pgfault_per_s: vmstatRate(prev, cur, 'pgfault', seconds),
    pgpgin_kb_per_s: vmstatRate(prev, cur, 'pgpgin', seconds),
    pgpgout_kb_per_s: vmstatRate(prev, cur, 'pgpgout', seconds),
    pgscan_kswapd_per_s: vmstatRate(prev, cur, 'pgscan_kswapd', seconds),
    pgscan_direct_per_s: vmstatRate(prev, cur, 'pgscan_direct', seconds),
    pgscan_per_s: reclaimRate(prev, cur, PGSCAN_BY_TYPE, PGSCAN_BY_RECLAIMER, seconds),
    pgsteal_per_s: reclaimRate(prev, cur, PGSTEAL_BY_TYPE, PGSTEAL_BY_RECLAIMER, seconds),
  };
}

function derivePressureResource(prev: PressureFile | null, cur: PressureFile | null, seconds: number): PressureResourceFrame | null {
  if (!cur) return null;
  const stallPct = (p: number | undefined, c: number | undefined): number | null => {
    const usPerS = ratePerSec(p, c, seconds);
    return usPerS === null ? null : Math.min(100, usPerS / 1e4);
  };
  return {
    some_avg10: cur.some.avg10,
    some_avg60: cur.some.avg60,
    some_avg300: cur.some.avg300,
    some_total_us: cur.some.totalUs,
    some_stall_pct: stallPct(prev?.some.totalUs, cur.some.totalUs),
    full_avg10: cur.full?.avg10 ?? null,
    full_avg60: cur.full?.avg60 ?? null,
    full_avg300: cur.full?.avg300 ?? null,
    full_total_us: cur.full?.totalUs ?? null,
    full_stall_pct: stallPct(prev?.full?.totalUs, cur.full?.totalUs),
  };
}

function derivePressure(prev: Snapshot, cur: Snapshot, seconds: number): PressureFrame | null {
  const { cpu, memory, io } = cur.pressure;
  if (!cpu && !memory && !io) return null;
  return {
    cpu: derivePressureResource(prev.pressure.cpu, cpu, seconds),
    memory: derivePressureResource(prev.pressure.memory, memory, seconds),
    io: derivePressureResource(prev.pressure.io, io, seconds),
  };
}

/** Bytes per /proc/diskstats sector, whatever the device's own sector size. */
const SECTOR_BYTES = 512;

/** Where the diskstats millisecond fields wrap: the kernel prints them as 32-bit unsigned ints. */
const U32_WRAP = 2 ** 32;

/** Disk counts printed as unsigned long (64-bit): one going backwards means the device was re-created. */
const DISK_COUNT_FIELDS = ['readsCompleted', 'sectorsRead', 'writesCompleted', 'sectorsWritten'] as const satisfies ReadonlyArray<(typeof DISK_COUNTERS)[number]>;

/**
 * The earlier counters of the same device (matched by name), or null when there are none to
 * compare with: the device appeared during the interval, or any of `counters` went backwards
 * (it was removed and re-created, e.g. a loop device detached and attached again).
 */
function sameDevice<T extends { name: string }>(before: Map<string, T>, now: T, counters: ReadonlyArray<keyof T>): T | null {
  const p = before.get(now.name);
  if (p === undefined) return null;
  for (const k of counters) if ((now[k] as number) < (p[k] as number)) return null;
  return p;
}

/** The first entry of each name (names are unique in a well-formed snapshot). */
function byName<T extends { name: string }>(list: readonly T[] | null | undefined): Map<string, T> {
  const map = new Map<string, T>();
  for (const x of list ?? []) if (!map.has(x.name)) map.set(x.name, x);
  return map;
}

/** Per-second growth of a 32-bit millisecond field, a wrap past 2^32 included; null when unknown. */
function u32MsPerSec(prevMs: number, curMs: number, seconds: number): number | null {
  const deltaMs = curMs >= prevMs ? curMs - prevMs : (((curMs - prevMs) % U32_WRAP) + U32_WRAP) % U32_WRAP;
  return Number.isFinite(deltaMs) && seconds > 0 ? deltaMs / seconds : null;
}

function deriveDisks(prev: Snapshot, cur: Snapshot, seconds: number): DiskFrame[] {
  const before = byName<DiskStat>(prev.diskstats);
  const out: DiskFrame[] = [];
  const names = new Set<string>();
  for (const d of cur.diskstats ?? []) {
    if (names.has(d.name)) continue;
    names.add(d.name);
    const p = sameDevice(before, d, DISK_COUNT_FIELDS);
    const reads = fieldRate(p, d, 'readsCompleted', seconds);
    const writes = fieldRate(p, d, 'writesCompleted', seconds);
    const readMs = p === null ? null : u32MsPerSec(p.readMs, d.readMs, seconds);
    const writeMs = p === null ? null : u32MsPerSec(p.writeMs, d.writeMs, seconds);
    const sectorsRead = fieldRate(p, d, 'sectorsRead', seconds);
    const sectorsWritten = fieldRate(p, d, 'sectorsWritten', seconds);
    const weighted = p === null ? null : u32MsPerSec(p.weightedMs, d.weightedMs, seconds);
    const ticks = p === null ? null : u32MsPerSec(p.ioTicksMs, d.ioTicksMs, seconds);
    out.push({
      name: d.name,
      loop: d.loop,
      reads_per_s: reads,
      writes_per_s: writes,
      read_bytes_per_s: sectorsRead === null ? null : sectorsRead * SECTOR_BYTES,
      write_bytes_per_s: sectorsWritten === null ? null : sectorsWritten * SECTOR_BYTES,
      // ms of I/O per second over I/Os per second: ms per I/O.
      await_ms: reads !== null && writes !== null && readMs !== null && writeMs !== null && reads + writes > 0 ? (readMs + writeMs) / (reads + writes) : null,
      // Per second of milliseconds → per millisecond of the interval.
      queue_depth: weighted === null ? null : weighted / 1000,
      busy_pct: ticks === null ? null : Math.min(100, ticks / 10),
    });
  }
  return out;
}

function deriveNets(prev: Snapshot, cur: Snapshot, seconds: number): NetFrame[] {
  const before = byName<NetDevStat>(prev.netdev);
  const out: NetFrame[] = [];
  const names = new Set<string>();
  for (const n of cur.netdev ?? []) {
    if (names.has(n.name)) continue;
    names.add(n.name);
    const p = sameDevice(before, n, NET_COUNTERS);
    out.push({
      name: n.name,
      loopback: n.loopback,
      rx_packets_per_s: fieldRate(p, n, 'rxPackets', seconds),
      tx_packets_per_s: fieldRate(p, n, 'txPackets', seconds),
      rx_bytes_per_s: fieldRate(p, n, 'rxBytes', seconds),
      tx_bytes_per_s: fieldRate(p, n, 'txBytes', seconds),
      rx_errors_per_s: fieldRate(p, n, 'rxErrs', seconds),
      tx_errors_per_s: fieldRate(p, n, 'txErrs', seconds),
      rx_drops_per_s: fieldRate(p, n, 'rxDrop', seconds),
      tx_drops_per_s: fieldRate(p, n, 'txDrop', seconds),
    });
  }
  return out;
}

/** Per online CPU; each 32-bit counter on its own (one wrapping says nothing about the others). */
function deriveSoftnet(prev: Snapshot, cur: Snapshot, seconds: number): SoftnetFrame[] {
  const before = new Map((prev.softnet ?? []).map((s) => [s.cpu, s]));
  return (cur.softnet ?? []).map((s) => {
    const p = before.get(s.cpu);
    return {
      cpu: s.cpu,
      processed_per_s: ratePerSec(p?.processed, s.processed, seconds),
      dropped_per_s: ratePerSec(p?.dropped, s.dropped, seconds),
      squeezed_per_s: ratePerSec(p?.timeSqueeze, s.timeSqueeze, seconds),
    };
  });
}

/**
 * For each row of `cur`, the row of the same task in `prev` (same id and start time: a reused id
 * with another start time is another task), or -1. Rows mostly keep their order from one pass to
 * the next, so each row is first compared with the row after the last match; only rows that moved
 * need the index by id, which is built the first time one does.
 */
function matchRows(prevIds: Float64Array, prevStarts: Float64Array, prevCount: number, ids: Float64Array, starts: Float64Array, count: number): Int32Array {
  let byId: Map<number, number> | null = null;
  const match = new Int32Array(count);
  let next = 0;
  for (let i = 0; i < count; i++) {
    let j = next < prevCount && prevIds[next] === ids[i] ? next : -1;
    if (j < 0) {
      if (byId === null) {
        byId = new Map();
        for (let k = 0; k < prevCount; k++) byId.set(prevIds[k], k);
      }
      j = byId.get(ids[i]) ?? -1;
    }
    match[i] = j >= 0 && prevStarts[j] === starts[i] ? j : -1;
    if (j >= 0) next = j + 1;
  }
  return match;
}

/**
 * Rate per second of counter column `c` at row i against row j of `p`. A task not in the previous
 * snapshot (j < 0) that was born during the interval did all of its counting in it (baseline 0);
 * one that was not (it was missed, or its counters are unknown) gives no rate.
 */
function columnRate(c: Float64Array, p: Float64Array, i: number, j: number, born: boolean, seconds: number): number | null {
  return ratePerSec(j >= 0 ? p[j] : born ? 0 : NaN, c[i], seconds);
}

/** A rate as percent of one CPU, given how many units one CPU-second holds (CLK_TCK or 1e9 ns). */
function percentOfCpu(perSec: number | null, unitsPerSec: number): number | null {
  return perSec === null ? null : Math.min(100, (100 * perSec) / unitsPerSec);
}

/**
 * The task columns a thread frame is made of (besides state, comm and wchan). Process-wide values
 * such as rssPages are left out: another thread's allocation moves them without changing this one.
 */
const FRAME_COLUMNS = [
  'pid', 'utimeTicks', 'stimeTicks', 'minflt', 'majflt', 'processor', 'priority', 'nice', 'runNs', 'waitNs', 'vcsw', 'ivcsw',
  'rchar', 'wchar', 'syscr', 'syscw', 'readBytes', 'writeBytes', 'syscalls', 'offcpuDNs',
] as const satisfies readonly TaskNumericColumn[];

/**
 * The rows of each thread list derive made whose task did nothing over the interval (1), so that
 * the next interval can hand out the same frame object when the task still does nothing.
 */
const IDLE_ROWS = new WeakMap<ThreadFrame[], Uint8Array>();

/**
 * For each row of `ct`, 1 when its matched row in `pt` holds the same values in everything a thread
 * frame is made of (the task did nothing), else 0. Column by column, so that each pass reads two
 * arrays in order.
 */
function unchangedRows(pt: TaskTable, ct: TaskTable, match: Int32Array): Uint8Array {
  const same = new Uint8Array(ct.count);
  for (let i = 0; i < ct.count; i++) {
    const j = match[i];
    same[i] = j >= 0 && pt.state[j] === ct.state[i] && pt.comm[j] === ct.comm[i] && pt.wchan[j] === ct.wchan[i] ? 1 : 0;
  }
  for (const col of FRAME_COLUMNS) {
    const p = pt[col];
    const c = ct[col];
    for (let i = 0; i < ct.count; i++) {
      if (same[i] === 0) continue;
      const a = p[match[i]];
      const b = c[i];
      if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) same[i] = 0;
    }
  }
  return same;
}

/** Off-CPU sleep shares of a thread, % of the interval: D measured by the kernel probes, S the rest. */
interface Slept {
  d: number | null;
  s: number | null;
}

/**
 * Sleep shares of a thread that did not run in the interval (same state at both ends, run time and
 * switches unchanged): it slept throughout, so all of the interval is in its state's share —
 * exactly, whatever the jitter of the probes' clock reads. Null without the probes.
 */
function sleptThroughout(state: string, offcpuDNs: Float64Array, i: number): Slept {
  if (Number.isNaN(offcpuDNs[i])) return { d: null, s: null };
  return { d: state === 'D' ? 100 : 0, s: state === 'S' || state === 'I' ? 100 : 0 };
}

/**
 * Sleep shares of a thread over an interval it lived through: D from the probes' total, S the rest
 * of the interval once on-CPU, run-queue wait and D are taken out (what is neither running, nor
 * waiting for a CPU, nor in D is interruptible sleep). Null without the probes or any of the parts.
 */
function sleptShares(dPct: number | null, cpuPct: number | null, waitPct: number | null): Slept {
  if (dPct === null || cpuPct === null || waitPct === null) return { d: dPct, s: null };
  return { d: dPct, s: Math.max(0, Math.min(100, 100 - cpuPct - waitPct - dPct)) };
}

/** True when row i of `ct` did not run since row j of `pt`: same state, run time and switches. */
function didNotRun(pt: TaskTable, j: number, ct: TaskTable, i: number): boolean {
  return j >= 0 && pt.state[j] === ct.state[i] && pt.runNs[j] === ct.runNs[i] && pt.vcsw[j] === ct.vcsw[i] && pt.ivcsw[j] === ct.ivcsw[i];
}

/** The owner of each process (uid and login name), looked up once per run of threads of one process. */
class Owners {
  private readonly uidOfPid = new Map<number, number>();
  private pid = NaN;
  uid: number | null = null;
  user: string | null = null;

  constructor(procs: ProcTable, private readonly names: Record<number, string>) {
    for (let i = 0; i < procs.count; i++) this.uidOfPid.set(procs.pid[i], procs.uid[i]);
  }

  /** Makes `uid` and `user` those of process `pid`. */
  of(pid: number): this {
    if (pid !== this.pid) {
      this.pid = pid;
      this.uid = known(this.uidOfPid.get(pid));
      this.user = this.uid === null ? null : (this.names[this.uid] ?? String(this.uid));
    }
    return this;
  }
}

/**
 * Per-thread frames. A thread whose counters did not move, and whose frame in `previous` (derived
 * for the interval ending at `prev`) was derived from a row that had not moved either, gets that
 * same frame object: idle pools cost a comparison per thread instead of a new object.
 */
function deriveThreads(prev: Snapshot, cur: Snapshot, previous: Frame | null): ThreadFrame[] {
  const pt = prev.taskSample.tasks;
  const ct = cur.taskSample.tasks;
  const seconds = (cur.taskSample.monoNs - prev.taskSample.monoNs) / NS_PER_S;
  const clk = cur.host.clkTck;
  const match = matchRows(pt.tid, pt.starttimeTicks, pt.count, ct.tid, ct.starttimeTicks, ct.count);
  const owners = new Owners(cur.taskSample.procs, cur.userNames);
  // previous.threads[j] is prev's row j when previous was derived with prev as its later snapshot.
  const reusable = previous && previous.threads.length === pt.count ? previous.threads : null;
  const wasIdle = reusable ? IDLE_ROWS.get(reusable) : undefined;
  const same = seconds > 0 ? unchangedRows(pt, ct, match) : null;
  const threads: ThreadFrame[] = new Array(ct.count);
  for (let i = 0; i < ct.count; i++) {
    const j = match[i];
    const { uid, user } = owners.of(ct.pid[i]);
    if (same !== null && same[i] === 1 && wasIdle !== undefined && wasIdle[j] === 1) {
      const old = reusable![j];
      if (old.tid === ct.tid[i] && old.uid === uid && old.user === user) {
        threads[i] = old;
        continue;
      }
    }
    const born = j < 0 && isBornSince(prev, ct.starttimeTicks[i], clk);
    // Written out, no `rate` closure: none is made per row on a refresh path (README, Performance).
    const userPct = percentOfCpu(columnRate(ct.utimeTicks, pt.utimeTicks, i, j, born, seconds), clk);
    const systemPct = percentOfCpu(columnRate(ct.stimeTicks, pt.stimeTicks, i, j, born, seconds), clk);
    const cpuPct = percentOfCpu(columnRate(ct.runNs, pt.runNs, i, j, born, seconds), NS_PER_S) ?? (userPct === null || systemPct === null ? null : Math.min(100, userPct + systemPct));
    const waitPct = percentOfCpu(columnRate(ct.waitNs, pt.waitNs, i, j, born, seconds), NS_PER_S);
    const dPct = percentOfCpu(columnRate(ct.offcpuDNs, pt.offcpuDNs, i, j, born, seconds), NS_PER_S);
    const slept = didNotRun(pt, j, ct, i) ? sleptThroughout(ct.state[i], ct.offcpuDNs, i) : j >= 0 ? sleptShares(dPct, cpuPct, waitPct) : { d: dPct, s: null };
    threads[i] = {
      pid: ct.pid[i],
      tid: ct.tid[i],
      comm: ct.comm[i],
      state: ct.state[i],
      uid,
      user,
      nice: known(ct.nice[i]),
      priority: known(ct.priority[i]),
      processor: known(ct.processor[i]),
      cpu_time_s: known((ct.utimeTicks[i] + ct.stimeTicks[i]) / clk),
      cpu_pct: cpuPct,
      user_pct: userPct,
      system_pct: systemPct,
      runq_wait_pct: waitPct,
      vcsw_per_s: columnRate(ct.vcsw, pt.vcsw, i, j, born, seconds),
      ivcsw_per_s: columnRate(ct.ivcsw, pt.ivcsw, i, j, born, seconds),
      minflt_per_s: columnRate(ct.minflt, pt.minflt, i, j, born, seconds),
      majflt_per_s: columnRate(ct.majflt, pt.majflt, i, j, born, seconds),
      syscr_per_s: columnRate(ct.syscr, pt.syscr, i, j, born, seconds),
      syscw_per_s: columnRate(ct.syscw, pt.syscw, i, j, born, seconds),
      rchar_per_s: columnRate(ct.rchar, pt.rchar, i, j, born, seconds),
      read_bytes_per_s: columnRate(ct.readBytes, pt.readBytes, i, j, born, seconds),
      wchar_per_s: columnRate(ct.wchar, pt.wchar, i, j, born, seconds),
      write_bytes_per_s: columnRate(ct.writeBytes, pt.writeBytes, i, j, born, seconds),
      syscalls_per_s: columnRate(ct.syscalls, pt.syscalls, i, j, born, seconds),
      offcpu_d_pct: slept.d,
      offcpu_s_pct: slept.s,
      wchan: ct.wchan[i],
    };
  }
  // An unchanged row's frame is the idle one (every known rate 0, sleep shares by its state).
  if (same !== null) IDLE_ROWS.set(threads, same);
  return threads;
}

/** True when a task that started at `starttimeTicks` (after boot) started after `prev` read its tasks. */
function isBornSince(prev: Snapshot, starttimeTicks: number, clkTck: number): boolean {
  return prev.uptimeS !== null && starttimeTicks / clkTck >= prev.uptimeS;
}

/** Thread fields a process row sums over its threads. */
const SUMMED = ['cpu_time_s', 'cpu_pct', 'user_pct', 'system_pct', 'runq_wait_pct', 'vcsw_per_s', 'ivcsw_per_s', 'minflt_per_s', 'majflt_per_s', 'offcpu_d_pct', 'offcpu_s_pct', 'syscalls_per_s'] as const;

/** Per SUMMED field, its sum for each process row (NaN: no thread had a value). */
type ThreadSums = Record<(typeof SUMMED)[number], Float64Array>;

/** Adds `v` to sums[k] (NaN: nothing added yet); null adds nothing. */
function addTo(sums: Float64Array, k: number, v: number | null): void {
  if (v !== null) sums[k] = Number.isNaN(sums[k]) ? v : sums[k] + v;
}

/**
 * Per process row: the sum of each SUMMED field over its threads (NaN: no thread had a value),
 * thread counts, and the task row of a representative thread (the main one when present; -1: none).
 */
function sumThreads(threads: ThreadFrame[], rowOfPid: Map<number, number>, procCount: number) {
  const sums = {} as ThreadSums;
  for (const field of SUMMED) sums[field] = new Float64Array(procCount).fill(NaN);
  const counts = new Int32Array(procCount);
  const mainRow = new Int32Array(procCount).fill(-1);
  let pid = NaN;
  let k: number | undefined;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[i];
    // Threads of a process come one after another: look its row up once per run.
    if (t.pid !== pid) {
      pid = t.pid;
      k = rowOfPid.get(pid);
    }
    if (k === undefined) continue;
    counts[k]++;
    if (mainRow[k] < 0 || t.tid === t.pid) mainRow[k] = i;
    addTo(sums.cpu_time_s, k, t.cpu_time_s);
    addTo(sums.cpu_pct, k, t.cpu_pct);
    addTo(sums.user_pct, k, t.user_pct);
    addTo(sums.system_pct, k, t.system_pct);
    addTo(sums.runq_wait_pct, k, t.runq_wait_pct);
    addTo(sums.vcsw_per_s, k, t.vcsw_per_s);
    addTo(sums.ivcsw_per_s, k, t.ivcsw_per_s);
    addTo(sums.minflt_per_s, k, t.minflt_per_s);
    addTo(sums.majflt_per_s, k, t.majflt_per_s);
    addTo(sums.offcpu_d_pct, k, t.offcpu_d_pct);
    addTo(sums.offcpu_s_pct, k, t.offcpu_s_pct);
    addTo(sums.syscalls_per_s, k, t.syscalls_per_s);
  }
  return { sums, counts, mainRow };
}

function deriveProcesses(prev: Snapshot, cur: Snapshot, threads: ThreadFrame[], memTotalBytes: number | null): ProcessFrame[] {
  const procs: ProcTable = cur.taskSample.procs;
  const before: ProcTable = prev.taskSample.procs;
  const seconds = (cur.taskSample.monoNs - prev.taskSample.monoNs) / NS_PER_S;
  const match = matchRows(before.pid, before.starttimeTicks, before.count, procs.pid, procs.starttimeTicks, procs.count);
  const tasks = cur.taskSample.tasks;
  const rowOfPid = new Map<number, number>();
  for (let i = 0; i < procs.count; i++) rowOfPid.set(procs.pid[i], i);
  const { sums, counts, mainRow } = sumThreads(threads, rowOfPid, procs.count);
  const out: ProcessFrame[] = new Array(procs.count);
  for (let i = 0; i < procs.count; i++) {
    const pid = procs.pid[i];
    const j = match[i];
    const born = j < 0 && isBornSince(prev, procs.starttimeTicks[i], cur.host.clkTck);
    // Written out, no closures: none is made per row on a refresh path (README, Performance).
    const rssAnon = known(procs.rssAnonKb[i] * KB);
    const rssFile = known(procs.rssFileKb[i] * KB);
    const rssShmem = known(procs.rssShmemKb[i] * KB);
    const rss = rssAnon !== null && rssFile !== null && rssShmem !== null ? rssAnon + rssFile + rssShmem : null;
    const uid = known(procs.uid[i]);
    const row = mainRow[i];
    out[i] = {
      pid,
      ppid: row >= 0 ? known(tasks.ppid[row]) : null,
      comm: row >= 0 ? threads[row].comm : '',
      cmdline: procs.cmdline[i],
      cgroup: procs.cgroup[i],
      uid,
      user: uid === null ? null : (cur.userNames[uid] ?? String(uid)),
      threads: counts[i],
      cpu_time_s: known(sums.cpu_time_s[i]),
      cpu_pct: known(sums.cpu_pct[i]),
      user_pct: known(sums.user_pct[i]),
      system_pct: known(sums.system_pct[i]),
      runq_wait_pct: known(sums.runq_wait_pct[i]),
      vcsw_per_s: known(sums.vcsw_per_s[i]),
      ivcsw_per_s: known(sums.ivcsw_per_s[i]),
      minflt_per_s: known(sums.minflt_per_s[i]),
      majflt_per_s: known(sums.majflt_per_s[i]),
      offcpu_d_pct: known(sums.offcpu_d_pct[i]),
      offcpu_s_pct: known(sums.offcpu_s_pct[i]),
      syscalls_per_s: known(sums.syscalls_per_s[i]),
      syscr_per_s: columnRate(procs.syscr, before.syscr, i, j, born, seconds),
      syscw_per_s: columnRate(procs.syscw, before.syscw, i, j, born, seconds),
      rchar_per_s: columnRate(procs.rchar, before.rchar, i, j, born, seconds),
      wchar_per_s: columnRate(procs.wchar, before.wchar, i, j, born, seconds),
      read_bytes_per_s: columnRate(procs.readBytes, before.readBytes, i, j, born, seconds),
      write_bytes_per_s: columnRate(procs.writeBytes, before.writeBytes, i, j, born, seconds),
      mem_pct: rss !== null && memTotalBytes ? (100 * rss) / memTotalBytes : null,
      rss_bytes: rss,
      rss_anon_bytes: rssAnon,
      rss_file_bytes: rssFile,
      rss_shmem_bytes: rssShmem,
      swap_bytes: known(procs.vmSwapKb[i] * KB),
      vsz_bytes: known(procs.vmSizeKb[i] * KB),
    };
  }
  return out;
}

function countStates(tasks: TaskTable): Record<string, number> {
  const byCode = new Map<number, number>();
  for (let i = 0; i < tasks.count; i++) {
    const code = tasks.state.charCodeAt(i);
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const counts: Record<string, number> = { R: 0, S: 0, D: 0, Z: 0, T: 0, I: 0 };
  for (const [code, n] of byCode) counts[String.fromCharCode(code)] = n;
  return counts;
}

/**
 * Derives the frame for the interval between two snapshots of the same host. `previous`, the frame
 * derived for the interval ending at `prev`, is optional: frames of idle threads are shared from it
 * (the result is the same either way; frames are never mutated).
 */
export function derive(prev: Snapshot, cur: Snapshot, previous: Frame | null = null): Frame {
  // Snapshots out of order give an empty interval: every rate is then null.
  const seconds = Math.max(0, (cur.monoNs - prev.monoNs) / NS_PER_S);
  const { cpus, total } = deriveCpus(prev, cur, seconds);
  const softirqs = deriveSoftirqs(prev, cur, seconds);
  const memory = deriveMemory(cur);
  const threads = deriveThreads(prev, cur, previous && previous.time === new Date(prev.wallMs).toISOString() ? previous : null);
  return {
    time: new Date(cur.wallMs).toISOString(),
    interval_s: seconds,
    sampler: {
      backend: cur.sampler.backend,
      backend_reason: cur.sampler.backendReason,
      sample_ms: cur.sampler.sampleMs,
      sample_cpu_ms: cur.sampler.sampleCpuMs,
    },
    host: {
      hostname: cur.host.hostname,
      kernel_release: cur.host.kernelRelease,
      kpti_active: cur.host.meltdown === null ? null : /\bPTI\b/.test(cur.host.meltdown) ? true : /^Vulnerable/.test(cur.host.meltdown) ? 'vulnerable' : /^Not affected/.test(cur.host.meltdown) ? false : null,
    },
    cpus,
    cpu_total: total,
    system: deriveSystem(prev, cur, seconds),
    threads_by_state: countStates(cur.taskSample.tasks),
    softirq_cpus: softirqs.cpus,
    softirqs: softirqs.perSec,
    softirq_time_pct: deriveSoftirqTime(prev, cur, softirqs.cpus, seconds),
    kernel: {
      tier: cur.kernel?.tier ?? 'proc',
      reason: cur.kernel ? cur.kernel.reason : 'not recorded (a recording made before the kernel tier)',
      syscall_probe_ns: cur.kernel?.syscallProbeNs ?? null,
    },
    memory,
    paging: derivePaging(prev, cur, seconds),
    pressure: derivePressure(prev, cur, seconds),
    disks: deriveDisks(prev, cur, seconds),
    nets: deriveNets(prev, cur, seconds),
    softnet: deriveSoftnet(prev, cur, seconds),
    threads,
    processes: deriveProcesses(prev, cur, threads, memory.total_bytes),
  };
}
