// Live: block devices and network interfaces.
// - A direct-I/O writer and a direct-I/O reader on a loop device of our own: an ext4 image in a
//   temp dir, attached with losetup and mounted; dd writes a file on it with O_DIRECT in 1 MiB
//   blocks, and another dd reads the loop device itself with O_DIRECT, both from a cgroup v1 blkio
//   group throttled on that loop device (so they run at a steady, known rate; unthrottled a
//   buffered loop device swallows hundreds of MiB/s). The loop device's disks[] entry must move and
//   agree with `iostat -x -d` over the same seconds, reads and writes.
// - Loopback traffic (iperf3 on 127.0.0.1 at a fixed bit rate) must move `lo` and agree with
//   `sar -n DEV` (bytes and packets, both ways).
// - Loop devices created and removed (LOOP_CTL_ADD / LOOP_CTL_REMOVE on /dev/loop-control) while
//   `whytop dump --interval 500` runs: no crash, nulls on appearance, never a negative rate.
// - Network interfaces (a dummy, or a veth pair where the kernel has no dummy driver) added, used,
//   re-created and deleted while `whytop dump --interval 500` runs: the same.
// - A device-mapper device shows under its dm name.
// Everything created here is removed in afterAll, whatever happened.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DiskFrame, Frame, NetFrame } from '../../src/model/frame.js';
import {
  disagreement,
  median,
  missingPrereqs,
  num,
  parseSysstat,
  report,
  run,
  sampleAligned,
  sleep,
  start,
  stopAll,
  titled,
  waitFor,
  whytop,
} from './workload.js';
import type { Started, WhytopRun } from './workload.js';

const INTERVALS = 6;
const MiB = 1024 * 1024;
const RATE = 16 * MiB; // bytes/s the writer is throttled to
const READ_RATE = 8 * MiB; // bytes/s the reader is throttled to
const BLKIO_ROOT = '/sys/fs/cgroup/blkio';
const BLKIO = `${BLKIO_ROOT}/whytop-test-disks-${process.pid}`;
// LOOP_CTL_ADD / LOOP_CTL_REMOVE ioctls on /dev/loop-control (linux/loop.h), through perl.
const LOOP_CTL_ADD = 0x4c80;
const LOOP_CTL_REMOVE = 0x4c81;

/** Cleanup steps, run in reverse order in afterAll; each may fail without stopping the others. */
const cleanups: Array<{ what: string; fn: () => Promise<unknown> | unknown }> = [];
function onCleanup(what: string, fn: () => Promise<unknown> | unknown): void {
  cleanups.push({ what, fn });
}

afterAll(async () => {
  await stopAll();
  for (const { what, fn } of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      console.warn(`[live disks] cleanup '${what}' failed: ${(err as Error).message}`);
    }
  }
  cleanups.length = 0;
}, 60_000);

/** A temp dir (on the root file system, not tmpfs) removed in afterAll. */
function tempDir(): string {
  const base = fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'whytop-live-disks-'));
  onCleanup(`rm ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Attaches `image` to a free loop device (losetup -f); detached in afterAll. Returns the kernel name. */
async function attachLoop(image: string): Promise<string> {
  const dev = (await run('losetup', ['-f', '--show', image])).stdout.trim();
  onCleanup(`losetup -d ${dev}`, () => run('losetup', ['-d', dev], { allowFail: true }));
  return path.basename(dev);
}

/** Runs a loop-control ioctl (add or remove loop device number n). */
async function loopControl(request: number, n: number, allowFail = false): Promise<boolean> {
  const script = `open(my $f, '<', '/dev/loop-control') or die "open: $!\\n"; defined(ioctl($f, ${request}, ${n})) or die "ioctl: $!\\n";`;
  const r = await run('perl', ['-e', script], { allowFail });
  return r.code === 0;
}

/** The disks[] entry of a device in a frame. */
function diskOf(f: Frame, name: string): DiskFrame | undefined {
  return f.disks.find((d) => d.name === name);
}

function netOf(f: Frame, name: string): NetFrame | undefined {
  return f.nets.find((n) => n.name === name);
}

/**
 * `iostat -x -d` output → one block per report, each a map from device name to its row (keys
 * are iostat's column names: r/s, wkB/s, w/s, aqu-sz, %util, ...).
 */
function parseIostat(text: string): Array<Record<string, Record<string, number>>> {
  const blocks: Array<Record<string, Record<string, number>>> = [];
  let header: string[] | null = null;
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens[0] === 'Device' || tokens[0] === 'Device:') {
      header = tokens;
      blocks.push({});
      continue;
    }
    if (line.trim() === '') {
      header = null;
      continue;
    }
    if (header === null) continue;
    const row: Record<string, number> = {};
    header.forEach((name, i) => {
      if (i > 0) row[name] = Number(tokens[i]);
    });
    blocks[blocks.length - 1][tokens[0]] = row;
  }
  return blocks;
}

const TCP_ESTABLISHED = '01';
const TCP_LISTEN = '0A';

/** TCP sockets (IPv4) from or to local `port` in `state` (hex, as /proc/net/tcp prints it). */
function tcpSockets(port: number, state: string): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const t = line.trim().split(/\s+/);
    if (t.length > 3 && t[3] === state && (t[1].endsWith(`:${hexPort}`) || t[2].endsWith(`:${hexPort}`))) n++;
  }
  return n;
}

/** Every negative, NaN or infinite number of the device parts of a frame, as `path=value`. */
function badDeviceNumbers(f: Frame): string[] {
  const bad: string[] = [];
  for (const [part, list] of [['disks', f.disks], ['nets', f.nets], ['softnet', f.softnet]] as const) {
    list.forEach((entry, i) => {
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) bad.push(`${part}[${i}](${(entry as { name?: string }).name ?? ''}).${k}=${v}`);
      }
    });
  }
  return bad;
}

/** Ends a hot-plug run's dump (SIGTERM: whytop finishes cleanly); checks no stderr and no bad number in any frame. */
async function endHotplugDump(dump: WhytopRun): Promise<Frame[]> {
  await dump.proc.stop();
  const frames = await dump.done;
  expect(dump.proc.stderr(), 'whytop wrote nothing to stderr').toBe('');
  const bad = frames.flatMap((f) => badDeviceNumbers(f).map((b) => `${f.time} ${b}`));
  expect(bad, 'negative, NaN or infinite numbers in disks/nets/softnet').toEqual([]);
  return frames;
}

/**
 * Null when the running kernel has device-mapper (built in, or dm_mod loaded: it registers the
 * misc device `device-mapper`), else why not. /dev/mapper/control alone proves nothing: any
 * dmsetup call creates that node, whether or not the kernel has a driver behind it.
 */
function deviceMapperMissing(): string | null {
  const misc = fs.existsSync('/proc/misc') ? fs.readFileSync('/proc/misc', 'utf8') : '';
  if (/^\s*\d+\s+device-mapper$/m.test(misc) || fs.existsSync('/sys/class/misc/device-mapper')) return null;
  return 'needs device-mapper in the kernel (no device-mapper in /proc/misc: dm_mod neither built in nor loaded)';
}

const loopSkip = missingPrereqs({ root: true, tools: ['losetup', 'mkfs.ext4', 'mount', 'umount', 'truncate', 'dd', 'sh', 'iostat'], paths: ['/dev/loop-control'] });
const throttleSkip = loopSkip ?? missingPrereqs({ paths: [`${BLKIO_ROOT}/cgroup.procs`] });
const netSkip = missingPrereqs({ tools: ['iperf3', 'sar'] });
const hotplugSkip = missingPrereqs({ root: true, tools: ['losetup', 'truncate', 'dd', 'perl'], paths: ['/dev/loop-control'] });
const dmSkip = hotplugSkip ?? missingPrereqs({ tools: ['dmsetup'] }) ?? deviceMapperMissing();
const linkSkip = missingPrereqs({ root: true, tools: ['ip'] });

/** Where the hot-plug test's interface lives: a /24 of the benchmarking range no host routes. */
const LINK_NET = `198.18.${process.pid % 250}`;

/** Kinds of interface the hot-plug test can add, in order of preference. */
type LinkKind = 'dummy' | 'veth';

/**
 * An interface of this test, added with `ip link`: a dummy (its sends are counted and dropped), or a
 * veth pair (its sends arrive at the peer) where the kernel has no dummy driver.
 */
class TestLink {
  constructor(readonly name: string, readonly kind: LinkKind) {}

  /** The first kind of interface the kernel can add (tried, then deleted), or null when none. */
  static async probe(name: string): Promise<TestLink | null> {
    for (const kind of ['dummy', 'veth'] as const) {
      const link = new TestLink(name, kind);
      if ((await run('ip', ['link', 'add', ...link.addArgs()], { allowFail: true })).code === 0) {
        await link.remove();
        return link;
      }
    }
    return null;
  }

  private addArgs(): string[] {
    return this.kind === 'dummy' ? [this.name, 'type', 'dummy'] : [this.name, 'type', 'veth', 'peer', 'name', `${this.name}p`];
  }

  /** Adds it, up with an address, so that sends to LINK_NET.2 go out of it. */
  async add(): Promise<void> {
    await run('ip', ['link', 'add', ...this.addArgs()]);
    await run('ip', ['link', 'set', this.name, 'up']);
    await run('ip', ['addr', 'add', `${LINK_NET}.1/24`, 'dev', this.name]);
    if (this.kind === 'veth') {
      await run('ip', ['link', 'set', `${this.name}p`, 'up']);
      const mac = fs.readFileSync(`/sys/class/net/${this.name}p/address`, 'utf8').trim();
      await run('ip', ['neigh', 'replace', `${LINK_NET}.2`, 'lladdr', mac, 'dev', this.name, 'nud', 'permanent']);
    }
  }

  /** Deletes it (a veth's peer goes with it); false when it was not there. */
  async remove(): Promise<boolean> {
    return (await run('ip', ['link', 'del', this.name], { allowFail: true })).code === 0;
  }
}

/** Sends `count` small UDP datagrams to LINK_NET.2 (the discard port), in bursts of 20 every 10 ms. */
async function sendDatagrams(count: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve, reject) => socket.send(Buffer.alloc(64), 9, `${LINK_NET}.2`, (err) => (err ? reject(err) : resolve())));
      if (i % 20 === 19) await sleep(10);
    }
  } finally {
    socket.close();
  }
}

describe('live: disks', () => {
  it(
    titled('throttled O_DIRECT dd writer and reader on a loop device move its write and read rates; agree with iostat -x (wkB/s, w/s, rkB/s, r/s, %util) within 25%', throttleSkip),
    { skip: throttleSkip !== null, timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const image = path.join(dir, 'img');
      const mnt = path.join(dir, 'mnt');
      await run('truncate', ['-s', '300M', image]);
      const loop = await attachLoop(image);
      // Inode tables and journal zeroed now, not by ext4lazyinit in the background after mount.
      await run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', `/dev/${loop}`]);
      fs.mkdirSync(mnt);
      await run('mount', [`/dev/${loop}`, mnt]);
      onCleanup(`umount ${mnt}`, () => run('umount', ['-l', mnt], { allowFail: true }));
      const devno = fs.readFileSync(`/sys/block/${loop}/dev`, 'utf8').trim();

      // Quiet baseline: mkfs and mount wrote; let that settle, then two frames without our writer.
      await sleep(500);
      const baseline = (await whytop(['--interval', '1000', '--count', '2']).done).slice(1);

      if (fs.existsSync(BLKIO)) fs.rmdirSync(BLKIO);
      fs.mkdirSync(BLKIO);
      onCleanup(`rmdir ${BLKIO}`, () =>
        waitFor(`${BLKIO} to be removable`, () => {
          try {
            fs.rmdirSync(BLKIO);
            return true;
          } catch {
            return !fs.existsSync(BLKIO);
          }
        }, 10_000, 100),
      );
      fs.writeFileSync(`${BLKIO}/blkio.throttle.write_bps_device`, `${devno} ${RATE}`);
      fs.writeFileSync(`${BLKIO}/blkio.throttle.read_bps_device`, `${devno} ${READ_RATE}`);
      // Rewrites a 100 MiB file over and over (the image has room for ~270 MiB), until stopped.
      const file = path.join(mnt, 'data');
      const dd: Started = start('sh', ['-c', `echo $$ > ${BLKIO}/cgroup.procs && while :; do dd if=/dev/zero of=${file} bs=1M count=100 oflag=direct conv=notrunc status=none || exit 1; done`], { name: 'dd loop' });
      onCleanup('stop dd', () => dd.stop());
      // Reads the first 100 MiB of the loop device over and over, bypassing the page cache.
      const reader: Started = start('sh', ['-c', `echo $$ > ${BLKIO}/cgroup.procs && while :; do dd if=/dev/${loop} of=/dev/null bs=1M count=100 iflag=direct status=none || exit 1; done`], { name: 'dd reader' });
      onCleanup('stop dd reader', () => reader.stop());
      await waitFor('dd to start writing', () => {
        if (!dd.running()) throw new Error(`dd failed: ${dd.stderr().trim()}`);
        if (!reader.running()) throw new Error(`dd reader failed: ${reader.stderr().trim()}`);
        return fs.existsSync(file) && fs.statSync(file).size > 0;
      }, 10_000, 20);
      await sleep(1000); // ramp-up: the throttle's first budget spent, steady pace

      const { frames, tools } = await sampleAligned({
        intervals: INTERVALS,
        tools: [{ cmd: 'iostat', args: ['-x', '-d', '-y', '1', String(INTERVALS), loop] }],
      });
      expect(dd.running(), `dd wrote through the whole window: ${dd.stderr()}`).toBe(true);
      expect(reader.running(), `dd read through the whole window: ${reader.stderr()}`).toBe(true);
      await dd.stop();
      await reader.stop();

      const io = parseIostat(tools[0]).map((b) => b[loop]);
      expect(io.length, tools[0]).toBe(INTERVALS);
      expect(io.every(Boolean), tools[0]).toBe(true);
      const ioRows = io.slice(1);
      const wf = frames[0].slice(1);
      const disks = wf.map((f) => diskOf(f, loop));
      expect(disks.every(Boolean), `whytop listed ${loop} in every frame`).toBe(true);

      const before = median(baseline.map((f) => diskOf(f, loop)?.write_bytes_per_s ?? 0));
      const readBefore = median(baseline.map((f) => diskOf(f, loop)?.read_bytes_per_s ?? 0));
      const wBytes = median(disks.map((d) => num(d!.write_bytes_per_s, 'write_bytes_per_s')));
      const wIos = median(disks.map((d) => num(d!.writes_per_s, 'writes_per_s')));
      const rBytes = median(disks.map((d) => num(d!.read_bytes_per_s, 'read_bytes_per_s')));
      const rIos = median(disks.map((d) => num(d!.reads_per_s, 'reads_per_s')));
      const busy = median(disks.map((d) => num(d!.busy_pct, 'busy_pct')));
      const queue = median(disks.map((d) => num(d!.queue_depth, 'queue_depth')));
      const awaitMs = median(disks.map((d) => num(d!.await_ms, 'await_ms')));
      const wkB = median(ioRows.map((r) => r['wkB/s']));
      const ws = median(ioRows.map((r) => r['w/s']));
      const rkB = median(ioRows.map((r) => r['rkB/s']));
      const rs = median(ioRows.map((r) => r['r/s']));
      const util = median(ioRows.map((r) => r['%util']));
      const aqu = median(ioRows.map((r) => r['aqu-sz']));
      // iostat prints r_await and w_await; whytop's await is over reads and writes together.
      const ioAwait = median(ioRows.map((r) => (r['r/s'] + r['w/s'] > 0 ? (r['r_await'] * r['r/s'] + r['w_await'] * r['w/s']) / (r['r/s'] + r['w/s']) : 0)));
      // Per-second pairs, for the report: the same seconds read by both.
      const pairs = disks.map((d, i) => [Math.round(d!.write_bytes_per_s! / 1024), ioRows[i]['wkB/s']]);
      const readPairs = disks.map((d, i) => [Math.round(d!.read_bytes_per_s! / 1024), ioRows[i]['rkB/s']]);
      report('disks', {
        loop,
        loopMarked: disks[0]!.loop,
        beforeKiBps: { write: before / 1024, read: readBefore / 1024 },
        whytop: { wKiBps: wBytes / 1024, wps: wIos, rKiBps: rBytes / 1024, rps: rIos, busyPct: busy, queue, awaitMs },
        iostat: { wKiBps: wkB, wps: ws, rKiBps: rkB, rps: rs, utilPct: util, aqu, awaitMs: ioAwait },
        perSecondWriteKiB: pairs,
        perSecondReadKiB: readPairs,
      });
      // Both read /proc/diskstats over the same seconds (aligned to a few ms); the throttle
      // releases whole 1 MiB writes (two 512 KiB requests), ~16 per second.
      const problems = [
        disagreement(`disks[${loop}].write_bytes_per_s vs iostat wkB/s`, wBytes / 1024, wkB, { rel: 0.25 }),
        disagreement(`disks[${loop}].writes_per_s vs iostat w/s`, wIos, ws, { rel: 0.25 }),
        disagreement(`disks[${loop}].read_bytes_per_s vs iostat rkB/s`, rBytes / 1024, rkB, { rel: 0.25 }),
        disagreement(`disks[${loop}].reads_per_s vs iostat r/s`, rIos, rs, { rel: 0.25 }),
        // A buffered loop device completes writes in well under a millisecond: %util is small, so
        // an absolute allowance as well.
        disagreement(`disks[${loop}].busy_pct vs iostat %util`, busy, util, { rel: 0.25, abs: 2 }),
        disagreement(`disks[${loop}].queue_depth vs iostat aqu-sz`, queue, aqu, { rel: 0.25, abs: 0.05 }),
        disagreement(`disks[${loop}].await_ms vs iostat r_await/w_await`, awaitMs, ioAwait, { rel: 0.25, abs: 0.5 }),
      ];
      expect(problems.filter(Boolean)).toEqual([]);
      // It moved: from (nearly) nothing to the throttled rate.
      expect(wBytes, 'write_bytes_per_s during the writer').toBeGreaterThan(RATE / 2);
      expect(wBytes, 'write_bytes_per_s during the writer').toBeLessThan(RATE * 1.5);
      expect(before, 'write_bytes_per_s before the writer').toBeLessThan(RATE / 10);
      expect(rBytes, 'read_bytes_per_s during the reader').toBeGreaterThan(READ_RATE / 2);
      expect(rBytes, 'read_bytes_per_s during the reader').toBeLessThan(READ_RATE * 1.5);
      expect(readBefore, 'read_bytes_per_s before the reader').toBeLessThan(READ_RATE / 10);
      expect(disks.every((d) => d!.loop), `${loop} is marked loop`).toBe(true);
    },
  );

  it(
    titled('loop devices created, used and removed while dump --interval 500 runs: no crash, nulls when a device appears, no negative rate', hotplugSkip),
    { skip: hotplugSkip !== null, timeout: 90_000 },
    async () => {
      const dir = tempDir();
      const image = path.join(dir, 'hot.img');
      await run('truncate', ['-s', '64M', image]);
      // A loop number nobody uses, created and removed by us.
      let n = 200 + (process.pid % 400);
      while (fs.existsSync(`/sys/block/loop${n}`)) n++;
      const name = `loop${n}`;
      const dev = `/dev/${name}`;
      onCleanup(`remove ${name}`, async () => {
        if (!fs.existsSync(`/sys/block/${name}`)) return;
        await run('losetup', ['-d', dev], { allowFail: true });
        await loopControl(LOOP_CTL_REMOVE, n, true);
      });

      const dump = whytop(['--interval', '500']);
      await waitFor('whytop to print two frames', () => {
        if (!dump.proc.running()) throw new Error(`whytop exited: ${dump.proc.stderr()}`);
        return dump.frames.length >= 2;
      }, 30_000, 20);
      const write = (mib: number): Promise<unknown> => run('dd', ['if=/dev/zero', `of=${dev}`, 'bs=1M', `count=${mib}`, 'oflag=direct', 'status=none']);
      const framesNow = (): number => dump.frames.length;
      const waitFrames = (k: number): Promise<unknown> => {
        const target = framesNow() + k;
        return waitFor(`${k} more frames`, () => {
          if (!dump.proc.running()) throw new Error(`whytop exited: ${dump.proc.stderr()}`);
          return framesNow() >= target;
        }, 30_000, 20);
      };

      const phases: Array<[string, number]> = [];
      const mark = (what: string): void => void phases.push([what, framesNow()]);
      for (let round = 0; round < 2; round++) {
        await loopControl(LOOP_CTL_ADD, n);
        mark(`round ${round}: ${name} added`);
        await waitFrames(2); // present in /sys, all counters 0: not listed
        await run('losetup', [dev, image]);
        await write(8);
        mark(`round ${round}: attached and written`);
        await waitFrames(2);
        for (let i = 0; i < 3; i++) {
          await write(4);
          await sleep(300);
        }
        await waitFrames(2);
        await run('losetup', ['-d', dev]);
        await waitFor(`${name} to be detached`, () => !fs.existsSync(`/sys/block/${name}/loop/backing_file`), 5000, 20);
        await loopControl(LOOP_CTL_REMOVE, n);
        mark(`round ${round}: removed`);
        await waitFrames(3);
      }
      const frames = await endHotplugDump(dump);
      // Where the device is listed: its first frame (it appeared) has no rates, later ones have rates.
      const seen = frames.map((f) => diskOf(f, name));
      const appearances: number[] = [];
      const written: number[] = [];
      seen.forEach((d, i) => {
        if (d === undefined) return;
        if (seen[i - 1] === undefined) {
          appearances.push(i);
          expect(d, `frame ${i}: ${name} just appeared`).toMatchObject({ reads_per_s: null, writes_per_s: null, write_bytes_per_s: null, busy_pct: null });
        } else {
          expect(d.write_bytes_per_s, `frame ${i}: ${name} has a rate`).not.toBeNull();
          if (d.write_bytes_per_s! > 0) written.push(i);
        }
      });
      report('disks hot-plug', {
        device: name,
        frames: frames.length,
        listedIn: seen.filter(Boolean).length,
        appearances,
        framesWithWrites: written.length,
        phases,
      });
      expect(appearances.length, `${name} appeared once per round`).toBe(2);
      expect(written.length, `${name} showed writes`).toBeGreaterThanOrEqual(2);
      // Gone after each removal: the last frame does not list it.
      expect(diskOf(frames[frames.length - 1], name)).toBeUndefined();
    },
  );

  it(
    titled('a device-mapper device is listed under its dm name', dmSkip),
    { skip: dmSkip !== null, timeout: 60_000 },
    async () => {
      const dir = tempDir();
      const image = path.join(dir, 'dm.img');
      await run('truncate', ['-s', '32M', image]);
      const loop = await attachLoop(image);
      const dmName = `whytop-test-${process.pid}`;
      await run('dmsetup', ['create', dmName, '--table', `0 ${(32 * MiB) / 512} linear /dev/${loop} 0`]);
      onCleanup(`dmsetup remove ${dmName}`, () => run('dmsetup', ['remove', '--retry', dmName], { allowFail: true }));
      await waitFor(`/dev/mapper/${dmName}`, () => fs.existsSync(`/dev/mapper/${dmName}`), 5000, 20);
      await run('dd', ['if=/dev/zero', `of=/dev/mapper/${dmName}`, 'bs=1M', 'count=4', 'oflag=direct', 'status=none']);
      const kernelName = path.basename(fs.realpathSync(`/dev/mapper/${dmName}`));
      const frames = await whytop(['--interval', '300', '--count', '1']).done;
      const names = frames[0].disks.map((d) => d.name);
      report('disks dm', { dmName, kernelName, names });
      expect(names).toContain(dmName);
      expect(names).not.toContain(kernelName);
      await run('dmsetup', ['remove', '--retry', dmName]);
    },
  );
});

describe('live: network interfaces', () => {
  it(
    titled('iperf3 over 127.0.0.1 moves lo; rx/tx bytes and packets agree with sar -n DEV (rxkB/s, txkB/s, rxpck/s, txpck/s) within 25%', netSkip),
    { skip: netSkip !== null, timeout: 90_000 },
    async () => {
      const baseline = (await whytop(['--interval', '1000', '--count', '2']).done).slice(1);
      const port = String(20000 + (process.pid % 20000));
      const server = start('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', port], { name: 'iperf3 server' });
      // (iperf3's output is block-buffered into our pipe: watch its sockets instead.)
      await waitFor('the iperf3 server to listen', () => {
        if (!server.running()) throw new Error(`iperf3 server exited: ${server.stderr()}`);
        return tcpSockets(Number(port), TCP_LISTEN) > 0;
      }, 10_000, 20);
      // A fixed rate (paced by iperf3), longer than the window can take; stopped once sampled.
      const client = start('iperf3', ['-c', '127.0.0.1', '-p', port, '-t', '80', '-b', '400M'], { name: 'iperf3 client' });
      await waitFor('the iperf3 test connections', () => {
        if (!client.running()) throw new Error(`iperf3 client exited: ${client.stderr()} ${client.stdout()}`);
        // Control connection plus data stream, both ends of each.
        return tcpSockets(Number(port), TCP_ESTABLISHED) >= 4;
      }, 10_000, 20);
      await sleep(1000); // ramp-up: TCP window open, pacing steady

      const { frames, tools } = await sampleAligned({
        intervals: INTERVALS,
        tools: [{ cmd: 'sar', args: ['-n', 'DEV', '1', String(INTERVALS)] }],
      });
      expect(client.running(), `iperf3 ran through the whole window: ${client.stderr()}`).toBe(true);
      await client.stop();
      await server.stop();

      const sar = parseSysstat(tools[0]).map((b) => b.find((r) => r.IFACE === 'lo'));
      expect(sar.length, tools[0]).toBe(INTERVALS);
      expect(sar.every(Boolean), tools[0]).toBe(true);
      const sarRows = sar.slice(1);
      const wf = frames[0].slice(1);
      const lo = wf.map((f) => netOf(f, 'lo'));
      expect(lo.every(Boolean), 'whytop listed lo in every frame').toBe(true);
      expect(lo[0]!.loopback, 'lo is marked loopback').toBe(true);

      const before = median(baseline.map((f) => netOf(f, 'lo')?.rx_bytes_per_s ?? 0));
      const rx = median(lo.map((n) => num(n!.rx_bytes_per_s, 'rx_bytes_per_s')));
      const tx = median(lo.map((n) => num(n!.tx_bytes_per_s, 'tx_bytes_per_s')));
      const rxPk = median(lo.map((n) => num(n!.rx_packets_per_s, 'rx_packets_per_s')));
      const txPk = median(lo.map((n) => num(n!.tx_packets_per_s, 'tx_packets_per_s')));
      const sarRx = median(sarRows.map((r) => Number(r!['rxkB/s'])));
      const sarTx = median(sarRows.map((r) => Number(r!['txkB/s'])));
      const sarRxPk = median(sarRows.map((r) => Number(r!['rxpck/s'])));
      const sarTxPk = median(sarRows.map((r) => Number(r!['txpck/s'])));
      report('nets', {
        beforeKiBps: before / 1024,
        whytop: { rxKiBps: rx / 1024, txKiBps: tx / 1024, rxpkps: rxPk, txpkps: txPk },
        sar: { rxKiBps: sarRx, txKiBps: sarTx, rxpkps: sarRxPk, txpkps: sarTxPk },
        perSecondRxKiB: lo.map((n, i) => [Math.round(n!.rx_bytes_per_s! / 1024), Number(sarRows[i]!['rxkB/s'])]),
      });
      const problems = [
        disagreement('nets[lo].rx_bytes_per_s vs sar rxkB/s', rx / 1024, sarRx, { rel: 0.25 }),
        disagreement('nets[lo].tx_bytes_per_s vs sar txkB/s', tx / 1024, sarTx, { rel: 0.25 }),
        disagreement('nets[lo].rx_packets_per_s vs sar rxpck/s', rxPk, sarRxPk, { rel: 0.25 }),
        disagreement('nets[lo].tx_packets_per_s vs sar txpck/s', txPk, sarTxPk, { rel: 0.25 }),
      ];
      expect(problems.filter(Boolean)).toEqual([]);
      // 400 Mbit/s is 50 MB/s each way on lo (every byte sent is also received).
      expect(rx, 'lo rx_bytes_per_s during traffic').toBeGreaterThan(25e6);
      expect(rx, 'lo rx_bytes_per_s during traffic').toBeGreaterThan(before * 10);
      for (const f of [...baseline, ...wf]) expect(badDeviceNumbers(f)).toEqual([]);
    },
  );
  it(
    titled('interfaces added, used, re-created and deleted while dump --interval 500 runs: no crash, nulls when one appears, no negative rate', linkSkip),
    { skip: linkSkip !== null, timeout: 90_000 },
    async (ctx) => {
      const name = `wt${process.pid % 100000}`;
      const link = await TestLink.probe(name);
      if (link === null) {
        console.warn(`[live] SKIPPING the interface hot-plug test: the kernel adds neither a dummy interface (no dummy module) nor a veth pair`);
        return ctx.skip('no dummy module, no veth');
      }
      onCleanup(`ip link del ${name}`, () => link.remove());

      const dump = whytop(['--interval', '500']);
      const framesNow = (): number => dump.frames.length;
      const waitFrames = (k: number): Promise<unknown> => {
        const target = framesNow() + k;
        return waitFor(`${k} more frames`, () => {
          if (!dump.proc.running()) throw new Error(`whytop exited: ${dump.proc.stderr()}`);
          return framesNow() >= target;
        }, 30_000, 20);
      };
      await waitFrames(2);
      const phases: Array<[string, number]> = [];
      const mark = (what: string): void => void phases.push([what, framesNow()]);
      for (let round = 0; round < 2; round++) {
        await link.add();
        mark(`round ${round}: added`);
        await waitFrames(2);
        await sendDatagrams(300);
        mark(`round ${round}: sent`);
        await waitFrames(2);
        // Deleted and added again at once (most likely within one interval: its counters start over).
        await link.remove();
        await link.add();
        mark(`round ${round}: re-created`);
        await waitFrames(2);
        await sendDatagrams(100);
        await waitFrames(1);
        await link.remove();
        mark(`round ${round}: deleted`);
        await waitFrames(3);
      }
      const frames = await endHotplugDump(dump);
      const seen = frames.map((f) => netOf(f, name));
      const appearances: number[] = [];
      const sending: number[] = [];
      seen.forEach((n, i) => {
        if (n === undefined) return;
        if (seen[i - 1] === undefined) {
          appearances.push(i);
          expect(n, `frame ${i}: ${name} just appeared`).toMatchObject({ rx_packets_per_s: null, tx_packets_per_s: null, tx_bytes_per_s: null });
        }
        if ((n.tx_packets_per_s ?? 0) > 0) sending.push(i);
      });
      const txPeak = Math.max(0, ...seen.map((n) => n?.tx_packets_per_s ?? 0));
      report('nets hot-plug', { kind: link.kind, interface: name, frames: frames.length, listedIn: seen.filter(Boolean).length, appearances, framesSending: sending.length, txPeakPps: txPeak, phases });
      expect(appearances.length, `${name} appeared at least once per round`).toBeGreaterThanOrEqual(2);
      expect(sending.length, `${name} showed packets sent`).toBeGreaterThanOrEqual(2);
      expect(netOf(frames[frames.length - 1], name), `${name} is gone after the last deletion`).toBeUndefined();
    },
  );
});
