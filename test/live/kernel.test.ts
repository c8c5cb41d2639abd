// Live: the eBPF kernel tier. Off-CPU time split by sleep state per thread (a vfork parent in D, a
// sleeping child in S, a half-busy thread in between, and no thread's measured shares overshooting
// its interval); per-CPU context switches against /proc/stat and perf stat; softirq time under loopback
// traffic; the programs gone once whytop is killed.
import * as fs from 'node:fs';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame, ThreadFrame } from '../../src/model/frame.js';
import {
  BIN,
  childrenOf,
  compileC,
  disagreement,
  IS_ROOT,
  median,
  missingPrereqs,
  num,
  report,
  run,
  sampleAligned,
  sleep,
  start,
  stopAll,
  stressWorkers,
  sum,
  taskState,
  threadOf,
  titled,
  VFORK_C,
  waitFor,
  whytop,
} from './workload.js';

afterAll(stopAll);

const noBtf = existsSync('/sys/kernel/btf/vmlinux') ? null : 'needs kernel BTF';
const rootSkip = (tools: string[]): string | null => missingPrereqs({ root: true, tools }) ?? noBtf;

/** Spins 10 ms, sleeps 10 ms, forever: about half on CPU, half asleep in S. */
const HALF_BUSY_C = `
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
  struct timespec nap = { 0, 10 * 1000 * 1000 };
  for (;;) {
    double until = now() + 0.010;
    while (now() < until) {}
    nanosleep(&nap, 0);
  }
}
`;

/** On CPU + waiting for a CPU + asleep in D + asleep in S, % of the interval. */
function accounted(t: ThreadFrame): number {
  return (t.cpu_pct ?? 0) + (t.runq_wait_pct ?? 0) + (t.offcpu_d_pct ?? 0) + (t.offcpu_s_pct ?? 0);
}

describe('live: kernel probes (eBPF tier)', () => {
  const skipStates = rootSkip(['cc']);
  it(
    titled('off-CPU time: a vfork parent reads ~100% D, its sleeping child ~100% S, a half-busy thread splits; measured parts never exceed the interval', skipStates),
    { skip: skipStates !== null, timeout: 90_000 },
    async () => {
      const vforker = await compileC('vforker', VFORK_C);
      const halfBusy = await compileC('halfbusy', HALF_BUSY_C);
      const vf = start(vforker, ['60'], { name: 'vforker' });
      const hb = start(halfBusy, [], { name: 'halfbusy' });
      await waitFor('the vfork parent to block in D', () => taskState(vf.pid) === 'D', 5000, 20);
      const child = await waitFor('the vfork child', () => childrenOf(vf.pid)[0]);
      const frames = await whytop(['--interval', '1000', '--count', '4']).done;
      expect(frames[0].kernel).toEqual({ tier: 'ebpf', reason: 'syscall counting off (--syscalls)', syscall_probe_ns: null });
      const observed: Record<string, unknown> = {};
      const problems: string[] = [];
      for (const [k, f] of frames.entries()) {
        if (k === 0) continue;
        const before = new Set(frames[k - 1].threads.map((t) => t.tid));
        const parent = threadOf(f, vf.pid)!;
        const sleeper = threadOf(f, child)!;
        const busy = threadOf(f, hb.pid)!;
        observed[f.time] = {
          parent: [parent.offcpu_d_pct, parent.offcpu_s_pct],
          child: [sleeper.offcpu_d_pct, sleeper.offcpu_s_pct],
          halfBusy: [busy.cpu_pct, busy.runq_wait_pct, busy.offcpu_d_pct, busy.offcpu_s_pct],
        };
        expect(num(parent.offcpu_d_pct, 'parent D%')).toBeGreaterThan(95);
        expect(num(sleeper.offcpu_s_pct, 'child S%')).toBeGreaterThan(95);
        expect(num(busy.offcpu_s_pct, 'half-busy S%')).toBeGreaterThan(25);
        expect(num(busy.offcpu_s_pct, 'half-busy S%')).toBeLessThan(75);
        expect(busy.offcpu_d_pct).toBeLessThan(2);
        problems.push(...[disagreement('half-busy thread: cpu + wait + D + S', accounted(busy), 100, { abs: 10 })].filter((p): p is string => p !== null));
        // Every thread that lived through the interval, as read through the probes (not the few
        // processes the iterator cannot see, read from /proc): S is the rest of the interval, so the
        // shares add up to ~100% unless the measured ones (CPU, wait, D) overshoot it.
        const known = f.threads.filter((t) => t.offcpu_s_pct !== null && 'RSDI'.includes(t.state) && before.has(t.tid));
        const off = known.filter((t) => Math.abs(accounted(t) - 100) > 10);
        observed[`${f.time} threads`] = { known: known.length, off: off.map((t) => `${t.comm}/${t.tid}:${Math.round(accounted(t))}`).slice(0, 10) };
        expect(off.length / known.length, `threads whose shares do not add up: ${off.map((t) => t.comm).join(', ')}`).toBeLessThan(0.05);
      }
      report('kernel offcpu', observed);
      expect(problems).toEqual([]);
      await Promise.all([vf.stop(), hb.stop()]);
    },
  );

  const skipSwitch = rootSkip(['stress-ng', 'perf']);
  it(
    titled('per-CPU context switches add up to /proc/stat ctxt and agree with perf stat -e context-switches -a under stress-ng --switch', skipSwitch),
    { skip: skipSwitch !== null, timeout: 90_000 },
    async () => {
      const stress = start('stress-ng', ['--switch', '1', '-t', '60']);
      await stressWorkers(stress, 'stress-ng-swit');
      await sleep(1000);
      const intervals = 5;
      const { frames, tools } = await sampleAligned({
        intervals,
        // perf stat reports on stderr.
        tools: [{ cmd: 'sh', args: ['-c', `exec perf stat -e context-switches -a -I 1000 -x , --interval-count ${intervals} 2>&1`] }],
      });
      const perf = tools[0]
        .split('\n')
        .filter((l) => /^\s*[\d.]+,\d+,/.test(l))
        .map((l) => Number(l.split(',')[1]));
      expect(perf.length, tools[0]).toBe(intervals);
      const probeSum = median(frames[0].map((f: Frame) => sum(f.cpus.map((c) => num(c.ctxsw_per_s, `cpu ${c.cpu} ctxsw_per_s`)))));
      const procStat = median(frames[0].map((f: Frame) => num(f.system.ctxsw_per_s, 'system.ctxsw_per_s')));
      const perfMedian = median(perf);
      report('kernel ctxsw', { probeSum, procStat, perf: perfMedian });
      // The stressor switches tens of thousands of times a second; all three count the same events.
      expect(probeSum).toBeGreaterThan(5000);
      expect([disagreement('sum of cpus[].ctxsw_per_s vs /proc/stat', probeSum, procStat, { rel: 0.05 }), disagreement('sum of cpus[].ctxsw_per_s vs perf stat', probeSum, perfMedian, { rel: 0.15 })].filter(Boolean)).toEqual([]);
      await stress.stop();
    },
  );

  it(
    titled('--syscalls: syscalls_per_s agrees with perf stat -e raw_syscalls:sys_enter -a under stress-ng --get, and the worker thread makes most of them', skipSwitch),
    { skip: skipSwitch !== null, timeout: 90_000 },
    async () => {
      const stress = start('stress-ng', ['--get', '1', '-t', '60']);
      const [worker] = await stressWorkers(stress, 'stress-ng-get');
      await sleep(1000);
      const intervals = 5;
      const { frames, tools } = await sampleAligned({
        intervals,
        whytopArgs: [['--syscalls']],
        tools: [{ cmd: 'sh', args: ['-c', `exec perf stat -e raw_syscalls:sys_enter -a -I 1000 -x , --interval-count ${intervals} 2>&1`] }],
      });
      const perf = tools[0]
        .split('\n')
        .filter((l) => /^\s*[\d.]+,\d+,/.test(l))
        .map((l) => Number(l.split(',')[1]));
      expect(perf.length, tools[0]).toBe(intervals);
      const fr = frames[0].slice(1);
      expect(fr[0].kernel).toMatchObject({ tier: 'ebpf', reason: null });
      expect(fr[0].kernel.syscall_probe_ns, 'the probe adds something to every syscall').toBeGreaterThan(0);
      const system = median(fr.map((f) => num(f.system.syscalls_per_s, 'system.syscalls_per_s')));
      const perCpu = median(fr.map((f) => sum(f.cpus.map((c) => num(c.syscalls_per_s, `cpu ${c.cpu} syscalls_per_s`)))));
      const thread = median(fr.map((f) => num(threadOf(f, worker)?.syscalls_per_s, 'worker syscalls_per_s')));
      const perfMedian = median(perf.slice(1));
      report('kernel syscalls', { system, perCpu, thread, perf: perfMedian });
      expect(system).toBeGreaterThan(50_000);
      expect(perCpu).toBeCloseTo(system, -1);
      expect([disagreement('system.syscalls_per_s vs perf stat', system, perfMedian, { rel: 0.15 })].filter(Boolean)).toEqual([]);
      expect(thread / system, 'share of the syscalls made by the stress-ng --get worker').toBeGreaterThan(0.5);
      await stress.stop();
    },
  );

  const skipNet = rootSkip(['iperf3']);
  it(
    titled('loopback iperf3: NET_RX softirq time shows on the CPUs that receive, and all softirq time stays under 100% per CPU', skipNet),
    { skip: skipNet !== null, timeout: 90_000 },
    async () => {
      const server = start('iperf3', ['-s', '-p', '5213', '-1']);
      await sleep(500);
      const client = start('iperf3', ['-c', '127.0.0.1', '-p', '5213', '-t', '8']);
      await sleep(1500);
      const frames = await whytop(['--interval', '1000', '--count', '4']).done;
      await Promise.all([client.exit, server.stop()]);
      const last = frames.slice(1);
      const netRx = last.map((f) => sum((f.softirq_time_pct.NET_RX ?? []).map((v) => v ?? 0)));
      const netRxCount = last.map((f) => sum((f.softirqs.NET_RX ?? []).map((v) => v ?? 0)));
      report('kernel softirq time', { netRxTimePct: netRx, netRxPerS: netRxCount });
      expect(median(netRxCount)).toBeGreaterThan(1000);
      expect(median(netRx), 'NET_RX time, % of a CPU, summed over CPUs').toBeGreaterThan(0.5);
      for (const f of last) {
        f.softirq_cpus.forEach((cpu, i) => {
          const total = sum(Object.values(f.softirq_time_pct).map((a) => a[i] ?? 0));
          expect(total, `cpu ${cpu} softirq time %`).toBeLessThanOrEqual(100);
        });
      }
    },
  );

  const skipGone = rootSkip(['bpftool']);
  it(
    titled('leaves no BPF program behind when it is killed (SIGKILL)', skipGone),
    { skip: skipGone !== null, timeout: 60_000 },
    async () => {
      // The programs of this whytop: its descriptors' fdinfo names them (other whytops may run).
      const loadedIds = async (): Promise<Set<number>> => {
        const out = await run('bpftool', ['prog', 'show', '--json']);
        return new Set((JSON.parse(out.stdout) as Array<{ id: number }>).map((p) => p.id));
      };
      const w = whytop(['--interval', '500']);
      await waitFor('a frame', () => w.frames.length > 0, 20_000);
      const ours: number[] = [];
      for (const fd of fs.readdirSync(`/proc/${w.proc.pid}/fd`)) {
        const m = /^prog_id:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${w.proc.pid}/fdinfo/${fd}`, 'utf8'));
        if (m) ours.push(Number(m[1]));
      }
      const during = await loadedIds();
      expect(new Set(ours).size, "whytop's BPF programs (iterator and probes)").toBeGreaterThanOrEqual(5);
      expect(ours.every((id) => during.has(id))).toBe(true);
      w.proc.child.kill('SIGKILL');
      await w.proc.exit;
      let left = ours.filter((id) => during.has(id));
      for (let tries = 0; left.length > 0 && tries < 50; tries++) {
        await sleep(200);
        const now = await loadedIds();
        left = ours.filter((id) => now.has(id));
      }
      expect(left, 'its programs still loaded after SIGKILL').toEqual([]);
      report('kernel cleanup', { programs: ours.length });
    },
  );
});

describe('live: kernel tier without root', () => {
  it('with CAP_PERFMON but not CAP_BPF: the perf tier, per-CPU switches and (--syscalls) syscalls, no per-thread split', { skip: !IS_ROOT || noBtf !== null, timeout: 60_000 }, async () => {
    const r = await run('setpriv', ['--bounding-set=-bpf,-sys_admin', '--inh-caps=-bpf,-sys_admin', process.execPath, BIN, 'dump', '--syscalls', '--count', '2', '--interval', '500'], {});
    const frames = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Frame);
    const f = frames[1];
    expect(f.kernel.tier).toBe('perf');
    expect(f.kernel.reason).toMatch(/no per-thread off-CPU time/);
    expect(f.cpus.every((c) => c.ctxsw_per_s !== null && c.syscalls_per_s !== null)).toBe(true);
    expect(f.system.syscalls_per_s).toBeGreaterThan(0);
    // The CPUs' switches add up to the system's (/proc/stat), within the few ms between the reads.
    expect(Math.abs(sum(f.cpus.map((c) => c.ctxsw_per_s!)) - f.system.ctxsw_per_s!)).toBeLessThan(0.2 * f.system.ctxsw_per_s! + 50);
    expect(f.threads.every((t) => t.offcpu_d_pct === null && t.syscalls_per_s === null)).toBe(true);
  });


  it('without CAP_BPF and CAP_PERFMON: drops to the /proc tier and says why', { skip: !IS_ROOT || noBtf !== null, timeout: 60_000 }, async () => {
    const r = await run('setpriv', ['--bounding-set=-bpf,-perfmon,-sys_admin', '--inh-caps=-bpf,-perfmon,-sys_admin', process.execPath, BIN, 'dump', '--count', '1', '--interval', '300'], {});
    const frame = JSON.parse(r.stdout.trim().split('\n')[0]) as Frame;
    expect(frame.kernel.tier).toBe('proc');
    expect(frame.kernel.reason).toMatch(/run as root for off-CPU states/);
    expect(frame.threads.every((t) => t.offcpu_d_pct === null && t.offcpu_s_pct === null)).toBe(true);
    expect(frame.cpus.every((c) => c.ctxsw_per_s === null)).toBe(true);
  });
});
