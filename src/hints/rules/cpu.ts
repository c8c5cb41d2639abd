// CPU and scheduling rules: softirq load, steal, more runnable work than CPUs, and idle CPUs with
// work blocked off-CPU.
import type { Frame, PressureResourceFrame, ThreadFrame } from '../../model/frame.js';
import { fmtCount } from '../../ui/format.js';
import { level } from '../thresholds.js';
import type { Thresholds } from '../thresholds.js';
import { shortName } from '../types.js';
import type { Finding, HintRule } from '../types.js';

/**
 * PSI "some" share of the last interval (from the stall totals), or the kernel's 10 s average when
 * the interval has none: the average lags, so a burst that ended still shows in it for a while.
 */
export function psiNow(resource: PressureResourceFrame | null | undefined): number | null {
  if (!resource) return null;
  return resource.some_stall_pct ?? resource.some_avg10;
}

/** The type with the largest value on CPU `index` of per-type, per-CPU arrays; null when none is above 0. */
function largest(byType: Record<string, Array<number | null>>, index: number): { type: string; value: number } | null {
  let best: { type: string; value: number } | null = null;
  for (const [type, perCpu] of Object.entries(byType)) {
    const v = perCpu[index];
    if (v !== null && v !== undefined && v > 0 && (!best || v > best.value)) best = { type, value: v };
  }
  return best;
}

/**
 * The softirq type that dominates CPU `index` of the softirq arrays: by time where the kernel probes
 * measured it (a few NET_RX runs can outweigh many short TIMER ones), else by rate.
 */
function dominantSoftirq(frame: Frame, index: number): { type: string; perSec: number | null; timePct: number | null } | null {
  const byTime = largest(frame.softirq_time_pct, index);
  if (byTime) return { type: byTime.type, perSec: frame.softirqs[byTime.type]?.[index] ?? null, timePct: byTime.value };
  const byRate = largest(frame.softirqs, index);
  return byRate && { type: byRate.type, perSec: byRate.value, timePct: null };
}

/** CPU% of ksoftirqd/N for each CPU N. */
function ksoftirqdByCpu(frame: Frame): Map<number, number | null> {
  const out = new Map<number, number | null>();
  for (const t of frame.threads) {
    const m = t.comm.startsWith('ksoftirqd/') ? /^ksoftirqd\/(\d+)$/.exec(t.comm) : null;
    if (m) out.set(Number(m[1]), t.cpu_pct);
  }
  return out;
}

const softirqHigh: HintRule = {
  id: 'softirq-high',
  reads: ['cpus[].softirq_pct', 'softirqs.*', 'threads[].cpu_pct'],
  minFrames: 2,
  evaluate(frame, t) {
    let kd: Map<number, number | null> | null = null;
    const out: Finding[] = [];
    for (const c of frame.cpus) {
      const lv = level(c.softirq_pct, t.softirqPct);
      if (!lv) continue;
      const index = frame.softirq_cpus.indexOf(c.cpu);
      const top = index >= 0 ? dominantSoftirq(frame, index) : null;
      kd ??= ksoftirqdByCpu(frame);
      const kdPct = kd.get(c.cpu) ?? null;
      const deferred = kdPct !== null && kdPct >= t.ksoftirqdBusyPct;
      const share = top?.timePct === null || top?.timePct === undefined ? '' : `${top.timePct.toFixed(0)}% of the CPU, `;
      out.push({
        subject: { kind: 'cpu', id: c.cpu },
        level: lv,
        severity: (c.softirq_pct ?? 0) >= 3 * t.softirqPct.on ? 'crit' : 'warn',
        message: `CPU ${c.cpu}: ${c.softirq_pct!.toFixed(0)}% in softirq, mostly ${top?.type ?? '?'} (${share}${fmtCount(top?.perSec ?? null)}/s)${deferred ? `; ksoftirqd ${kdPct!.toFixed(0)}%` : ''}`,
        explain:
          'Softirqs are the deferred half of interrupt handling: NET_RX processes received packets, NET_TX sends, BLOCK ' +
          'completes disk I/O, TIMER and SCHED run timers and load balancing. Softirq work run on the way out of an ' +
          'interrupt (or when a task re-enables softirqs) counts as %si; on kernels with IRQ time accounting, as most ' +
          'distributions build them, it is not added to the CPU time of the task it interrupted, so it is easy to miss ' +
          'in a process list. Work handed to the per-CPU ksoftirqd thread is charged to that thread. ' +
          (deferred
            ? 'ksoftirqd is busy on this CPU: the work keeps coming back and has been handed to that thread, competing with normal tasks. '
            : '') +
          'For NET_RX on one CPU, check how received packets are spread over CPUs (RSS, RPS); see the Softirq view.',
      });
    }
    return out;
  },
};

const steal: HintRule = {
  id: 'steal',
  reads: ['cpu_total.steal_pct'],
  minFrames: 2,
  evaluate(frame, t) {
    const pct = frame.cpu_total?.steal_pct ?? null;
    const lv = level(pct, t.stealPct);
    if (!lv) return [];
    return [{
      subject: { kind: 'system' },
      level: lv,
      severity: pct! >= 5 * t.stealPct.on ? 'crit' : 'warn',
      message: `steal ${pct!.toFixed(1)}%: the hypervisor gave this VM's CPU time to someone else`,
      explain:
        'Steal time is time a virtual CPU was ready to run but the host ran another guest. Programs here simply get less ' +
        'CPU than the bars suggest, and nothing inside the VM can fix it: look at the host, the instance type or noisy neighbours.',
    }];
  },
};

const runqueue: HintRule = {
  id: 'cpu-saturated',
  reads: ['system.runnable_waiting', 'system.procs_running', 'threads[].runq_wait_pct', 'pressure.*.some_avg10'],
  minFrames: 3,
  evaluate(frame, t) {
    const waiting = frame.system.runnable_waiting;
    const psi = psiNow(frame.pressure?.cpu);
    let worst: ThreadFrame | undefined;
    for (const th of frame.threads) if ((th.runq_wait_pct ?? 0) > (worst?.runq_wait_pct ?? 0)) worst = th;
    const worstWait = worst?.runq_wait_pct ?? null;
    const byQueue = level(waiting, t.runnableWaiting);
    const byPsi = level(psi, t.psiCpuSomePct);
    const byThread = level(worstWait, t.threadRunqWaitPct);
    const lv = byQueue ?? byPsi ?? byThread;
    if (!lv) return [];
    // Say what triggered it, so the line never contradicts its own numbers.
    const cpus = frame.system.online_cpus;
    const evidence = [
      byQueue ? `${frame.system.procs_running} runnable on ${cpus} CPU${cpus === 1 ? '' : 's'}` : null,
      byPsi ? `PSI cpu ${psi!.toFixed(0)}%` : null,
      byThread ? `${shortName(worst!.comm)} waits ${worstWait!.toFixed(0)}% for a CPU` : null,
    ].filter((x) => x !== null);
    return [{
      subject: { kind: 'system' },
      level: lv,
      severity: (psi ?? 0) >= 2 * t.psiCpuSomePct.on ? 'crit' : 'warn',
      message: `CPU-bound: ${evidence.join('; ')}`,
      explain:
        'Threads are runnable but sit on a run queue because every CPU is busy: they are CPU-bound and there is more demand ' +
        'than CPUs. The WAIT% column shows how long each waited; PSI cpu says how much of the time something was waiting. ' +
        'Fewer busy threads, more CPUs, or lower priority (nice) for batch work are the ways out.',
    }];
  },
};

/** Share of all CPU time that is idle or iowait. */
function idlePct(frame: Frame): number | null {
  const c = frame.cpu_total;
  if (!c || c.idle_pct === null) return null;
  return c.idle_pct + (c.iowait_pct ?? 0);
}

const idleButBlocked: HintRule = {
  id: 'idle-but-blocked',
  reads: ['threads_by_state.*', 'cpu_total.idle_pct', 'cpu_total.iowait_pct', 'pressure.*.some_avg10'],
  minFrames: 2,
  evaluate(frame, t) {
    const idle = idlePct(frame);
    if (idle === null || idle < t.cpuIdlePct) return [];
    const d = frame.threads_by_state.D ?? 0;
    const iowait = frame.cpu_total?.iowait_pct ?? null;
    const psiIo = psiNow(frame.pressure?.io);
    const byIo = level(iowait, t.iowaitPct) ?? level(psiIo, t.psiIoSomePct);
    const lv = level(d, t.dThreads) ?? byIo;
    if (!lv) return [];
    // A thread in D is not proof of I/O (a vfork parent waits in D for its child): say I/O only when iowait or PSI io show it.
    return [{
      subject: { kind: 'system' },
      level: lv,
      severity: 'warn',
      message: `CPU ${idle.toFixed(0)}% idle but ${d} thread${d === 1 ? '' : 's'} in D, iowait ${iowait?.toFixed(0) ?? '-'}%, PSI io ${psiIo?.toFixed(0) ?? '-'}%: ${byIo ? 'waiting on I/O' : 'uninterruptible sleep, usually I/O'}`,
      explain:
        'The CPUs have time to spare, yet work is waiting: the problem is off-CPU time, not CPU. Threads in D are in ' +
        'uninterruptible sleep inside the kernel, usually waiting for disk or network storage, though not always (a ' +
        'vfork parent waits in D for its child, some kernel locks sleep in D too). iowait and PSI io tell whether I/O is ' +
        (byIo ? 'what is lost here, and here they show it. ' : 'what is lost; here they stay low, so look at what the threads wait for. ') +
        'The States view lists the blocked threads and how long they have been blocked; their wchan and kernel stack ' +
        '(Enter) show what they wait for.',
    }];
  },
};

/** How a thread looks blocked: in D when sampled, or in D for much of the interval (kernel probes). */
function blockedLevel(th: ThreadFrame, t: Thresholds): 'on' | 'hold' | null {
  return th.state === 'D' ? 'on' : level(th.offcpu_d_pct, t.threadDPct);
}

const blockedThread: HintRule = {
  id: 'thread-blocked',
  reads: ['threads[].state', 'threads[].offcpu_d_pct', 'threads[].wchan'],
  minFrames: 3,
  evaluate(frame, t) {
    // A loop, not a filter callback: no closure is made per call on a refresh path (README, Performance).
    const blocked: ThreadFrame[] = [];
    for (const th of frame.threads) if (blockedLevel(th, t) !== null) blocked.push(th);
    return blocked
      .sort((a, b) => Number(b.state === 'D') - Number(a.state === 'D') || (b.offcpu_d_pct ?? 0) - (a.offcpu_d_pct ?? 0) || a.tid - b.tid)
      .slice(0, t.maxSubjects)
      .map((th: ThreadFrame): Finding => ({
        subject: { kind: 'thread', id: th.tid, pid: th.pid },
        level: blockedLevel(th, t)!,
        severity: 'warn',
        message:
          `${shortName(th.comm)} (${th.tid}) blocked in D${th.wchan ? ` in ${shortName(th.wchan)}` : ''}` +
          `${th.offcpu_d_pct === null ? '' : ` (D ${th.offcpu_d_pct.toFixed(0)}%)`}: Enter shows its kernel stack`,
        explain:
          'This thread keeps sleeping uninterruptibly (D): it waits inside the kernel, usually for I/O, and ordinary signals ' +
          'are not handled until the wait ends (a killable wait still ends on a fatal signal such as SIGKILL). Its ' +
          'user-space stack only shows the syscall it made; where it really waits is on the kernel side. The thread detail ' +
          'shows its wchan and kernel stack (as root): look for block-layer, filesystem, NFS or lock functions.',
      }));
  },
};

/** The CPU and scheduling rules, in display order. */
export const CPU_RULES: readonly HintRule[] = [runqueue, idleButBlocked, blockedThread, softirqHigh, steal];
