// Live: memory. whytop's memory.* must agree with /proc/meminfo read at the same moment, and a
// process that allocates and touches 512 MiB must raise memory.anon_bytes by about that much while
// its own rss_anon_bytes / rss_bytes / mem_pct agree with ps (native and TypeScript readers).
// Then: a stress-ng --fault worker's faults against pidstat -r -t and sar -B, and a process holding
// a memfd and a mapped file: rss_shmem_bytes / rss_file_bytes against /proc/PID/status.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  compileC,
  disagreement,
  median,
  meminfoKb,
  missingPrereqs,
  num,
  outsideRange,
  parseSysstat,
  poll,
  processOf,
  readerArgs,
  readsAround,
  report,
  round,
  sampleAligned,
  sleep,
  start,
  statusKb,
  stopAll,
  stressWorkers,
  sysstatSection,
  comm,
  descendantsOf,
  threadOf,
  titled,
  waitFor,
  whytop,
  READER_ARGS,
} from './workload.js';

afterAll(stopAll);

const MiB = 1024 * 1024;
const skipVm = missingPrereqs({ tools: ['stress-ng', 'ps'] });

describe('live: memory', () => {
  it('memory.* agrees with /proc/meminfo read around the moment whytop sampled (total exact)', { timeout: 60_000 }, async () => {
    // Memory moves on a shared machine (others allocate hundreds of MiB per second at times), so
    // rather than one read "at about the same time" we read /proc/meminfo every few ms from 50 ms
    // before to 250 ms after each of whytop's (known, drift-free) sample times. Each of whytop's
    // values must lie within the range we saw, ± 2 MiB (4 KiB pages and counters updated in
    // per-CPU batches, which meminfo folds in lazily).
    const intervalMs = 1000;
    const seen = new Map<number, Array<Record<string, number>>>();
    const timers: NodeJS.Timeout[] = [];
    const frames = await whytop(['--interval', String(intervalMs), '--count', '4'], (frame, index) => {
      const next = Date.parse(frame.time) + intervalMs;
      const reads: Array<Record<string, number>> = [];
      seen.set(index + 1, reads);
      const poll = (): void => {
        if (Date.now() > next + 250) return;
        reads.push(meminfoKb());
        timers.push(setTimeout(poll, 4));
      };
      timers.push(setTimeout(poll, Math.max(0, next - 50 - Date.now())));
    }).done;
    for (const t of timers) clearTimeout(t);
    const problems: string[] = [];
    const spread: Record<string, number> = {};
    let compared = 0;
    frames.forEach((frame, index) => {
      const reads = seen.get(index);
      if (!reads || reads.length === 0) return;
      compared++;
      const m = frame.memory;
      const values = (f: (kb: Record<string, number>) => number): number[] => reads.map((kb) => f(kb) * 1024);
      expect(m.total_bytes).toBe(reads[0].MemTotal * 1024);
      const checks: Array<[string, number | null, number[]]> = [
        ['anon_bytes', m.anon_bytes, values((kb) => kb.AnonPages)],
        ['page_cache_bytes', m.page_cache_bytes, values((kb) => kb.Cached + kb.Buffers - kb.Shmem)],
        ['free_bytes', m.free_bytes, values((kb) => kb.MemFree)],
        ['available_bytes', m.available_bytes, values((kb) => kb.MemAvailable)],
        ['shmem_bytes', m.shmem_bytes, values((kb) => kb.Shmem)],
        ['buffers_bytes', m.buffers_bytes, values((kb) => kb.Buffers)],
        ['slab_bytes', m.slab_bytes, values((kb) => kb.Slab)],
        ['swap_total_bytes', m.swap_total_bytes, values((kb) => kb.SwapTotal)],
        ['swap_used_bytes', m.swap_used_bytes, values((kb) => kb.SwapTotal - kb.SwapFree)],
      ];
      for (const [what, got, range] of checks) {
        const g = num(got, `memory.${what}`);
        const lo = Math.min(...range) - 2 * MiB;
        const hi = Math.max(...range) + 2 * MiB;
        spread[what] = Math.max(spread[what] ?? 0, (hi - lo) / MiB - 4);
        if (g < lo || g > hi) problems.push(`frame ${index} memory.${what}=${(g / MiB).toFixed(1)} MiB outside meminfo's ${(lo / MiB).toFixed(1)}..${(hi / MiB).toFixed(1)} MiB (${reads.length} reads)`);
      }
    });
    report('meminfo', { framesCompared: compared, meminfoSpreadMiB: spread, anonMiB: (frames[frames.length - 1].memory.anon_bytes ?? NaN) / MiB });
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(problems).toEqual([]);
  });

  it(
    titled('a 512 MiB stress-ng --vm worker raises memory.anon_bytes by ~512 MiB; its rss/mem% match ps (every task reader)', skipVm),
    { skip: skipVm !== null, timeout: 90_000 },
    async () => {
      // ps is run twice around each of whytop's samples: just before its (known, drift-free) sample
      // time and when the frame arrives, i.e. after whytop's pass has read the worker. Whytop's
      // values must lie between the two (± tolerance): the worker is steady with --vm-keep, but
      // stress-ng's vm methods now and then map another buffer (its RSS goes 514 → 578 MiB), and
      // on a crowded machine a pass can take seconds.
      type PsRead = { rssKb: number; pmem: number };
      const psAt = new Map<string, PsRead[]>();
      let worker = 0;
      let measuring = false;
      const ps = (): PsRead | null => {
        const r = spawnSync('ps', ['-o', 'rss=,pmem=', '-p', String(worker)], { encoding: 'utf8' });
        const [rssKb, pmem] = r.stdout.trim().split(/\s+/).map(Number);
        return r.status === 0 && Number.isFinite(rssKb) ? { rssKb, pmem } : null;
      };
      const timers: NodeJS.Timeout[] = [];
      const onFrame = (run: number) => (frame: Frame, index: number) => {
        if (!measuring || worker === 0) return;
        const after = ps();
        if (after) psAt.set(`${run}:${index}`, [...(psAt.get(`${run}:${index}`) ?? []), after]);
        const nextSample = Date.parse(frame.time) + 1000;
        timers.push(setTimeout(() => {
          const before = ps();
          if (before) psAt.set(`${run}:${index + 1}`, [before, ...(psAt.get(`${run}:${index + 1}`) ?? [])]);
        }, Math.max(0, nextSample - 30 - Date.now())));
      };
      const count = 12;
      const runs = READER_ARGS.map((args, i) => ({ run: whytop(['--interval', '1000', '--count', String(count), ...args], onFrame(i)) }));
      await waitFor('two baseline frames', () => runs.every((r) => r.run.frames.length >= 2), 15_000);
      const baselineFrames = runs[0].run.frames.length;
      const stress = start('stress-ng', ['--vm', '1', '--vm-bytes', '512M', '--vm-keep', '-t', '80']);
      // stress-ng's vm worker forks the child that allocates (so the OOM killer can take it alone):
      // wait until a stress-ng-vm descendant has touched the 512 MiB, then measure what follows.
      worker = await waitFor('a stress-ng-vm process to touch 512 MiB', () => {
        if (!stress.running()) throw new Error(`stress-ng exited: ${stress.stderr()}`);
        return descendantsOf(stress.pid).find((p) => comm(p)?.startsWith('stress-ng-vm') && (statusKb(p, 'VmRSS') ?? 0) > 500 * 1024);
      }, 15_000);
      const familyPids = descendantsOf(stress.pid);
      const firstLoaded = runs[0].run.frames.length + 1;
      measuring = true;
      const perReader = await Promise.all(runs.map((r) => r.run.done));
      const firstFrames = perReader[0];
      for (const t of timers) clearTimeout(t);
      expect(stress.running(), 'stress-ng ran through the whole window').toBe(true);
      expect(firstFrames.length - firstLoaded, 'frames while loaded').toBeGreaterThanOrEqual(3);

      // Baseline: the last frame before stress-ng started; loaded: every frame after the touch.
      const family = new Set([stress.pid, ...familyPids]);
      const anon = (f: Frame): number => num(f.memory.anon_bytes, 'anon_bytes');
      const procAnon = (f: Frame, ours: boolean): number =>
        f.processes.filter((p) => family.has(p.pid) === ours).reduce((acc, p) => acc + (p.rss_anon_bytes ?? 0), 0);
      const base = firstFrames[baselineFrames - 1];
      const loaded = firstFrames.slice(firstLoaded);
      const rise = median(loaded.map((f) => anon(f) - anon(base))) / MiB;
      const oursRise = median(loaded.map((f) => procAnon(f, true) - procAnon(base, true))) / MiB;
      const othersRise = median(loaded.map((f) => procAnon(f, false) - procAnon(base, false))) / MiB;
      const observed: Record<string, unknown> = { worker, anonBeforeMiB: anon(base) / MiB, riseMiB: rise, stressRssAnonRiseMiB: oursRise, othersRssAnonRiseMiB: othersRise };
      // The stress-ng processes' resident anon grew by the 512 MiB they touched (+ a few MiB of
      // their own; some of stress-ng's vm methods map one more 64 MiB buffer for a while).
      expect(oursRise, 'rss_anon_bytes rise of the stress-ng processes (MiB)').toBeGreaterThan(500);
      expect(oursRise, 'rss_anon_bytes rise of the stress-ng processes (MiB)').toBeLessThan(600);
      // memory.anon_bytes rose by that much too. Other programs on a shared machine allocate and
      // free hundreds of MiB meanwhile (benchmarks, test runners), so what they did, by whytop's own
      // per-process table, is taken out first; what remains must be the stress-ng rise within 15%
      // (shared copy-on-write pages and page tables make per-process and system anon differ a bit).
      const explained = rise - othersRise;
      observed.anonRiseNotOthersMiB = explained;
      expect(Math.abs(explained - oursRise), `memory.anon_bytes rise minus other processes' (${explained} MiB) vs stress-ng's rise (${oursRise} MiB)`).toBeLessThan(0.15 * oursRise);
      if (Math.abs(othersRise) < 32) expect(rise, 'memory.anon_bytes rise on a quiet machine (MiB)').toBeGreaterThan(oursRise * 0.9);

      const problems: Array<string | null> = [];
      for (const [run, frames] of perReader.entries()) {
        const backend = frames[0].sampler.backend;
        const compared: string[] = [];
        frames.forEach((f, index) => {
          const reads = psAt.get(`${run}:${index}`);
          if (index < firstLoaded || !reads || reads.length < 2) return; // needs a read before and after
          const p = processOf(f, worker);
          expect(p, `${backend}: whytop lists the worker`).toBeDefined();
          const anonB = num(p!.rss_anon_bytes, 'rss_anon_bytes');
          const rssB = num(p!.rss_bytes, 'rss_bytes');
          const memPct = num(p!.mem_pct, 'mem_pct');
          const lo = Math.min(...reads.map((r) => r.rssKb)) * 1024;
          const hi = Math.max(...reads.map((r) => r.rssKb)) * 1024;
          const pmemLo = Math.min(...reads.map((r) => r.pmem));
          const pmemHi = Math.max(...reads.map((r) => r.pmem));
          compared.push(`anon=${(anonB / MiB).toFixed(1)}MiB rss=${(rssB / MiB).toFixed(1)}MiB ps=${(lo / MiB).toFixed(1)}..${(hi / MiB).toFixed(1)}MiB mem%=${memPct.toFixed(2)} ps%mem=${pmemLo}..${pmemHi}`);
          // 5%: RssAnon is most of a 512 MiB anonymous worker's RSS (ps RSS = anon + file + shmem).
          if (anonB < 0.95 * lo || anonB > 1.05 * hi) problems.push(`${backend} frame ${index} rss_anon_bytes ${anonB} vs ps rss ${lo}..${hi}`);
          // 1%: the same VmRSS the kernel reports to ps.
          if (rssB < 0.99 * lo || rssB > 1.01 * hi) problems.push(`${backend} frame ${index} rss_bytes ${rssB} vs ps rss ${lo}..${hi}`);
          // ps prints %mem truncated to one decimal (procps: rss * 1000 / MemTotal in integers), so
          // the exact share lies in [ps, ps + 0.1); ±0.02 for rounding of the reads' moments.
          if (memPct < pmemLo - 0.02 || memPct >= pmemHi + 0.12) problems.push(`${backend} frame ${index} mem_pct ${memPct} outside ps %mem ${pmemLo}..${pmemHi + 0.1}`);
          expect(anonB / MiB).toBeGreaterThan(500);
        });
        expect(compared.length, `${backend}: frames compared with ps`).toBeGreaterThanOrEqual(3);
        observed[backend] = compared[compared.length - 1];
      }
      report('memory', observed);
      expect(problems.filter(Boolean)).toEqual([]);
      await stress.stop();
    },
  );
});

const skipFault = missingPrereqs({ tools: ['stress-ng', 'pidstat', 'sar'] });
const skipRss = missingPrereqs({ tools: ['cc'], paths: ['/proc/self/status'] });
const FAULT_INTERVALS = 6;

/**
 * KNOWN DEVIATION (reported, not fixed here: src/ is not ours): the bpf task reader reads each mm
 * rss counter's shared part only (percpu_counter.count, src/sources/bpfTaskIter.ts rssPaths), while
 * /proc/PID/status sums the per-CPU parts too (get_mm_counter_sum, Linux ≥ 6.16). Each CPU may hold
 * up to a batch of max(32, 2 × CPUs) pages back, so the bpf reader's RssAnon/RssFile/RssShmem/
 * VmSwap can be off by up to CPUs × batch pages (observed: 100 KiB RssAnon read as 0). Remove this
 * slack once the reader sums the per-CPU counters.
 */
const BPF_RSS_SLACK = os.cpus().length * Math.max(32, 2 * os.cpus().length) * 4096;

/** C source of `shmfile SHM_MIB FILE_MIB FILE SECS`: touches a SHM_MIB memfd (RssShmem) and reads FILE_MIB of FILE through a mapping (RssFile), then sleeps. */
const SHMFILE_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 5) return 2;
  size_t shm = strtoul(argv[1], 0, 10) << 20, file = strtoul(argv[2], 0, 10) << 20;
  long page = sysconf(_SC_PAGESIZE);
  int m = memfd_create("whytop-live", 0);            /* shared memory, freed when we exit */
  if (m < 0 || ftruncate(m, shm) < 0) return 1;
  char *s = mmap(0, shm, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
  if (s == MAP_FAILED) return 1;
  memset(s, 1, shm);
  int f = open(argv[3], O_RDONLY);
  if (f < 0) return 1;
  volatile char *p = mmap(0, file, PROT_READ, MAP_SHARED, f, 0);
  if (p == (void *)MAP_FAILED) return 1;
  unsigned long sum = 0;
  for (size_t i = 0; i < file; i += page) sum += p[i];
  printf("ready %lu\\n", sum);
  fflush(stdout);
  sleep(atoi(argv[4]));
  return 0;
}
`;

describe('live: faults and resident memory by kind', () => {
  it(
    titled('a stress-ng --fault worker: minflt_per_s/majflt_per_s (thread and process) match pidstat -r -t; paging.pgfault/pgmajfault/pgpgin/pgpgout match sar -B', skipFault),
    { skip: skipFault !== null, timeout: 90_000 },
    async () => {
      const stress = start('stress-ng', ['--fault', '1', '--taskset', '0', '-t', '60']);
      const [worker] = await stressWorkers(stress, 'stress-ng-fault');
      await sleep(1000); // ramp-up
      const { frames, tools } = await sampleAligned({
        intervals: FAULT_INTERVALS,
        tools: [
          { cmd: 'pidstat', args: ['-r', '-t', '-p', String(worker), '1', String(FAULT_INTERVALS)] },
          { cmd: 'sar', args: ['-B', '1', String(FAULT_INTERVALS)] },
        ],
      });
      expect(stress.running(), 'stress-ng ran through the whole window').toBe(true);
      await stress.stop();
      const [pidstatOut, sarOut] = tools;
      const wf = frames[0].slice(1);
      const n = FAULT_INTERVALS - 1;
      const pidstat = parseSysstat(pidstatOut).slice(1);
      const sar = sysstatSection(sarOut, 'fault/s').slice(1).map((b) => b[0]);
      expect(pidstat.length, pidstatOut).toBe(n);
      expect(sar.length, sarOut).toBe(n);
      const threadRows = pidstat.map((b) => b.find((r) => r.TID === String(worker)));
      const procRows = pidstat.map((b) => b.find((r) => r.TGID === String(worker)));
      expect(threadRows.every(Boolean) && procRows.every(Boolean), pidstatOut).toBe(true);
      const t = wf.map((f) => threadOf(f, worker));
      const p = wf.map((f) => processOf(f, worker));
      expect(t.every(Boolean) && p.every(Boolean), 'whytop listed the worker in every frame').toBe(true);

      const med = (xs: Array<number | null | undefined>, what: string): number => median(xs.map((x) => num(x, what)));
      const col = (rows: Array<Record<string, string> | undefined>, c: string): number => median(rows.map((r) => Number(r![c])));
      const pairs: Array<[string, number, number, { rel?: number; abs?: number }]> = [
        // 15%: the same fault counters over seconds aligned to a few ms; faults come in bursts
        // of the worker's mmap/munmap cycles.
        ['thread minflt_per_s vs pidstat -r -t minflt/s', med(t.map((x) => x!.minflt_per_s), 'minflt_per_s'), col(threadRows, 'minflt/s'), { rel: 0.15, abs: 5 }],
        ['process minflt_per_s vs pidstat -r minflt/s', med(p.map((x) => x!.minflt_per_s), 'process minflt_per_s'), col(procRows, 'minflt/s'), { rel: 0.15, abs: 5 }],
        ['thread majflt_per_s vs pidstat -r -t majflt/s', med(t.map((x) => x!.majflt_per_s), 'majflt_per_s'), col(threadRows, 'majflt/s'), { rel: 0.15, abs: 5 }],
        ['process majflt_per_s vs pidstat -r majflt/s', med(p.map((x) => x!.majflt_per_s), 'process majflt_per_s'), col(procRows, 'majflt/s'), { rel: 0.15, abs: 5 }],
        ['paging.pgfault_per_s vs sar -B fault/s', med(wf.map((f) => f.paging.pgfault_per_s), 'pgfault_per_s'), median(sar.map((r) => Number(r['fault/s']))), { rel: 0.15, abs: 5 }],
        ['paging.pgmajfault_per_s vs sar -B majflt/s', med(wf.map((f) => f.paging.pgmajfault_per_s), 'pgmajfault_per_s'), median(sar.map((r) => Number(r['majflt/s']))), { rel: 0.15, abs: 5 }],
        // I/O of other programs in bursts: 25% or 64 kB/s.
        ['paging.pgpgin_kb_per_s vs sar -B pgpgin/s', med(wf.map((f) => f.paging.pgpgin_kb_per_s), 'pgpgin_kb_per_s'), median(sar.map((r) => Number(r['pgpgin/s']))), { rel: 0.25, abs: 64 }],
        ['paging.pgpgout_kb_per_s vs sar -B pgpgout/s', med(wf.map((f) => f.paging.pgpgout_kb_per_s), 'pgpgout_kb_per_s'), median(sar.map((r) => Number(r['pgpgout/s']))), { rel: 0.25, abs: 64 }],
      ];
      report('faults', Object.fromEntries(pairs.map(([what, w, s]) => [what.split(' vs ')[0], [round(w), s]])));
      const threadMinflt = pairs[0][1];
      // The worker faults thousands of times a second, and the whole machine at least as often.
      expect(threadMinflt, 'the fault worker\'s minflt_per_s').toBeGreaterThan(1000);
      expect(pairs[4][1], 'paging.pgfault_per_s includes the worker\'s faults').toBeGreaterThan(0.9 * threadMinflt);
      expect(pairs.map(([what, w, s, tol]) => disagreement(what, w, s, tol)).filter(Boolean)).toEqual([]);
    },
  );

  it(
    titled('a process holding a 64 MiB memfd and 48 MiB of a mapped file: rss_shmem_bytes/rss_file_bytes/rss_anon_bytes match /proc/PID/status (every task reader)', skipRss),
    { skip: skipRss !== null, timeout: 90_000 },
    async () => {
      const file = fs.realpathSync(process.execPath); // a big file that is surely there: node itself
      const fileMiB = Math.min(48, Math.floor(fs.statSync(file).size / MiB));
      expect(fileMiB, `${file} is big enough to map`).toBeGreaterThanOrEqual(16);
      const bin = await compileC('shmfile', SHMFILE_C);
      const holder = start(bin, ['64', String(fileMiB), file, '60'], { name: 'shmfile' });
      await waitFor('the memfd and the file to be touched', () => {
        if (!holder.running()) throw new Error(`shmfile exited: ${holder.stderr()}`);
        return holder.stdout().includes('ready');
      }, 15_000);
      type Status = { anon: number; file: number; shmem: number };
      const status = poll<Status>(() => {
        const [anon, f, shmem] = ['RssAnon', 'RssFile', 'RssShmem'].map((k) => statusKb(holder.pid, k));
        return anon === null || f === null || shmem === null ? null : { anon: anon * 1024, file: f * 1024, shmem: shmem * 1024 };
      }, 20);
      let result: Awaited<ReturnType<typeof sampleAligned>>;
      try {
        result = await sampleAligned({ intervals: 3, whytopArgs: readerArgs(), tools: [] });
      } finally {
        status.stop();
      }
      expect(holder.running(), 'the holder ran through the whole window').toBe(true);
      await holder.stop();
      const problems: Array<string | null> = [];
      const observed: Record<string, unknown> = { pid: holder.pid, fileMiB };
      for (const frames of result.frames) {
        const backend = frames[0].sampler.backend;
        for (const f of frames) {
          const p = processOf(f, holder.pid);
          expect(p, `${backend}: whytop lists the holder`).toBeDefined();
          // Task files are read after the system ones, up to a few hundred ms into a slow pass.
          const seen = readsAround(status, Date.parse(f.time), 50, 500);
          const mib = (x: number | null): number => round(num(x, 'rss') / MiB, 1);
          observed[backend] = { shmemMiB: mib(p!.rss_shmem_bytes), fileMiB: mib(p!.rss_file_bytes), anonMiB: mib(p!.rss_anon_bytes), statusReads: seen.length };
          // Nothing moves in this process any more: whytop's values must be the kernel's, ± 64 KiB
          // (a page or two of libc touched between reads). The bpf reader gets its own slack, see
          // BPF_RSS_SLACK.
          const slack = backend === 'bpf' ? BPF_RSS_SLACK : 64 * 1024;
          problems.push(outsideRange(`${backend} rss_shmem_bytes vs RssShmem`, num(p!.rss_shmem_bytes, 'rss_shmem_bytes'), seen.map((s) => s.shmem), slack));
          problems.push(outsideRange(`${backend} rss_file_bytes vs RssFile`, num(p!.rss_file_bytes, 'rss_file_bytes'), seen.map((s) => s.file), slack));
          problems.push(outsideRange(`${backend} rss_anon_bytes vs RssAnon`, num(p!.rss_anon_bytes, 'rss_anon_bytes'), seen.map((s) => s.anon), slack));
          expect(num(p!.rss_shmem_bytes, 'rss_shmem_bytes') / MiB, `${backend}: the 64 MiB memfd is resident shmem`).toBeGreaterThanOrEqual(64);
          expect(num(p!.rss_file_bytes, 'rss_file_bytes') / MiB, `${backend}: the mapped file is resident file memory`).toBeGreaterThanOrEqual(fileMiB);
          expect(num(p!.rss_anon_bytes, 'rss_anon_bytes') / MiB, `${backend}: the holder has little anon memory`).toBeLessThan(16);
        }
      }
      report('rss-kinds', observed);
      expect(problems.filter(Boolean)).toEqual([]);
    },
  );
});
