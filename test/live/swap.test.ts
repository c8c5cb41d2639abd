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
  compileC,
  makeSwapFile,
  median,
  missingPrereqs,
  num,
  processOf,
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
  tools: ['cc', 'vmstat', 'free', 'mkswap', 'swapon', 'swapoff', 'sh'],
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
    titled('a 512 MiB process in a 256 MiB memory cgroup swaps: pswpout/pswpin match vmstat so/si; swap use matches free; VmSwap, majflt and cgroup show', skip),
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

      const { frames, tools, skewMs } = await sampleAligned({
        intervals: INTERVALS,
        settleFrames: 1,
        maxSkewMs: 200, // swap traffic is bursty: compare the same seconds or nothing
        tools: [
          { cmd: 'vmstat', args: ['-n', '1', String(INTERVALS + 1)] },
          // free prints at once and then every second: its print k+1 is taken at aligned frame k's sample.
          { cmd: 'free', args: ['-b', '-s', '1', '-c', String(INTERVALS + 1)] },
        ],
      });
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

      await stress.stop();
      expect(alive(worker)).toBe(false);
    },
  );
});
