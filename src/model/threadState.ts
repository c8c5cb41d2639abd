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
 * For each thread of `frame`, its index in `previous` when it is the very same object (derive shares
 * the frames of idle threads: nothing about such a thread changed), else -1. Threads keep their
 * order from frame to frame, so each is looked for just after the last one found.
 */
export function carriedOver(previous: Frame | null, frame: Frame): Int32Array {
  const from = new Int32Array(frame.threads.length).fill(-1);
  if (!previous) return from;
  const before = previous.threads;
  let next = 0;
  for (let i = 0; i < from.length; i++) {
    const t = frame.threads[i];
    for (let k = next; k < Math.min(before.length, next + 4); k++) {
      if (before[k] === t) {
        from[i] = k;
        break;
      }
    }
    next = from[i] >= 0 ? from[i] + 1 : next + 1;
  }
  return from;
}

/**
 * Updates `since` in place (and returns it) for `frame`, which follows `previous` (null: `since`
 * starts empty): a thread keeps its start time while its group stays the same; a new thread, a
 * changed group or a changed name (a reused tid) starts now; threads no longer in the frame are
 * forgotten.
 */
export function trackStateSince(since: StateSince, frame: Frame, previous: Frame | null): StateSince {
  const now = Date.parse(frame.time);
  const same = carriedOver(previous, frame);
  for (let i = 0; i < frame.threads.length; i++) {
    if (same[i] >= 0) continue;
    const t = frame.threads[i];
    const group = stateGroup(t);
    const old = since.get(t.tid);
    if (old && old.group === group && old.comm === t.comm) continue;
    since.set(t.tid, { group, comm: t.comm, sinceMs: now, atLeast: !old || old.comm !== t.comm });
  }
  // Every thread of the frame has its entry: more entries means some threads are gone.
  if (since.size > frame.threads.length) {
    const present = new Set<number>();
    for (const t of frame.threads) present.add(t.tid);
    for (const tid of since.keys()) if (!present.has(tid)) since.delete(tid);
  }
  return since;
}
