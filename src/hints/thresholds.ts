// Every threshold the hint rules use, in one table. `on` starts a hint; a value between `hold` and
// `on` keeps an active hint alive (hysteresis). Units are in the names.

/** A start threshold and the lower one that keeps a hint active. */
export interface Band {
  on: number;
  hold: number;
}

/** The thresholds table. */
export const THRESHOLDS = {
  /**
   * Frames an active hint may stay on its hold level alone, counted from the last frame at its start
   * level: enough to ride out a value hovering around a threshold, not to keep a condition that
   * settled below its start level on screen for good. It also bounds how far back a replay must
   * look to know whether a hint is active (store/timeline.ts).
   */
  holdFrames: 30,
  /** Pages swapped in or out per second. Any swapping of anonymous memory is news. */
  swapPagesPerSec: { on: 1, hold: 0.01 },
  /** Swap pages per second above which swapping is critical (a storm, not a trickle). */
  swapStormPagesPerSec: 1000,
  /** MemFree at or below this share of RAM (%) counts as "low free memory". */
  lowFreePct: { on: 5, hold: 7 } as Band,
  /** ...but with MemAvailable above this share, the low free memory is just cache doing its job. */
  healthyAvailablePct: 20,
  /** MemAvailable below this share of RAM: real memory pressure. */
  lowAvailablePct: { on: 10, hold: 12 } as Band,
  /** Direct-reclaim scans per second (allocating tasks reclaiming memory themselves). */
  directScanPerSec: { on: 1, hold: 0.01 } as Band,
  /** PSI memory "some" avg10 (%). */
  psiMemorySomePct: { on: 5, hold: 2 } as Band,
  /** Dirty + writeback bytes that make an fsync or the dirty limit stall writers. */
  dirtyBytes: { on: 256 * 1024 * 1024, hold: 192 * 1024 * 1024 } as Band,
  /** VSZ at least this many times RSS, and at least demandPagingMinVszBytes: mostly untouched mappings. */
  demandPagingRatio: { on: 20, hold: 15 } as Band,
  demandPagingMinVszBytes: 4 * 1024 * 1024 * 1024,
  /** Processes the demand-paging rule may name per frame (largest first). */
  demandPagingMaxProcesses: 3,
  /** %si on one CPU. */
  softirqPct: { on: 10, hold: 6 } as Band,
  /** ksoftirqd CPU% on a CPU above which softirq work is being deferred to the thread. */
  ksoftirqdBusyPct: 5,
  /** Idle share of CPU time (idle + iowait) that makes "CPU idle but slow" apply. */
  cpuIdlePct: 50,
  /** Threads in D (sustained) that count as "blocked" (uninterruptible sleep: usually I/O). */
  dThreads: { on: 1, hold: 1 } as Band,
  /** Share (%) of the interval a thread spent in D (kernel probes) that counts as blocked, besides being in D when sampled. */
  threadDPct: { on: 80, hold: 40 } as Band,
  /** iowait % (of all CPUs) or PSI io some avg10 % that counts as waiting on I/O. */
  iowaitPct: { on: 20, hold: 12 } as Band,
  psiIoSomePct: { on: 10, hold: 5 } as Band,
  /** Runnable tasks waiting beyond the online CPUs. */
  runnableWaiting: { on: 1, hold: 1 } as Band,
  /** A thread's run-queue wait (% of the interval) that marks CPU contention. */
  threadRunqWaitPct: { on: 20, hold: 12 } as Band,
  /** PSI cpu some avg10 (%). */
  psiCpuSomePct: { on: 20, hold: 10 } as Band,
  /** A thread's system % (of one CPU), with user below it, that marks a syscall-heavy thread. */
  systemPct: { on: 30, hold: 20 } as Band,
  /** Read + write syscalls per second (io proxy) with little user time. */
  syscallsPerSec: { on: 20000, hold: 12000 } as Band,
  /** Context switches per second of a thread above which its switch mix is worth explaining. */
  threadSwitchesPerSec: { on: 500, hold: 300 } as Band,
  /** Share (%) of one kind of switch that counts as "dominating". */
  switchDominancePct: 80,
  /** Steal time (% of all CPUs). */
  stealPct: { on: 2, hold: 1 } as Band,
  /** Bytes/s read through syscalls, with storage reads below cacheReadStoragePct of them. */
  cacheReadBytesPerSec: { on: 20 * 1024 * 1024, hold: 10 * 1024 * 1024 } as Band,
  cacheReadStoragePct: 5,
  /** Disk busy % (time with I/O in flight) and queue depth that make a device saturated. */
  diskBusyPct: { on: 90, hold: 80 } as Band,
  diskQueueDepth: 1,
  /** Await at least this many times its recent median, at throughput within diskFlatThroughputPct, and at least diskAwaitMinMs. */
  diskAwaitRise: { on: 2, hold: 1.5 } as Band,
  diskFlatThroughputPct: 25,
  diskAwaitMinMs: 10,
  /** NET_RX softirqs per second (all CPUs) below which their spread is not worth a word. */
  netRxPerSec: 10000,
  /** Share (%) of received packets on loopback above which NET_RX's spread says nothing about network cards. */
  netRxLoopbackSharePct: 90,
  /** Share (%) of NET_RX on one CPU that counts as "all on one queue". */
  netRxOneCpuSharePct: { on: 80, hold: 70 } as Band,
  /** Softnet drops + time squeezes per second on a CPU. */
  softnetEventsPerSec: { on: 1, hold: 0.01 } as Band,
  /** Rules that name threads or processes name at most this many per frame (busiest first). */
  maxSubjects: 5,
};

/** The type of the thresholds table (tests pass variants). */
export type Thresholds = typeof THRESHOLDS;

/** 'on' at or above band.on, 'hold' at or above band.hold, else null (null value: null). */
export function level(value: number | null | undefined, band: Band): 'on' | 'hold' | null {
  if (value === null || value === undefined) return null;
  return value >= band.on ? 'on' : value >= band.hold ? 'hold' : null;
}

/** For "too low" conditions: 'on' at or below band.on, 'hold' at or below band.hold, else null. */
export function levelBelow(value: number | null | undefined, band: Band): 'on' | 'hold' | null {
  if (value === null || value === undefined) return null;
  return value <= band.on ? 'on' : value <= band.hold ? 'hold' : null;
}
