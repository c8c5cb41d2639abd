// What a thread's state letter means, and how long threads have been in their state across frames.
import type { Frame, ThreadFrame } from './frame.js';

/** State groups in the order the States view lists them: what makes a machine slow comes first. */
export const STATE_GROUPS = [
  { id: 'D', title: 'D  uninterruptible: blocked in the kernel, usually waiting for disk I/O' },
  { id: 'Rw', title: 'R  runnable but waiting for a CPU (did not run in the last interval)' },
  { id: 'R', title: 'R  running' },
  { id: 'S', title: 'S  sleeping: waiting for an event, a lock, a timer or network input' },
  { id: 'T', title: 'T  stopped by a signal or a debugger' },
  { id: 'Z', title: 'Z  zombie: exited, waiting for its parent to collect it' },
  { id: 'I', title: 'I  idle kernel thread' },
  { id: '?', title: 'other states' },
] as const;

/** A State-group id. */
export type StateGroupId = (typeof STATE_GROUPS)[number]['id'];

/**
 * True for a thread in R that made no progress over the interval: it sat on a run queue waiting
 * for a CPU (the kernel charges run-queue wait only once the thread finally runs).
 */
export function isWaitingForCpu(t: ThreadFrame): boolean {
  return t.state === 'R' && (t.cpu_pct === 0 || (t.runq_wait_pct !== null && t.cpu_pct !== null && t.runq_wait_pct > t.cpu_pct));
}

/** The States-view group of a thread. */
export function stateGroup(t: ThreadFrame): StateGroupId {
  if (t.state === 'R') return isWaitingForCpu(t) ? 'Rw' : 'R';
  if (t.state === 't') return 'T';
  if (t.state === 'D' || t.state === 'S' || t.state === 'T' || t.state === 'Z' || t.state === 'I') return t.state;
  return '?';
}

/**
 * Since when (wall ms) each thread (by tid) has been in its current state group; `atLeast` when
 * the thread was already in it when first seen (the real start is earlier).
 */
export type StateSince = Map<number, { group: StateGroupId; comm: string; sinceMs: number; atLeast: boolean }>;

/**
 * Updates how long each thread has been in its state: a thread keeps its start time while its
 * group stays the same; a new thread, a changed group or a changed name (a reused tid) starts now.
 */
export function trackStateSince(prev: StateSince, frame: Frame): StateSince {
  const now = Date.parse(frame.time);
  const next: StateSince = new Map();
  for (const t of frame.threads) {
    const group = stateGroup(t);
    const old = prev.get(t.tid);
    if (old && old.group === group && old.comm === t.comm) next.set(t.tid, old);
    else next.set(t.tid, { group, comm: t.comm, sinceMs: now, atLeast: !old || old.comm !== t.comm });
  }
  return next;
}
