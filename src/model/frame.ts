// A Frame is what derive(prev, cur) makes of two snapshots: rates and percentages over the interval
// between them. Field names are the `whytop dump` schema (units in the name); every field is listed
// in the metric catalog (metrics.ts). null means "not available" or "no rate for this interval"
// (first sample of a task, a counter that went backwards, a file that was not permitted).
import type { TaskBackend } from './snapshot.js';

/** Share of a CPU's time (or, in cpu_total, of all online CPUs' time) per mode, in percent. */
export interface CpuPercentages {
  user_pct: number | null;
  nice_pct: number | null;
  system_pct: number | null;
  irq_pct: number | null;
  softirq_pct: number | null;
  iowait_pct: number | null;
  steal_pct: number | null;
  idle_pct: number | null;
}

/** One online CPU over the interval. */
export interface CpuFrame extends CpuPercentages {
  cpu: number;
  /** Context switches on this CPU per second (kernel probes; null without them). */
  ctxsw_per_s: number | null;
  /** Syscalls entered on this CPU per second (kernel probes with --syscalls; else null). */
  syscalls_per_s: number | null;
}

/** System-wide scheduler activity. */
export interface SystemFrame {
  ctxsw_per_s: number | null;
  /** Syscalls per second, whole system (kernel probes with --syscalls; else null). */
  syscalls_per_s: number | null;
  interrupts_per_s: number | null;
  forks_per_s: number | null;
  procs_running: number | null;
  procs_blocked: number | null;
  /** Tasks in R beyond the online CPUs: runnable but waiting for a CPU right now. */
  runnable_waiting: number | null;
  online_cpus: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
}

/** Memory split from /proc/meminfo, in bytes. */
export interface MemoryFrame {
  total_bytes: number | null;
  free_bytes: number | null;
  available_bytes: number | null;
  anon_bytes: number | null;
  page_cache_bytes: number | null;
  shmem_bytes: number | null;
  buffers_bytes: number | null;
  slab_bytes: number | null;
  slab_reclaimable_bytes: number | null;
  dirty_bytes: number | null;
  writeback_bytes: number | null;
  swap_total_bytes: number | null;
  swap_used_bytes: number | null;
  swap_cached_bytes: number | null;
}

/** Paging and reclaim rates from /proc/vmstat. */
export interface PagingFrame {
  pswpin_per_s: number | null;
  pswpout_per_s: number | null;
  pgmajfault_per_s: number | null;
  pgfault_per_s: number | null;
  pgpgin_kb_per_s: number | null;
  pgpgout_kb_per_s: number | null;
  pgscan_kswapd_per_s: number | null;
  pgscan_direct_per_s: number | null;
  pgscan_per_s: number | null;
  pgsteal_per_s: number | null;
}

/** One PSI resource: the kernel's running averages (percent) and the stall share over the interval. */
export interface PressureResourceFrame {
  some_avg10: number;
  some_avg60: number;
  some_avg300: number;
  some_total_us: number;
  /** Share of the interval in which at least one task stalled on this resource (percent). */
  some_stall_pct: number | null;
  full_avg10: number | null;
  full_avg60: number | null;
  full_avg300: number | null;
  full_total_us: number | null;
  full_stall_pct: number | null;
}

/** PSI per resource; a resource is null where the kernel does not provide it. */
export interface PressureFrame {
  cpu: PressureResourceFrame | null;
  memory: PressureResourceFrame | null;
  io: PressureResourceFrame | null;
}

/** One thread over the interval. Percentages are of one CPU (100 = one CPU fully used). */
export interface ThreadFrame {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  uid: number | null;
  user: string | null;
  nice: number | null;
  priority: number | null;
  processor: number | null;
  cpu_time_s: number | null;
  cpu_pct: number | null;
  user_pct: number | null;
  system_pct: number | null;
  runq_wait_pct: number | null;
  vcsw_per_s: number | null;
  ivcsw_per_s: number | null;
  minflt_per_s: number | null;
  majflt_per_s: number | null;
  syscr_per_s: number | null;
  syscw_per_s: number | null;
  rchar_per_s: number | null;
  read_bytes_per_s: number | null;
  wchar_per_s: number | null;
  write_bytes_per_s: number | null;
  /** Syscalls entered per second (kernel probes with --syscalls; else null). */
  syscalls_per_s: number | null;
  /** Share of the interval asleep in D (uninterruptible; kernel probes) and in S (interruptible: the rest). */
  offcpu_d_pct: number | null;
  offcpu_s_pct: number | null;
  wchan: string | null;
}

/** One process over the interval: sums over its threads, plus its memory and I/O. */
export interface ProcessFrame {
  pid: number;
  /** Parent process id (null when unknown). */
  ppid: number | null;
  comm: string;
  cmdline: string | null;
  cgroup: string | null;
  uid: number | null;
  user: string | null;
  threads: number;
  cpu_time_s: number | null;
  cpu_pct: number | null;
  user_pct: number | null;
  system_pct: number | null;
  runq_wait_pct: number | null;
  vcsw_per_s: number | null;
  ivcsw_per_s: number | null;
  minflt_per_s: number | null;
  majflt_per_s: number | null;
  offcpu_d_pct: number | null;
  offcpu_s_pct: number | null;
  syscalls_per_s: number | null;
  syscr_per_s: number | null;
  syscw_per_s: number | null;
  rchar_per_s: number | null;
  wchar_per_s: number | null;
  read_bytes_per_s: number | null;
  write_bytes_per_s: number | null;
  mem_pct: number | null;
  rss_bytes: number | null;
  rss_anon_bytes: number | null;
  rss_file_bytes: number | null;
  rss_shmem_bytes: number | null;
  swap_bytes: number | null;
  vsz_bytes: number | null;
}

/** One whole block device over the interval (partitions are folded under their disk). */
export interface DiskFrame {
  /** dm name for device-mapper devices, else the kernel name (sda, nvme0n1, loop3). */
  name: string;
  /** A loop device: a file used as a disk, so its I/O lands on another device as well. */
  loop: boolean;
  reads_per_s: number | null;
  writes_per_s: number | null;
  read_bytes_per_s: number | null;
  write_bytes_per_s: number | null;
  /** Average time per completed I/O, queueing included (ms); null when no I/O completed. */
  await_ms: number | null;
  /** Average number of I/Os in flight over the interval. */
  queue_depth: number | null;
  /** Share of the interval with at least one I/O in flight, 0-100. */
  busy_pct: number | null;
}

/** One network interface over the interval. */
export interface NetFrame {
  name: string;
  /** The loopback interface: traffic that never leaves the host. */
  loopback: boolean;
  rx_packets_per_s: number | null;
  tx_packets_per_s: number | null;
  rx_bytes_per_s: number | null;
  tx_bytes_per_s: number | null;
  rx_errors_per_s: number | null;
  tx_errors_per_s: number | null;
  rx_drops_per_s: number | null;
  tx_drops_per_s: number | null;
}

/** Packet processing of the NET_RX softirq on one online CPU over the interval. */
export interface SoftnetFrame {
  cpu: number;
  processed_per_s: number | null;
  dropped_per_s: number | null;
  squeezed_per_s: number | null;
}

/** Facts about the sampled host. */
export interface HostFrame {
  hostname: string;
  kernel_release: string;
  /**
   * Page-table isolation (KPTI), from the kernel's Meltdown status: true when on (every kernel entry
   * and exit also switches page tables); false when the CPU is not affected; 'vulnerable' when it is
   * affected but the mitigation is off; null when unknown.
   */
  kpti_active: boolean | 'vulnerable' | null;
}

/** Everything derived from two snapshots. */
export interface Frame {
  /** Wall-clock time of the later snapshot, ISO 8601. */
  time: string;
  /** Seconds between the two snapshots' system reads (monotonic). */
  interval_s: number;
  sampler: { backend: TaskBackend; backend_reason: string | null; sample_ms: number; sample_cpu_ms: number };
  host: HostFrame;
  cpus: CpuFrame[];
  cpu_total: CpuPercentages | null;
  system: SystemFrame;
  /** Threads counted by their state letter (R, S, D, Z, T, t, I, ...). */
  threads_by_state: Record<string, number>;
  /** CPU numbers the softirq arrays are indexed by. */
  softirq_cpus: number[];
  /** Softirqs per second by type, one entry per CPU in softirq_cpus. */
  softirqs: Record<string, Array<number | null>>;
  /** Share of each CPU's time handling each softirq type (kernel probes), like softirqs; null without them. */
  softirq_time_pct: Record<string, Array<number | null>>;
  /** Which kernel tier measured this frame, and what is missing and why. */
  kernel: { tier: 'ebpf' | 'perf' | 'proc'; reason: string | null; syscall_probe_ns: number | null };
  memory: MemoryFrame;
  paging: PagingFrame;
  pressure: PressureFrame | null;
  /** Block devices in the later snapshot; a device new since the earlier one has null rates. */
  disks: DiskFrame[];
  /** Network interfaces in the later snapshot; one new since the earlier one has null rates. */
  nets: NetFrame[];
  /** NET_RX packet processing per online CPU. */
  softnet: SoftnetFrame[];
  threads: ThreadFrame[];
  processes: ProcessFrame[];
}

/** Read + write syscalls per second (the io files' proxy for syscalls/s); null when neither is known. */
export function rwSyscallsPerSec(x: Pick<ThreadFrame, 'syscr_per_s' | 'syscw_per_s'>): number | null {
  return x.syscr_per_s === null && x.syscw_per_s === null ? null : (x.syscr_per_s ?? 0) + (x.syscw_per_s ?? 0);
}

/** Voluntary + involuntary context switches per second; null when neither is known. */
export function switchesPerSec(x: Pick<ThreadFrame, 'vcsw_per_s' | 'ivcsw_per_s'>): number | null {
  return x.vcsw_per_s === null && x.ivcsw_per_s === null ? null : (x.vcsw_per_s ?? 0) + (x.ivcsw_per_s ?? 0);
}
