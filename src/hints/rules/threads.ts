// Per-thread and per-process rules: many small syscalls, what a thread's context switches say about
// it, and reads served from the page cache.
import { rwSyscallsPerSec, switchesPerSec } from '../../model/frame.js';
import type { Frame, ProcessFrame, ThreadFrame } from '../../model/frame.js';
import { fmtBytes, fmtCount } from '../../ui/format.js';
import { level } from '../thresholds.js';
import type { Thresholds } from '../thresholds.js';
import { shortName } from '../types.js';
import type { Finding, HintRule } from '../types.js';

/**
 * The busiest `t.maxSubjects` threads that pass `keep`, by the given key. `keep` and `key` are
 * module-level functions: no closure is made per call on a refresh path (README, Performance).
 */
function busiest(frame: Frame, t: Thresholds, keep: (th: ThreadFrame, t: Thresholds) => boolean, key: (th: ThreadFrame) => number): ThreadFrame[] {
  const kept: ThreadFrame[] = [];
  for (const th of frame.threads) if (keep(th, t)) kept.push(th);
  return kept.sort((a, b) => key(b) - key(a)).slice(0, t.maxSubjects);
}

/** How far a thread is into "more kernel than user time, with many syscalls". */
function syscallHeavyLevel(th: ThreadFrame, t: Thresholds): 'on' | 'hold' | null {
  const sys = th.system_pct ?? 0;
  const usr = th.user_pct ?? 0;
  if (usr >= sys) return null;
  return level(sys, t.systemPct) ?? level(rwSyscallsPerSec(th), t.syscallsPerSec);
}

function isSyscallHeavy(th: ThreadFrame, t: Thresholds): boolean {
  return syscallHeavyLevel(th, t) !== null;
}

function systemPct(th: ThreadFrame): number {
  return th.system_pct ?? 0;
}

function switchTotal(th: ThreadFrame): number {
  return switchesPerSec(th) ?? 0;
}

function switchesOften(th: ThreadFrame, t: Thresholds): boolean {
  return level(switchTotal(th), t.threadSwitchesPerSec) !== null;
}

/** A process that reads a lot and little of it from storage. */
function readsFromCache(p: ProcessFrame, t: Thresholds): boolean {
  const lv = level(p.rchar_per_s, t.cacheReadBytesPerSec);
  return lv !== null && p.read_bytes_per_s !== null && p.read_bytes_per_s <= (t.cacheReadStoragePct / 100) * p.rchar_per_s!;
}

/** What page-table isolation (KPTI) adds to each kernel crossing on this host, as a sentence; '' when unknown. */
export function kptiNote(frame: Frame): string {
  switch (frame.host.kpti_active) {
    case true:
      return 'Page-table isolation (KPTI) is on here: every kernel entry and exit also switches page tables, which makes each crossing dearer (with PCID the TLB is not flushed in full, but the switch still costs).';
    case 'vulnerable':
      return 'This CPU is affected by Meltdown but KPTI is off (the mitigation is disabled): crossings skip the page-table switch, at the price of that protection.';
    case false:
      return 'This CPU is not affected by Meltdown, so KPTI is not needed and crossings pay no page-table switch.';
    default:
      return '';
  }
}

const modeSwitchHeavy: HintRule = {
  id: 'syscall-heavy',
  reads: ['threads[].system_pct', 'threads[].user_pct', 'threads[].syscr_per_s', 'threads[].syscw_per_s', 'host.kpti_active'],
  minFrames: 2,
  evaluate(frame, t) {
    return busiest(frame, t, isSyscallHeavy, systemPct).map((th): Finding => ({
      subject: { kind: 'thread', id: th.tid, pid: th.pid },
      level: syscallHeavyLevel(th, t)!,
      severity: 'info',
      message:
        `${shortName(th.comm)} (${th.tid}): ${th.system_pct?.toFixed(0) ?? '-'}% kernel vs ${th.user_pct?.toFixed(0) ?? '-'}% user` +
        (rwSyscallsPerSec(th) === null ? '' : `, ${fmtCount(rwSyscallsPerSec(th))} r/w syscalls/s`),
      explain: [
        'This thread spends more time in the kernel than in its own code: it crosses into kernel mode very often,',
        'usually through many small syscalls (tiny reads and writes, polling, locking). Each crossing has a fixed cost.',
        kptiNote(frame),
        'Batching, larger buffers, or fewer wake-ups help; the Modes view shows the per-CPU split.',
      ].filter((part) => part !== '').join(' '),
    }));
  },
};

const switchMix: HintRule = {
  id: 'switch-mix',
  reads: ['threads[].vcsw_per_s', 'threads[].ivcsw_per_s'],
  minFrames: 3,
  evaluate(frame, t) {
    return busiest(frame, t, switchesOften, switchTotal).flatMap((th): Finding[] => {
      const sum = switchTotal(th);
      const invol = (100 * (th.ivcsw_per_s ?? 0)) / sum;
      const lv = level(sum, t.threadSwitchesPerSec)!;
      const subject = { kind: 'thread' as const, id: th.tid, pid: th.pid };
      if (invol >= t.switchDominancePct) {
        return [{
          subject,
          level: lv,
          severity: 'warn',
          message: `${shortName(th.comm)} (${th.tid}) is preempted ${fmtCount(th.ivcsw_per_s)}/s (${invol.toFixed(0)}% of its switches): CPU contention`,
          explain:
            'Involuntary context switches mean the scheduler took the CPU away while the thread still wanted it: other ' +
            'runnable threads compete for the same CPUs. Check the run-queue wait (WAIT%) and the number of busy threads.',
        }];
      }
      if (100 - invol >= t.switchDominancePct) {
        return [{
          subject,
          level: lv,
          severity: 'info',
          message: `${shortName(th.comm)} (${th.tid}) blocks ${fmtCount(th.vcsw_per_s)}/s (${(100 - invol).toFixed(0)}% voluntary): it waits on I/O or locks`,
          explain:
            'Voluntary context switches mean the thread gave up the CPU itself: it blocked on I/O, a lock, a condition or ' +
            'a timer. Many per second point to fine-grained waiting; its wchan (detail view) tells on what.',
        }];
      }
      return [];
    });
  },
};

const cacheReads: HintRule = {
  id: 'reads-from-cache',
  reads: ['processes[].rchar_per_s', 'processes[].read_bytes_per_s'],
  minFrames: 3,
  evaluate(frame, t) {
    const found: ProcessFrame[] = [];
    for (const p of frame.processes) if (readsFromCache(p, t)) found.push(p);
    return found
      .sort((a, b) => b.rchar_per_s! - a.rchar_per_s!)
      .slice(0, t.maxSubjects)
      .map((p): Finding => ({
        subject: { kind: 'process', id: p.pid },
        level: level(p.rchar_per_s, t.cacheReadBytesPerSec)!,
        severity: 'info',
        message: `${shortName(p.comm)} (${p.pid}) reads ${fmtBytes(p.rchar_per_s)}/s, ${fmtBytes(p.read_bytes_per_s)}/s of it from disk: cache or network`,
        explain:
          'Nearly nothing this process reads comes from storage: /proc counts every byte read through syscalls, so the rest ' +
          'comes from the page cache (files already in RAM) or from sockets and pipes. For file reads, its "disk" speed is ' +
          'memory speed: a benchmark measured this way measures the cache, and the numbers drop once the data no longer ' +
          'fits in RAM or the cache is cold. Its open files (ls -l /proc/PID/fd) tell files from sockets.',
      }));
  },
};

/** The thread and process rules, in display order. */
export const THREAD_RULES: readonly HintRule[] = [switchMix, modeSwitchHeavy, cacheReads];
