// Live: per-process and per-thread I/O. dd writes with O_DIRECT in 1 MiB blocks from a cgroup v1
// blkio group throttled to 32 MiB/s on the file's disk, so it writes at a steady, known rate for
// long enough to sample (unthrottled, this VM's disk takes 200 MiB in 0.2 s). whytop's process
// write_bytes_per_s must agree with pidstat -d, its wchar_per_s with dd's own bytes/duration, and
// with --detail the thread's write syscalls must show; both task readers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  disagreement,
  median,
  missingPrereqs,
  num,
  parseSysstat,
  processOf,
  report,
  sampleAligned,
  sleep,
  start,
  stopAll,
  threadOf,
  titled,
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
  if (fs.existsSync(BLKIO)) {
    await waitFor(`${BLKIO} to be removable`, () => {
      try {
        fs.rmdirSync(BLKIO);
        return true;
      } catch {
        return false;
      }
    }, 10_000, 100);
  }
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
