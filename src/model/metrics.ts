// The metric catalog: every field of a Frame (and so of `whytop dump`), with its unit, the kernel
// files it comes from and what it means. Columns, help texts, dump documentation and hints refer to
// these ids. An id is the field's path in a frame: `[]` stands for "each element", `*` for a key
// chosen by the data (a softirq type, a state letter, a PSI resource).

/** One metric of the frame. */
export interface MetricDef {
  /** Path in the frame / dump record, e.g. `threads[].runq_wait_pct`. */
  id: string;
  /** Short column label. */
  label: string;
  unit: '%' | '/s' | 'bytes' | 'bytes/s' | 'kB/s' | 's' | 'ms' | 'µs' | 'count' | 'id' | 'text' | 'boolean' | 'load';
  /** Kernel files read for it, relative to the proc root (PID/TID stand for process and thread ids). */
  sources: string[];
  /** One line: what it means. */
  meaning: string;
}

const STAT = ['stat'];
const TSTAT = ['PID/task/TID/stat'];
const TSCHED = ['PID/task/TID/schedstat'];
const TSTATUS = ['PID/task/TID/status'];
const TIO = ['PID/task/TID/io'];
const PSTATUS = ['PID/task/PID/status'];
const PIO = ['PID/io'];
const MEM = ['meminfo'];
/** The kernel probes (eBPF tier, kernelProbes.ts): BPF programs on these tracepoints. */
const SCHED_PROBES = ['tracepoint sched:sched_switch', 'tracepoint sched:sched_wakeup'];
const SOFTIRQ_PROBES = ['tracepoint irq:softirq_entry', 'tracepoint irq:softirq_exit'];
const SYSCALL_PROBE = ['tracepoint raw_syscalls:sys_enter'];
const VM = ['vmstat'];

/** Per-CPU percentages, shared by `cpus[]` and `cpu_total`. */
function cpuModes(prefix: string, whose: string): MetricDef[] {
  const mode = (field: string, label: string, meaning: string): MetricDef => ({ id: `${prefix}.${field}`, label, unit: '%', sources: STAT, meaning: `${meaning} (${whose})` });
  return [
    mode('user_pct', 'usr%', 'time running user code, guests included'),
    mode('nice_pct', 'nice%', 'time running user code at positive nice'),
    mode('system_pct', 'sys%', 'time in the kernel on behalf of tasks (syscalls, faults)'),
    mode('irq_pct', 'irq%', 'time in hardware interrupt handlers'),
    mode('softirq_pct', 'si%', 'time in softirqs: deferred interrupt work such as packet processing'),
    mode('iowait_pct', 'wa%', 'idle time while some task waited for disk I/O'),
    mode('steal_pct', 'st%', 'time the hypervisor gave this virtual CPU to someone else'),
    mode('idle_pct', 'idle%', 'time with nothing to run'),
  ];
}

/** Rates and percentages shared by threads and processes (processes sum their threads). */
function taskRates(prefix: string, sumNote: string): MetricDef[] {
  const def = (field: string, label: string, unit: MetricDef['unit'], sources: string[], meaning: string): MetricDef => ({ id: `${prefix}.${field}`, label, unit, sources, meaning: meaning + sumNote });
  return [
    def('cpu_time_s', 'TIME+', 's', TSTAT, 'CPU time used since the task started (user + system)'),
    def('cpu_pct', 'CPU%', '%', TSCHED, 'share of one CPU spent running (100 = one full CPU), from schedstat'),
    def('user_pct', 'USR%', '%', TSTAT, 'share of one CPU spent in user mode'),
    def('system_pct', 'SYS%', '%', TSTAT, 'share of one CPU spent in the kernel (syscalls, faults)'),
    def('runq_wait_pct', 'WAIT%', '%', TSCHED, 'share of the interval spent runnable but waiting for a CPU'),
    def('vcsw_per_s', 'VCSW/s', '/s', TSTATUS, 'voluntary context switches: the task blocked (I/O, lock, sleep)'),
    def('ivcsw_per_s', 'ICSW/s', '/s', TSTATUS, 'involuntary context switches: the task was preempted'),
    def('minflt_per_s', 'MINF/s', '/s', TSTAT, 'minor page faults: pages mapped without disk I/O'),
    def('majflt_per_s', 'MAJF/s', '/s', TSTAT, 'major page faults: pages read from disk or swap'),
    def('offcpu_d_pct', 'D%', '%', SCHED_PROBES, 'share of the interval asleep in D (uninterruptible: usually disk I/O); kernel probes (root) only, else null'),
    def('offcpu_s_pct', 'S%', '%', [...SCHED_PROBES, ...TSCHED], 'share of the interval asleep in S (interruptible: an event, a lock, a timer): what is left once CPU%, WAIT% and D% are taken out; kernel probes only'),
    def('syscalls_per_s', 'SYSC/s', '/s', SYSCALL_PROBE, 'syscalls entered per second: user-to-kernel mode switches; only with --syscalls (key c), else null'),
  ];
}

/** I/O rates; per thread from the thread's io file (detail only), per process from PID/io. */
function ioRates(prefix: string, sources: string[], note: string): MetricDef[] {
  const def = (field: string, label: string, unit: MetricDef['unit'], meaning: string): MetricDef => ({ id: `${prefix}.${field}`, label, unit, sources, meaning: meaning + note });
  return [
    def('syscr_per_s', 'RSYS/s', '/s', 'read-type syscalls (read, pread, readv, ...)'),
    def('syscw_per_s', 'WSYS/s', '/s', 'write-type syscalls (write, pwrite, writev, ...)'),
    def('rchar_per_s', 'RCHR/s', 'bytes/s', 'bytes read through syscalls, page cache hits included'),
    def('wchar_per_s', 'WCHR/s', 'bytes/s', 'bytes written through syscalls, before the page cache'),
    def('read_bytes_per_s', 'DRD/s', 'bytes/s', 'bytes read from storage'),
    def('write_bytes_per_s', 'DWR/s', 'bytes/s', 'bytes sent toward storage (written back or direct)'),
  ];
}

function pressureMetrics(): MetricDef[] {
  const src = ['pressure/cpu', 'pressure/memory', 'pressure/io'];
  const def = (field: string, unit: MetricDef['unit'], meaning: string): MetricDef => ({ id: `pressure.*.${field}`, label: field, unit, sources: src, meaning });
  return ['some', 'full'].flatMap((kind) => {
    const who = kind === 'some' ? 'at least one task' : 'all non-idle tasks at once';
    return [
      def(`${kind}_avg10`, '%', `share of the last 10 s in which ${who} stalled on the resource (kernel average)`),
      def(`${kind}_avg60`, '%', `the same over 60 s`),
      def(`${kind}_avg300`, '%', `the same over 300 s`),
      def(`${kind}_total_us`, 'µs', `total stall time since boot in which ${who} stalled`),
      def(`${kind}_stall_pct`, '%', `share of this interval in which ${who} stalled (from the total)`),
    ];
  });
}

/** Block devices, network interfaces and softnet. */
function deviceMetrics(): MetricDef[] {
  const DISK = ['diskstats'];
  const NET = ['net/dev'];
  const SOFTNET = ['net/softnet_stat'];
  const disk = (field: string, label: string, unit: MetricDef['unit'], meaning: string): MetricDef => ({ id: `disks[].${field}`, label, unit, sources: DISK, meaning });
  const net = (field: string, label: string, unit: MetricDef['unit'], meaning: string): MetricDef => ({ id: `nets[].${field}`, label, unit, sources: NET, meaning });
  const softnet = (field: string, label: string, unit: MetricDef['unit'], meaning: string): MetricDef => ({ id: `softnet[].${field}`, label, unit, sources: SOFTNET, meaning });
  const fresh = ' (every rate of a device is null when it is new since the last sample, or was re-created: its counts went backwards)';
  return [
    { id: 'disks[].name', label: 'DEVICE', unit: 'text', sources: [...DISK, '/sys/block/dm-N/dm/name'], meaning: 'whole disk (partitions folded in): the dm name for device-mapper devices, else the kernel name' },
    disk('loop', 'LOOP', 'boolean', 'true for a loop device (a file used as a disk): its I/O also shows on the disk that holds the file'),
    disk('reads_per_s', 'r/s', '/s', 'reads completed per second' + fresh),
    disk('writes_per_s', 'w/s', '/s', 'writes completed per second'),
    disk('read_bytes_per_s', 'rd/s', 'bytes/s', 'bytes read per second (512-byte sectors)'),
    disk('write_bytes_per_s', 'wr/s', 'bytes/s', 'bytes written per second (512-byte sectors)'),
    disk('await_ms', 'await', 'ms', 'average time per completed read or write, queueing included (null when none completed)'),
    disk('queue_depth', 'queue', 'count', 'average number of I/Os in flight over the interval (weighted I/O time / interval)'),
    disk('busy_pct', 'busy%', '%', 'share of the interval with at least one I/O in flight; near 100 with a long queue: saturated'),
    net('name', 'IFACE', 'text', 'network interface of the reader\'s network namespace'),
    { id: 'nets[].loopback', label: 'LO', unit: 'boolean', sources: [...NET, '/sys/class/net/NAME/type'], meaning: 'true for the loopback interface (lo, or link type loopback): traffic that never leaves the host' },
    net('rx_packets_per_s', 'rxpk/s', '/s', 'packets received per second' + fresh),
    net('tx_packets_per_s', 'txpk/s', '/s', 'packets sent per second'),
    net('rx_bytes_per_s', 'rx/s', 'bytes/s', 'bytes received per second'),
    net('tx_bytes_per_s', 'tx/s', 'bytes/s', 'bytes sent per second'),
    net('rx_errors_per_s', 'rxerr/s', '/s', 'receive errors per second (bad frames, CRC, FIFO overruns counted by the driver)'),
    net('tx_errors_per_s', 'txerr/s', '/s', 'transmit errors per second'),
    net('rx_drops_per_s', 'rxdrop/s', '/s', 'received packets dropped per second (no buffer, unknown protocol, filtered)'),
    net('tx_drops_per_s', 'txdrop/s', '/s', 'packets dropped on transmit per second (queue full, no route)'),
    softnet('cpu', 'CPU', 'id', 'CPU number (offline CPUs are absent)'),
    softnet('processed_per_s', 'proc/s', '/s', 'packets the NET_RX softirq processed on this CPU per second'),
    softnet('dropped_per_s', 'drop/s', '/s', "packets dropped because this CPU's backlog queue was full: the kernel could not keep up"),
    softnet('squeezed_per_s', 'squeeze/s', '/s', 'times NET_RX stopped with packets left (its budget or time ran out) per second'),
  ];
}

/** Every metric of the frame, in dump order. */
export const METRICS: readonly MetricDef[] = [
  { id: 'time', label: 'time', unit: 'text', sources: [], meaning: 'wall-clock time of the sample, ISO 8601' },
  { id: 'interval_s', label: 'interval', unit: 's', sources: [], meaning: 'seconds between this sample and the previous one (monotonic clock)' },
  { id: 'sampler.backend', label: 'backend', unit: 'text', sources: [], meaning: 'task reader in use: bpf (BPF task iterator, as root), native (C++ /proc reader) or ts (TypeScript /proc reader)' },
  { id: 'sampler.backend_reason', label: 'why', unit: 'text', sources: [], meaning: 'why the faster readers (bpf, then native) are not in use, or null' },
  { id: 'sampler.sample_ms', label: 'sample ms', unit: 'ms', sources: [], meaning: "wall time of whytop's own sampling pass" },
  { id: 'kernel.tier', label: 'tier', unit: 'text', sources: [], meaning: 'kernel tier: ebpf (BPF probes on scheduler and softirq tracepoints, as root), perf (per-CPU perf counters: CAP_PERFMON without CAP_BPF) or proc (/proc only)' },
  { id: 'kernel.reason', label: 'why', unit: 'text', sources: [], meaning: 'what the kernel tier misses and why (null on the ebpf tier with syscall counting on)' },
  { id: 'kernel.syscall_probe_ns', label: 'probe ns', unit: 'count', sources: [], meaning: 'ns the syscall probe adds to every syscall on the machine, measured when it was attached (null: syscall counting off)' },
  { id: 'sampler.sample_cpu_ms', label: 'sample cpu', unit: 'ms', sources: [], meaning: "CPU time whytop spent in its own sampling pass" },
  { id: 'host.hostname', label: 'host', unit: 'text', sources: ['sys/kernel/hostname'], meaning: 'host name of the sampled machine' },
  { id: 'host.kernel_release', label: 'kernel', unit: 'text', sources: ['sys/kernel/osrelease'], meaning: 'kernel release of the sampled machine' },
  { id: 'host.kpti_active', label: 'KPTI', unit: 'text', sources: ['/sys/devices/system/cpu/vulnerabilities/meltdown'], meaning: 'kernel page-table isolation: true when on (every entry to and exit from the kernel switches page tables, which makes each syscall dearer), false when the CPU is not affected, "vulnerable" when it is affected but the mitigation is off, null when unknown' },
  { id: 'cpus[].cpu', label: 'CPU', unit: 'id', sources: STAT, meaning: 'CPU number (offline CPUs are absent)' },
  ...cpuModes('cpus[]', 'per CPU'),
  { id: 'cpus[].ctxsw_per_s', label: 'csw/s', unit: '/s', sources: SCHED_PROBES, meaning: 'context switches on this CPU per second (kernel probes; null without them)' },
  { id: 'cpus[].syscalls_per_s', label: 'sysc/s', unit: '/s', sources: SYSCALL_PROBE, meaning: 'syscalls entered on this CPU per second (only with --syscalls, else null)' },
  ...cpuModes('cpu_total', 'all online CPUs, 0-100'),
  { id: 'system.ctxsw_per_s', label: 'csw/s', unit: '/s', sources: STAT, meaning: 'context switches per second, whole system' },
  { id: 'system.syscalls_per_s', label: 'sysc/s', unit: '/s', sources: SYSCALL_PROBE, meaning: 'syscalls per second, whole system (only with --syscalls, else null: counting slows every syscall)' },
  { id: 'system.interrupts_per_s', label: 'intr/s', unit: '/s', sources: STAT, meaning: 'interrupts per second, all sources' },
  { id: 'system.forks_per_s', label: 'forks/s', unit: '/s', sources: STAT, meaning: 'processes and threads created per second' },
  { id: 'system.procs_running', label: 'run', unit: 'count', sources: STAT, meaning: 'tasks runnable now (running or waiting for a CPU)' },
  { id: 'system.procs_blocked', label: 'blk', unit: 'count', sources: STAT, meaning: 'tasks blocked waiting for I/O now' },
  { id: 'system.runnable_waiting', label: 'waiting', unit: 'count', sources: STAT, meaning: 'runnable tasks beyond the online CPUs: they wait for a CPU' },
  { id: 'system.online_cpus', label: 'cpus', unit: 'count', sources: STAT, meaning: 'CPUs online in this sample' },
  { id: 'system.load1', label: 'load1', unit: 'load', sources: ['loadavg'], meaning: '1-minute load average (runnable plus uninterruptible tasks)' },
  { id: 'system.load5', label: 'load5', unit: 'load', sources: ['loadavg'], meaning: '5-minute load average' },
  { id: 'system.load15', label: 'load15', unit: 'load', sources: ['loadavg'], meaning: '15-minute load average' },
  { id: 'threads_by_state.*', label: 'state', unit: 'count', sources: TSTAT, meaning: 'threads in each state: R running/runnable, S sleeping, D uninterruptible (usually I/O), Z zombie, T stopped, t traced, I idle kernel thread' },
  { id: 'softirq_cpus', label: 'CPU', unit: 'id', sources: ['softirqs'], meaning: 'CPU numbers that the softirq arrays follow' },
  { id: 'softirqs.*', label: 'softirq/s', unit: '/s', sources: ['softirqs'], meaning: 'softirqs per second of each type (NET_RX, TIMER, SCHED, RCU, BLOCK, ...) per CPU' },
  { id: 'softirq_time_pct.*', label: 'si time%', unit: '%', sources: SOFTIRQ_PROBES, meaning: "share of each CPU's time handling each softirq type, per CPU as in softirq_cpus (kernel probes; null without them)" },
  { id: 'memory.total_bytes', label: 'total', unit: 'bytes', sources: MEM, meaning: 'usable RAM (MemTotal)' },
  { id: 'memory.free_bytes', label: 'free', unit: 'bytes', sources: MEM, meaning: 'RAM holding nothing at all (MemFree); low is normal when page cache is large' },
  { id: 'memory.available_bytes', label: 'avail', unit: 'bytes', sources: MEM, meaning: 'RAM obtainable without swapping: free plus reclaimable cache (MemAvailable)' },
  { id: 'memory.anon_bytes', label: 'anon', unit: 'bytes', sources: MEM, meaning: 'anonymous memory (heaps, stacks) not backed by a file: it can only go to swap (AnonPages)' },
  { id: 'memory.page_cache_bytes', label: 'cache', unit: 'bytes', sources: MEM, meaning: 'file-backed page cache: Cached + Buffers - Shmem; dropped cheaply under pressure' },
  { id: 'memory.shmem_bytes', label: 'shmem', unit: 'bytes', sources: MEM, meaning: 'shared memory and tmpfs (Shmem): counted as cache by the kernel, but swap-backed' },
  { id: 'memory.buffers_bytes', label: 'buffers', unit: 'bytes', sources: MEM, meaning: 'block-device buffers (Buffers), part of page_cache_bytes' },
  { id: 'memory.slab_bytes', label: 'slab', unit: 'bytes', sources: MEM, meaning: 'kernel object caches (Slab)' },
  { id: 'memory.slab_reclaimable_bytes', label: 'slab-r', unit: 'bytes', sources: MEM, meaning: 'reclaimable part of the slab, e.g. dentry and inode caches (SReclaimable)' },
  { id: 'memory.dirty_bytes', label: 'dirty', unit: 'bytes', sources: MEM, meaning: 'page cache written by programs but not yet on disk (Dirty)' },
  { id: 'memory.writeback_bytes', label: 'wback', unit: 'bytes', sources: MEM, meaning: 'dirty pages being written to disk now (Writeback)' },
  { id: 'memory.swap_total_bytes', label: 'swap', unit: 'bytes', sources: MEM, meaning: 'swap space configured (0: no swap)' },
  { id: 'memory.swap_used_bytes', label: 'swap used', unit: 'bytes', sources: MEM, meaning: 'swap in use: SwapTotal - SwapFree' },
  { id: 'memory.swap_cached_bytes', label: 'swap cached', unit: 'bytes', sources: MEM, meaning: 'pages both in RAM and in swap (SwapCached)' },
  { id: 'paging.pswpin_per_s', label: 'swpin/s', unit: '/s', sources: VM, meaning: 'pages read back from swap: anonymous paging, the bad kind' },
  { id: 'paging.pswpout_per_s', label: 'swpout/s', unit: '/s', sources: VM, meaning: 'pages written to swap: anonymous memory pushed out of RAM' },
  { id: 'paging.pgmajfault_per_s', label: 'majflt/s', unit: '/s', sources: VM, meaning: 'major faults: a task waited for a page from disk or swap' },
  { id: 'paging.pgfault_per_s', label: 'flt/s', unit: '/s', sources: VM, meaning: 'all page faults, mostly minor (demand paging, copy-on-write)' },
  { id: 'paging.pgpgin_kb_per_s', label: 'pgin kB/s', unit: 'kB/s', sources: VM, meaning: 'kB read from block devices into memory' },
  { id: 'paging.pgpgout_kb_per_s', label: 'pgout kB/s', unit: 'kB/s', sources: VM, meaning: 'kB written from memory to block devices' },
  { id: 'paging.pgscan_kswapd_per_s', label: 'scan-k/s', unit: '/s', sources: VM, meaning: 'pages scanned by kswapd in background reclaim' },
  { id: 'paging.pgscan_direct_per_s', label: 'scan-d/s', unit: '/s', sources: VM, meaning: 'pages scanned in direct reclaim: an allocating task had to free memory itself and stalled' },
  { id: 'paging.pgscan_per_s', label: 'scan/s', unit: '/s', sources: VM, meaning: 'pages scanned by all reclaim, including reclaim inside a memory cgroup at its limit, which the kswapd and direct counts leave out' },
  { id: 'paging.pgsteal_per_s', label: 'steal/s', unit: '/s', sources: VM, meaning: 'pages reclaimed by all reclaim (kswapd, direct, a memory cgroup at its limit, proactive)' },
  ...pressureMetrics(),
  ...deviceMetrics(),
  { id: 'threads[].pid', label: 'PID', unit: 'id', sources: TSTAT, meaning: 'process the thread belongs to' },
  { id: 'threads[].tid', label: 'TID', unit: 'id', sources: TSTAT, meaning: 'thread id' },
  { id: 'threads[].comm', label: 'COMMAND', unit: 'text', sources: TSTAT, meaning: "thread name (the kernel's comm; may hold any bytes)" },
  { id: 'threads[].state', label: 'S', unit: 'text', sources: TSTAT, meaning: 'R running or runnable, S sleeping, D uninterruptible wait, Z zombie, T stopped, t traced, I idle kernel thread' },
  { id: 'threads[].uid', label: 'UID', unit: 'id', sources: PSTATUS, meaning: "real uid of the thread's process" },
  { id: 'threads[].user', label: 'USER', unit: 'text', sources: ['/etc/passwd'], meaning: 'login name of the uid' },
  { id: 'threads[].nice', label: 'NI', unit: 'count', sources: TSTAT, meaning: 'nice value (-20 highest priority .. 19 lowest)' },
  { id: 'threads[].priority', label: 'PRI', unit: 'count', sources: TSTAT, meaning: 'kernel priority as /proc shows it (negative: real-time)' },
  { id: 'threads[].processor', label: 'CPU#', unit: 'id', sources: TSTAT, meaning: 'CPU the thread last ran on' },
  ...taskRates('threads[]', ''),
  ...ioRates('threads[]', TIO, ' (bpf reader: every thread; /proc readers: only threads shown in detail, dump --detail; null elsewhere or when not permitted)'),
  { id: 'threads[].wchan', label: 'WCHAN', unit: 'text', sources: ['PID/task/TID/wchan'], meaning: 'kernel function a sleeping thread waits in (detail only; null when running or not permitted)' },
  { id: 'processes[].pid', label: 'PID', unit: 'id', sources: TSTAT, meaning: 'process id' },
  { id: 'processes[].ppid', label: 'PPID', unit: 'id', sources: TSTAT, meaning: 'parent process id' },
  { id: 'processes[].comm', label: 'COMMAND', unit: 'text', sources: TSTAT, meaning: "name of the process's main thread" },
  { id: 'processes[].cmdline', label: 'CMDLINE', unit: 'text', sources: ['PID/cmdline'], meaning: "command line, arguments joined by spaces ('' for kernel threads)" },
  { id: 'processes[].cgroup', label: 'CGROUP', unit: 'text', sources: ['PID/cgroup'], meaning: 'cgroup path (unified hierarchy, or the memory controller on v1 hosts)' },
  { id: 'processes[].uid', label: 'UID', unit: 'id', sources: PSTATUS, meaning: 'real uid' },
  { id: 'processes[].user', label: 'USER', unit: 'text', sources: ['/etc/passwd'], meaning: 'login name of the uid' },
  { id: 'processes[].threads', label: 'THR', unit: 'count', sources: ['PID/task'], meaning: 'number of threads' },
  ...taskRates('processes[]', ' (sum over its threads)'),
  ...ioRates('processes[]', PIO, ' (whole process, exited threads included)'),
  { id: 'processes[].mem_pct', label: 'MEM%', unit: '%', sources: [...PSTATUS, ...MEM], meaning: 'resident memory as a share of MemTotal' },
  { id: 'processes[].rss_bytes', label: 'RSS', unit: 'bytes', sources: PSTATUS, meaning: 'resident memory: anon + file + shmem' },
  { id: 'processes[].rss_anon_bytes', label: 'ANON', unit: 'bytes', sources: PSTATUS, meaning: 'resident anonymous memory (RssAnon)' },
  { id: 'processes[].rss_file_bytes', label: 'FILE', unit: 'bytes', sources: PSTATUS, meaning: 'resident file-backed memory (RssFile)' },
  { id: 'processes[].rss_shmem_bytes', label: 'SHM', unit: 'bytes', sources: PSTATUS, meaning: 'resident shared memory (RssShmem)' },
  { id: 'processes[].swap_bytes', label: 'SWAP', unit: 'bytes', sources: PSTATUS, meaning: 'anonymous memory of the process that sits in swap (VmSwap)' },
  { id: 'processes[].vsz_bytes', label: 'VSZ', unit: 'bytes', sources: PSTATUS, meaning: 'virtual size: mapped, not necessarily backed by RAM (VmSize)' },
  { id: 'hints[].id', label: 'hint', unit: 'text', sources: [], meaning: 'which rule fired (swapping, cpu-saturated, idle-but-blocked, ...)' },
  { id: 'hints[].severity', label: 'sev', unit: 'text', sources: [], meaning: 'info, warn or crit' },
  { id: 'hints[].subject.kind', label: 'about', unit: 'text', sources: [], meaning: 'what the hint is about: system, cpu, memory, process or thread' },
  { id: 'hints[].subject.id', label: 'id', unit: 'id', sources: [], meaning: 'CPU number, pid or tid of the subject (absent for system and memory)' },
  { id: 'hints[].subject.pid', label: 'pid', unit: 'id', sources: [], meaning: 'process of a thread subject' },
  { id: 'hints[].message', label: 'message', unit: 'text', sources: [], meaning: 'one line with the numbers that triggered the hint' },
];

/** The catalog entry for an id, or undefined. */
export function metric(id: string): MetricDef | undefined {
  return METRICS.find((m) => m.id === id);
}
