// Builds derived frames by hand, for tests of what reads frames (hints, panels, rows).
import type { Frame, ProcessFrame, ThreadFrame } from '../../src/model/frame.js';

/** A thread frame with quiet defaults. */
export function thread(tid: number, pid: number, over: Partial<ThreadFrame> = {}): ThreadFrame {
  return {
    pid, tid, comm: `t${tid}`, state: 'S', uid: 0, user: 'root', nice: 0, priority: 20, processor: 0, cpu_time_s: 1,
    cpu_pct: 0, user_pct: 0, system_pct: 0, runq_wait_pct: 0, vcsw_per_s: 0, ivcsw_per_s: 0, minflt_per_s: 0, majflt_per_s: 0,
    syscr_per_s: null, syscw_per_s: null, rchar_per_s: null, read_bytes_per_s: null, wchar_per_s: null, write_bytes_per_s: null, syscalls_per_s: null, offcpu_d_pct: null, offcpu_s_pct: null, wchan: null,
    ...over,
  };
}

/** A process frame with quiet defaults. */
export function proc(pid: number, over: Partial<ProcessFrame> = {}): ProcessFrame {
  return {
    pid, ppid: null, comm: `p${pid}`, cmdline: `/bin/p${pid}`, cgroup: '/', uid: 0, user: 'root', threads: 1, cpu_time_s: 1, cpu_pct: 0,
    user_pct: 0, system_pct: 0, runq_wait_pct: 0, vcsw_per_s: 0, ivcsw_per_s: 0, minflt_per_s: 0, majflt_per_s: 0, offcpu_d_pct: null, offcpu_s_pct: null, syscalls_per_s: null, syscr_per_s: 0, syscw_per_s: 0,
    rchar_per_s: 0, wchar_per_s: 0, read_bytes_per_s: 0, write_bytes_per_s: 0, mem_pct: 1, rss_bytes: 1024, rss_anon_bytes: 512,
    rss_file_bytes: 512, rss_shmem_bytes: 0, swap_bytes: 0, vsz_bytes: 4096, ...over,
  };
}

/** A frame of a quiet 1-CPU machine with these threads and processes. */
export function frameWith(threads: ThreadFrame[], processes: ProcessFrame[]): Frame {
  return {
    time: '2026-11-26T00:00:00.000Z', interval_s: 1,
    sampler: { backend: 'native', backend_reason: null, sample_ms: 5, sample_cpu_ms: 4 },
    host: { hostname: 'h', kernel_release: '6.1', kpti_active: false },
    cpus: [{ cpu: 0, user_pct: 50, nice_pct: 0, system_pct: 10, irq_pct: 0, softirq_pct: 5, iowait_pct: 0, steal_pct: 0, idle_pct: 35, ctxsw_per_s: null, syscalls_per_s: null }],
    cpu_total: { user_pct: 50, nice_pct: 0, system_pct: 10, irq_pct: 0, softirq_pct: 5, iowait_pct: 0, steal_pct: 0, idle_pct: 35 },
    system: { ctxsw_per_s: 1000, syscalls_per_s: null, interrupts_per_s: 500, forks_per_s: 1, procs_running: 2, procs_blocked: 0, runnable_waiting: 1, online_cpus: 1, load1: 1, load5: 1, load15: 1 },
    threads_by_state: { R: 1, S: threads.length - 1, D: 0, Z: 0, T: 0, I: 0 },
    softirq_cpus: [0], softirqs: { NET_RX: [10], TIMER: [100] }, softirq_time_pct: { NET_RX: [null], TIMER: [null] }, kernel: { tier: 'proc', reason: 'test frame', syscall_probe_ns: null },
    memory: { total_bytes: 1 << 30, free_bytes: 1 << 28, available_bytes: 1 << 29, anon_bytes: 1 << 27, page_cache_bytes: 1 << 28, shmem_bytes: 1 << 20, buffers_bytes: 1 << 20, slab_bytes: 1 << 24, slab_reclaimable_bytes: 1 << 23, dirty_bytes: 0, writeback_bytes: 0, swap_total_bytes: 0, swap_used_bytes: 0, swap_cached_bytes: 0 },
    paging: { pswpin_per_s: 0, pswpout_per_s: 0, pgmajfault_per_s: 0, pgfault_per_s: 10, pgpgin_kb_per_s: 0, pgpgout_kb_per_s: 0, pgscan_kswapd_per_s: 0, pgscan_direct_per_s: 0, pgscan_per_s: 0, pgsteal_per_s: 0 },
    pressure: null, disks: [], nets: [], softnet: [], threads, processes,
  };
}

