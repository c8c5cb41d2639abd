// Live: whole frames of a busy machine (CPU hogs, context switches, a churn of short-lived
// processes, memory and disk traffic) must be well-formed: no negative number, no NaN, no
// Infinity anywhere, every thread identified, counts that add up, percentages in range, and a rate
// for every task that was already there in the previous frame. Checked on `whytop dump` output
// (both readers, --detail) and on derive()'s Frame objects directly (where a NaN or Infinity would
// still be visible: JSON.stringify would turn it into null).
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { derive } from '../../src/model/derive.js';
import type { Frame, ThreadFrame } from '../../src/model/frame.js';
import { Sampler } from '../../src/sources/sampler.js';
import { missingPrereqs, readerArgs, report, sleep, start, stopAll, titled, whytop } from './workload.js';
import type { Started } from './workload.js';

afterAll(stopAll);

const skip = missingPrereqs({ tools: ['stress-ng'] });

/** Fields that may legitimately be negative: nice (-20..19) and priority (negative = real-time). */
const MAY_BE_NEGATIVE = new Set(['nice', 'priority']);

/** Every NaN, ±Infinity or negative number in a frame, as `path=value` (first 20). */
function badNumbers(value: unknown, path = '', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (typeof value === 'number') {
    const key = path.slice(path.lastIndexOf('.') + 1);
    if (!Number.isFinite(value) || (value < 0 && !MAY_BE_NEGATIVE.has(key))) out.push(`${path}=${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => badNumbers(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) badNumbers(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

/** True when this task's io file can be read now (false: not permitted, or the task is gone). */
function ioReadable(pid: number, tid: number): boolean {
  try {
    fs.readFileSync(`/proc/${pid}/task/${tid}/io`);
    return true;
  } catch {
    return false;
  }
}

const RATE_FIELDS = ['cpu_pct', 'user_pct', 'system_pct', 'runq_wait_pct', 'vcsw_per_s', 'ivcsw_per_s', 'minflt_per_s', 'majflt_per_s'] as const;
const IO_FIELDS = ['syscr_per_s', 'syscw_per_s', 'rchar_per_s', 'wchar_per_s', 'read_bytes_per_s', 'write_bytes_per_s'] as const;
const PCT_FIELDS = ['cpu_pct', 'user_pct', 'system_pct', 'runq_wait_pct'] as const;

/** Structural problems of one frame (given the frame before it from the same run, if any). */
function frameProblems(f: Frame, prev: Frame | null, detail: boolean): string[] {
  const bad: string[] = [];
  const say = (msg: string): void => {
    if (bad.length < 30) bad.push(msg);
  };
  if (!(f.interval_s > 0)) say(`interval_s=${f.interval_s}`);
  if (Number.isNaN(Date.parse(f.time))) say(`time=${f.time}`);
  // Whole-machine numbers are all readable on Linux: none may be null (syscalls/s is opt-in).
  for (const [group, obj] of [['system', f.system], ['memory', f.memory], ['paging', f.paging], ['cpu_total', f.cpu_total]] as const) {
    if (obj === null) say(`${group} is null`);
    else for (const [k, v] of Object.entries(obj)) if (v === null && !(group === 'system' && k === 'syscalls_per_s')) say(`${group}.${k} is null`);
  }
  if (f.cpus.length === 0 || f.cpus.length !== f.system.online_cpus) say(`cpus: ${f.cpus.length} vs online_cpus ${f.system.online_cpus}`);
  for (const c of f.cpus) {
    const parts = [c.user_pct, c.nice_pct, c.system_pct, c.irq_pct, c.softirq_pct, c.iowait_pct, c.steal_pct, c.idle_pct];
    if (parts.some((p) => p === null)) say(`cpu ${c.cpu} has a null share`);
    const total = parts.reduce<number>((a, b) => a + (b ?? 0), 0);
    if (Math.abs(total - 100) > 0.01) say(`cpu ${c.cpu} shares sum to ${total}`);
  }
  for (const [type, perCpu] of Object.entries(f.softirqs)) {
    if (perCpu.length !== f.softirq_cpus.length) say(`softirqs.${type} has ${perCpu.length} entries for ${f.softirq_cpus.length} CPUs`);
  }
  // Threads: identified, counted by state, grouped into their processes.
  const states = Object.values(f.threads_by_state).reduce((a, b) => a + b, 0);
  if (states !== f.threads.length) say(`threads_by_state sums to ${states}, threads has ${f.threads.length}`);
  const byPid = new Map<number, ThreadFrame[]>();
  const prevThreads = new Map((prev?.threads ?? []).map((t) => [t.tid, t]));
  for (const t of f.threads) {
    if (!Number.isInteger(t.pid) || t.pid <= 0 || !Number.isInteger(t.tid) || t.tid <= 0) say(`thread ids pid=${t.pid} tid=${t.tid}`);
    if (typeof t.state !== 'string' || t.state.length !== 1) say(`tid ${t.tid} state=${JSON.stringify(t.state)}`);
    byPid.set(t.pid, [...(byPid.get(t.pid) ?? []), t]);
    for (const k of PCT_FIELDS) if ((t[k] ?? 0) > 100.001) say(`tid ${t.tid} ${k}=${t[k]} > 100 (one CPU)`);
    // A thread already in the previous frame (same tid, same process, same name, CPU time not
    // gone backwards: the same task) has a rate for every counter whytop reads for it.
    const before = prevThreads.get(t.tid);
    if (before && before.pid === t.pid && before.comm === t.comm && (t.cpu_time_s ?? 0) >= (before.cpu_time_s ?? 0)) {
      for (const k of RATE_FIELDS) if (t[k] === null) say(`tid ${t.tid} (${t.comm}) seen before but ${k} is null`);
      // (Unless the kernel refuses the io file even to root, as for some sandbox supervisors.)
      if (detail && IO_FIELDS.some((k) => t[k] === null) && ioReadable(t.pid, t.tid)) {
        say(`tid ${t.tid} (${t.comm}) seen before, io readable, but io rates ${IO_FIELDS.filter((k) => t[k] === null).join(',')} null (--detail)`);
      }
    }
  }
  const pids = new Set<number>();
  for (const p of f.processes) {
    if (pids.has(p.pid)) say(`process ${p.pid} listed twice`);
    pids.add(p.pid);
    const own = byPid.get(p.pid) ?? [];
    if (p.threads !== own.length || own.length === 0) say(`process ${p.pid} threads=${p.threads}, ${own.length} listed`);
    if (!own.some((t) => t.tid === p.pid) && own.length > 0) say(`process ${p.pid} has no main thread listed`);
    const cpu = own.reduce((a, t) => a + (t.cpu_pct ?? 0), 0);
    if (p.cpu_pct !== null && Math.abs(p.cpu_pct - cpu) > 0.001 * (own.length + 1)) say(`process ${p.pid} cpu_pct=${p.cpu_pct} vs threads ${cpu}`);
  }
  for (const pid of byPid.keys()) if (!pids.has(pid)) say(`threads of pid ${pid} but no such process`);
  return bad;
}

/** A workload that keeps every part of the machine busy, including task creation and exit. */
function busyMachine(): Started {
  return start('stress-ng', [
    '--cpu', '2', '--cpu-method', 'int64',
    '--switch', '1',
    '--fork', '1',
    '--vm', '1', '--vm-bytes', '128M',
    '--hdd', '1', '--hdd-bytes', '32M', '--temp-path', '/var/tmp',
    '-t', '80',
  ]);
}

describe('live: frames of a busy machine are well-formed', () => {
  it(
    titled('whytop dump --detail (every task reader): no negative/NaN/Infinity, ids and counts add up, rates for known tasks', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      const stress = busyMachine();
      await sleep(1500);
      const runs = readerArgs('--detail', '--interval', '1000', '--count', '4').map((args) => whytop(args));
      const all = await Promise.all(runs.map((r) => r.done));
      expect(stress.running(), `stress-ng ran throughout: ${stress.stderr()}`).toBe(true);
      const observed: Record<string, unknown> = {};
      for (const [i, frames] of all.entries()) {
        expect(frames.length).toBe(4);
        const problems = frames.flatMap((f, j) => [...badNumbers(f).map((b) => `frame ${j}: ${b}`), ...frameProblems(f, frames[j - 1] ?? null, true).map((b) => `frame ${j}: ${b}`)]);
        const last = frames[frames.length - 1];
        observed[last.sampler.backend] = { threads: last.threads.length, processes: last.processes.length, forks: last.system.forks_per_s, states: last.threads_by_state, sampleMs: last.sampler.sample_ms };
        if (i === 2) expect(last.sampler.backend).toBe('ts');
        // The machine really was busy: processes were being created and the CPUs worked.
        expect(Math.max(...frames.map((f) => f.system.forks_per_s ?? 0)), 'forks_per_s').toBeGreaterThan(10);
        expect(Math.min(...frames.map((f) => f.cpu_total?.idle_pct ?? 100)), 'cpu_total.idle_pct').toBeLessThan(50);
        expect(problems).toEqual([]);
      }
      report('sanity-cli', observed);
      await stress.stop();
    },
  );

  it(
    titled('derive() on live snapshots (both readers): no NaN or Infinity hidden by JSON, the same checks', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      const stress = busyMachine();
      await sleep(1500);
      const observed: Record<string, unknown> = {};
      for (const noNative of [false, true]) {
        const sampler = new Sampler({ procRoot: '/proc', noNative });
        try {
          let prevSnap = sampler.sample('all');
          let prevFrame: Frame | null = null;
          const problems: string[] = [];
          for (let j = 0; j < 3; j++) {
            await sleep(700);
            const snap = sampler.sample('all');
            const f = derive(prevSnap, snap);
            problems.push(...badNumbers(f).map((b) => `${sampler.backend} frame ${j}: ${b}`));
            problems.push(...frameProblems(f, prevFrame, true).map((b) => `${sampler.backend} frame ${j}: ${b}`));
            prevSnap = snap;
            prevFrame = f;
          }
          observed[sampler.backend] = { threads: prevFrame!.threads.length, forks: prevFrame!.system.forks_per_s };
          if (noNative) expect(sampler.backend).toBe('ts');
          expect(problems).toEqual([]);
        } finally {
          sampler.close();
        }
      }
      report('sanity-lib', observed);
      expect(stress.running()).toBe(true);
      await stress.stop();
    },
  );
});
