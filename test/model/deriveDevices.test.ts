// derive for block devices, network interfaces and softnet: rates, hot-plug, resets, old recordings.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/model/derive.js';
import type { DiskStat, NetDevStat, Snapshot, SoftnetStat } from '../../src/model/snapshot.js';
import { RecordingReader } from '../../src/store/reader.js';
import { makeSnapshot } from './snapshotBuilder.js';

function disk(name: string, c: Partial<DiskStat> = {}): DiskStat {
  return { name, kernelName: name, loop: false, readsCompleted: 0, sectorsRead: 0, readMs: 0, writesCompleted: 0, sectorsWritten: 0, writeMs: 0, inFlight: 0, ioTicksMs: 0, weightedMs: 0, ...c };
}

function nic(name: string, c: Partial<NetDevStat> = {}): NetDevStat {
  return { name, loopback: name === 'lo', rxBytes: 0, rxPackets: 0, rxErrs: 0, rxDrop: 0, txBytes: 0, txPackets: 0, txErrs: 0, txDrop: 0, ...c };
}

function softnet(cpu: number, processed: number, dropped = 0, timeSqueeze = 0): SoftnetStat {
  return { cpu, processed, dropped, timeSqueeze };
}

/** Every number in a value, with its path. */
function numbers(value: unknown, path = ''): Array<[string, number]> {
  if (typeof value === 'number') return [[path, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
}

const NULL_DISK = { reads_per_s: null, writes_per_s: null, read_bytes_per_s: null, write_bytes_per_s: null, await_ms: null, queue_depth: null, busy_pct: null };
const NULL_NET = { rx_packets_per_s: null, tx_packets_per_s: null, rx_bytes_per_s: null, tx_bytes_per_s: null, rx_errors_per_s: null, tx_errors_per_s: null, rx_drops_per_s: null, tx_drops_per_s: null };

describe('derive: disks', () => {
  it('turns diskstats counters into iostat-style rates over the interval', () => {
    const prev = makeSnapshot(0, { diskstats: [disk('sda', { readsCompleted: 100, sectorsRead: 1000, readMs: 50, writesCompleted: 200, sectorsWritten: 8000, writeMs: 300, ioTicksMs: 1000, weightedMs: 2000 })] });
    const cur = makeSnapshot(2, {
      diskstats: [disk('sda', { readsCompleted: 300, sectorsRead: 5000, readMs: 450, writesCompleted: 400, sectorsWritten: 16192, writeMs: 700, inFlight: 3, ioTicksMs: 2500, weightedMs: 5000 })],
    });
    const f = derive(prev, cur);
    expect(f.disks).toEqual([
      {
        name: 'sda',
        loop: false,
        reads_per_s: 100,
        writes_per_s: 100,
        read_bytes_per_s: 2000 * 512,
        write_bytes_per_s: 4096 * 512,
        // (400 + 400) ms over 400 I/Os.
        await_ms: 2,
        // 3000 weighted ms over 2000 ms.
        queue_depth: 1.5,
        // 1500 ms busy of 2000.
        busy_pct: 75,
      },
    ]);
  });

  it('gives no await without I/O, and clamps busy to 100', () => {
    const prev = makeSnapshot(0, { diskstats: [disk('vda', { ioTicksMs: 10 }), disk('loop1', { loop: true, writesCompleted: 5, writeMs: 5 })] });
    const cur = makeSnapshot(1, { diskstats: [disk('vda', { ioTicksMs: 1100 }), disk('loop1', { loop: true, writesCompleted: 5, writeMs: 5 })] });
    const f = derive(prev, cur);
    expect(f.disks[0]).toMatchObject({ name: 'vda', reads_per_s: 0, writes_per_s: 0, await_ms: null, busy_pct: 100 });
    expect(f.disks[1]).toMatchObject({ name: 'loop1', writes_per_s: 0, await_ms: null, busy_pct: 0, queue_depth: 0 });
  });

  it('gives nulls for a device that appeared, drops one that vanished, and never a negative rate', () => {
    const prev = makeSnapshot(0, { diskstats: [disk('sda', { readsCompleted: 10 }), disk('sdb', { readsCompleted: 50 })] });
    const cur = makeSnapshot(1, { diskstats: [disk('sda', { readsCompleted: 20 }), disk('sdc', { readsCompleted: 5000, ioTicksMs: 900 })] });
    const f = derive(prev, cur);
    expect(f.disks.map((d) => d.name)).toEqual(['sda', 'sdc']);
    expect(f.disks[0].reads_per_s).toBe(10);
    expect(f.disks[1]).toEqual({ name: 'sdc', loop: false, ...NULL_DISK });
    for (const [p, v] of numbers(f.disks)) expect(Number.isNaN(v) || v < 0, p).toBe(false);
  });

  it('treats a device whose counters went backwards as a new one (removed and re-created): all nulls', () => {
    const prev = makeSnapshot(0, { diskstats: [disk('loop0', { loop: true, readsCompleted: 500, sectorsRead: 9000, writesCompleted: 10, ioTicksMs: 400 })] });
    // Detached and attached again: reads started over, writes happen to be higher already.
    const cur = makeSnapshot(1, { diskstats: [disk('loop0', { loop: true, readsCompleted: 3, sectorsRead: 24, writesCompleted: 900, ioTicksMs: 600 })] });
    expect(derive(prev, cur).disks).toEqual([{ name: 'loop0', loop: true, ...NULL_DISK }]);
    const back = derive(cur, prev);
    for (const [p, v] of numbers(back.disks)) expect(Number.isNaN(v) || v < 0, p).toBe(false);
  });

  it('counts a 32-bit millisecond field that wrapped at 2^32 modulo 2^32 while the I/O counts grew', () => {
    const U32 = 2 ** 32;
    // Every ms field 1000 ms short of the wrap, then past it: 1000 ms before, plus what the counts imply.
    const near = (ms: number): number => U32 - 1000 + ms;
    const prev = makeSnapshot(0, { diskstats: [disk('sda', { readsCompleted: 100, sectorsRead: 800, readMs: near(0), writesCompleted: 50, sectorsWritten: 400, writeMs: near(500), ioTicksMs: near(200), weightedMs: near(900) })] });
    const cur = makeSnapshot(2, {
      // reads +200 taking 1600 ms; writes +100 taking 800 ms (500 + 300 past the wrap); busy 1600 ms; weighted 3000 ms.
      diskstats: [disk('sda', { readsCompleted: 300, sectorsRead: 2400, readMs: 600, writesCompleted: 150, sectorsWritten: 1200, writeMs: 300, ioTicksMs: 800, weightedMs: 2900 })],
    });
    expect(derive(prev, cur).disks).toEqual([
      { name: 'sda', loop: false, reads_per_s: 100, writes_per_s: 50, read_bytes_per_s: 800 * 512, write_bytes_per_s: 400 * 512, await_ms: 2400 / 300, queue_depth: 1.5, busy_pct: 80 },
    ]);
  });

  it('still takes I/O counts that went backwards for a re-created device, even when ms fields wrapped too', () => {
    const prev = makeSnapshot(0, { diskstats: [disk('loop2', { loop: true, readsCompleted: 900, sectorsRead: 7200, readMs: 2 ** 32 - 10, ioTicksMs: 2 ** 32 - 10 })] });
    const cur = makeSnapshot(1, { diskstats: [disk('loop2', { loop: true, readsCompleted: 4, sectorsRead: 32, readMs: 3, ioTicksMs: 5 })] });
    expect(derive(prev, cur).disks).toEqual([{ name: 'loop2', loop: true, ...NULL_DISK }]);
    // Counts kept growing but one ms field is behind and the others are not: modular for that field only.
    const grew = makeSnapshot(1, { diskstats: [disk('loop2', { loop: true, readsCompleted: 910, sectorsRead: 7280, readMs: 10, ioTicksMs: 2 ** 32 - 5 })] });
    expect(derive(prev, grew).disks[0]).toMatchObject({ reads_per_s: 10, await_ms: 2, busy_pct: 0.5 });
  });

  it('gives nulls for an empty interval and no disks when diskstats is absent', () => {
    const s = makeSnapshot(1, { diskstats: [disk('sda', { readsCompleted: 5, readMs: 5 })] });
    expect(derive(s, s).disks).toEqual([{ name: 'sda', loop: false, ...NULL_DISK }]);
    expect(derive(makeSnapshot(0), makeSnapshot(1)).disks).toEqual([]);
    expect(derive(makeSnapshot(0, { diskstats: null }), makeSnapshot(1, { diskstats: null })).disks).toEqual([]);
    // diskstats came back: every device is new.
    expect(derive(makeSnapshot(0, { diskstats: null }), s).disks[0]).toMatchObject(NULL_DISK);
  });
});

describe('derive: nets and softnet', () => {
  it('turns /proc/net/dev counters into per-second rates; lo stays marked', () => {
    const prev = makeSnapshot(0, { netdev: [nic('lo', { rxBytes: 1000, txBytes: 1000, rxPackets: 10, txPackets: 10 }), nic('eth0', { rxErrs: 1, txDrop: 2 })] });
    const cur = makeSnapshot(0.5, {
      netdev: [nic('lo', { rxBytes: 51000, txBytes: 51000, rxPackets: 60, txPackets: 60 }), nic('eth0', { rxBytes: 500, rxPackets: 1, rxErrs: 2, rxDrop: 3, txErrs: 4, txDrop: 7 })],
    });
    const f = derive(prev, cur);
    expect(f.nets).toEqual([
      { name: 'lo', loopback: true, rx_packets_per_s: 100, tx_packets_per_s: 100, rx_bytes_per_s: 100000, tx_bytes_per_s: 100000, rx_errors_per_s: 0, tx_errors_per_s: 0, rx_drops_per_s: 0, tx_drops_per_s: 0 },
      { name: 'eth0', loopback: false, rx_packets_per_s: 2, tx_packets_per_s: 0, rx_bytes_per_s: 1000, tx_bytes_per_s: 0, rx_errors_per_s: 2, tx_errors_per_s: 8, rx_drops_per_s: 6, tx_drops_per_s: 10 },
    ]);
  });

  it('gives nulls for an interface that appeared or was re-created, and drops one that vanished', () => {
    const prev = makeSnapshot(0, { netdev: [nic('veth1', { rxBytes: 5000 }), nic('veth2', { rxBytes: 10 }), nic('eth0', { txBytes: 7 })] });
    const cur = makeSnapshot(1, { netdev: [nic('veth1', { rxBytes: 100, txBytes: 200 }), nic('eth0', { txBytes: 8 }), nic('wg0', { rxBytes: 1e9 })] });
    const f = derive(prev, cur);
    expect(f.nets.map((n) => n.name)).toEqual(['veth1', 'eth0', 'wg0']);
    expect(f.nets[0]).toEqual({ name: 'veth1', loopback: false, ...NULL_NET });
    expect(f.nets[1].tx_bytes_per_s).toBe(1);
    expect(f.nets[2]).toEqual({ name: 'wg0', loopback: false, ...NULL_NET });
    for (const [p, v] of numbers(derive(cur, prev).nets)) expect(Number.isNaN(v) || v < 0, p).toBe(false);
  });

  it('computes softnet rates per CPU by number; a CPU that came online or a counter that wrapped gives null', () => {
    const prev = makeSnapshot(0, { softnet: [softnet(0, 1000, 5, 1), softnet(1, 0xfffffff0, 0, 0)] });
    const cur = makeSnapshot(1, { softnet: [softnet(0, 3000, 7, 4), softnet(1, 0x10, 1, 2), softnet(2, 50)] });
    expect(derive(prev, cur).softnet).toEqual([
      { cpu: 0, processed_per_s: 2000, dropped_per_s: 2, squeezed_per_s: 3 },
      // processed wrapped at 2^32: no rate for it; the other counters still have theirs.
      { cpu: 1, processed_per_s: null, dropped_per_s: 1, squeezed_per_s: 2 },
      { cpu: 2, processed_per_s: null, dropped_per_s: null, squeezed_per_s: null },
    ]);
  });
});

describe('derive: snapshots without device data (recordings made before it existed)', () => {
  it('derives empty disks, nets and softnet from snapshots that lack the fields', () => {
    const old: Snapshot = makeSnapshot(0);
    expect('diskstats' in old).toBe(false);
    const f = derive(old, makeSnapshot(1));
    expect([f.disks, f.nets, f.softnet]).toEqual([[], [], []]);
    // A new snapshot after an old one: devices appear, without rates.
    const g = derive(old, makeSnapshot(1, { diskstats: [disk('sda', { readsCompleted: 1 })], netdev: [nic('lo', { rxBytes: 1 })], softnet: [softnet(0, 1)] }));
    expect(g.disks[0]).toMatchObject(NULL_DISK);
    expect(g.nets[0]).toMatchObject(NULL_NET);
    expect(g.softnet[0].processed_per_s).toBeNull();
  });

  it('replays the committed v1 recording: no device fields, empty lists, no crash', () => {
    const reader = RecordingReader.open(fileURLToPath(new URL('../fixtures/recordings/v1.whytop', import.meta.url)), { verify: true });
    const samples = [...reader.samples()];
    reader.close();
    expect(samples.length).toBeGreaterThan(1);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i].diskstats).toBeUndefined();
      const f = derive(samples[i - 1], samples[i]);
      expect([f.disks, f.nets, f.softnet]).toEqual([[], [], []]);
    }
  });
});
