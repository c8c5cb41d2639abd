// Live: per-process and per-thread I/O. dd writes with O_DIRECT in 1 MiB blocks from a cgroup v1
// blkio group throttled to 32 MiB/s on the file's disk, so it writes at a steady, known rate for
// long enough to sample (unthrottled, this VM's disk takes 200 MiB in 0.2 s). whytop's process
// write_bytes_per_s must agree with pidstat -d, its wchar_per_s with dd's own bytes/duration, and
// with --detail the thread's write syscalls must show; both task readers.
// Then, on a throttled loop device of our own: an O_DIRECT reader (read_bytes/rchar/syscr against
// pidstat -d -t and dd, pgpgin against vmstat and sar -B), and 96 MiB of dirty page cache written
// back by an fsync (dirty/writeback against /proc/meminfo, pgpgout, procs_blocked, iowait and I/O
// pressure against vmstat, sar -B, mpstat and sar -q ALL).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  compareCpuModes,
  comparePressure,
  disagreement,
  median,
  meminfoKb,
  missingPrereqs,
  num,
  outsideRange,
  parseSysstat,
  poll,
  processOf,
  readsAround,
  removeCgroupDir,
  report,
  round,
  run,
  sampleAligned,
  sleep,
  start,
  stopAll,
  sysstatSection,
  threadOf,
  titled,
  vmstatIntervals,
  waitFor,
  readerArgs,
} from './workload.js';
import type { Started } from './workload.js';

const DIR = '/var/tmp';
// Named per run, so that two runs of the suite on one machine do not touch each other's.
const FILE = path.join(DIR, `whytop-live-io-${process.pid}.tmp`);
const BLKIO = `/sys/fs/cgroup/blkio/whytop-test-io-${process.pid}`;
const RATE = 32 * 1024 * 1024; // bytes/s
const BLOCKS = 1920; // MiB: 60 s at the throttled rate; dd is stopped once the window is sampled
const INTERVALS = 6;
const MiB = 1024 * 1024;

/** MAJ:MIN of the whole disk under `dir` (blk-throttle takes whole disks), or null. */
function diskOf(dir: string): string | null {
  try {
    const dev = fs.statSync(dir).dev;
    const id = `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
    const sys = `/sys/dev/block/${id}`;
    if (!fs.existsSync(sys)) return null; // not a block device (overlay, tmpfs, ...)
    if (!fs.existsSync(`${sys}/partition`)) return id;
    return fs.readFileSync(path.join(fs.realpathSync(sys), '..', 'dev'), 'utf8').trim();
  } catch {
    return null;
  }
}

const disk = diskOf(DIR);
const skip =
  missingPrereqs({ root: true, tools: ['dd', 'pidstat', 'sh'], paths: ['/sys/fs/cgroup/blkio/cgroup.procs'] }) ??
  (disk === null ? `needs ${DIR} on a block device (blkio throttling)` : null);

let dd: Started | null = null;

afterAll(async () => {
  await dd?.stop();
  await stopAll();
  await tearDownLoop();
  await removeCgroupDir(BLKIO);
  fs.rmSync(FILE, { force: true });
}, 30_000);

describe('live: per-process I/O', () => {
  it(
    titled('a throttled O_DIRECT dd: write_bytes_per_s matches pidstat -d, wchar_per_s matches dd, --detail shows its write syscalls (every task reader)', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      if (fs.existsSync(BLKIO)) fs.rmdirSync(BLKIO);
      fs.mkdirSync(BLKIO);
      fs.writeFileSync(`${BLKIO}/blkio.throttle.write_bps_device`, `${disk} ${RATE}`);
      dd = start('sh', ['-c', `echo $$ > ${BLKIO}/cgroup.procs && exec dd if=/dev/zero of=${FILE} bs=1M count=${BLOCKS} oflag=direct`], { name: 'dd' });
      const pid = dd.pid;
      await waitFor('dd to start writing', () => fs.existsSync(FILE) && fs.statSync(FILE).size > 0, 5000, 20);
      await sleep(1000); // ramp-up: the throttle's first budget spent, steady pace

      const { frames, tools } = await sampleAligned({
        intervals: INTERVALS,
        whytopArgs: readerArgs('--detail'),
        tools: [{ cmd: 'pidstat', args: ['-d', '-p', String(pid), '1', String(INTERVALS)] }],
      });
      expect(dd.running(), 'dd wrote through the whole window').toBe(true);
      const pidstat = parseSysstat(tools[0]).slice(1).map((b) => b.find((r) => r.PID === String(pid)));
      expect(pidstat.length, tools[0]).toBe(INTERVALS - 1);
      expect(pidstat.every(Boolean), tools[0]).toBe(true);
      const kbWr = median(pidstat.map((r) => Number(r!['kB_wr/s'])));

      // dd's own account so far (SIGUSR1 makes it print bytes copied and seconds since it began).
      process.kill(pid, 'SIGUSR1');
      const m = await waitFor('dd to report progress', () => /(\d+) bytes .* copied, ([\d.]+) s/.exec(dd!.stderr()), 5000, 20);
      const ddRate = Number(m[1]) / Number(m[2]);
      await dd.stop();

      const observed: Record<string, unknown> = { pid, ddMiBps: ddRate / MiB, pidstatKiBWrps: kbWr };
      const problems: Array<string | null> = [];
      for (const fr of frames) {
        const backend = fr[0].sampler.backend;
        const wf = fr.slice(1);
        const procs = wf.map((f) => processOf(f, pid));
        const threads = wf.map((f) => threadOf(f, pid));
        expect(procs.every(Boolean) && threads.every(Boolean), `${backend}: whytop saw dd in every frame`).toBe(true);
        const wchar = median(procs.map((p) => num(p!.wchar_per_s, 'wchar_per_s')));
        const writeBytes = median(procs.map((p) => num(p!.write_bytes_per_s, 'write_bytes_per_s')));
        const syscw = median(procs.map((p) => num(p!.syscw_per_s, 'syscw_per_s')));
        const tWchar = median(threads.map((t) => num(t!.wchar_per_s, 'thread wchar_per_s')));
        const tSyscw = median(threads.map((t) => num(t!.syscw_per_s, 'thread syscw_per_s')));
        observed[backend] = { wcharMiBps: wchar / MiB, writeBytesMiBps: writeBytes / MiB, syscw, threadWcharMiBps: tWchar / MiB, threadSyscw: tSyscw };
        // 25% vs pidstat: both read /proc/PID/io's write_bytes over the same seconds; the throttle
        // releases whole 1 MiB writes, so a second holds 31-33 of them.
        problems.push(disagreement(`${backend} write_bytes_per_s vs pidstat kB_wr/s`, writeBytes / 1024, kbWr, { rel: 0.25 }));
        // 15% vs dd's average since it began (which includes its ramp-up).
        problems.push(disagreement(`${backend} wchar_per_s vs dd bytes/duration`, wchar, ddRate, { rel: 0.15 }));
        // O_DIRECT: every byte written goes to storage at once.
        problems.push(disagreement(`${backend} write_bytes_per_s vs wchar_per_s`, writeBytes, wchar, { rel: 0.1 }));
        // dd is one thread: its io file is the process's; one write() per 1 MiB block.
        problems.push(disagreement(`${backend} thread wchar_per_s vs process`, tWchar, wchar, { rel: 0.05 }));
        problems.push(disagreement(`${backend} thread syscw_per_s vs wchar in MiB`, tSyscw, wchar / MiB, { rel: 0.1, abs: 2 }));
        expect(tSyscw, `${backend}: thread syscw_per_s`).toBeGreaterThan(0);
        expect(writeBytes, `${backend}: write_bytes_per_s`).toBeGreaterThan(RATE / 2);
      }
      report('io', observed);
      expect(problems.filter(Boolean)).toEqual([]);
      // The throttle did pace dd, so the window saw a steady writer.
      expect(ddRate / MiB).toBeGreaterThan(16);
      expect(ddRate / MiB).toBeLessThan(48);
    },
  );
});

// ---- a throttled loop device: direct reads, and buffered writes written back ---------------------
//
// A loop device of our own over a sparse file, attached with direct I/O (its writes to the backing
// file bypass the page cache), and a blkio group throttled to LOOP_RATE on it both ways: whatever
// runs in that group reads or writes the device at a steady, known pace, and nothing else on the
// machine is slowed down.

const LOOP_FILE = path.join(DIR, `whytop-live-loop-${process.pid}.img`);
const LOOP_BLKIO = `/sys/fs/cgroup/blkio/whytop-test-loop-${process.pid}`;
const LOOP_MIB = 1024; // sparse: 64 s of reading at LOOP_RATE, whatever the start-up of three whytop instances costs
const LOOP_RATE = 16 * MiB; // bytes/s
const DIRTY_MIB = 96; // written back in 6 s at LOOP_RATE
const loopSkip = missingPrereqs({
  root: true,
  tools: ['losetup', 'truncate', 'dd', 'sync', 'sh', 'sleep', 'pidstat', 'vmstat', 'sar', 'mpstat'],
  paths: ['/dev/loop-control', '/sys/fs/cgroup/blkio/cgroup.procs'],
});

let loop: { dev: string; holder: Started } | null = null;

/** Sets up (once) the loop device, the group throttled on it, and a holder that keeps it open. */
async function setUpLoop(): Promise<{ dev: string; holder: Started }> {
  if (loop) return loop;
  fs.rmSync(LOOP_FILE, { force: true });
  await run('truncate', ['-s', `${LOOP_MIB}M`, LOOP_FILE]);
  const dev = (await run('losetup', ['-f', '--show', '--direct-io=on', LOOP_FILE])).stdout.trim();
  // Held open by a sleeping process: the last close of a block device writes its dirty pages back
  // and drops its cache, which would end the dirty phase as soon as the writer's dd closes it.
  const holder = start('sh', ['-c', `exec sleep 600 < ${dev}`], { name: 'loop holder' });
  loop = { dev, holder };
  await waitFor(`the holder to open ${dev}`, () => {
    try {
      return fs.readlinkSync(`/proc/${holder.pid}/fd/0`) === dev;
    } catch {
      return false;
    }
  }, 5000, 20);
  const majMin = fs.readFileSync(`/sys/block/${path.basename(dev)}/dev`, 'utf8').trim();
  if (fs.existsSync(LOOP_BLKIO)) fs.rmdirSync(LOOP_BLKIO);
  fs.mkdirSync(LOOP_BLKIO);
  fs.writeFileSync(`${LOOP_BLKIO}/blkio.throttle.read_bps_device`, `${majMin} ${LOOP_RATE}`);
  fs.writeFileSync(`${LOOP_BLKIO}/blkio.throttle.write_bps_device`, `${majMin} ${LOOP_RATE}`);
  return loop;
}

async function tearDownLoop(): Promise<void> {
  const errors: string[] = [];
  if (loop) {
    await loop.holder.stop();
    const r = await run('losetup', ['-d', loop.dev], { allowFail: true });
    if (r.code !== 0) errors.push(`losetup -d ${loop.dev}: ${r.stderr.trim()}`);
    loop = null;
  }
  try {
    await removeCgroupDir(LOOP_BLKIO);
  } catch (err) {
    errors.push(String(err));
  }
  fs.rmSync(LOOP_FILE, { force: true });
  if (errors.length > 0) throw new Error(errors.join('; '));
}

/** `sh -c` script that moves itself into the throttled group, then runs `cmd`. */
function throttled(cmd: string): string[] {
  return ['-c', `echo $$ > ${LOOP_BLKIO}/cgroup.procs && exec ${cmd}`];
}

describe('live: reads and write-back on a throttled loop device', () => {
  it(
    titled('an O_DIRECT dd reading at 16 MiB/s: read_bytes_per_s (process and thread) matches pidstat -d -t, rchar/syscr match dd, paging.pgpgin_kb_per_s matches vmstat bi and sar -B (every task reader)', loopSkip),
    { skip: loopSkip !== null, timeout: 90_000 },
    async () => {
      const { dev } = await setUpLoop();
      const reader = start('sh', throttled(`dd if=${dev} of=/dev/null bs=1M iflag=direct`), { name: 'dd reader' });
      const pid = reader.pid;
      await waitFor('dd to start reading', () => {
        if (!reader.running()) throw new Error(`dd exited: ${reader.stderr()}`);
        try {
          return /^read_bytes: [1-9]/m.test(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
        } catch {
          return false;
        }
      }, 5000, 20);
      await sleep(1000); // ramp-up: the throttle's first budget spent, steady pace
      const n = INTERVALS - 1;
      const { frames, tools } = await sampleAligned({
        intervals: INTERVALS,
        whytopArgs: readerArgs('--detail'),
        tools: [
          { cmd: 'pidstat', args: ['-d', '-t', '-p', String(pid), '1', String(INTERVALS)] },
          { cmd: 'vmstat', args: ['-n', '1', String(INTERVALS + 1)] },
          { cmd: 'sar', args: ['-B', '1', String(INTERVALS)] },
        ],
      });
      expect(reader.running(), `dd read through the whole window: ${reader.stderr()}`).toBe(true);
      process.kill(pid, 'SIGUSR1'); // dd prints bytes copied and seconds since it began
      const m = await waitFor('dd to report progress', () => /(\d+) bytes .* copied, ([\d.]+) s/.exec(reader.stderr()), 5000, 20);
      const ddRate = Number(m[1]) / Number(m[2]);
      await reader.stop();

      const [pidstatOut, vmstatOut, sarOut] = tools;
      const pidstat = parseSysstat(pidstatOut).slice(1);
      const vm = vmstatIntervals(vmstatOut).slice(1);
      const sar = sysstatSection(sarOut, 'pgpgin/s').slice(1).map((b) => b[0]);
      expect(pidstat.length, pidstatOut).toBe(n);
      expect(vm.length, vmstatOut).toBe(n);
      expect(sar.length, sarOut).toBe(n);
      const procRows = pidstat.map((b) => b.find((r) => r.TGID === String(pid)));
      const threadRows = pidstat.map((b) => b.find((r) => r.TID === String(pid)));
      expect(procRows.every(Boolean) && threadRows.every(Boolean), pidstatOut).toBe(true);
      const kbRdProc = median(procRows.map((r) => Number(r!['kB_rd/s'])));
      const kbRdThread = median(threadRows.map((r) => Number(r!['kB_rd/s'])));
      const observed: Record<string, unknown> = { pid, ddMiBps: ddRate / MiB, pidstatKiBRdps: { process: kbRdProc, thread: kbRdThread } };
      const problems: Array<string | null> = [];
      for (const fr of frames) {
        const backend = fr[0].sampler.backend;
        const wf = fr.slice(1);
        const procs = wf.map((f) => processOf(f, pid));
        const threads = wf.map((f) => threadOf(f, pid));
        expect(procs.every(Boolean) && threads.every(Boolean), `${backend}: whytop saw dd in every frame`).toBe(true);
        const med = (xs: Array<number | null | undefined>, what: string): number => median(xs.map((x) => num(x, `${backend} ${what}`)));
        const readBytes = med(procs.map((p) => p!.read_bytes_per_s), 'read_bytes_per_s');
        const rchar = med(procs.map((p) => p!.rchar_per_s), 'rchar_per_s');
        const syscr = med(procs.map((p) => p!.syscr_per_s), 'syscr_per_s');
        const tReadBytes = med(threads.map((t) => t!.read_bytes_per_s), 'thread read_bytes_per_s');
        const tRchar = med(threads.map((t) => t!.rchar_per_s), 'thread rchar_per_s');
        const tSyscr = med(threads.map((t) => t!.syscr_per_s), 'thread syscr_per_s');
        const pgpgin = med(wf.map((f) => f.paging.pgpgin_kb_per_s), 'pgpgin_kb_per_s');
        observed[backend] = { readMiBps: readBytes / MiB, rcharMiBps: rchar / MiB, syscr, threadReadMiBps: tReadBytes / MiB, threadRcharMiBps: tRchar / MiB, threadSyscr: tSyscr, pgpginKiBps: pgpgin };
        // 25% vs pidstat, as for writes: the throttle releases whole 1 MiB reads, 15-17 a second.
        problems.push(disagreement(`${backend} read_bytes_per_s vs pidstat -d kB_rd/s`, readBytes / 1024, kbRdProc, { rel: 0.25 }));
        problems.push(disagreement(`${backend} thread read_bytes_per_s vs pidstat -d -t kB_rd/s`, tReadBytes / 1024, kbRdThread, { rel: 0.25 }));
        // 15% vs dd's average since it began; O_DIRECT: every byte read comes from the device.
        problems.push(disagreement(`${backend} rchar_per_s vs dd bytes/duration`, rchar, ddRate, { rel: 0.15 }));
        problems.push(disagreement(`${backend} read_bytes_per_s vs rchar_per_s`, readBytes, rchar, { rel: 0.1 }));
        // dd is one thread: its io file is the process's; one read() per 1 MiB block.
        problems.push(disagreement(`${backend} thread rchar_per_s vs process`, tRchar, rchar, { rel: 0.05 }));
        problems.push(disagreement(`${backend} thread syscr_per_s vs rchar in MiB`, tSyscr, tRchar / MiB, { rel: 0.1, abs: 2 }));
        problems.push(disagreement(`${backend} syscr_per_s vs thread`, syscr, tSyscr, { rel: 0.05, abs: 1 }));
        // Reads of the loop device count once, as they are submitted to it (its backing file has
        // holes there: no disk reads underneath). 25%: others' reads come in bursts.
        problems.push(disagreement(`${backend} paging.pgpgin_kb_per_s vs vmstat bi`, pgpgin, median(vm.map((r) => r.bi)), { rel: 0.25, abs: 64 }));
        problems.push(disagreement(`${backend} paging.pgpgin_kb_per_s vs sar -B pgpgin/s`, pgpgin, median(sar.map((r) => Number(r['pgpgin/s']))), { rel: 0.25, abs: 64 }));
        expect(readBytes, `${backend}: read_bytes_per_s`).toBeGreaterThan(LOOP_RATE / 2);
        expect(pgpgin, `${backend}: pgpgin_kb_per_s`).toBeGreaterThan(LOOP_RATE / 2 / 1024);
      }
      observed.vmstatBi = median(vm.map((r) => r.bi));
      observed.sarPgpgin = median(sar.map((r) => Number(r['pgpgin/s'])));
      report('io-read', observed);
      expect(problems.filter(Boolean)).toEqual([]);
      expect(ddRate / MiB).toBeGreaterThan(8);
      expect(ddRate / MiB).toBeLessThan(24);
    },
  );

  it(
    titled('96 MiB written to the page cache, then fsync\'d at 16 MiB/s: dirty_bytes and writeback_bytes follow /proc/meminfo; pgpgout matches vmstat bo and sar -B; procs_blocked vmstat b; iowait mpstat; io pressure sar -q', loopSkip),
    { skip: loopSkip !== null, timeout: 90_000 },
    async () => {
      const { dev } = await setUpLoop();
      // Dirty phase: buffered writes into the device's page cache, nothing written yet (the dirty
      // thresholds are far above 96 MiB on this machine, and nothing expires in the test's time).
      const dirtyBefore = meminfoKb().Dirty * 1024;
      await run('dd', ['if=/dev/zero', `of=${dev}`, 'bs=1M', `count=${DIRTY_MIB}`, 'status=none']);
      const dirtyAfter = meminfoKb().Dirty * 1024;
      expect((dirtyAfter - dirtyBefore) / MiB, `Dirty rose after writing ${DIRTY_MIB} MiB (${dirtyBefore / MiB} → ${dirtyAfter / MiB} MiB)`).toBeGreaterThan(DIRTY_MIB * 0.8);

      // Write-back phase: 2.5 s into the window an fsync of the device from the throttled group:
      // its pages all go under writeback at once and drain at 16 MiB/s while it waits in D.
      const SYNC_AT_S = 2.5;
      const intervals = 8;
      const meminfo = poll(() => {
        const kb = meminfoKb();
        return { dirty: kb.Dirty * 1024, writeback: kb.Writeback * 1024 };
      }, 5);
      let sample: Awaited<ReturnType<typeof sampleAligned>>;
      try {
        sample = await sampleAligned({
          intervals,
          tools: [
            { cmd: 'sh', args: ['-c', `sleep ${SYNC_AT_S}; echo $$ > ${LOOP_BLKIO}/cgroup.procs && exec sync ${dev}`] },
            { cmd: 'vmstat', args: ['-n', '1', String(intervals + 1)] },
            { cmd: 'sar', args: ['-B', '1', String(intervals)] },
            { cmd: 'sar', args: ['-q', 'ALL', '1', String(intervals)] },
            { cmd: 'mpstat', args: ['-P', 'ALL', '1', String(intervals)] },
          ],
        });
      } finally {
        meminfo.stop();
      }
      const { frames, tools } = sample;
      const [, vmstatOut, sarBOut, sarQOut, mpstatOut] = tools;
      // Frame i covers second i of the window: the fsync starts in frame 2's and ends ~6 s later.
      const wf: Frame[] = frames[0];
      const n = intervals;
      const vm = vmstatIntervals(vmstatOut);
      const sarB = sysstatSection(sarBOut, 'pgpgout/s').map((b) => b[0]);
      expect(vm.length, vmstatOut).toBe(n);
      expect(sarB.length, sarBOut).toBe(n);
      const problems: Array<string | null> = [];
      const observed: Record<string, unknown> = {};

      // Every frame's dirty and writeback against /proc/meminfo read from 20 ms before to 100 ms
      // after its sample (writeback drains 16 KiB a ms), ± 2 MiB (per-CPU counter batches).
      const dirty = wf.map((f) => num(f.memory.dirty_bytes, 'dirty_bytes'));
      const writeback = wf.map((f) => num(f.memory.writeback_bytes, 'writeback_bytes'));
      wf.forEach((f, i) => {
        const seen = readsAround(meminfo, Date.parse(f.time), 20, 100);
        problems.push(outsideRange(`frame ${i} memory.dirty_bytes vs meminfo Dirty`, dirty[i], seen.map((r) => r.dirty), 2 * MiB));
        problems.push(outsideRange(`frame ${i} memory.writeback_bytes vs meminfo Writeback`, writeback[i], seen.map((r) => r.writeback), 2 * MiB));
      });
      observed.dirtyMiB = dirty.map((b) => round(b / MiB, 1));
      observed.writebackMiB = writeback.map((b) => round(b / MiB, 1));

      // Intervals 3-6 (3 s to 7 s) lie wholly inside the write-back (2.5 s to ~8.5 s): the loop device writes its
      // backing file at the throttled rate, each write counted in pgpgout as it is submitted.
      const during = [3, 4, 5, 6];
      const pgpgout = median(during.map((i) => num(wf[i].paging.pgpgout_kb_per_s, 'pgpgout_kb_per_s')));
      const bo = median(during.map((i) => vm[i].bo));
      const sarOut = median(during.map((i) => Number(sarB[i]['pgpgout/s'])));
      observed.pgpgoutKiBps = { whytop: pgpgout, vmstatBo: bo, sar: sarOut, perSecond: wf.map((f) => round(f.paging.pgpgout_kb_per_s ?? NaN, 0)) };
      problems.push(disagreement('paging.pgpgout_kb_per_s vs vmstat bo', pgpgout, bo, { rel: 0.25, abs: 64 }));
      problems.push(disagreement('paging.pgpgout_kb_per_s vs sar -B pgpgout/s', pgpgout, sarOut, { rel: 0.25, abs: 64 }));

      // The fsync waits in D: counted as blocked, its wait as iowait, and as I/O pressure.
      const blocked = median(during.map((i) => num(wf[i].system.procs_blocked, 'procs_blocked')));
      const vmB = median(during.map((i) => vm[i].b));
      observed.procsBlocked = { whytop: during.map((i) => wf[i].system.procs_blocked), vmstatB: during.map((i) => vm[i].b) };
      problems.push(disagreement('system.procs_blocked vs vmstat b', blocked, vmB, { abs: 1 }));
      const modes = compareCpuModes(wf.slice(1), parseSysstat(mpstatOut).slice(1), { cpu: 10, total: 6 });
      problems.push(...modes.problems);
      observed.iowaitPct = { whytop: during.map((i) => round(wf[i].cpu_total?.iowait_pct ?? NaN, 1)), mpstatMedians: modes.medians.all?.iowait_pct };
      const psiDuring = comparePressure(during.map((i) => wf[i]), sarQOut, during, { stallPct: 5, avg: 2 });
      problems.push(...psiDuring.problems);
      observed.pressureIo = psiDuring.medians.io;
      report('writeback', observed);

      // What the workload must have moved.
      expect(Math.min(dirty[0], dirty[1]) - dirtyBefore, 'dirty_bytes before the fsync holds our 96 MiB').toBeGreaterThan(DIRTY_MIB * 0.8 * MiB);
      expect(Math.max(...writeback) / MiB, 'writeback_bytes while the fsync drains').toBeGreaterThan(16);
      expect(dirty[n - 1] / MiB, 'dirty_bytes after the write-back').toBeLessThan(dirty[0] / MiB - DIRTY_MIB * 0.8);
      expect(pgpgout, 'pgpgout_kb_per_s during the write-back').toBeGreaterThan(LOOP_RATE / 2 / 1024);
      expect(blocked, 'procs_blocked while the fsync waits').toBeGreaterThanOrEqual(1);
      // Not near 100: each wake-up between page waits may queue for a CPU on a busy machine (observed 62-88%).
      expect(psiDuring.someStall.io, 'pressure.io.some_stall_pct while the fsync waits').toBeGreaterThan(20);
      // iowait is idle time of the CPU a task waits on: it shows when the machine has idle time.
      const iowait = median(during.map((i) => num(wf[i].cpu_total?.iowait_pct, 'iowait_pct')));
      const idle = median(during.map((i) => num(wf[i].cpu_total?.idle_pct, 'idle_pct')));
      if (iowait + idle > 20) expect(iowait, `cpu_total.iowait_pct while the fsync waits (idle ${idle}%)`).toBeGreaterThan(5);
      else console.warn(`[live writeback] no idle CPU time during the write-back (busy machine): iowait rise not checked`);
      expect(problems.filter(Boolean)).toEqual([]);
    },
  );
});
