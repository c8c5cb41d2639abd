// The I/O view and the Softirq view's softnet rows, rendered from hand-built frames (pure functions).
import { describe, expect, it } from 'vitest';
import type { DiskFrame, Frame, NetFrame, SoftnetFrame } from '../../src/model/frame.js';
import { ioView } from '../../src/ui/panels/io.js';
import type { DeviceSeries } from '../../src/ui/panels/io.js';
import { softirqView } from '../../src/ui/panels/views.js';
import { stripTags } from '../../src/ui/tagged.js';
import { frameWith, proc, thread } from '../model/frameBuilder.js';

const SPARK_CHARS = /[▁▂▃▄▅▆▇█]{5,}/;

function disk(name: string, busy: number, over: Partial<DiskFrame> = {}): DiskFrame {
  return { name, loop: false, reads_per_s: 10, writes_per_s: 20, read_bytes_per_s: 4096, write_bytes_per_s: 8192, await_ms: 1.5, queue_depth: 0.2, busy_pct: busy, ...over };
}

function nic(name: string, bytesPerSec: number, over: Partial<NetFrame> = {}): NetFrame {
  return { name, loopback: name === 'lo', rx_packets_per_s: 10, tx_packets_per_s: 10, rx_bytes_per_s: bytesPerSec / 2, tx_bytes_per_s: bytesPerSec / 2, rx_errors_per_s: 0, tx_errors_per_s: 0, rx_drops_per_s: 0, tx_drops_per_s: 0, ...over };
}

/** A busy I/O frame: three disks (one a loop device), two interfaces, threads in D, processes doing disk I/O. */
function ioFrame(over: Partial<Frame> = {}): Frame {
  const f = frameWith(
    [thread(1, 1), thread(30, 30, { state: 'D', comm: 'dd', wchan: 'io_schedule' }), thread(31, 31, { state: 'D', comm: 'kworker/u4:1', wchan: 'blk_mq_get_tag' })],
    [
      proc(1),
      proc(30, { comm: 'dd', read_bytes_per_s: 0, write_bytes_per_s: 16 * 1024 * 1024 }),
      proc(40, { comm: 'tar', read_bytes_per_s: 30 * 1024 * 1024, write_bytes_per_s: 1024 * 1024 }),
      proc(50, { comm: 'rsync', read_bytes_per_s: 1024 * 1024, write_bytes_per_s: 1024 * 1024 }),
    ],
  );
  return { ...f, disks: [disk('sda', 12), disk('loop3', 40, { loop: true }), disk('nvme0n1', 97, { queue_depth: 8 })], nets: [nic('lo', 5e6), nic('eth0', 2e7)], ...over };
}

/** A series per device, rising, `n` samples long. */
function series(names: string[], n: number): DeviceSeries {
  return new Map(names.map((name) => [name, Array.from({ length: n }, (_, i) => i)]));
}

function render(frame: Frame, width = 124, height = 40): string[] {
  const diskBusy = series(frame.disks.map((d) => d.name), 60);
  const netBytes = series(frame.nets.map((n) => n.name), 60);
  return ioView(frame, diskBusy, netBytes, width, height).map(stripTags);
}

/** Index of the first line starting with `prefix` (after leading spaces). */
function lineOf(lines: string[], prefix: string): number {
  return lines.findIndex((l) => l.trimStart().startsWith(prefix));
}

describe('I/O view', () => {
  it('lists disks busiest first, loop devices marked, each with a sparkline', () => {
    const lines = render(ioFrame());
    const rows = ['nvme0n1', 'loop3 (loop)', 'sda'].map((name) => lineOf(lines, name));
    expect(rows.every((i) => i > 0), lines.join('\n')).toBe(true);
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
    for (const i of rows) expect(lines[i]).toMatch(SPARK_CHARS);
    expect(lines[rows[0]]).toMatch(/97\.0/);
  });

  it('lists interfaces busiest first with sparklines, lo marked', () => {
    const lines = render(ioFrame());
    const eth0 = lineOf(lines, 'eth0');
    const lo = lineOf(lines, 'lo (loopback)');
    expect(eth0).toBeGreaterThan(0);
    expect(lo).toBeGreaterThan(eth0);
    expect(lines[eth0]).toMatch(SPARK_CHARS);
    expect(lines[lo]).toMatch(SPARK_CHARS);
  });

  it('names the span the sparklines cover at the frame interval', () => {
    // 124 columns leave 30 sparkline columns: 30 samples.
    expect(render(ioFrame())[0]).toContain('sparklines: last 30s');
    expect(render(ioFrame({ interval_s: 5 }))[0]).toContain('sparklines: last 2m30s');
    expect(render(ioFrame({ interval_s: 0.25 }), 110)[0]).toContain('sparklines: last 4s');
  });

  it('puts the threads in D under the busiest disk, and the processes by read + write bytes/s', () => {
    const lines = render(ioFrame());
    const d = lines.findIndex((l) => l.startsWith('Threads in D'));
    expect(lines[d]).toBe('Threads in D (busiest disk: nvme0n1, 97.0% busy)');
    expect(lines[d + 1]).toMatch(/^\s+30 io_schedule\s+dd$/);
    expect(lines[d + 2]).toMatch(/^\s+31 blk_mq_get_tag\s+kworker\/u4:1$/);
    const p = lines.findIndex((l) => l.startsWith('Processes by disk reads + writes'));
    expect(p).toBeGreaterThan(d);
    // tar 31M/s, dd 16M/s, rsync 2M/s; pid 1 did no disk I/O and is left out.
    expect(lines.slice(p + 1).map((l) => l.trim().split(/\s+/)[0])).toEqual(['40', '30', '50']);
    expect(lines[p + 1]).toMatch(/read\s+30M\/s write\s+1\.0M\/s\s+tar$/);
  });

  it('shows the busiest interfaces that fit, "+k more", and keeps the threads in D and the processes on screen', () => {
    const veths = Array.from({ length: 60 }, (_, i) => nic(`veth${i}`, (i + 1) * 1000));
    const height = 30;
    const lines = render(ioFrame({ nets: [nic('lo', 500), ...veths] }), 124, height);
    expect(lines.length).toBeLessThanOrEqual(height);
    const shown = lines.filter((l) => /^veth\d+ /.test(l)).map((l) => l.split(' ')[0]);
    expect(shown.length).toBeGreaterThan(3);
    // The busiest, in order: veth59, veth58, ...
    expect(shown).toEqual(shown.map((_, i) => `veth${59 - i}`));
    const more = lines.find((l) => /^\s+\+\d+ more interfaces, less traffic$/.test(l));
    expect(more, lines.join('\n')).toBeDefined();
    expect(Number(/\+(\d+)/.exec(more!)![1])).toBe(61 - shown.length);
    expect(lines.some((l) => l.startsWith('Threads in D (busiest disk: nvme0n1'))).toBe(true);
    expect(lines.some((l) => /^\s+30 io_schedule/.test(l))).toBe(true);
    expect(lines.some((l) => /^\s+40 read/.test(l))).toBe(true);
  });

  it('says so when there are no disks or nothing in D', () => {
    const lines = render(ioFrame({ disks: [], threads: [thread(1, 1)] }));
    expect(lines).toContain('no block devices (or /proc/diskstats not readable)');
    expect(lines).toContain('Threads in D');
    expect(lines).toContain('none right now');
  });
});

describe('Softirq view: softnet rows', () => {
  const softnet: SoftnetFrame[] = [
    { cpu: 0, processed_per_s: 900, dropped_per_s: 0, squeezed_per_s: 3 },
    { cpu: 1, processed_per_s: 40, dropped_per_s: 7, squeezed_per_s: 0 },
  ];

  it('shows processed, dropped and squeezed per CPU right under the NET_RX row', () => {
    const f: Frame = { ...ioFrame(), softirq_cpus: [0, 1], softirqs: { TIMER: [100, 90], NET_RX: [500, 20], RCU: [5, 5] }, softnet };
    const lines = softirqView(f, [], 100).map(stripTags);
    const netRx = lineOf(lines, 'NET_RX');
    expect(netRx).toBeGreaterThan(0);
    expect(lines[netRx + 1].split(/\s+/)).toEqual(['pkts/s', '900', '40']);
    expect(lines[netRx + 2].split(/\s+/)).toEqual(['drops/s', '0', '7']);
    expect(lines[netRx + 3].split(/\s+/)).toEqual(['squeeze/s', '3', '0']);
    expect(lines[netRx + 4]).toMatch(/^RCU\s/);
    expect(lines.filter((l) => /^pkts\/s\s+\d/.test(l))).toHaveLength(1);
  });

  it('paints drops and squeezes as critical', () => {
    const f: Frame = { ...ioFrame(), softirq_cpus: [0, 1], softirqs: { NET_RX: [500, 20] }, softnet };
    const raw = softirqView(f, [], 100);
    const drops = raw.find((l) => stripTags(l).startsWith('drops/s'))!;
    expect(drops).toMatch(/\{[^}]*\}\s*7/);
    expect(stripTags(drops)).toMatch(/^drops\/s\s+0\s+7$/);
  });
});
