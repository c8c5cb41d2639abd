// The first thing to establish about a slow thread: is it on a CPU, waiting for one, blocked on
// I/O, or waiting for a lock or an event? Judged from its time split, state and wchan.
import type { ThreadFrame } from '../model/frame.js';

/** A busy thread's workload class; null for a thread doing (almost) nothing. */
export type WorkloadClass = 'cpu-bound' | 'starved' | 'io-bound' | 'lock-wait' | 'event-wait' | 'sleeping';

/** CPU + run-queue wait (% of one CPU) below which a sleeping thread is not "busy". */
const BUSY_PCT = 5;

/** wchan prefixes of threads waiting on a lock (futex, mutex, rwsem) or an event (poll, epoll, pipe, socket). */
const LOCK_WCHAN = /futex|mutex|rwsem|lock/;
const EVENT_WCHAN = /poll|select|wait_woken|pipe|sk_wait|unix_stream|inet_csk|tcp_|do_sys_poll|ep_/;

/** Classifies a thread from one interval; null when it is idle. */
export function classifyThread(t: ThreadFrame): WorkloadClass | null {
  const cpu = t.cpu_pct ?? 0;
  const wait = t.runq_wait_pct ?? 0;
  if (t.state === 'D') return 'io-bound';
  if (cpu + wait < BUSY_PCT) return null;
  if (wait >= 30 || wait > cpu) return 'starved';
  if (cpu >= 70) return 'cpu-bound';
  if (t.state === 'S' && t.wchan) {
    if (LOCK_WCHAN.test(t.wchan)) return 'lock-wait';
    if (EVENT_WCHAN.test(t.wchan)) return 'event-wait';
  }
  return t.state === 'R' ? 'cpu-bound' : 'sleeping';
}
