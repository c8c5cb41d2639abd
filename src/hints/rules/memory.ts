// Memory rules: swapping, cache that only looks like missing memory, real pressure, direct
// reclaim, dirty data waiting for the disk, and virtual sizes that are not memory use.
import type { Frame, ProcessFrame } from '../../model/frame.js';
import { fmtBytes, fmtCount } from '../../ui/format.js';
import { level, levelBelow } from '../thresholds.js';
import type { Thresholds } from '../thresholds.js';
import { psiNow } from './cpu.js';
import { shortName } from '../types.js';
import type { Finding, HintRule } from '../types.js';

const MEMORY = { kind: 'memory' } as const;

function pctOfRam(frame: Frame, bytes: number | null): number | null {
  const total = frame.memory.total_bytes;
  return bytes === null || !total ? null : (100 * bytes) / total;
}

const swapping: HintRule = {
  id: 'swapping',
  reads: ['paging.pswpin_per_s', 'paging.pswpout_per_s', 'memory.swap_used_bytes'],
  minFrames: 1,
  evaluate(frame, t) {
    const out = frame.paging.pswpout_per_s;
    const inn = frame.paging.pswpin_per_s;
    const total = (out ?? 0) + (inn ?? 0);
    const lv = level(out === null && inn === null ? null : total, t.swapPagesPerSec);
    if (!lv) return [];
    return [{
      subject: MEMORY,
      level: lv,
      severity: total >= t.swapStormPagesPerSec ? 'crit' : 'warn',
      message: `swapping: ${fmtCount(out)} pages/s out, ${fmtCount(inn)} in — anonymous paging, the bad kind`,
      explain:
        'The kernel is moving anonymous memory (heaps, stacks: data no file backs) to the swap device, or reading it back. ' +
        'Unlike dropping page cache, this costs disk I/O on the way out and a stall on the way back: a thread touching a ' +
        'swapped-out page waits for the disk. Look at the Memory view for the processes with the most anonymous memory ' +
        'and the most in swap, and at the memory limits (cgroup) they run under.',
    }];
  },
};

const cacheNotMissing: HintRule = {
  id: 'low-free-is-cache',
  reads: ['memory.free_bytes', 'memory.available_bytes', 'memory.page_cache_bytes'],
  minFrames: 3,
  evaluate(frame, t) {
    const free = pctOfRam(frame, frame.memory.free_bytes);
    const avail = pctOfRam(frame, frame.memory.available_bytes);
    const lv = levelBelow(free, t.lowFreePct);
    if (!lv || avail === null || avail < t.healthyAvailablePct) return [];
    return [{
      subject: MEMORY,
      level: lv,
      severity: 'info',
      message: `free RAM ${free!.toFixed(1)}% but ${avail.toFixed(0)}% available: the rest is page cache, not a shortage`,
      explain:
        'Linux uses otherwise idle RAM to cache file data, so "free" memory shrinks toward zero on a healthy machine. ' +
        `What matters is MemAvailable: free memory plus cache the kernel can drop at once. Here ${fmtBytes(frame.memory.page_cache_bytes)} ` +
        'is page cache. Worry when available memory gets low, swapping starts, or direct reclaim appears.',
    }];
  },
};

const memoryPressure: HintRule = {
  id: 'memory-pressure',
  reads: ['memory.available_bytes', 'paging.pgscan_kswapd_per_s', 'paging.pgmajfault_per_s'],
  minFrames: 2,
  evaluate(frame, t) {
    const avail = pctOfRam(frame, frame.memory.available_bytes);
    const lv = levelBelow(avail, t.lowAvailablePct);
    if (!lv) return [];
    return [{
      subject: MEMORY,
      level: lv,
      severity: 'warn',
      message: `only ${avail!.toFixed(1)}% of RAM available; reclaim ${fmtCount(frame.paging.pgscan_kswapd_per_s)} scans/s, ${fmtCount(frame.paging.pgmajfault_per_s)} major faults/s`,
      explain:
        'Little memory is left even counting reclaimable cache. The kernel now evicts file pages that are still in use ' +
        '(they come back as major faults: reads from disk) and, with swap, anonymous pages. Find what grew in the Memory ' +
        'view (top anonymous memory); page cache being dropped is fine, programs waiting on major faults are not.',
    }];
  },
};

const directReclaim: HintRule = {
  id: 'direct-reclaim',
  reads: ['paging.pgscan_direct_per_s', 'pressure.*.some_avg10'],
  minFrames: 1,
  evaluate(frame, t) {
    const scans = frame.paging.pgscan_direct_per_s;
    const mem = frame.pressure?.memory;
    const psi = psiNow(mem);
    const full = mem ? (mem.full_stall_pct ?? mem.full_avg10) : null;
    const byScans = level(scans, t.directScanPerSec);
    const byPsi = level(psi, t.psiMemorySomePct);
    const lv = byScans ?? byPsi;
    if (!lv) return [];
    const evidence = [
      byScans ? `direct reclaim ${fmtCount(scans)} pages/s` : null,
      byPsi ? `tasks stalled on memory ${psi!.toFixed(1)}% of the time (PSI${full ? `, all at once ${full.toFixed(1)}%` : ''})` : null,
    ].filter((x) => x !== null);
    return [{
      subject: MEMORY,
      level: lv,
      severity: (full ?? 0) >= t.psiMemorySomePct.on ? 'crit' : 'warn',
      message: `allocations stall: ${evidence.join('; ')}`,
      explain:
        'Tasks asking for memory had to free some themselves (direct reclaim) instead of kswapd doing it in the background, ' +
        'and PSI says how much of the time tasks were stalled waiting for memory. Every allocation in these tasks is now ' +
        'slow. Free memory (Memory view: who holds anonymous memory), raise limits, or lower the load.',
    }];
  },
};

const dirtyData: HintRule = {
  id: 'dirty-data',
  reads: ['memory.dirty_bytes', 'memory.writeback_bytes'],
  minFrames: 2,
  evaluate(frame, t) {
    const dirty = frame.memory.dirty_bytes;
    const wb = frame.memory.writeback_bytes;
    const lv = level(dirty === null && wb === null ? null : (dirty ?? 0) + (wb ?? 0), t.dirtyBytes);
    if (!lv) return [];
    return [{
      subject: MEMORY,
      level: lv,
      severity: 'info',
      message: `${fmtBytes(dirty)} dirty and ${fmtBytes(wb)} under writeback: writes wait in the page cache`,
      explain:
        'Programs have written this data, but it sits in RAM until the kernel writes it back. Writes look fast now; an ' +
        'fsync, or hitting the dirty limit (vm.dirty_ratio), will make writers wait for the disk all at once. ' +
        'Look at the processes with the most disk writes per second (H, sort by DWR/s) and at the disk itself.',
    }];
  },
};

/** Virtual size over RSS, for a process big enough to ask (null otherwise). */
function reservedRatio(p: ProcessFrame, t: Thresholds): number | null {
  return p.vsz_bytes === null || p.rss_bytes === null || p.rss_bytes <= 0 || p.vsz_bytes < t.demandPagingMinVszBytes ? null : p.vsz_bytes / p.rss_bytes;
}

const demandPaging: HintRule = {
  id: 'demand-paging',
  reads: ['processes[].vsz_bytes', 'processes[].rss_bytes'],
  minFrames: 5,
  evaluate(frame, t) {
    // A loop, not a filter callback: no closure is made per call on a refresh path (README, Performance).
    const found: ProcessFrame[] = [];
    for (const p of frame.processes) if (level(reservedRatio(p, t), t.demandPagingRatio) !== null) found.push(p);
    return found
      .sort((a, b) => b.vsz_bytes! - a.vsz_bytes!)
      .slice(0, t.demandPagingMaxProcesses)
      .map((p): Finding => ({
        subject: { kind: 'process', id: p.pid },
        level: level(reservedRatio(p, t), t.demandPagingRatio)!,
        severity: 'info',
        message: `${shortName(p.comm)} (${p.pid}): VSZ ${fmtBytes(p.vsz_bytes)} but RSS ${fmtBytes(p.rss_bytes)} — reserved, not used; not a leak`,
        explain:
          'Virtual size counts every mapping a process made, but the kernel backs memory with RAM only when a page is first ' +
          'touched (demand paging). Runtimes reserve large ranges (heaps, thread stacks, JIT areas) up front. RSS is what ' +
          'the process really holds; watch RSS and swap, not VSZ, for leaks.',
      }));
  },
};

/** The memory rules, in display order. */
export const MEMORY_RULES: readonly HintRule[] = [swapping, directReclaim, memoryPressure, dirtyData, cacheNotMissing, demandPaging];

