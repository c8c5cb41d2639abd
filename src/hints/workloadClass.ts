// The first thing to establish about a slow thread: is it on a CPU, waiting for one, blocked (D,
// usually I/O), or sleeping on a lock or an event (S)? Judged from where its time went in the
// interval: the kernel probes split off-CPU time into D and S; without them, the state it was
// sampled in says which of the two the off-CPU time was, and its wchan says what an S sleep waits on.
import type { ThreadFrame } from '../model/frame.js';

/** A busy thread's workload class; null for a thread doing (almost) nothing. */
export type WorkloadClass = 'cpu-bound' | 'starved' | 'io-bound' | 'lock-wait' | 'event-wait' | 'sleeping';

/** Share (%) of the interval on a CPU, waiting for one, or blocked in D below which a thread is not busy. */
const BUSY_PCT = 5;

/** wchan prefixes of threads waiting on a lock (futex, mutex, rwsem) or an event (poll, epoll, pipe, socket). */
const LOCK_WCHAN = /futex|mutex|rwsem|lock/;
const EVENT_WCHAN = /poll|select|wait_woken|pipe|sk_wait|unix_stream|inet_csk|tcp_|do_sys_poll|ep_/;

/** Where a thread's interval went, in % of it. */
interface TimeSplit {
  onCpuPct: number;
  runqWaitPct: number;
  /** Asleep in D (uninterruptible) and in S (interruptible). */
  dPct: number;
  sPct: number;
}

/**
 * A thread's time split: on CPU and run-queue wait from its counters; off-CPU time split into D and
 * S by the kernel probes (offcpu_d_pct, offcpu_s_pct), or else all of it counted in the state the
 * thread was sampled in (D, or S for any other).
 */
function timeSplit(t: ThreadFrame): TimeSplit {
  const onCpuPct = t.cpu_pct ?? 0;
  const runqWaitPct = t.runq_wait_pct ?? 0;
  if (t.offcpu_d_pct !== null && t.offcpu_s_pct !== null) return { onCpuPct, runqWaitPct, dPct: t.offcpu_d_pct, sPct: t.offcpu_s_pct };
  const offPct = Math.max(0, 100 - onCpuPct - runqWaitPct);
  return t.state === 'D' ? { onCpuPct, runqWaitPct, dPct: offPct, sPct: 0 } : { onCpuPct, runqWaitPct, dPct: 0, sPct: offPct };
}

/** Classifies a thread by the largest part of its time split; null when it is idle. */
export function classifyThread(t: ThreadFrame): WorkloadClass | null {
  const s = timeSplit(t);
  if (s.onCpuPct + s.runqWaitPct + s.dPct < BUSY_PCT) return null;
  const largest = Math.max(s.onCpuPct, s.runqWaitPct, s.dPct, s.sPct);
  if (s.onCpuPct === largest) return 'cpu-bound';
  if (s.runqWaitPct === largest) return 'starved';
  if (s.dPct === largest) return 'io-bound';
  if (t.wchan && LOCK_WCHAN.test(t.wchan)) return 'lock-wait';
  if (t.wchan && EVENT_WCHAN.test(t.wchan)) return 'event-wait';
  return 'sleeping';
}
