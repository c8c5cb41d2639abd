// Parsers of /proc/diskstats, /proc/net/dev and /proc/net/softnet_stat on fixture trees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDiskstats, partitionParentByName, readDiskstats, sysLookup } from '../../src/sources/diskstats.js';
import { parseNetDev, parseSoftnet, readNetDev, readSoftnet } from '../../src/sources/netdev.js';
import { sysRootOf } from '../../src/sources/sysRoot.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/proc', import.meta.url));
const fx = (scenario: string): string => `${FIXTURES}/${scenario}`;
/** test/fixtures/host: proc (the threads scenario) with a sys beside it (the devices scenario's sysfs). */
const HOST = fileURLToPath(new URL('../fixtures/host', import.meta.url));

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temp tree of files (path → content), removed after the tests; returns its root. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-devices-'));
  temps.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('sysRootOf: the sysfs that goes with a proc root', () => {
  it('is the sys directory beside a root named proc, when there is one', () => {
    expect(sysRootOf('/proc')).toBe('/sys');
    expect(sysRootOf('/proc/')).toBe('/sys');
    expect(sysRootOf(`${HOST}/proc`)).toBe(`${HOST}/sys`);
    expect(sysRootOf(path.relative(process.cwd(), `${HOST}/proc`))).toBe(`${HOST}/sys`);
    // Named otherwise, or no sys beside it: none.
    expect(sysRootOf(fx('devices'))).toBeNull();
    expect(sysRootOf(`${tree({ 'proc/diskstats': '' })}/proc`)).toBeNull();
  });
});

/** Counters in the kernel's column order (reads, sectors read, ms reading, writes, ..., weighted ms). */
function disk(name: string, loop: boolean, c: number[], kernelName = name) {
  const [readsCompleted, sectorsRead, readMs, writesCompleted, sectorsWritten, writeMs, inFlight, ioTicksMs, weightedMs] = c;
  return { name, kernelName, loop, readsCompleted, sectorsRead, readMs, writesCompleted, sectorsWritten, writeMs, inFlight, ioTicksMs, weightedMs };
}

describe('parseDiskstats / readDiskstats', () => {
  it('reads the 20-column format (5.5+): whole disks only, partitions folded, ram and unused loop devices left out', () => {
    const d = readDiskstats(fx('threads'));
    expect(d).toEqual([
      disk('loop1', true, [412, 9208, 31, 2048, 524288, 1790, 0, 1820, 1821]),
      disk('vda', false, [982842, 55379354, 579397, 603530, 151885208, 1610773, 2, 345560, 2272517]),
      // No /sys for a fixture root: the dm device keeps its kernel name.
      disk('dm-0', false, [5000, 80000, 900, 7000, 112000, 3000, 1, 2500, 3900]),
      disk('sr0', false, [12, 96, 3, 0, 0, 0, 0, 8, 3]),
    ]);
  });

  it('reads the 18-column format (4.18-5.4) the same way', () => {
    const d = parseDiskstats(' 8 0 sda 10 1 80 5 20 2 160 7 0 9 12 3 0 24 1\n 8 1 sda1 10 1 80 5 20 2 160 7 0 9 12 3 0 24 1\n');
    expect(d).toEqual([disk('sda', false, [10, 80, 5, 20, 160, 7, 0, 9, 12])]);
  });

  it('reads the 14-column format (before 4.18) and skips what it cannot read', () => {
    const d = readDiskstats(fx('devices'));
    expect(d?.map((x) => x.name)).toEqual(['loop1', 'sda', 'nvme0n1', 'dm-0', 'dm-1', 'odd', 'oddpart', 'mmcblk0']);
    // The first sda line wins over the duplicate; sda1/sda2 (and the old 7-column sda3) are inside it.
    expect(d![1]).toEqual(disk('sda', false, [1000, 20000, 500, 2000, 64000, 4000, 1, 3000, 4500]));
    // Partitions whose disk has no line: summed under the disk's name (busy time: the longest).
    expect(d![7]).toEqual(disk('mmcblk0', false, [30, 240, 15, 10, 80, 6, 1, 9, 21]));
    expect(d![0].loop).toBe(true);
  });

  it('names dm devices and finds partitions through /sys when it has one', () => {
    const d = readDiskstats(fx('devices'), `${fx('devices')}/sysfs`);
    expect(d?.map((x) => [x.name, x.kernelName])).toEqual([
      ['loop1', 'loop1'],
      ['sda', 'sda'],
      ['nvme0n1', 'nvme0n1'],
      ['vg0-root', 'dm-0'],
      ['vg0-swap', 'dm-1'],
      // oddpart follows no naming pattern: only /sys tells that it is a partition of odd.
      ['odd', 'odd'],
      ['mmcblk0', 'mmcblk0'],
    ]);
  });

  it('names dm devices from the sys beside a proc root named proc (fixture trees as well as /proc)', () => {
    const d = readDiskstats(`${HOST}/proc`);
    expect(d?.map((x) => [x.name, x.kernelName, x.loop])).toEqual([
      ['loop1', 'loop1', true],
      ['vda', 'vda', false],
      ['vg0-root', 'dm-0', false],
      ['sr0', 'sr0', false],
    ]);
    // An explicit null: no sysfs, kernel names.
    expect(readDiskstats(`${HOST}/proc`, null)?.map((x) => x.name)).toContain('dm-0');
  });

  it('marks a loop device loop, by major or by name, partitions folded in', () => {
    // A partitioned loop device whose disk line is missing: the partition's extended major (259), the disk's name.
    const d = parseDiskstats(' 259 0 loop5p1 10 0 80 5 20 0 160 7 0 9 12\n 7 6 loop6 1 0 8 1 0 0 0 0 0 1 1\n 8 0 sda 1 0 8 1 0 0 0 0 0 1 1\n');
    expect(d.map((x) => [x.name, x.loop])).toEqual([['loop6', true], ['sda', false], ['loop5', true]]);
  });

  it('tells partitions by name when /sys cannot', () => {
    const known = new Set(['sda', 'nvme0n1', 'md0', 'xvda', 'foo1', 'bar']);
    const cases: Array<[string, string | null]> = [
      ['sda1', 'sda'], ['sdab12', 'sdab'], ['vdb3', 'vdb'], ['xvda1', 'xvda'], ['hda2', 'hda'],
      ['nvme0n1p2', 'nvme0n1'], ['nvme1n1p1', 'nvme1n1'], ['mmcblk0p1', 'mmcblk0'], ['loop3p1', 'loop3'], ['md0p1', 'md0'],
      ['foo1p2', 'foo1'], ['bar3', 'bar'],
      ['sda', null], ['nvme0n1', null], ['mmcblk0', null], ['dm-0', null], ['md127', null], ['loop3', null], ['zram0', null], ['sr0', null],
      ['foo12', null], ['barp3', null],
    ];
    for (const [name, parent] of cases) expect(partitionParentByName(name, known), name).toBe(parent);
  });

  it('uses a sysfs lookup for names only, and null for a missing file', () => {
    const sys = sysLookup(`${fx('devices')}/sysfs`);
    expect(sys.dmName('dm-0')).toBe('vg0-root');
    expect(sys.dmName('dm-9')).toBeNull();
    expect(sys.partitionParent('sda2', '8:2')).toBe('sda');
    expect(sys.partitionParent('sda', '8:0')).toBeNull();
    expect(sys.partitionParent('nope1', '1:1')).toBeUndefined();
    expect(readDiskstats(fx('basic'))).toBeNull();
    expect(parseDiskstats('')).toEqual([]);
  });

  it('reads this machine: whole disks with counters that are whole numbers', () => {
    const d = readDiskstats('/proc');
    expect(d).not.toBeNull();
    for (const x of d!) {
      expect(x.name, x.name).not.toMatch(/^ram\d/);
      for (const v of Object.values(x)) if (typeof v === 'number') expect(Number.isInteger(v) && v >= 0, x.name).toBe(true);
    }
  });
});

describe('parseNetDev / readNetDev', () => {
  it('reads interfaces with their receive and transmit counters; lo is marked', () => {
    expect(readNetDev(fx('threads'))).toEqual([
      { name: 'lo', loopback: true, rxBytes: 130997389394, rxPackets: 3320062, rxErrs: 0, rxDrop: 0, txBytes: 130997389394, txPackets: 3320062, txErrs: 0, txDrop: 0 },
      { name: 'eth0', loopback: false, rxBytes: 247904673, rxPackets: 7044, rxErrs: 3, rxDrop: 9, txBytes: 537659, txPackets: 4485, txErrs: 1, txDrop: 2 },
    ]);
  });

  it('reads the old format (no space after the colon) and skips short, garbled and repeated lines', () => {
    const n = readNetDev(fx('devices'));
    expect(n?.map((x) => x.name)).toEqual(['lo', 'eth0']);
    expect(n![1]).toMatchObject({ rxBytes: 4294967295, rxPackets: 123456, rxErrs: 1, rxDrop: 2, txBytes: 987654321, txPackets: 65432, txErrs: 3, txDrop: 4 });
    expect(parseNetDev('')).toEqual([]);
    expect(readNetDev(fx('basic'))).toBeNull();
  });

  it('marks loopback by link type in the sys beside a proc root named proc', () => {
    const dev = 'Inter-| Receive | Transmit\n face |bytes packets|bytes packets\n';
    const line = (name: string) => `${name}: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`;
    const root = tree({ 'proc/net/dev': dev + line('lo') + line('lo9') + line('eth0'), 'sys/class/net/lo9/type': '772\n', 'sys/class/net/eth0/type': '1\n' });
    expect(readNetDev(`${root}/proc`)?.map((n) => [n.name, n.loopback])).toEqual([['lo', true], ['lo9', true], ['eth0', false]]);
    // Without a sysfs only the name lo tells.
    expect(readNetDev(`${root}/proc`, null)?.map((n) => [n.name, n.loopback])).toEqual([['lo', true], ['lo9', false], ['eth0', false]]);
  });

  it('marks loopback by the decision it is given', () => {
    expect(parseNetDev('  lo0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n', (name) => name === 'lo0')[0]).toMatchObject({ name: 'lo0', loopback: true, txBytes: 9, txDrop: 12 });
  });

  it('reads this machine, lo included', () => {
    const n = readNetDev('/proc');
    expect(n?.find((x) => x.name === 'lo')?.loopback).toBe(true);
  });
});

describe('parseSoftnet / readSoftnet', () => {
  it('takes the CPU number from column 13 when the kernel prints it (5.10+)', () => {
    expect(readSoftnet(fx('threads'))).toEqual([
      { cpu: 0, processed: 0xa23442, dropped: 0, timeSqueeze: 0 },
      { cpu: 1, processed: 0xa226eb, dropped: 4, timeSqueeze: 0x11 },
    ]);
    // Offline CPU 1: the lines are CPUs 0 and 2, as column 13 says.
    const cols = (cpu: number) => ['00000001', '00000000', '00000000', ...Array(9).fill('00000000'), cpu.toString(16).padStart(8, '0'), '00000000', '00000000'].join(' ');
    expect(parseSoftnet(`${cols(0)}\n${cols(2)}\n`).map((s) => s.cpu)).toEqual([0, 2]);
  });

  it('uses the line index when there is no CPU column (older kernels), skipping garbled lines', () => {
    expect(readSoftnet(fx('devices'))).toEqual([
      { cpu: 0, processed: 0xffff, dropped: 1, timeSqueeze: 2 },
      { cpu: 1, processed: 0x10, dropped: 0, timeSqueeze: 0xa },
      { cpu: 3, processed: 0x20, dropped: 3, timeSqueeze: 0 },
    ]);
    expect(readSoftnet(fx('basic'))).toBeNull();
    expect(parseSoftnet('\n')).toEqual([]);
  });

  it('reads this machine: one line per online CPU', () => {
    const s = readSoftnet('/proc');
    expect(s?.length).toBeGreaterThan(0);
    expect(new Set(s!.map((x) => x.cpu)).size).toBe(s!.length);
  });
});
