// Live: memory. whytop's memory.* must agree with /proc/meminfo read at the same moment, and a
// process that allocates and touches 512 MiB must raise memory.anon_bytes by about that much while
// its own rss_anon_bytes / rss_bytes / mem_pct agree with ps (native and TypeScript readers).
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  median,
  meminfoKb,
  missingPrereqs,
  num,
  processOf,
  report,
  start,
  statusKb,
  stopAll,
  comm,
  descendantsOf,
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
