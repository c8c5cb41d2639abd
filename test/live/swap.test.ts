// Live: swapping. A 1 GiB swap file is switched on and a process holding 512 MiB runs in a cgroup
// v1 memory cgroup limited to 256 MiB, so half of its memory keeps going out to swap and coming
// back. whytop's paging rates must agree with vmstat's so/si, swap use with free(1), and the process
// must show its swapped memory, its major faults and its cgroup. Swap and cgroup are removed
// afterwards, even when the test fails.
//
// The workload is a small C program that dirties its pages round-robin at a fixed rate, not
// `stress-ng --vm 1 --vm-bytes 512M --vm-keep`: under this 256 MiB limit the stress-ng vm child was
// OOM-killed by the memory cgroup again and again (dmesg: "Memory cgroup out of memory: Killed
// process ... (stress-ng-vm)", with the default method and with write64), which restarts it under
// a new pid mid-window; and between kills its default methods mostly re-read clean swap-cached
// pages, so pswpout sat at 0 for whole windows. A steady, rate-limited dirtier swaps out and in
// at a steady rate and never outruns reclaim.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  TOUCHER_C,
  alive,
  comparePressure,
  compileC,
  disagreement,
  makeSwapFile,
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
  removeSwapFile,
  report,
  round,
  run,
  sampleAligned,
  sleep,
  start,
  statusKb,
  stopAll,
  sum,
  swapActive,
  sysstatSection,
  threadOf,
  titled,
  vmstatIntervals,
  waitFor,
  which,
} from './workload.js';
import type { Started } from './workload.js';

// Named per run: another run of this suite on the same machine (a colleague's `npm test`) must
// neither see our cgroup as its own nor switch our swap file off.
const CGROUP_NAME = `whytop-test-${process.pid}`;
const CGROUP = `/sys/fs/cgroup/memory/${CGROUP_NAME}`;
const SWAPFILE = `/var/tmp/whytop-live-test-${process.pid}.swap`;
const INTERVALS = 7;
const MiB = 1024 * 1024;

const TOUCH_RATE = 10_000; // pages/s: ~40 MiB/s each way, far below what swap on this disk takes

const skip = missingPrereqs({
  root: true,
  tools: ['cc', 'vmstat', 'free', 'mkswap', 'swapon', 'swapoff', 'sh', 'sar', 'pidstat'],
  paths: ['/sys/fs/cgroup/memory/cgroup.procs', '/proc/swaps'],
});

let stress: Started | null = null; // the workload (the toucher, exec'd by sh in the cgroup)
let swapOn = false;

afterAll(async () => {
  const errors: unknown[] = [];
  for (const step of [
    async () => {
      await stress?.stop();
      await stopAll();
    },
    () => removeCgroupDir(CGROUP),
    async () => {
      if (swapOn || swapActive(SWAPFILE) || fs.existsSync(SWAPFILE)) await removeSwapFile(SWAPFILE);
    },
  ]) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new Error(`swap test cleanup failed: ${errors.map(String).join('; ')}`);
}, 90_000);

async function setUpSwapAndCgroup(): Promise<void> {
  // Left over by an interrupted run that had our pid: take it down first.
  if (fs.existsSync(CGROUP)) {
    const procs = fs.readFileSync(`${CGROUP}/cgroup.procs`, 'utf8').trim();
    if (procs !== '') throw new Error(`${CGROUP} exists and holds processes (${procs.split('\n').join(', ')})`);
    fs.rmdirSync(CGROUP);
  }
  if (swapActive(SWAPFILE)) await run(which('swapoff') ?? 'swapoff', [SWAPFILE]);
  await makeSwapFile(SWAPFILE, 1024);
  swapOn = true;
  fs.mkdirSync(CGROUP);
  fs.writeFileSync(`${CGROUP}/memory.limit_in_bytes`, String(256 * MiB));
}

describe('live: swapping', () => {
  it(
    titled('a 512 MiB process in a 256 MiB memory cgroup swaps: pswpout/pswpin match vmstat so/si; swap use matches free; VmSwap, majflt and cgroup show; faults and pgpgin/out match pidstat -r -t, sar -B and vmstat; swap_cached and swap_bytes /proc; memory pressure sar -q', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      await setUpSwapAndCgroup();
      const pageKb = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })) / 1024;
      const toucher = await compileC('toucher', TOUCHER_C);
      stress = start('sh', ['-c', `echo $$ > ${CGROUP}/cgroup.procs && exec ${toucher} 512 ${TOUCH_RATE} 80`], { name: 'toucher in cgroup' });
      const worker = stress.pid;
      // Ramp-up: the 512 MiB are written at start, so past the limit half goes to swap at once.
      await waitFor('128 MiB of the process in swap', () => {
        if (!stress!.running()) throw new Error(`the workload exited: ${stress!.stderr()}`);
        return (statusKb(worker, 'VmSwap') ?? 0) > 128 * 1024;
      }, 20_000);
      await sleep(1000); // into the steady round-robin

      // SwapCached and the worker's VmSwap, read every few ms around whytop's samples.
      const swapCached = poll(() => meminfoKb().SwapCached * 1024, 5);
      const vmSwap = poll(() => {
        const kb = statusKb(worker, 'VmSwap');
        return kb === null ? null : kb * 1024;
      }, 5);
      let sample: Awaited<ReturnType<typeof sampleAligned>>;
      try {
        sample = await sampleAligned({
          intervals: INTERVALS,
          settleFrames: 1,
          maxSkewMs: 200, // swap traffic is bursty: compare the same seconds or nothing
          tools: [
            { cmd: 'vmstat', args: ['-n', '1', String(INTERVALS + 1)] },
            // free prints at once and then every second: its print k+1 is taken at aligned frame k's sample.
            { cmd: 'free', args: ['-b', '-s', '1', '-c', String(INTERVALS + 1)] },
            { cmd: 'sar', args: ['-B', '1', String(INTERVALS)] },
            { cmd: 'sar', args: ['-q', 'ALL', '1', String(INTERVALS)] },
            { cmd: 'pidstat', args: ['-r', '-t', '-p', String(worker), '1', String(INTERVALS)] },
          ],
        });
      } finally {
        swapCached.stop();
        vmSwap.stop();
      }
      const { frames, tools, skewMs } = sample;
      expect(stress.running(), 'the workload ran through the whole window').toBe(true);
      const vmstatOut = tools[0];
      const vm = vmstatIntervals(vmstatOut).slice(1);
      const wf: Frame[] = frames[0].slice(1);
      expect(vm.length, vmstatOut).toBe(INTERVALS - 1);

      const pswpout = wf.map((f) => num(f.paging.pswpout_per_s, 'pswpout_per_s'));
      const pswpin = wf.map((f) => num(f.paging.pswpin_per_s, 'pswpin_per_s'));
      // vmstat's so/si are KiB/s: pages × page size in KiB.
      const so = vm.map((r) => r.so / pageKb);
      const si = vm.map((r) => r.si / pageKb);
      // Both read /proc/vmstat's pswpout/pswpin over the same seconds (aligned to a few ms). Swap
      // traffic still comes in bursts (writeback is batched, swap-in reads ahead in clusters), so
      // 25% on the per-second medians (5 seconds) and on the totals over the window.
      const outW = sum(wf.map((f, i) => pswpout[i] * f.interval_s));
      const outV = sum(so);
      const inW = sum(wf.map((f, i) => pswpin[i] * f.interval_s));
      const inV = sum(si);
      const p = processOf(wf[wf.length - 1], worker);
      // Swap in use per free(1), taken at the same moments as whytop's samples. (vmstat's swpd is
      // no use: procps-ng 4.0.2 vmstat prints the first sample's memory columns on every line.)
      const freeUsed = tools[1].split('\n').filter((l) => l.startsWith('Swap:')).map((l) => Number(l.trim().split(/\s+/)[2]));
      expect(freeUsed.length, tools[1]).toBe(INTERVALS + 1);
      const freeAligned = freeUsed.slice(2); // print k+1 ↔ aligned frame k; the first frame is dropped
      const freeSwapUsed = freeAligned[freeAligned.length - 1];
      report('swap', {
        pswpoutPages: { whytop: outW, vmstat: outV, medianPerS: [median(pswpout), median(so)] },
        pswpinPages: { whytop: inW, vmstat: inV, medianPerS: [median(pswpin), median(si)] },
        swapUsedMiB: { whytop: (wf[wf.length - 1].memory.swap_used_bytes ?? NaN) / MiB, free: freeSwapUsed / MiB },
        majfltPerS: { process: p?.majflt_per_s, system: wf[wf.length - 1].paging.pgmajfault_per_s },
        workerSwapMiB: (p?.swap_bytes ?? NaN) / MiB,
        workerVmSwapNowMiB: round((statusKb(worker, 'VmSwap') ?? NaN) / 1024),
        cgroup: p?.cgroup,
        skewMs,
        sampleMs: wf.map((f) => f.sampler.sample_ms),
        perSecond: { pswpout: pswpout.map((v) => round(v, 0)), so: so.map((v) => round(v, 0)), pswpin: pswpin.map((v) => round(v, 0)), si: si.map((v) => round(v, 0)) },
      });

      // The process swaps out and in every second (at about its touch rate when it gets the CPU).
      for (const v of pswpout) expect(v, 'paging.pswpout_per_s every second').toBeGreaterThan(100);
      for (const v of pswpin) expect(v, 'paging.pswpin_per_s every second').toBeGreaterThan(100);
      const close = (what: string, w: number, v: number): void => {
        expect(Math.abs(w - v), `${what}: whytop ${round(w)} vs vmstat ${round(v)}`).toBeLessThanOrEqual(0.25 * v);
      };
      close('pswpout_per_s median vs vmstat so/page', median(pswpout), median(so));
      close('pswpin_per_s median vs vmstat si/page', median(pswpin), median(si));
      close('pages swapped out over the window', outW, outV);
      close('pages swapped in over the window', inW, inV);

      const used = num(wf[wf.length - 1].memory.swap_used_bytes, 'swap_used_bytes');
      expect(used / MiB, 'memory.swap_used_bytes (MiB)').toBeGreaterThan(128);
      // 5% or 8 MiB: the same SwapTotal - SwapFree, read a few ms apart while slots churn.
      wf.forEach((f, i) => {
        const w = num(f.memory.swap_used_bytes, 'swap_used_bytes');
        expect(Math.abs(w - freeAligned[i]), `swap used: whytop ${w} vs free ${freeAligned[i]}`).toBeLessThanOrEqual(Math.max(0.05 * freeAligned[i], 8 * MiB));
      });
      expect(num(wf[wf.length - 1].memory.swap_total_bytes, 'swap_total_bytes') / MiB).toBeGreaterThan(1023); // 1 GiB less the header page

      expect(p, 'whytop lists the process').toBeDefined();
      expect(num(p!.swap_bytes, 'swap_bytes') / MiB, 'process swap_bytes (MiB)').toBeGreaterThan(128);
      // Resident + swapped ≈ the 512 MiB it holds; the limit keeps at most 256 MiB resident.
      expect((num(p!.rss_anon_bytes, 'rss_anon') + num(p!.swap_bytes, 'swap')) / MiB).toBeGreaterThan(490);
      expect(num(p!.rss_bytes, 'rss_bytes') / MiB).toBeLessThanOrEqual(257);
      // Its swap-ins are major faults of this process (swap readahead brings up to 7 neighbours
      // along, so fewer faults than pages).
      expect(num(p!.majflt_per_s, 'majflt_per_s')).toBeGreaterThan(100);
      expect(num(wf[wf.length - 1].paging.pgmajfault_per_s, 'pgmajfault_per_s')).toBeGreaterThanOrEqual(num(p!.majflt_per_s, 'majflt_per_s') * 0.9);
      expect(p!.cgroup).toBe(`/${CGROUP_NAME}`);


      // ---- the same window against sar -B, sar -q, pidstat -r -t and /proc ----------------------
      const [, , sarBOut, sarQOut, pidstatOut] = tools;
      const sarB = sysstatSection(sarBOut, 'fault/s').slice(1).map((b) => b[0]);
      const pidstat = parseSysstat(pidstatOut).slice(1);
      expect(sarB.length, sarBOut).toBe(INTERVALS - 1);
      expect(pidstat.length, pidstatOut).toBe(INTERVALS - 1);
      const procRows = pidstat.map((b) => b.find((r) => r.TGID === String(worker)));
      const threadRows = pidstat.map((b) => b.find((r) => r.TID === String(worker)));
      expect(procRows.every(Boolean) && threadRows.every(Boolean), pidstatOut).toBe(true);
      const problems: Array<string | null> = [];
      const med = (xs: Array<number | null | undefined>, what: string): number => median(xs.map((x) => num(x, what)));
      const col = (rows: Array<Record<string, string> | undefined>, c: string): number => median(rows.map((r) => Number(r![c])));
      const sarCol = (c: string): number => median(sarB.map((r) => Number(r[c])));
      const procs = wf.map((f) => processOf(f, worker));
      const threads = wf.map((f) => threadOf(f, worker));
      expect(procs.every(Boolean) && threads.every(Boolean), 'whytop listed the worker in every frame').toBe(true);
      // 25%, as for the swap rates above: the same counters over the same seconds, in bursts.
      const rates: Array<[string, number, number]> = [
        ['process majflt_per_s vs pidstat -r majflt/s', med(procs.map((p) => p!.majflt_per_s), 'majflt_per_s'), col(procRows, 'majflt/s')],
        ['thread majflt_per_s vs pidstat -r -t majflt/s', med(threads.map((t) => t!.majflt_per_s), 'thread majflt_per_s'), col(threadRows, 'majflt/s')],
        ['process minflt_per_s vs pidstat -r minflt/s', med(procs.map((p) => p!.minflt_per_s), 'minflt_per_s'), col(procRows, 'minflt/s')],
        ['thread minflt_per_s vs pidstat -r -t minflt/s', med(threads.map((t) => t!.minflt_per_s), 'thread minflt_per_s'), col(threadRows, 'minflt/s')],
        ['paging.pgmajfault_per_s vs sar -B majflt/s', med(wf.map((f) => f.paging.pgmajfault_per_s), 'pgmajfault_per_s'), sarCol('majflt/s')],
        ['paging.pgfault_per_s vs sar -B fault/s', med(wf.map((f) => f.paging.pgfault_per_s), 'pgfault_per_s'), sarCol('fault/s')],
        // Swap I/O is block I/O: counted in pgpgin/pgpgout (kB) as it is submitted.
        ['paging.pgpgin_kb_per_s vs vmstat bi', med(wf.map((f) => f.paging.pgpgin_kb_per_s), 'pgpgin_kb_per_s'), median(vm.map((r) => r.bi))],
        ['paging.pgpgout_kb_per_s vs vmstat bo', med(wf.map((f) => f.paging.pgpgout_kb_per_s), 'pgpgout_kb_per_s'), median(vm.map((r) => r.bo))],
        ['paging.pgpgin_kb_per_s vs sar -B pgpgin/s', med(wf.map((f) => f.paging.pgpgin_kb_per_s), 'pgpgin_kb_per_s'), sarCol('pgpgin/s')],
        ['paging.pgpgout_kb_per_s vs sar -B pgpgout/s', med(wf.map((f) => f.paging.pgpgout_kb_per_s), 'pgpgout_kb_per_s'), sarCol('pgpgout/s')],
        // Global reclaim only: a memory cgroup's own reclaim is not counted in these (see below).
        ['paging.pgscan_kswapd_per_s vs sar -B pgscank/s', med(wf.map((f) => f.paging.pgscan_kswapd_per_s), 'pgscan_kswapd_per_s'), sarCol('pgscank/s')],
        ['paging.pgscan_direct_per_s vs sar -B pgscand/s', med(wf.map((f) => f.paging.pgscan_direct_per_s), 'pgscan_direct_per_s'), sarCol('pgscand/s')],
      ];
      for (const [what, w, t] of rates) problems.push(disagreement(what, w, t, { rel: 0.25, abs: 5 }));

      // SwapCached and VmSwap against /proc read around each sample (± 2 MiB: pages move to and
      // from swap at ~40 MiB/s, and per-CPU counter batches).
      wf.forEach((f, i) => {
        const t = Date.parse(f.time);
        problems.push(outsideRange(`frame ${i} memory.swap_cached_bytes vs meminfo SwapCached`, num(f.memory.swap_cached_bytes, 'swap_cached_bytes'), readsAround(swapCached, t, 20, 100), 2 * MiB));
        problems.push(outsideRange(`frame ${i} worker swap_bytes vs VmSwap`, num(processOf(f, worker)?.swap_bytes, 'swap_bytes'), readsAround(vmSwap, t, 20, 300), 2 * MiB));
      });

      // Reclaim inside the cgroup counts only in the per-type counters (pgsteal_anon/file), which
      // whytop sums. sysstat sums every pgsteal_* line: the same number while kswapd and direct
      // reclaim (the other lines) stay at zero, as they do with 24 GB free outside the cgroup.
      const steal = median(wf.map((f) => f.paging.pgsteal_per_s ?? NaN));
      const kswapdScan = median(wf.map((f) => f.paging.pgscan_kswapd_per_s ?? NaN));
      const directScan = median(wf.map((f) => f.paging.pgscan_direct_per_s ?? NaN));
      if (kswapdScan === 0 && directScan === 0) problems.push(disagreement('pgsteal_per_s vs sar pgsteal/s', steal, sarCol('pgsteal/s'), { rel: 0.25, abs: 5 }));

      // Memory pressure: the worker stalls in its cgroup's reclaim and on swap-ins.
      const psi = comparePressure(wf, sarQOut, wf.map((_, i) => i + 1), { stallPct: 5, avg: 2 });
      problems.push(...psi.problems);
      report('swap-agreement', {
        rates: Object.fromEntries(rates.map(([what, w, t]) => [what.split(' vs ')[0], [round(w), t]])),
        pgsteal: { whytop: steal, sar: sarCol('pgsteal/s') },
        pgscan: { all: median(wf.map((f) => f.paging.pgscan_per_s ?? NaN)), kswapd: kswapdScan, direct: directScan },
        swapCachedMiB: wf.map((f) => round((f.memory.swap_cached_bytes ?? NaN) / MiB, 1)),
        workerSwapMiB: wf.map((f) => round((processOf(f, worker)?.swap_bytes ?? NaN) / MiB, 1)),
        pressureMemory: psi.medians.memory,
      });
      expect(Math.max(...wf.map((f) => num(f.memory.swap_cached_bytes, 'swap_cached_bytes'))), 'swap_cached_bytes with pages swapped back in').toBeGreaterThan(MiB);
      expect(rates[0][1], 'the worker\'s majflt_per_s').toBeGreaterThan(100);
      expect(rates[7][1], 'pgpgout_kb_per_s while swapping out').toBeGreaterThan(TOUCH_RATE * pageKb * 0.25);
      expect(steal, 'pgsteal_per_s while the cgroup reclaims').toBeGreaterThan(100);
      expect(median(wf.map((f) => f.paging.pgscan_per_s ?? NaN)), 'pgscan_per_s while the cgroup reclaims').toBeGreaterThanOrEqual(steal * 0.9);
      expect(psi.someStall.memory, 'pressure.memory.some_stall_pct while the worker reclaims and swaps').toBeGreaterThan(1);
      expect(problems.filter(Boolean)).toEqual([]);

      await stress.stop();
      expect(alive(worker)).toBe(false);
    },
  );
});
