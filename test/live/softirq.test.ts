// Live: softirqs and interrupts under loopback network traffic. iperf3 runs inside a private
// network namespace (its own loopback, nothing leaves the machine and the host's lo is untouched)
// whose lo has a token-bucket qdisc: the throttled qdisc reschedules transmission through the
// NET_TX softirq, while delivery over loopback raises NET_RX. Client and server are pinned to
// different CPUs and send both ways (--bidir), so both CPUs see both softirqs. whytop's per-CPU
// rates must rise and their sums agree with mpstat -I SCPU; interrupts_per_s with vmstat's `in`.
import * as os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  compareCpuModes,
  descendantsOf,
  comm,
  disagreement,
  median,
  missingPrereqs,
  num,
  parseSysstat,
  report,
  sampleAligned,
  sleep,
  start,
  stopAll,
  sum,
  titled,
  vmstatIntervals,
  waitFor,
  whytop,
} from './workload.js';

afterAll(stopAll);

const INTERVALS = 6;
const skip = missingPrereqs({ root: true, tools: ['iperf3', 'mpstat', 'vmstat', 'unshare', 'ip', 'tc'] });
const CPU_MODES_TOL = { cpu: 10, total: 6 }; // points, as in cpu.test.ts
const CPUS = os.cpus().length >= 2 ? [0, 1] : [0];

/** softirqs[type] summed over CPUs (null entries count as missing: the test fails on them). */
function softirqSum(frame: Frame, type: string): number {
  const perCpu = frame.softirqs[type];
  if (!perCpu) throw new Error(`no softirq type ${type} in frame`);
  return sum(perCpu.map((v, i) => num(v, `softirqs.${type}[${i}]`)));
}

function softirqOn(frame: Frame, type: string, cpu: number): number {
  const i = frame.softirq_cpus.indexOf(cpu);
  return num(frame.softirqs[type]?.[i], `softirqs.${type}[cpu ${cpu}]`);
}

describe('live: softirqs and interrupts', () => {
  it(
    titled('loopback iperf3 raises NET_RX and NET_TX on each CPU; sums match mpstat -I SCPU, interrupts match vmstat in; softirq_pct rises and every CPU mode matches mpstat -P ALL', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      // Baseline, before any traffic of ours.
      const baseline = (await whytop(['--interval', '1000', '--count', '2']).done).slice(1);

      const [serverCpu, clientCpu] = [CPUS[CPUS.length - 1], CPUS[0]];
      const script = [
        'set -e',
        'ip link set lo mtu 1500 up',
        'tc qdisc add dev lo root tbf rate 1gbit burst 32kb latency 50ms',
        `iperf3 -s -1 -p 5201 -A ${serverCpu} >/dev/null 2>&1 &`,
        'sleep 0.3',
        // Longer than the window can take on a loaded machine; stopped once it is sampled.
        `exec iperf3 -c 127.0.0.1 -p 5201 -t 80 --bidir -A ${clientCpu} >/dev/null`,
      ].join('\n');
      const traffic = start('unshare', ['-n', 'sh', '-c', script], { name: 'iperf3 in netns' });
      await waitFor('the iperf3 client to run', () => {
        if (!traffic.running()) throw new Error(`traffic setup failed: ${traffic.stderr().trim()}`);
        return descendantsOf(traffic.pid).some((p) => comm(p) === 'iperf3') && comm(traffic.pid) === 'iperf3';
      });
      await sleep(1500); // ramp-up: connection set up, TCP window open
      const { frames, tools } = await sampleAligned({
        intervals: INTERVALS,
        tools: [
          { cmd: 'mpstat', args: ['-I', 'SCPU', '1', String(INTERVALS)] },
          { cmd: 'vmstat', args: ['-n', '1', String(INTERVALS + 1)] },
          { cmd: 'mpstat', args: ['-P', 'ALL', '1', String(INTERVALS)] },
        ],
      });
      expect(traffic.running(), `iperf3 ran through the whole window: ${traffic.stderr()}`).toBe(true);
      const [mpstatOut, vmstatOut, mpstatAllOut] = tools;
      const mp = parseSysstat(mpstatOut).slice(1);
      const vm = vmstatIntervals(vmstatOut).slice(1);
      const wf = frames[0].slice(1);
      expect(mp.length, mpstatOut).toBe(INTERVALS - 1);
      expect(vm.length, vmstatOut).toBe(INTERVALS - 1);

      const observed: Record<string, unknown> = {};
      const problems: Array<string | null> = [];
      // Tolerance 20%: both read /proc/softirqs (and /proc/stat) over the same seconds, but
      // packet processing comes in bursts and the seconds are aligned only to a few ms; medians
      // of per-second sums over 5 seconds.
      for (const type of ['NET_RX', 'NET_TX']) {
        const w = median(wf.map((f) => softirqSum(f, type)));
        const m = median(mp.map((block) => sum(block.map((r) => Number(r[`${type}/s`])))));
        observed[`${type}_sum`] = { whytop: w, mpstat: m };
        problems.push(disagreement(`sum of softirqs.${type} vs mpstat ${type}/s summed`, w, m, { rel: 0.2 }));
        for (const cpu of CPUS) {
          const before = median(baseline.map((f) => softirqOn(f, type, cpu)));
          const during = median(wf.map((f) => softirqOn(f, type, cpu)));
          const tool = median(mp.map((block) => Number(block.find((r) => r.CPU === String(cpu))?.[`${type}/s`])));
          observed[`${type}_cpu${cpu}`] = { before, during, mpstat: tool };
          // Rises on every loaded CPU: from a few per second at rest to thousands.
          expect(during, `softirqs.${type} on CPU ${cpu} during traffic (before: ${before})`).toBeGreaterThan(before + 1000);
        }
      }
      const intr = median(wf.map((f) => num(f.system.interrupts_per_s, 'interrupts_per_s')));
      const vmIn = median(vm.map((r) => r.in));
      observed.interrupts = { whytop: intr, vmstat: vmIn };
      problems.push(disagreement('system.interrupts_per_s vs vmstat in', intr, vmIn, { rel: 0.2 }));
      // The time spent in softirqs (and every other mode) per CPU and in total, against mpstat.
      const modes = compareCpuModes(wf, parseSysstat(mpstatAllOut).slice(1), CPU_MODES_TOL);
      problems.push(...modes.problems);
      const softBefore = median(baseline.map((f) => num(f.cpu_total?.softirq_pct, 'cpu_total.softirq_pct')));
      const softDuring = median(wf.map((f) => num(f.cpu_total?.softirq_pct, 'cpu_total.softirq_pct')));
      observed.softirqPct = { before: softBefore, during: softDuring, perCpu: Object.fromEntries(Object.entries(modes.medians).map(([cpu, m]) => [cpu, m.softirq_pct])) };
      observed.irqPct = Object.fromEntries(Object.entries(modes.medians).map(([cpu, m]) => [cpu, m.irq_pct]));
      report('softirq', observed);
      expect(softDuring, `cpu_total.softirq_pct during traffic (before: ${softBefore})`).toBeGreaterThan(softBefore + 2);
      expect(problems.filter(Boolean)).toEqual([]);
      await traffic.stop();
    },
  );
});
