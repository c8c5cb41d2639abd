// Raw counters exactly as the kernel reports them (ticks, kB, counts, ns), stamped with a monotonic
// time taken when they were read. Nothing here is a rate: derive.ts turns two snapshots into a Frame.
// "Not available" is null (or NaN inside typed columns), never 0.

/** Facts about the sampled host that rate maths needs; recorded once per session. */
export interface HostInfo {
  hostname: string;
  kernelRelease: string;
  /** Clock ticks per second (sysconf(_SC_CLK_TCK)): unit of utime/stime and /proc/stat times. */
  clkTck: number;
  pageSizeBytes: number;
  /** CPUs configured on the host (online or not). */
  cpuCount: number;
  /**
   * /sys/devices/system/cpu/vulnerabilities/meltdown ("Mitigation: PTI", "Not affected", ...): tells
   * whether page-table isolation makes every syscall dearer. null when unknown.
   */
  meltdown: string | null;
}

/** One line of /proc/stat's cpu section, in clock ticks. */
export interface CpuTimesTicks {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** /proc/stat. `cpus` lists only the CPUs that were online (offline CPUs have no line). */
export interface ProcStat {
  total: CpuTimesTicks;
  cpus: Array<{ cpu: number; times: CpuTimesTicks }>;
  /** Context switches since boot. */
  ctxt: number | null;
  /** Interrupts since boot, all sources. */
  intrTotal: number | null;
  /** Forks since boot. */
  processes: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
  bootTimeSec: number | null;
}

/** /proc/softirqs: counts[type][i] is the count of that type on CPU cpus[i] since boot. */
export interface Softirqs {
  cpus: number[];
  counts: Record<string, number[]>;
}

/** /proc/loadavg. */
export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  runnable: number;
  total: number;
}

/** One line of a /proc/pressure file: averages in percent, total stall time in µs. */
export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  totalUs: number;
}

/** One /proc/pressure/{cpu,memory,io} file; `full` is null where the kernel has no such line. */
export interface PressureFile {
  some: PressureLine;
  full: PressureLine | null;
}

/** The three PSI files; each is null when absent (kernel without PSI, or psi=0). */
export interface Pressure {
  cpu: PressureFile | null;
  memory: PressureFile | null;
  io: PressureFile | null;
}

/**
 * One whole block device from /proc/diskstats (partitions folded under their disk), counters since
 * the device appeared. Sectors are 512 bytes whatever the device's own sector size.
 */
export interface DiskStat {
  /** Display name: the dm name for device-mapper devices (where the proc root has a sysfs), else the kernel name. */
  name: string;
  /** The kernel's name (sda, nvme0n1, dm-0, loop3). */
  kernelName: string;
  /** A loop device (a file used as a disk). */
  loop: boolean;
  readsCompleted: number;
  sectorsRead: number;
  /** Milliseconds spent on reads (summed over reads in flight at once). */
  readMs: number;
  writesCompleted: number;
  sectorsWritten: number;
  writeMs: number;
  /** I/Os in flight now (a gauge, not a counter). */
  inFlight: number;
  /** Milliseconds during which at least one I/O was in flight. */
  ioTicksMs: number;
  /** Milliseconds of I/O time weighted by the number in flight: Δ/interval is the average queue depth. */
  weightedMs: number;
}

/**
 * DiskStat counters that only grow while the device exists, the millisecond ones modulo 2^32 (the
 * kernel prints them as 32-bit); inFlight is a gauge, not one of them.
 */
export const DISK_COUNTERS = ['readsCompleted', 'sectorsRead', 'readMs', 'writesCompleted', 'sectorsWritten', 'writeMs', 'ioTicksMs', 'weightedMs'] as const;

/** One network interface from /proc/net/dev, counters since the interface was created. */
export interface NetDevStat {
  name: string;
  /** The loopback interface (lo): traffic that never leaves the host. */
  loopback: boolean;
  rxBytes: number;
  rxPackets: number;
  rxErrs: number;
  rxDrop: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
}

/** NetDevStat counters that only grow while the interface exists. */
export const NET_COUNTERS = ['rxBytes', 'rxPackets', 'rxErrs', 'rxDrop', 'txBytes', 'txPackets', 'txErrs', 'txDrop'] as const;

/** One online CPU's line of /proc/net/softnet_stat (32-bit counters since boot). */
export interface SoftnetStat {
  cpu: number;
  /** Packets the NET_RX softirq took from this CPU's backlog and device queues. */
  processed: number;
  /** Packets dropped because the CPU's backlog queue was full. */
  dropped: number;
  /** Times the NET_RX softirq stopped with work left (budget or time ran out). */
  timeSqueeze: number;
}

/** Numeric per-task columns, all Float64Array of length `count` (NaN = not available). */
export const TASK_NUMERIC_COLUMNS = [
  'tid',
  'pid',
  /** Parent of the task's process (the same for all its threads). */
  'ppid',
  /** Start time after boot, in clock ticks: with tid, the identity of a task. */
  'starttimeTicks',
  'utimeTicks',
  'stimeTicks',
  'minflt',
  'majflt',
  /** CPU the task last ran on. */
  'processor',
  'priority',
  'nice',
  'vsizeBytes',
  'rssPages',
  /** schedstat: time on CPU, time runnable but waiting on a run queue, timeslices. */
  'runNs',
  'waitNs',
  'timeslices',
  /** status: voluntary_ctxt_switches / nonvoluntary_ctxt_switches of this thread. */
  'vcsw',
  'ivcsw',
  /** Per-thread io (only for threads asked for in detail; NaN elsewhere or when not permitted). */
  'rchar',
  'wchar',
  'syscr',
  'syscw',
  'readBytes',
  'writeBytes',
  /** Kernel probes (BPF tier only): total time asleep in D (uninterruptible, usually I/O), ns. */
  'offcpuDNs',
  /** Kernel probes with syscall counting on (--syscalls): syscalls the thread entered. */
  'syscalls',
] as const;

/** Name of a numeric per-task column. */
export type TaskNumericColumn = (typeof TASK_NUMERIC_COLUMNS)[number];

/**
 * Every task (thread) seen in one pass, as columns. Row i of every column is the same task.
 * `state` holds one character per task (R, S, D, Z, T, t, X, I, ...).
 */
export type TaskTable = { count: number; state: string; comm: string[]; wchan: Array<string | null> } & {
  [K in TaskNumericColumn]: Float64Array;
};

/** Numeric per-process columns, Float64Array of length `count` (NaN = not available). */
export const PROC_NUMERIC_COLUMNS = [
  'pid',
  'starttimeTicks',
  'uid',
  /** From the main thread's status (memory is shared by all threads), in kB. */
  'vmSizeKb',
  'rssAnonKb',
  'rssFileKb',
  'rssShmemKb',
  'vmSwapKb',
  /** /proc/PID/io: sums over all threads, dead ones included. */
  'rchar',
  'wchar',
  'syscr',
  'syscw',
  'readBytes',
  'writeBytes',
  'cancelledWriteBytes',
] as const;

/** Name of a numeric per-process column. */
export type ProcNumericColumn = (typeof PROC_NUMERIC_COLUMNS)[number];

/** Every process seen in one pass, as columns; cmdline and cgroup are null when unreadable. */
export type ProcTable = { count: number; cmdline: Array<string | null>; cgroup: Array<string | null> } & {
  [K in ProcNumericColumn]: Float64Array;
};

/** What the per-task reader returns for one pass. */
export interface TaskSample {
  /** CLOCK_MONOTONIC nanoseconds when the pass started. */
  monoNs: number;
  tasks: TaskTable;
  procs: ProcTable;
}

/** The task readers: the BPF task iterator, the native /proc reader, its TypeScript twin. */
export type TaskBackend = 'bpf' | 'native' | 'ts';

/** Which implementation read the tasks, and what the pass cost. */
export interface SamplerInfo {
  backend: TaskBackend;
  /** Why the faster readers are not in use (bpf, then native), when they are not. */
  backendReason: string | null;
  /** Wall time of the whole sampling pass, ms. */
  sampleMs: number;
  /** CPU time (user + system) this process spent in the pass, ms. */
  sampleCpuMs: number;
}

/** One sampling pass over every source. */
export interface Snapshot {
  host: HostInfo;
  /** Wall-clock time of the pass, ms since the epoch (for display only; never used for rates). */
  wallMs: number;
  /** CLOCK_MONOTONIC nanoseconds when the system-wide files were read. */
  monoNs: number;
  stat: ProcStat | null;
  softirqs: Softirqs | null;
  loadavg: LoadAvg | null;
  /** /proc/meminfo values in kB (or counts for the HugePages_* lines), by the kernel's names. */
  meminfoKb: Record<string, number> | null;
  /** /proc/vmstat counters by the kernel's names. */
  vmstat: Record<string, number> | null;
  pressure: Pressure;
  /** Seconds since boot (/proc/uptime) just before the task pass: tells tasks born since the last pass. */
  uptimeS: number | null;
  taskSample: TaskSample;
  /** Names of the uids seen in this pass (uid → login name), so replay needs no local passwd. */
  userNames: Record<number, string>;
  /**
   * Kernel stacks of threads in D (uninterruptible) when readable (root), by tid: what the detail
   * view shows for a blocked thread, kept so a replay can show it too. Their wchan is in the table.
   */
  blockedStacks: Record<number, string[]>;
  sampler: SamplerInfo;
  /*
   * Added after recording format 1 was fixed: snapshots of older recordings lack these fields
   * (undefined), which derive reads as "not available", like null.
   */
  /** /proc/diskstats, whole disks; null when absent. */
  diskstats?: DiskStat[] | null;
  /** /proc/net/dev, per interface; null when absent. */
  netdev?: NetDevStat[] | null;
  /** /proc/net/softnet_stat, per online CPU; null when absent. */
  softnet?: SoftnetStat[] | null;
  /** The kernel tier: probes on scheduler and softirq events, or why there are none. */
  kernel?: KernelSample;
}

/** Which kernel tier sampled, why not a better one, and the probes' counters. */
export interface KernelSample {
  /** ebpf: BPF probes on tracepoints; perf: per-CPU perf counters; proc: /proc only. */
  tier: 'ebpf' | 'perf' | 'proc';
  /** What is missing and why (null on the eBPF tier). */
  reason: string | null;
  /** eBPF tier: per-CPU counters since the probes were attached; null on other tiers. */
  counters: ProbeCounters | null;
  /** True while syscall counting (--syscalls) was on for this sample. */
  syscalls: boolean;
  /** What the syscall probe adds to each syscall, ns, measured when it was attached (null: off). */
  syscallProbeNs?: number | null;
}

/** Softirq types, in the kernel's order (enum in include/linux/interrupt.h, /proc/softirqs rows). */
export const SOFTIRQ_TYPES = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'] as const;

/** Cumulative per-CPU counters of the kernel probes (index = CPU number). */
export interface ProbeCounters {
  ctxsw: number[];
  /** Syscalls entered per CPU; they move only while syscall counting is on (KernelSample.syscalls). */
  syscalls: number[];
  /** ns spent handling each softirq type, [type][cpu], types in SOFTIRQ_TYPES order (kernelProbes.ts). */
  softirqNs: number[][];
}

/**
 * The same table as one object literal. Filled one key at a time, a task table's 30 properties put
 * it in V8's dictionary mode (a hash lookup on every column access in the reader and derive); every
 * table made here shares one fast hidden class. Every producer of task tables returns one of these.
 */
export function fastTaskTable(t: TaskTable): TaskTable {
  return {
    count: t.count,
    state: t.state,
    comm: t.comm,
    wchan: t.wchan,
    tid: t.tid,
    pid: t.pid,
    ppid: t.ppid,
    starttimeTicks: t.starttimeTicks,
    utimeTicks: t.utimeTicks,
    stimeTicks: t.stimeTicks,
    minflt: t.minflt,
    majflt: t.majflt,
    processor: t.processor,
    priority: t.priority,
    nice: t.nice,
    vsizeBytes: t.vsizeBytes,
    rssPages: t.rssPages,
    runNs: t.runNs,
    waitNs: t.waitNs,
    timeslices: t.timeslices,
    vcsw: t.vcsw,
    ivcsw: t.ivcsw,
    rchar: t.rchar,
    wchar: t.wchar,
    syscr: t.syscr,
    syscw: t.syscw,
    readBytes: t.readBytes,
    writeBytes: t.writeBytes,
    offcpuDNs: t.offcpuDNs,
    syscalls: t.syscalls,
  };
}

/** Allocates an empty task table with room for `count` rows, numeric columns filled with NaN. */
export function allocTaskTable(count: number): TaskTable {
  const table = { count, state: '', comm: new Array<string>(count), wchan: new Array<string | null>(count).fill(null) } as TaskTable;
  for (const col of TASK_NUMERIC_COLUMNS) table[col] = new Float64Array(count).fill(NaN);
  return fastTaskTable(table);
}

/** Allocates an empty process table with room for `count` rows, numeric columns filled with NaN. */
export function allocProcTable(count: number): ProcTable {
  const table = {
    count,
    cmdline: new Array<string | null>(count).fill(null),
    cgroup: new Array<string | null>(count).fill(null),
  } as ProcTable;
  for (const col of PROC_NUMERIC_COLUMNS) table[col] = new Float64Array(count).fill(NaN);
  return table;
}
