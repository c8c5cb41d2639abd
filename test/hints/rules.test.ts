// Each rule on hand-made frames: it fires, it stays quiet, a value hovering around its threshold
// does not make it flicker, and a single spike is not news where the rule asks for a duration.
import { describe, expect, it } from 'vitest';
import { evaluateHints, initialHintState } from '../../src/hints/engine.js';
import { RULES } from '../../src/hints/rules/index.js';
import { THRESHOLDS } from '../../src/hints/thresholds.js';
import type { Hint } from '../../src/hints/types.js';
import { classifyThread } from '../../src/hints/workloadClass.js';
import type { Frame } from '../../src/model/frame.js';
import { frameWith, proc, thread } from '../model/frameBuilder.js';

const GIB = 1024 ** 3;

/** A frame of a healthy, mostly idle machine: no rule may fire on it. */
function quiet(): Frame {
  const f = frameWith(
    [thread(1, 1, { comm: 'init' }), thread(10, 10, { comm: 'app', cpu_pct: 3, user_pct: 2, system_pct: 1, vcsw_per_s: 20 }), thread(14, 14, { comm: 'ksoftirqd/0', state: 'S' })],
    [proc(1, { comm: 'init' }), proc(10, { comm: 'app', rss_bytes: 200e6, vsz_bytes: 800e6, rchar_per_s: 1000, read_bytes_per_s: 0 })],
  );
  f.cpus = [{ cpu: 0, user_pct: 5, nice_pct: 0, system_pct: 2, irq_pct: 0, softirq_pct: 0.5, iowait_pct: 0, steal_pct: 0, idle_pct: 92.5, ctxsw_per_s: null, syscalls_per_s: null }];
  f.cpu_total = { ...f.cpus[0] };
  delete (f.cpu_total as { cpu?: number }).cpu;
  delete (f.cpu_total as { ctxsw_per_s?: number | null }).ctxsw_per_s;
  delete (f.cpu_total as { syscalls_per_s?: number | null }).syscalls_per_s;
  f.system = { ...f.system, runnable_waiting: 0, procs_running: 1 };
  f.threads_by_state = { R: 0, S: 3, D: 0, Z: 0, T: 0, I: 0 };
  f.memory = { ...f.memory, total_bytes: 16 * GIB, free_bytes: 8 * GIB, available_bytes: 12 * GIB, page_cache_bytes: 3 * GIB, dirty_bytes: 1e6, writeback_bytes: 0 };
  f.pressure = {
    cpu: { some_avg10: 0.5, some_avg60: 0.3, some_avg300: 0.1, some_total_us: 1, some_stall_pct: 0, full_avg10: 0, full_avg60: 0, full_avg300: 0, full_total_us: 0, full_stall_pct: 0 },
    memory: { some_avg10: 0, some_avg60: 0, some_avg300: 0, some_total_us: 0, some_stall_pct: 0, full_avg10: 0, full_avg60: 0, full_avg300: 0, full_total_us: 0, full_stall_pct: 0 },
    io: { some_avg10: 0.2, some_avg60: 0, some_avg300: 0, some_total_us: 0, some_stall_pct: 0, full_avg10: 0, full_avg60: 0, full_avg300: 0, full_total_us: 0, full_stall_pct: 0 },
  };
  f.disks = [{ name: 'sda', loop: false, reads_per_s: 10, writes_per_s: 20, read_bytes_per_s: 40960, write_bytes_per_s: 81920, await_ms: 2, queue_depth: 0.1, busy_pct: 5 }];
  f.nets = [{ name: 'eth0', loopback: false, rx_packets_per_s: 100, tx_packets_per_s: 100, rx_bytes_per_s: 1e5, tx_bytes_per_s: 1e5, rx_errors_per_s: 0, tx_errors_per_s: 0, rx_drops_per_s: 0, tx_drops_per_s: 0 }];
  f.softnet = [{ cpu: 0, processed_per_s: 100, dropped_per_s: 0, squeezed_per_s: 0 }, { cpu: 1, processed_per_s: 100, dropped_per_s: 0, squeezed_per_s: 0 }];
  f.cpus.push({ cpu: 1, user_pct: 2, nice_pct: 0, system_pct: 1, irq_pct: 0, softirq_pct: 0.5, iowait_pct: 0, steal_pct: 0, idle_pct: 96.5, ctxsw_per_s: null, syscalls_per_s: null });
  f.softirq_cpus = [0, 1];
  f.softirqs = { NET_RX: [10, 10], TIMER: [100, 100] };
  return f;
}

/** A rule's situations: `fire` clearly meets it, `hold` sits between its two thresholds. */
interface Case {
  id: string;
  fire: (f: Frame) => void;
  hold: (f: Frame) => void;
  message: RegExp;
}

const CASES: Case[] = [
  { id: 'swapping', fire: (f) => { f.paging.pswpout_per_s = 2000; f.paging.pswpin_per_s = 10; }, hold: (f) => { f.paging.pswpout_per_s = 0.5; }, message: /swapping: 2\.0K pages\/s out, 10 in/ },
  { id: 'low-free-is-cache', fire: (f) => { f.memory.free_bytes = 0.3 * GIB; f.memory.available_bytes = 10 * GIB; }, hold: (f) => { f.memory.free_bytes = 1 * GIB; }, message: /free RAM 1\.9% but 63% available/ },
  { id: 'memory-pressure', fire: (f) => { f.memory.available_bytes = 0.8 * GIB; f.memory.free_bytes = 0.1 * GIB; }, hold: (f) => { f.memory.available_bytes = 1.8 * GIB; }, message: /only 5\.0% of RAM available/ },
  { id: 'direct-reclaim', fire: (f) => { f.paging.pgscan_direct_per_s = 5000; f.pressure!.memory!.some_stall_pct = 12; }, hold: (f) => { f.pressure!.memory!.some_stall_pct = 3; }, message: /direct reclaim 5\.0K pages\/s; tasks stalled on memory 12\.0% of the time/ },
  { id: 'dirty-data', fire: (f) => { f.memory.dirty_bytes = 400 * 1024 ** 2; f.memory.writeback_bytes = 20 * 1024 ** 2; }, hold: (f) => { f.memory.dirty_bytes = 200 * 1024 ** 2; f.memory.writeback_bytes = 0; }, message: /400M dirty and 20M under writeback/ },
  { id: 'demand-paging', fire: (f) => { f.processes[1].vsz_bytes = 64 * GIB; f.processes[1].rss_bytes = 300e6; }, hold: (f) => { f.processes[1].vsz_bytes = 64 * GIB; f.processes[1].rss_bytes = 4e9; }, message: /app \(10\): VSZ 64G but RSS 286M/ },
  { id: 'cpu-saturated', fire: (f) => { f.system.runnable_waiting = 3; f.system.procs_running = 5; f.threads[1].runq_wait_pct = 45; }, hold: (f) => { f.threads[1].runq_wait_pct = 15; }, message: /CPU-bound: 5 runnable on 1 CPU; app waits 45% for a CPU/ },
  { id: 'idle-but-blocked', fire: (f) => { f.threads_by_state.D = 4; f.cpu_total!.iowait_pct = 30; f.cpu_total!.idle_pct = 60; }, hold: (f) => { f.cpu_total!.iowait_pct = 15; }, message: /CPU 90% idle but 4 threads in D, iowait 30%, PSI io 0%: waiting on I\/O/ },
  { id: 'thread-blocked', fire: (f) => { f.threads[1].state = 'D'; f.threads[1].wchan = 'io_schedule'; }, hold: (f) => { Object.assign(f.threads[1], { state: 'S', offcpu_d_pct: 55, offcpu_s_pct: 40 }); }, message: /app \(10\) blocked in D in io_schedule: Enter shows its kernel stack/ },
  { id: 'softirq-high', fire: (f) => { f.cpus[0].softirq_pct = 25; f.softirqs = { NET_RX: [90000], TIMER: [100] }; f.threads[2].cpu_pct = 20; }, hold: (f) => { f.cpus[0].softirq_pct = 8; }, message: /CPU 0: 25% in softirq, mostly NET_RX \(90K\/s\); ksoftirqd 20%/ },
  { id: 'steal', fire: (f) => { f.cpu_total!.steal_pct = 8; }, hold: (f) => { f.cpu_total!.steal_pct = 1.5; }, message: /steal 8\.0%/ },
  { id: 'switch-mix', fire: (f) => { f.threads[1].ivcsw_per_s = 2000; f.threads[1].vcsw_per_s = 50; }, hold: (f) => { f.threads[1].ivcsw_per_s = 400; f.threads[1].vcsw_per_s = 10; }, message: /app \(10\) is preempted 2\.0K\/s \(98% of its switches\)/ },
  { id: 'syscall-heavy', fire: (f) => { Object.assign(f.threads[1], { system_pct: 60, user_pct: 10, syscr_per_s: 30000, syscw_per_s: 30000 }); f.host.kpti_active = true; }, hold: (f) => { Object.assign(f.threads[1], { system_pct: 25, user_pct: 10, syscr_per_s: 100, syscw_per_s: 0 }); }, message: /app \(10\): 60% kernel vs 10% user, 60K r\/w syscalls\/s/ },
  { id: 'disk-saturated', fire: (f) => { Object.assign(f.disks[0], { busy_pct: 99, queue_depth: 6.5, await_ms: 35 }); }, hold: (f) => { Object.assign(f.disks[0], { busy_pct: 85, queue_depth: 3 }); }, message: /disk sda 99% busy, queue 6\.5, await 35 ms: I\/O queues up/ },
  { id: 'softnet-drops', fire: (f) => { f.softnet[1].dropped_per_s = 120; f.softnet[1].squeezed_per_s = 40; }, hold: (f) => { f.softnet[1].squeezed_per_s = 0.5; }, message: /CPU 1: 120 packets\/s dropped, NET_RX out of budget 40\/s/ },
  { id: 'net-rx-one-cpu', fire: (f) => { f.softirqs.NET_RX = [50000, 200]; f.cpus[0].softirq_pct = 25; f.cpus[0].idle_pct = 40; }, hold: (f) => { f.softirqs.NET_RX = [38000, 12000]; f.cpus[0].softirq_pct = 25; }, message: /NET_RX: 100% of 50K\/s on CPU 0 while 1 other CPU idles/ },
  { id: 'reads-from-cache', fire: (f) => { f.processes[1].rchar_per_s = 200e6; f.processes[1].read_bytes_per_s = 4096; }, hold: (f) => { f.processes[1].rchar_per_s = 15 * 1024 ** 2; }, message: /app \(10\) reads 191M\/s, 4\.0K\/s of it from disk: cache or network/ },
];

/** Runs frames through the engine; returns the hints of each frame. */
function run(frames: Frame[]): Hint[][] {
  let state = initialHintState();
  return frames.map((f) => {
    const r = evaluateHints(state, f);
    state = r.state;
    return r.hints;
  });
}

function make(mutate?: (f: Frame) => void): Frame {
  const f = quiet();
  mutate?.(f);
  return f;
}

const has = (hints: Hint[], id: string): boolean => hints.some((h) => h.id === id);

describe('hint rules on fixture frames', () => {
  it('have a case each, and no rule fires on a quiet machine', () => {
    // disk-slower compares with earlier frames: it has a test of its own below.
    expect([...CASES.map((c) => c.id), 'disk-slower'].sort()).toEqual(RULES.map((r) => r.id).sort());
    for (const hints of run(Array.from({ length: 10 }, () => make()))) expect(hints).toEqual([]);
  });

  for (const c of CASES) {
    const rule = RULES.find((r) => r.id === c.id)!;
    describe(c.id, () => {
      it(`fires after ${rule.minFrames} frame(s), with its numbers, a one-line message and an explanation`, () => {
        const out = run(Array.from({ length: rule.minFrames }, () => make(c.fire)));
        const hint = out[out.length - 1].find((h) => h.id === c.id);
        expect(hint, `${c.id} active`).toBeDefined();
        expect(hint!.message).toMatch(c.message);
        expect(hint!.message.length).toBeLessThanOrEqual(100);
        expect(hint!.message).not.toMatch(/\n/);
        expect(hint!.explain.length).toBeGreaterThan(120);
        if (rule.minFrames > 1) expect(has(out[rule.minFrames - 2], c.id), 'not before its minimum duration').toBe(false);
      });

      it('does not fire on the quiet frame, nor on a level between its thresholds alone', () => {
        const frames = Array.from({ length: 6 }, () => make(c.hold));
        for (const hints of run(frames)) expect(has(hints, c.id)).toBe(false);
      });

      it('does not flicker: once active it stays while the value hovers between its thresholds', () => {
        const start = Array.from({ length: rule.minFrames }, () => make(c.fire));
        const hover = Array.from({ length: 8 }, (_, i) => make(i % 2 === 0 ? c.hold : c.fire));
        const out = run([...start, ...hover]);
        for (const hints of out.slice(rule.minFrames - 1)) expect(has(hints, c.id)).toBe(true);
      });

      it('stays through frames in a row at its hold level (more than the one-frame gap the engine bridges)', () => {
        const out = run([...Array.from({ length: rule.minFrames }, () => make(c.fire)), ...Array.from({ length: 4 }, () => make(c.hold))]);
        for (const hints of out.slice(rule.minFrames - 1)) expect(has(hints, c.id)).toBe(true);
      });

      it('survives one quiet frame and clears after the condition is gone', () => {
        const out = run([...Array.from({ length: rule.minFrames }, () => make(c.fire)), make(), make(), make()]);
        expect(has(out[rule.minFrames], c.id), 'kept through a single dip').toBe(true);
        expect(has(out[rule.minFrames + 2], c.id), 'gone after the condition ended').toBe(false);
      });
    });
  }

  it('keeps every message to one line of at most 100 characters, however many triggers and however long the names', () => {
    const f = (fr: Frame): void => {
      CASES.find((c) => c.id === 'cpu-saturated')!.fire(fr);
      fr.pressure!.cpu!.some_stall_pct = 92;
      fr.threads[1].comm = 'kworker/u8:1-ext4-rsv-conversion\nwith a newline';
      fr.threads[1].ivcsw_per_s = 2000;
      fr.threads[1].vcsw_per_s = 1;
    };
    const hints = run([make(f), make(f), make(f)])[2];
    expect(hints.map((h) => h.id)).toEqual(expect.arrayContaining(['cpu-saturated', 'switch-mix']));
    for (const h of hints) {
      expect(h.message.length, h.message).toBeLessThanOrEqual(100);
      expect(h.message).not.toMatch(/[\n\x00-\x1f]/);
    }
  });

  it('disk-slower: await multiplies at the same throughput (needs a few frames of history), not when the load grows', () => {
    const at = (await_ms: number, bytes: number) => make((f) => Object.assign(f.disks[0], { await_ms, write_bytes_per_s: bytes, read_bytes_per_s: 0 }));
    const steady = [at(4, 1e6), at(5, 1e6), at(4, 1.1e6), at(5, 1e6)];
    const slower = run([...steady, at(30, 1e6), at(32, 1.05e6), at(31, 0.95e6)]);
    expect(slower[5].find((h) => h.id === 'disk-slower')?.message).toMatch(/disk sda: await 32 ms, 6\.4x before, at the same 1\.0M\/s/);
    const busier = run([...steady, at(30, 5e6), at(32, 6e6), at(31, 5.5e6)]);
    for (const hints of busier) expect(has(hints, 'disk-slower')).toBe(false);
  });

  it('disk-slower: once active it stays at its hold level, which alone does not start it', () => {
    // Baseline 8 ms; 24 ms is 3x (start level), 14 ms 1.75x (between hold 1.5x and start 2x).
    const at = (await_ms: number) => make((f) => Object.assign(f.disks[0], { await_ms, write_bytes_per_s: 1e6, read_bytes_per_s: 0 }));
    const steady = Array.from({ length: 5 }, () => at(8));
    const hover = run([...steady, at(24), at(24), at(14)]);
    expect(hover.map((h) => has(h, 'disk-slower'))).toEqual([false, false, false, false, false, false, true, true]);
    expect(hover[7].find((h) => h.id === 'disk-slower')!.message).toMatch(/await 14 ms, 1\.8x before/);
    for (const hints of run([...steady, at(14), at(14), at(14)])) expect(has(hints, 'disk-slower')).toBe(false);
  });

  it(`ends a hint kept by its hold level alone ${THRESHOLDS.holdFrames} frames after its last frame at the start level`, () => {
    const c = CASES.find((x) => x.id === 'swapping')!; // minFrames 1
    const out = run([make(c.fire), ...Array.from({ length: THRESHOLDS.holdFrames + 2 }, () => make(c.hold))]);
    expect(out.map((h) => has(h, 'swapping')).lastIndexOf(true)).toBe(THRESHOLDS.holdFrames);
    // A frame at the start level renews it.
    const renewed = run([make(c.fire), ...Array.from({ length: THRESHOLDS.holdFrames }, () => make(c.hold)), make(c.fire), make(c.hold)]);
    expect(has(renewed[renewed.length - 1], 'swapping')).toBe(true);
  });

  it('describes KPTI by what the kernel reports: on, not needed, or needed but switched off', () => {
    const c = CASES.find((x) => x.id === 'syscall-heavy')!;
    const explain = (kpti: Frame['host']['kpti_active']): string => {
      const fire = (f: Frame): void => {
        c.fire(f);
        f.host.kpti_active = kpti;
      };
      return run([make(fire), make(fire)])[1].find((h) => h.id === 'syscall-heavy')!.explain;
    };
    expect(explain(true)).toMatch(/KPTI\) is on here: every kernel entry and exit also switches page tables/);
    expect(explain(true)).not.toMatch(/flushes the TLB/);
    expect(explain(false)).toMatch(/not affected by Meltdown, so KPTI is not needed/);
    expect(explain('vulnerable')).toMatch(/affected by Meltdown but KPTI is off/);
    expect(explain('vulnerable')).not.toMatch(/not affected|cost less/);
    expect(explain(null)).not.toMatch(/KPTI/);
    expect(explain(null)).not.toMatch(/ {2}/);
  });

  it('says "I/O" for threads in D only when iowait or PSI io show it', () => {
    const dOnly = (f: Frame): void => {
      f.threads_by_state.D = 1;
    };
    const blocked = run([make(dOnly), make(dOnly)])[1].find((h) => h.id === 'idle-but-blocked')!;
    expect(blocked.message).toMatch(/1 thread in D, iowait 0%, PSI io 0%: uninterruptible sleep, usually I\/O$/);
    expect(blocked.explain).toMatch(/vfork parent/);
    expect(blocked.explain).toMatch(/here they stay low/);
    const io = run([make(CASES.find((x) => x.id === 'idle-but-blocked')!.fire), make(CASES.find((x) => x.id === 'idle-but-blocked')!.fire)])[1].find((h) => h.id === 'idle-but-blocked')!;
    expect(io.explain).toMatch(/here they show it/);
  });

  it('explains D and disk busy % without the usual myths', () => {
    const hintOf = (id: string): Hint => {
      const c = CASES.find((x) => x.id === id)!;
      const rule = RULES.find((r) => r.id === id)!;
      return run(Array.from({ length: rule.minFrames }, () => make(c.fire))).at(-1)!.find((h) => h.id === id)!;
    };
    const blocked = hintOf('thread-blocked').explain;
    expect(blocked).not.toMatch(/cannot even be interrupted/);
    expect(blocked).toMatch(/killable wait still ends on a fatal signal/);
    const disk = hintOf('disk-saturated').explain;
    expect(disk).not.toMatch(/each new read or write waits/);
    expect(disk).toMatch(/NVMe .* can be 100% busy with room to spare/);
    expect(disk).toMatch(/queue depth and await/);
    const si = hintOf('softirq-high').explain;
    expect(si).not.toMatch(/charged to no process/);
    expect(si).toMatch(/ksoftirqd thread is charged to that thread/);
  });

  it('thread-blocked: the kernel probes\' D share starts it too, and names it', () => {
    const mostlyD = (f: Frame): void => {
      Object.assign(f.threads[1], { state: 'S', offcpu_d_pct: 92, offcpu_s_pct: 5, wchan: null });
    };
    const out = run([make(mostlyD), make(mostlyD), make(mostlyD)]);
    expect(out[2].find((h) => h.id === 'thread-blocked')?.message).toMatch(/^app \(10\) blocked in D \(D 92%\): Enter shows its kernel stack$/);
  });

  it('softirq-high names the type that takes the most time when the kernel probes measured it, else the most frequent', () => {
    const busy = (time: Array<number | null>) => (f: Frame): void => {
      f.cpus[0].softirq_pct = 25;
      f.softirq_cpus = [0, 1];
      f.softirqs = { NET_RX: [2000, 10], TIMER: [9000, 100] };
      f.softirq_time_pct = { NET_RX: [time[0], 0], TIMER: [time[1], 0] };
    };
    const message = (time: Array<number | null>): string => run([make(busy(time)), make(busy(time))])[1].find((h) => h.id === 'softirq-high')!.message;
    expect(message([18, 1])).toMatch(/mostly NET_RX \(18% of the CPU, 2\.0K\/s\)/);
    expect(message([null, null])).toMatch(/mostly TIMER \(9\.0K\/s\)/);
  });

  it('net-rx-one-cpu stays quiet when the packets are loopback traffic, and speaks of more than network cards', () => {
    const c = CASES.find((x) => x.id === 'net-rx-one-cpu')!;
    const loopback = (f: Frame): void => {
      c.fire(f);
      f.nets.push({ ...f.nets[0], name: 'lo', loopback: true, rx_packets_per_s: 50000 });
    };
    for (const hints of run(Array.from({ length: 4 }, () => make(loopback)))) expect(has(hints, 'net-rx-one-cpu')).toBe(false);
    const card = run(Array.from({ length: 3 }, () => make(c.fire)))[2].find((h) => h.id === 'net-rx-one-cpu')!;
    expect(card.explain).toMatch(/veth pairs of containers/);
  });

  it('tells healthy cache from real pressure, never both at once', () => {
    const healthy = run(Array.from({ length: 3 }, () => make(CASES[1].fire)))[2];
    expect(has(healthy, 'low-free-is-cache')).toBe(true);
    expect(has(healthy, 'memory-pressure')).toBe(false);
    const pressed = run(Array.from({ length: 3 }, () => make(CASES[2].fire)))[2];
    expect(has(pressed, 'memory-pressure')).toBe(true);
    expect(has(pressed, 'low-free-is-cache')).toBe(false);
  });

  it('lists the most severe first', () => {
    const both = (f: Frame): void => {
      CASES[0].fire(f); // swapping: crit at 2000 pages/s
      CASES[4].fire(f); // dirty data: info
    };
    const hints = run([make(both), make(both)])[1];
    expect(hints.map((h) => h.severity)).toEqual(['crit', 'info']);
  });
});

describe('workload class', () => {
  it('without the kernel probes: off-CPU time counts as the sampled state (D, else S), the wchan names an S sleep', () => {
    expect(classifyThread(thread(1, 1, { cpu_pct: 95, state: 'R' }))).toBe('cpu-bound');
    expect(classifyThread(thread(1, 1, { cpu_pct: 20, runq_wait_pct: 60, state: 'R' }))).toBe('starved');
    expect(classifyThread(thread(1, 1, { state: 'D' }))).toBe('io-bound');
    expect(classifyThread(thread(1, 1, { cpu_pct: 10, state: 'S', wchan: 'futex_wait_queue' }))).toBe('lock-wait');
    expect(classifyThread(thread(1, 1, { cpu_pct: 10, state: 'S', wchan: 'do_epoll_wait' }))).toBe('event-wait');
    expect(classifyThread(thread(1, 1, { cpu_pct: 30, runq_wait_pct: 5, state: 'R' }))).toBe('sleeping');
    expect(classifyThread(thread(1, 1, { cpu_pct: 0.5, state: 'S' }))).toBeNull();
  });

  it('with the kernel probes: the largest share of on CPU, run-queue wait, D and S, whatever state it was sampled in', () => {
    const probed = (over: Parameters<typeof thread>[2]) => thread(1, 1, { offcpu_d_pct: 0, offcpu_s_pct: 0, ...over });
    // Sampled in S, but blocked in D most of the interval.
    expect(classifyThread(probed({ state: 'S', cpu_pct: 10, offcpu_d_pct: 70, offcpu_s_pct: 20 }))).toBe('io-bound');
    // Sampled in D, but mostly sleeping on a futex.
    expect(classifyThread(probed({ state: 'D', cpu_pct: 15, runq_wait_pct: 5, offcpu_d_pct: 3, offcpu_s_pct: 77, wchan: 'futex_wait_queue' }))).toBe('lock-wait');
    // Sampled in S, but mostly waiting for a CPU.
    expect(classifyThread(probed({ state: 'S', cpu_pct: 40, runq_wait_pct: 45, offcpu_s_pct: 15 }))).toBe('starved');
    expect(classifyThread(probed({ state: 'S', cpu_pct: 60, runq_wait_pct: 10, offcpu_s_pct: 30 }))).toBe('cpu-bound');
    expect(classifyThread(probed({ state: 'S', cpu_pct: 20, offcpu_s_pct: 80, wchan: 'ep_poll' }))).toBe('event-wait');
    expect(classifyThread(probed({ state: 'S', cpu_pct: 20, offcpu_s_pct: 80 }))).toBe('sleeping');
    // Idle: a little CPU and a short D sleep.
    expect(classifyThread(probed({ state: 'D', cpu_pct: 1, offcpu_d_pct: 2, offcpu_s_pct: 97 }))).toBeNull();
  });
});
