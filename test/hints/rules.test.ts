// Each rule on hand-made frames: it fires, it stays quiet, a value hovering around its threshold
// does not make it flicker, and a single spike is not news where the rule asks for a duration.
import { describe, expect, it } from 'vitest';
import { evaluateHints, initialHintState } from '../../src/hints/engine.js';
import { RULES } from '../../src/hints/rules/index.js';
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
  f.disks = [{ name: 'sda', reads_per_s: 10, writes_per_s: 20, read_bytes_per_s: 40960, write_bytes_per_s: 81920, await_ms: 2, queue_depth: 0.1, busy_pct: 5 }];
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
  hold?: (f: Frame) => void;
  message: RegExp;
}

const CASES: Case[] = [
  { id: 'swapping', fire: (f) => { f.paging.pswpout_per_s = 2000; f.paging.pswpin_per_s = 10; }, hold: (f) => { f.paging.pswpout_per_s = 0.5; }, message: /swapping: 2\.0K pages\/s out, 10 in/ },
  { id: 'low-free-is-cache', fire: (f) => { f.memory.free_bytes = 0.3 * GIB; f.memory.available_bytes = 10 * GIB; }, message: /free RAM 1\.9% but 63% available/ },
  { id: 'memory-pressure', fire: (f) => { f.memory.available_bytes = 0.8 * GIB; f.memory.free_bytes = 0.1 * GIB; }, hold: (f) => { f.memory.available_bytes = 1.8 * GIB; }, message: /only 5\.0% of RAM available/ },
  { id: 'direct-reclaim', fire: (f) => { f.paging.pgscan_direct_per_s = 5000; f.pressure!.memory!.some_stall_pct = 12; }, hold: (f) => { f.pressure!.memory!.some_stall_pct = 3; }, message: /direct reclaim 5\.0K pages\/s; tasks stalled on memory 12\.0% of the time/ },
  { id: 'dirty-data', fire: (f) => { f.memory.dirty_bytes = 400 * 1024 ** 2; f.memory.writeback_bytes = 20 * 1024 ** 2; }, hold: (f) => { f.memory.dirty_bytes = 200 * 1024 ** 2; f.memory.writeback_bytes = 0; }, message: /400M dirty and 20M under writeback/ },
  { id: 'demand-paging', fire: (f) => { f.processes[1].vsz_bytes = 64 * GIB; f.processes[1].rss_bytes = 300e6; }, message: /app \(10\): VSZ 64G but RSS 286M/ },
  { id: 'cpu-saturated', fire: (f) => { f.system.runnable_waiting = 3; f.system.procs_running = 5; f.threads[1].runq_wait_pct = 45; }, hold: (f) => { f.threads[1].runq_wait_pct = 15; }, message: /CPU-bound: 5 runnable on 1 CPU; app waits 45% for a CPU/ },
  { id: 'idle-but-blocked', fire: (f) => { f.threads_by_state.D = 4; f.cpu_total!.iowait_pct = 30; f.cpu_total!.idle_pct = 60; }, message: /CPU 90% idle but 4 threads in D, iowait 30%/ },
  { id: 'thread-blocked', fire: (f) => { f.threads[1].state = 'D'; f.threads[1].wchan = 'io_schedule'; }, message: /app \(10\) blocked in D in io_schedule/ },
  { id: 'softirq-high', fire: (f) => { f.cpus[0].softirq_pct = 25; f.softirqs = { NET_RX: [90000], TIMER: [100] }; f.threads[2].cpu_pct = 20; }, hold: (f) => { f.cpus[0].softirq_pct = 8; }, message: /CPU 0: 25% in softirq, mostly NET_RX \(90K\/s\); ksoftirqd 20%/ },
  { id: 'steal', fire: (f) => { f.cpu_total!.steal_pct = 8; }, hold: (f) => { f.cpu_total!.steal_pct = 1.5; }, message: /steal 8\.0%/ },
  { id: 'switch-mix', fire: (f) => { f.threads[1].ivcsw_per_s = 2000; f.threads[1].vcsw_per_s = 50; }, hold: (f) => { f.threads[1].ivcsw_per_s = 400; f.threads[1].vcsw_per_s = 10; }, message: /app \(10\) is preempted 2\.0K\/s \(98% of its switches\)/ },
  { id: 'syscall-heavy', fire: (f) => { Object.assign(f.threads[1], { system_pct: 60, user_pct: 10, syscr_per_s: 30000, syscw_per_s: 30000 }); f.host.kpti_active = true; }, hold: (f) => { Object.assign(f.threads[1], { system_pct: 25, user_pct: 10, syscr_per_s: 100, syscw_per_s: 0 }); }, message: /app \(10\): 60% kernel vs 10% user, 60K r\/w syscalls\/s/ },
  { id: 'disk-saturated', fire: (f) => { Object.assign(f.disks[0], { busy_pct: 99, queue_depth: 6.5, await_ms: 35 }); }, hold: (f) => { Object.assign(f.disks[0], { busy_pct: 85, queue_depth: 3 }); }, message: /disk sda 99% busy, queue 6\.5, await 35 ms: saturated/ },
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
        const hover = Array.from({ length: 8 }, (_, i) => make(i % 2 === 0 ? (c.hold ?? c.fire) : c.fire));
        const out = run([...start, ...hover]);
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

  it('says when KPTI makes syscalls dearer', () => {
    const c = CASES.find((x) => x.id === 'syscall-heavy')!;
    const out = run([make(c.fire), make(c.fire)]);
    expect(out[1].find((h) => h.id === 'syscall-heavy')!.explain).toMatch(/KPTI\) is on/);
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
  it('tells CPU-bound, starved, I/O-bound, lock and event waits apart, and leaves idle threads blank', () => {
    expect(classifyThread(thread(1, 1, { cpu_pct: 95, state: 'R' }))).toBe('cpu-bound');
    expect(classifyThread(thread(1, 1, { cpu_pct: 20, runq_wait_pct: 60, state: 'R' }))).toBe('starved');
    expect(classifyThread(thread(1, 1, { state: 'D' }))).toBe('io-bound');
    expect(classifyThread(thread(1, 1, { cpu_pct: 10, state: 'S', wchan: 'futex_wait_queue' }))).toBe('lock-wait');
    expect(classifyThread(thread(1, 1, { cpu_pct: 10, state: 'S', wchan: 'do_epoll_wait' }))).toBe('event-wait');
    expect(classifyThread(thread(1, 1, { cpu_pct: 0.5, state: 'S' }))).toBeNull();
  });
});

