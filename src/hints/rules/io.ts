// Disk and network rules: a saturated device, a device getting slower at the same load, receive
// work stuck on one CPU, and packets the kernel could not keep up with.
import type { Frame } from '../../model/frame.js';
import { fmtBytes, fmtCount } from '../../ui/format.js';
import { level } from '../thresholds.js';
import { shortName } from '../types.js';
import type { Finding, HintRule } from '../types.js';

/** Median of the numbers (nulls ignored); null when there are none. */
function median(values: Array<number | null | undefined>): number | null {
  const v = values.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor(v.length / 2)];
}

const diskSaturated: HintRule = {
  id: 'disk-saturated',
  reads: ['disks[].busy_pct', 'disks[].queue_depth', 'disks[].await_ms'],
  minFrames: 2,
  evaluate(frame, t) {
    return frame.disks.flatMap((d): Finding[] => {
      const lv = level(d.busy_pct, t.diskBusyPct);
      if (!lv || (d.queue_depth ?? 0) < t.diskQueueDepth) return [];
      return [{
        subject: { kind: 'system' },
        level: lv,
        severity: (d.queue_depth ?? 0) >= 4 * t.diskQueueDepth ? 'crit' : 'warn',
        message: `disk ${shortName(d.name)} ${d.busy_pct!.toFixed(0)}% busy, queue ${d.queue_depth!.toFixed(1)}, await ${d.await_ms?.toFixed(0) ?? '-'} ms: I/O queues up`,
        explain:
          'The device had I/O in flight nearly all the time, with requests queued. Busy % only says that something was in ' +
          'flight: a disk that serves one request at a time (a single spinning disk) is saturated near 100%, but devices ' +
          'that serve many at once (NVMe and SATA SSDs, RAID, network and virtual disks) can be 100% busy with room to ' +
          'spare. For those, judge by the queue depth and await: a long queue with await well above what the device ' +
          'normally takes means requests wait for each other. Threads in D are often waiting here. Find who does the I/O ' +
          '(the I/O view: processes by disk bytes/s), cut it, spread it over devices, or move to faster storage.',
      }];
    });
  },
};

const awaitRising: HintRule = {
  id: 'disk-slower',
  reads: ['disks[].await_ms', 'disks[].read_bytes_per_s', 'disks[].write_bytes_per_s'],
  minFrames: 2,
  evaluate(frame, t, recent) {
    if (recent.length < 3) return [];
    return frame.disks.flatMap((d): Finding[] => {
      const before = recent.map((f) => f.disks.find((x) => x.name === d.name));
      const awaitBefore = median(before.map((x) => x?.await_ms));
      const bytes = (x: { read_bytes_per_s: number | null; write_bytes_per_s: number | null } | undefined): number | null =>
        x ? (x.read_bytes_per_s ?? 0) + (x.write_bytes_per_s ?? 0) : null;
      const bytesBefore = median(before.map(bytes));
      const now = bytes(d);
      if (d.await_ms === null || awaitBefore === null || bytesBefore === null || now === null || bytesBefore === 0) return [];
      const flat = Math.abs(now - bytesBefore) <= t.diskFlatThroughputPct / 100 * bytesBefore;
      const ratio = d.await_ms / Math.max(awaitBefore, 0.1);
      const lv = level(ratio, t.diskAwaitRise);
      if (!lv || !flat || d.await_ms < t.diskAwaitMinMs) return [];
      return [{
        subject: { kind: 'system' },
        level: lv,
        severity: 'warn',
        message: `disk ${shortName(d.name)}: await ${d.await_ms.toFixed(0)} ms, ${ratio.toFixed(1)}x before, at the same ${fmtBytes(now)}/s`,
        explain:
          'Each I/O takes longer than it did a moment ago although the amount of I/O has not grown: the device itself got ' +
          'slower. Typical causes are other tenants of shared or virtual storage, an SSD doing garbage collection, a RAID ' +
          'rebuild, or I/O throttling. Look at the device and its host, not at the programs here.',
      }];
    });
  },
};

/** Share (%) of received packets that came in on loopback; null when no interface has a receive rate. */
function loopbackRxSharePct(frame: Frame): number | null {
  let loopback = 0;
  let all = 0;
  for (const n of frame.nets) {
    if (n.rx_packets_per_s === null) continue;
    all += n.rx_packets_per_s;
    if (n.loopback) loopback += n.rx_packets_per_s;
  }
  return all > 0 ? (100 * loopback) / all : null;
}

const netRxOneCpu: HintRule = {
  id: 'net-rx-one-cpu',
  reads: ['softirqs.*', 'cpus[].softirq_pct', 'cpus[].idle_pct', 'nets[].rx_packets_per_s', 'nets[].loopback'],
  minFrames: 3,
  evaluate(frame, t) {
    const rx = frame.softirqs.NET_RX;
    if (!rx || frame.softirq_cpus.length < 2) return [];
    const total = rx.reduce<number>((a, b) => a + (b ?? 0), 0);
    if (total < t.netRxPerSec) return [];
    // Loopback packets are received on the CPU that sent them: where they land says nothing about network cards.
    if ((loopbackRxSharePct(frame) ?? 0) >= t.netRxLoopbackSharePct) return [];
    let top = 0;
    for (let i = 1; i < rx.length; i++) if ((rx[i] ?? 0) > (rx[top] ?? 0)) top = i;
    const share = (100 * (rx[top] ?? 0)) / total;
    const cpu = frame.softirq_cpus[top];
    const busy = frame.cpus.find((c) => c.cpu === cpu);
    const idleOthers = frame.cpus.filter((c) => c.cpu !== cpu && (c.idle_pct ?? 0) >= t.cpuIdlePct);
    const lv = level(share, t.netRxOneCpuSharePct);
    if (!lv || (busy?.softirq_pct ?? 0) < t.softirqPct.hold || idleOthers.length === 0) return [];
    return [{
      subject: { kind: 'cpu', id: cpu },
      level: lv,
      severity: 'info',
      message: `NET_RX: ${share.toFixed(0)}% of ${fmtCount(total)}/s on CPU ${cpu} while ${idleOthers.length} other CPU${idleOthers.length === 1 ? ' idles' : 's idle'}`,
      explain:
        'Almost all received packets are processed on one CPU, which saturates in softirq while others have time. For ' +
        'packets from a network card, the card delivers them on one queue, or all its queues interrupt the same CPU: more ' +
        'queues with spread IRQ affinity (RSS), or RPS (/sys/class/net/IF/queues/rx-*/rps_cpus), spread the work. Packets ' +
        'between local endpoints (veth pairs of containers, tun/tap) are usually received on the CPU that sent them, so ' +
        'there it follows where the senders run; RPS can spread those too. The I/O view shows which interfaces carry them.',
    }];
  },
};

const softnetDrops: HintRule = {
  id: 'softnet-drops',
  reads: ['softnet[].dropped_per_s', 'softnet[].squeezed_per_s'],
  minFrames: 1,
  evaluate(frame, t) {
    return frame.softnet.flatMap((s): Finding[] => {
      const dropped = s.dropped_per_s ?? 0;
      const squeezed = s.squeezed_per_s ?? 0;
      const lv = level(dropped + squeezed, t.softnetEventsPerSec);
      if (!lv) return [];
      return [{
        subject: { kind: 'cpu', id: s.cpu },
        level: lv,
        severity: dropped > 0 ? 'crit' : 'warn',
        message: `CPU ${s.cpu}: ${fmtCount(dropped)} packets/s dropped, NET_RX out of budget ${fmtCount(squeezed)}/s: receive cannot keep up`,
        explain:
          'Dropped: the per-CPU backlog of received packets was full, so the kernel threw packets away. Squeezed: the NET_RX ' +
          'softirq used up its budget (net.core.netdev_budget) with packets still waiting. Either way packets arrive faster ' +
          'than this CPU processes them; spread receive work over CPUs (RSS/RPS) or raise the budget and backlog.',
      }];
    });
  },
};

/** The disk and network rules, in display order. */
export const IO_RULES: readonly HintRule[] = [diskSaturated, awaitRising, softnetDrops, netRxOneCpu];
