// The native task reader on the live /proc: it loads, reports this process correctly, survives
// tasks that come and go, and leaves no descriptor open after close().
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../../src/model/snapshot.js';
import type { TaskSample } from '../../src/model/snapshot.js';
import { loadNativeTaskReader, nativeHostConstants } from '../../src/native/index.js';
import type { TaskReader } from '../../src/sources/taskReader.js';

const readers: TaskReader[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const r of readers.splice(0)) r.close();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function open(opts: { fdBudget?: number } = {}): TaskReader {
  const loaded = loadNativeTaskReader('/proc', opts);
  if (loaded.reader === null) throw new Error(`native reader not available: ${loaded.reason}`);
  readers.push(loaded.reader);
  return loaded.reader;
}

/** Descriptors of this process open on per-task /proc files (of process `pid`, if given). */
function procFds(pid?: number): number {
  const pattern = new RegExp(`^/proc/${pid ?? '\\d+'}/(task/\\d+/)?(stat|schedstat|status|io)$`);
  let n = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (pattern.test(readlinkSync(`/proc/self/fd/${name}`))) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** Starts a Node child with `threads` worker threads; resolves with it once they all run. */
async function startThreads(threads: number): Promise<ChildProcess> {
  const code = `
    const { Worker } = require('node:worker_threads');
    let up = 0;
    for (let i = 0; i < ${threads}; i++) {
      const w = new Worker('setInterval(() => {}, 1000); require("node:worker_threads").parentPort.postMessage(1)', { eval: true });
      w.once('message', () => { if (++up === ${threads}) console.log('ready'); });
    }`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error('thread child exited early')));
  });
  return child;
}

function checkShape(s: TaskSample): void {
  const n = s.tasks.count;
  expect(s.tasks.state).toHaveLength(n);
  expect(s.tasks.comm).toHaveLength(n);
  expect(s.tasks.wchan).toHaveLength(n);
  for (const c of TASK_NUMERIC_COLUMNS) {
    expect(s.tasks[c], c).toBeInstanceOf(Float64Array);
    expect(s.tasks[c], c).toHaveLength(n);
  }
  for (const c of PROC_NUMERIC_COLUMNS) {
    expect(s.procs[c], c).toBeInstanceOf(Float64Array);
    expect(s.procs[c], c).toHaveLength(s.procs.count);
  }
  expect(s.procs.cmdline).toHaveLength(s.procs.count);
  expect(s.procs.cgroup).toHaveLength(s.procs.count);
  let unordered = 0;
  for (let i = 1; i < n; i++) {
    const [p0, p1, t0, t1] = [s.tasks.pid[i - 1], s.tasks.pid[i], s.tasks.tid[i - 1], s.tasks.tid[i]];
    if (!(p0 < p1 || (p0 === p1 && t0 < t1))) unordered++;
  }
  for (let i = 1; i < s.procs.count; i++) if (!(s.procs.pid[i - 1] < s.procs.pid[i])) unordered++;
  expect(unordered).toBe(0);
}

describe('native task reader on the live /proc', () => {
  it('loads, and reports host constants', () => {
    const loaded = loadNativeTaskReader('/proc');
    expect(loaded.reason).toBeNull();
    expect(loaded.reader?.backend).toBe('native');
    loaded.reader?.close();
    const host = nativeHostConstants();
    expect(host).not.toBeNull();
    expect(host!.clkTck).toBeGreaterThan(0);
    expect(Number.isInteger(Math.log2(host!.pageSizeBytes))).toBe(true);
    expect(host!.cpuCount).toBeGreaterThanOrEqual(cpus().length);
  });

  it('reads this process and its threads', () => {
    const r = open();
    const before = process.hrtime.bigint();
    const s = r.read(new Set([process.pid]));
    const after = process.hrtime.bigint();
    checkShape(s);
    expect(s.monoNs).toBeGreaterThanOrEqual(Number(before) - 1e3);
    expect(s.monoNs).toBeLessThanOrEqual(Number(after) + 1e3);

    const me = s.tasks.tid.indexOf(process.pid);
    expect(me).toBeGreaterThanOrEqual(0);
    expect(s.tasks.pid[me]).toBe(process.pid);
    expect(s.tasks.state[me]).toBe('R');
    expect(s.tasks.comm[me]).toBe(readFileSync('/proc/self/comm', 'utf8').trimEnd());
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(s.tasks.starttimeTicks[me]).toBe(Number(fields[19]));
    expect(s.tasks.runNs[me]).toBeGreaterThan(0);
    expect(s.tasks.vcsw[me]).toBeGreaterThanOrEqual(0);
    expect(s.tasks.rchar[me]).toBeGreaterThan(0); // asked for in detail; we are root or its owner
    // Node has helper threads: they are listed under our pid with NaN io (not asked for).
    const mine = [...s.tasks.pid].filter((p) => p === process.pid).length;
    expect(mine).toBeGreaterThan(1);
    const helper = s.tasks.pid.findIndex((p, i) => p === process.pid && s.tasks.tid[i] !== process.pid);
    expect(s.tasks.rchar[helper]).toBeNaN();
    expect(s.tasks.wchan[helper]).toBeNull();

    const p = s.procs.pid.indexOf(process.pid);
    expect(s.procs.starttimeTicks[p]).toBe(s.tasks.starttimeTicks[me]);
    expect(s.procs.uid[p]).toBe(process.getuid!());
    expect(s.procs.vmSizeKb[p]).toBeGreaterThan(0);
    expect(s.procs.rssAnonKb[p]).toBeGreaterThan(0);
    expect(s.procs.cmdline[p]).toBeNull();
  });

  it('drops the threads of a process that exited, and closes their files', async () => {
    const r = open();
    const child = await startThreads(8);
    const pid = child.pid!;
    const first = r.read('none');
    const tids = [...first.tasks.pid].filter((p) => p === pid).length;
    expect(tids).toBeGreaterThanOrEqual(9);
    // Its files are kept open, unless other big processes used up the descriptor budget first.
    if (first.tasks.count < 2000) expect(procFds(pid)).toBeGreaterThanOrEqual(tids * 2);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const second = r.read('none');
    checkShape(second);
    expect(second.tasks.pid.indexOf(pid)).toBe(-1);
    expect(second.procs.pid.indexOf(pid)).toBe(-1);
    expect(procFds(pid)).toBe(0);
  });

  it('survives processes and threads that come and go mid-pass, and leaks no descriptor', async () => {
    const baseline = procFds();
    const churn = spawn('sh', ['-c', 'while :; do /bin/true & /bin/true; wait; done'], { stdio: 'ignore' });
    children.push(churn);
    const threads = spawn(
      process.execPath,
      ['-e', `const { Worker } = require('node:worker_threads'); setInterval(() => { const w = new Worker('1', { eval: true }); }, 2);`],
      { stdio: 'ignore' },
    );
    children.push(threads);
    const r = open();
    const budgeted = open({ fdBudget: 40 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let pass = 0; pass < 6; pass++) {
      checkShape(r.read(pass % 3 === 0 ? 'all' : 'none'));
      checkShape(budgeted.read('none'));
    }
    r.close();
    budgeted.close();
    expect(procFds()).toBe(baseline);
  });

  it('keeps no file open with a budget of 0', () => {
    const baseline = procFds();
    const r = open({ fdBudget: 0 });
    const s = r.read('none');
    expect(s.tasks.count).toBeGreaterThan(0);
    expect(procFds()).toBe(baseline);
  });
});
