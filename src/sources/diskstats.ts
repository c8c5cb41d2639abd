// /proc/diskstats: per block device I/O counters since boot (or since the device appeared), whole
// disks only. Partitions are folded under their disk, device-mapper devices take their dm name,
// loop devices are kept but marked, ram disks and never-used loop devices are left out.
import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { DISK_COUNTERS } from '../model/snapshot.js';
import type { DiskStat } from '../model/snapshot.js';
import { parseUint, readProcText, tokenizeLines } from './procFile.js';
import { sysRootOf } from './sysRoot.js';

/** What the parser may ask of sysfs about a device; without it, names alone decide. */
export interface DiskSysLookup {
  /** The dm name of a device-mapper device (`dm-0` → `vg-root`), or null. */
  dmName(kernelName: string): string | null;
  /**
   * For a partition, the kernel name of its disk; null for a whole disk; undefined when /sys
   * does not know the device (the name pattern decides then).
   */
  partitionParent(kernelName: string, devno: string): string | null | undefined;
}


// Whole-disk name + partition suffix: sda1, vdb2, xvda1, hda3; nvme0n1p1, mmcblk0p1, loop0p1, nbd0p1, md0p1.
const LETTER_DISK_PART_RE = /^((?:sd|vd|hd|xvd)[a-z]+)\d+$/;
const DIGIT_DISK_PART_RE = /^((?:nvme\d+n\d+|mmcblk\d+|loop\d+|nbd\d+|md\d+))p\d+$/;
const RAM_RE = /^ram\d+$/;
const LOOP_RE = /^loop\d+$/;
const LOOP_MAJOR = 7;

/** True for a loop device: the loop driver's major, or a loopN name (a loop partition may have the extended major). */
function isLoop(major: number, name: string): boolean {
  return major === LOOP_MAJOR || LOOP_RE.test(name);
}

/** The disk a partition belongs to, from its name alone; null when the name is not a partition's. */
export function partitionParentByName(name: string, known: ReadonlySet<string>): string | null {
  const m = LETTER_DISK_PART_RE.exec(name) ?? DIGIT_DISK_PART_RE.exec(name);
  if (m) return m[1];
  // Other drivers: the name of a listed device followed by pN (after a digit) or N (after a letter).
  const generic = /^(.*?)(p?)(\d+)$/.exec(name);
  if (generic && generic[1] !== '' && known.has(generic[1])) {
    const endsInDigit = /\d$/.test(generic[1]);
    if (endsInDigit === (generic[2] === 'p')) return generic[1];
  }
  return null;
}

/** One parsed line before folding. */
interface Line {
  major: number;
  minor: number;
  kernelName: string;
  counters: Omit<DiskStat, 'name' | 'kernelName' | 'loop'>;
}

/** All counters zero and nothing in flight. A loop, not a callback: no closure per call on a refresh path (README, Performance). */
function isIdle(c: Line['counters']): boolean {
  for (const k of DISK_COUNTERS) if (c[k] !== 0) return false;
  return c.inFlight === 0;
}

function parseLine(tokens: string[]): Line | null {
  // 14 tokens (2.6.x - 4.17), 18 (4.18+, discards), 20 (5.5+, flushes); anything longer is newer.
  if (tokens.length < 14) return null;
  const n: number[] = new Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) n[i] = i === 2 ? NaN : parseUint(tokens[i]);
  const kernelName = tokens[2];
  if (Number.isNaN(n[0]) || Number.isNaN(n[1]) || kernelName === '' || kernelName === '__proto__') return null;
  for (let i = 3; i < 14; i++) if (Number.isNaN(n[i])) return null;
  return {
    major: n[0],
    minor: n[1],
    kernelName,
    counters: {
      readsCompleted: n[3],
      sectorsRead: n[5],
      readMs: n[6],
      writesCompleted: n[7],
      sectorsWritten: n[9],
      writeMs: n[10],
      inFlight: n[11],
      ioTicksMs: n[12],
      weightedMs: n[13],
    },
  };
}

/**
 * Parses /proc/diskstats text into whole disks. `sys` (a sysfs lookup) names dm devices and tells
 * partitions apart; without it, kernel names are kept and partitions are found by name. A partition
 * whose disk is listed is dropped (the disk's counters include it); partitions whose disk is not
 * listed are summed under the disk's name. Malformed lines are skipped.
 */
export function parseDiskstats(text: string, sys: DiskSysLookup | null = null): DiskStat[] {
  const lines: Line[] = [];
  const seen = new Set<string>();
  for (const tokens of tokenizeLines(text)) {
    const line = parseLine(tokens);
    if (line === null || seen.has(line.kernelName)) continue;
    seen.add(line.kernelName);
    lines.push(line);
  }
  const disks = new Map<string, DiskStat>();
  const orphans: Line[] = [];
  for (const line of lines) {
    const name = line.kernelName;
    if (RAM_RE.test(name)) continue;
    const fromSys = sys?.partitionParent(name, `${line.major}:${line.minor}`);
    const parent = fromSys === undefined ? partitionParentByName(name, seen) : fromSys;
    if (parent !== null) {
      if (!seen.has(parent)) orphans.push({ ...line, kernelName: parent });
      continue;
    }
    const loop = isLoop(line.major, name);
    const c = line.counters;
    // A loop device never attached (or attached and never used) reads all zeros: not a device in use.
    if (loop && isIdle(c)) continue;
    const display = (name.startsWith('dm-') ? sys?.dmName(name) : null) || name;
    if (disks.has(display)) continue;
    disks.set(display, { name: display, kernelName: name, loop, ...c });
  }
  // Partitions of a disk that has no line of its own: the disk is the sum of its partitions.
  for (const o of orphans) {
    const d = disks.get(o.kernelName);
    if (d === undefined) {
      disks.set(o.kernelName, { name: o.kernelName, kernelName: o.kernelName, loop: isLoop(o.major, o.kernelName), ...o.counters });
      continue;
    }
    if (d.kernelName !== o.kernelName) continue;
    for (const k of DISK_COUNTERS) d[k] = k === 'ioTicksMs' ? Math.max(d[k], o.counters[k]) : d[k] + o.counters[k];
    d.inFlight += o.counters.inFlight;
  }
  return [...disks.values()];
}

/** Partition parents by sysfs root, name and major:minor, which do not change while the device exists. */
const partitionCache = new Map<string, string | null | undefined>();

/** Looks devices up under a sysfs root (/sys, or a fixture's). */
export function sysLookup(sysRoot: string): DiskSysLookup {
  return {
    dmName(kernelName) {
      const name = readProcText(`${sysRoot}/block/${kernelName}/dm/name`)?.trim();
      return name ? name : null;
    },
    partitionParent(kernelName, devno) {
      const key = `${sysRoot}\0${kernelName}\0${devno}`;
      if (partitionCache.has(key)) return partitionCache.get(key);
      const dir = `${sysRoot}/class/block/${kernelName}`;
      let parent: string | null | undefined;
      try {
        if (!existsSync(dir)) parent = undefined;
        else if (!existsSync(`${dir}/partition`)) parent = null;
        else parent = path.basename(path.dirname(realpathSync(dir)));
      } catch {
        parent = undefined;
      }
      if (partitionCache.size > 4096) partitionCache.clear();
      partitionCache.set(key, parent);
      return parent;
    },
  };
}

/**
 * Reads `<procRoot>/diskstats`; null when the file is unreadable. `sysRoot` defaults to the sysfs
 * beside the proc root (sysRootOf: /sys for /proc); without one, kernel names are kept.
 */
export function readDiskstats(procRoot: string, sysRoot: string | null = sysRootOf(procRoot)): DiskStat[] | null {
  const text = readProcText(`${procRoot}/diskstats`);
  if (text === null) return null;
  return parseDiskstats(text, sysRoot === null ? null : sysLookup(sysRoot));
}
