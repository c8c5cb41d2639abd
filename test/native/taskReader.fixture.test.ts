// The native task reader on fixture proc trees built in a temp dir: parsing, NaN for what is
// missing, dropped tasks, the status cache, detail selection and the file-descriptor budget.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../../src/model/snapshot.js';
import type { TaskSample } from '../../src/model/snapshot.js';
import { loadNativeTaskReader } from '../../src/native/index.js';
import type { TaskReader } from '../../src/sources/taskReader.js';

interface StatFields {
  state?: string;
  minflt?: number;
  majflt?: number;
  utime?: number;
  stime?: number;
  priority?: number;
  nice?: number;
  starttime?: number;
  vsize?: number;
  rss?: number;
  processor?: number;
}

/** A task/TID/stat line with proc(5)'s 52 fields. */
function statLine(tid: number, comm: string, f: StatFields = {}): string {
  const after: Array<string | number> = new Array(50).fill(0);
  after[0] = f.state ?? 'S';
  after[1] = 1; // ppid
  after[7] = f.minflt ?? 100;
  after[9] = f.majflt ?? 2;
  after[11] = f.utime ?? 30;
  after[12] = f.stime ?? 40;
  after[15] = f.priority ?? 20;
  after[16] = f.nice ?? 0;
  after[17] = 1; // num_threads
  after[19] = f.starttime ?? 5000;
  after[20] = f.vsize ?? 123456789;
  after[21] = f.rss ?? 321;
  after[36] = f.processor ?? 1;
  return `${tid} (${comm}) ${after.join(' ')}\n`;
}

function statusText(opts: { vcsw?: number; ivcsw?: number; uid?: number; vm?: boolean; pad?: number } = {}): string {
  const lines = [`Name:\tx`, `State:\tS (sleeping)`, `Tgid:\t1`, `Uid:\t${opts.uid ?? 1000}\t${opts.uid ?? 1000}\t0\t0`, `Gid:\t0\t0\t0\t0`];
  if (opts.vm ?? true) {
    lines.push('VmPeak:\t  9999 kB', 'VmSize:\t  8000 kB', 'VmRSS:\t  700 kB', 'RssAnon:\t  400 kB', 'RssFile:\t  250 kB', 'RssShmem:\t  50 kB', 'VmSwap:\t  12 kB');
  }
  if (opts.pad) for (let i = 0; i < opts.pad; i++) lines.push(`Padding${i}:\t${'x'.repeat(60)}`);
  lines.push(`voluntary_ctxt_switches:\t${opts.vcsw ?? 7}`, `nonvoluntary_ctxt_switches:\t${opts.ivcsw ?? 3}`);
  return lines.join('\n') + '\n';
}

const IO_TEXT =
  'rchar: 11\nwchar: 22\nsyscr: 33\nsyscw: 44\nread_bytes: 55\nwrite_bytes: 66\ncancelled_write_bytes: 77\n';

interface TaskFiles {
  stat?: string | Buffer | null;
  schedstat?: string | null;
  status?: string | null;
  io?: string | null;
  wchan?: string | null;
}

let root = '';
const readers: TaskReader[] = [];

function taskDir(pid: number, tid: number): string {
  return join(root, String(pid), 'task', String(tid));
}

/** Writes a task's files; null (or absent, for stat) leaves a file out. */
function writeTask(pid: number, tid: number, files: TaskFiles = {}): void {
  const dir = taskDir(pid, tid);
  mkdirSync(dir, { recursive: true });
  const all: Required<TaskFiles> = {
    stat: statLine(tid, 'worker'),
    schedstat: '1000 200 3\n',
    status: statusText(),
    io: IO_TEXT,
    wchan: 'do_epoll_wait',
    ...files,
  };
  for (const [name, content] of Object.entries(all)) {
    if (content !== null) writeFileSync(join(dir, name), content);
  }
}

function writeProcIo(pid: number, text = IO_TEXT): void {
  mkdirSync(join(root, String(pid)), { recursive: true });
  writeFileSync(join(root, String(pid), 'io'), text);
}

function open(opts: { fdBudget?: number } = {}): TaskReader {
  const loaded = loadNativeTaskReader(root, opts);
  if (loaded.reader === null) throw new Error(`native reader not available: ${loaded.reason}`);
  readers.push(loaded.reader);
  return loaded.reader;
}

/** Row of the task with this tid, or -1. */
function rowOf(s: TaskSample, tid: number): number {
  return s.tasks.tid.indexOf(tid);
}

/** Open descriptors of this process that point into the fixture tree. */
function fdsUnderRoot(): number {
  let n = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`).startsWith(root + '/')) n++;
    } catch {
      // the descriptor readdir itself used, closed by now
    }
  }
  return n;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'whytop-native-'));
});

afterEach(() => {
  for (const r of readers.splice(0)) r.close();
  rmSync(root, { recursive: true, force: true });
});

describe('native task reader on fixture trees', () => {
  it('parses every column of stat, schedstat, status and io', () => {
    writeTask(42, 42, {
      stat: statLine(42, 'my (odd) name', { state: 'R', minflt: 11, majflt: 12, utime: 13, stime: 14, priority: -51, nice: -5, starttime: 777, vsize: 2 ** 40, rss: 99, processor: 3 }),
      schedstat: '123456789 987654321 42\n',
      status: statusText({ vcsw: 17, ivcsw: 18, uid: 1234 }),
    });
    writeProcIo(42);
    const s = open().read('all');
    expect(s.tasks.count).toBe(1);
    expect(s.procs.count).toBe(1);
    const t = s.tasks;
    expect(t.comm).toEqual(['my (odd) name']);
    expect(t.state).toBe('R');
    const row = Object.fromEntries(TASK_NUMERIC_COLUMNS.map((c) => [c, t[c][0]]));
    expect(row).toEqual({
      tid: 42, pid: 42, ppid: 1, starttimeTicks: 777, utimeTicks: 13, stimeTicks: 14, minflt: 11, majflt: 12, processor: 3,
      priority: -51, nice: -5, vsizeBytes: 2 ** 40, rssPages: 99, runNs: 123456789, waitNs: 987654321, timeslices: 42,
      vcsw: 17, ivcsw: 18, rchar: 11, wchar: 22, syscr: 33, syscw: 44, readBytes: 55, writeBytes: 66, offcpuDNs: NaN, syscalls: NaN,
    });
    expect(t.wchan).toEqual(['do_epoll_wait']);
    const p = s.procs;
    const prow = Object.fromEntries(PROC_NUMERIC_COLUMNS.map((c) => [c, p[c][0]]));
    expect(prow).toEqual({
      pid: 42, starttimeTicks: 777, uid: 1234, vmSizeKb: 8000, rssAnonKb: 400, rssFileKb: 250, rssShmemKb: 50, vmSwapKb: 12,
      rchar: 11, wchar: 22, syscr: 33, syscw: 44, readBytes: 55, writeBytes: 66, cancelledWriteBytes: 77,
    });
    expect(p.cmdline).toEqual([null]);
    expect(p.cgroup).toEqual([null]);
    for (const c of TASK_NUMERIC_COLUMNS) expect(t[c]).toBeInstanceOf(Float64Array);
    for (const c of PROC_NUMERIC_COLUMNS) expect(p[c]).toBeInstanceOf(Float64Array);
  });

  it('orders processes and threads numerically and ignores non-numeric entries', () => {
    for (const [pid, tids] of [[100, [100, 1001, 250]], [9, [9]], [20, [20, 21]]] as const) {
      for (const tid of tids) writeTask(pid, tid);
      writeProcIo(pid);
    }
    mkdirSync(join(root, 'self', 'task'), { recursive: true });
    writeFileSync(join(root, 'uptime'), '1 2\n');
    mkdirSync(join(root, '100', 'task', 'notatid'), { recursive: true });
    const s = open().read('none');
    expect([...s.tasks.pid]).toEqual([9, 20, 20, 100, 100, 100]);
    expect([...s.tasks.tid]).toEqual([9, 20, 21, 100, 250, 1001]);
    expect([...s.procs.pid]).toEqual([9, 20, 100]);
    expect(s.tasks.state).toBe('SSSSSS');
    expect(s.tasks.comm).toHaveLength(6);
    for (const c of TASK_NUMERIC_COLUMNS) expect(s.tasks[c]).toHaveLength(6);
    for (const c of PROC_NUMERIC_COLUMNS) expect(s.procs[c]).toHaveLength(3);
  });

  it('gives NaN (or null) for files that are missing, and never 0', () => {
    writeTask(7, 7, { schedstat: null, status: null, io: null, wchan: null });
    writeTask(7, 8, { status: statusText({ vm: false }), wchan: '0' });
    writeTask(9, 9, { status: statusText({ vm: false, uid: 0 }), wchan: '' });
    // no /proc/7/io, no /proc/9/io
    const s = open().read('all');
    const a = rowOf(s, 7);
    for (const c of ['runNs', 'waitNs', 'timeslices', 'vcsw', 'ivcsw', 'rchar', 'wchar', 'syscr', 'syscw', 'readBytes', 'writeBytes'] as const) {
      expect(s.tasks[c][a], c).toBeNaN();
    }
    expect(s.tasks.wchan[a]).toBeNull();
    expect(s.tasks.wchan[rowOf(s, 8)]).toBeNull();
    expect(s.tasks.wchan[rowOf(s, 9)]).toBeNull();
    expect(s.tasks.vcsw[rowOf(s, 8)]).toBe(7);
    // pid 7: the main thread's status is missing, so uid and memory are unknown
    expect(s.procs.pid[0]).toBe(7);
    for (const c of PROC_NUMERIC_COLUMNS.filter((c) => c !== 'pid' && c !== 'starttimeTicks')) expect(s.procs[c][0], c).toBeNaN();
    // pid 9: a kernel thread has no Vm lines
    expect(s.procs.uid[1]).toBe(0);
    for (const c of ['vmSizeKb', 'rssAnonKb', 'rssFileKb', 'rssShmemKb', 'vmSwapKb', 'rchar'] as const) expect(s.procs[c][1], c).toBeNaN();
  });

  it('gives NaN for fields missing from a short stat line and for a malformed schedstat', () => {
    writeTask(5, 5, { stat: '5 (short) S 1 1 1 0 -1 0 10 0 1 0 2 3 0 0 20 0 1 0 900\n', schedstat: '12 x 3\n' });
    const s = open().read('none');
    expect(s.tasks.count).toBe(1);
    expect(s.tasks.starttimeTicks[0]).toBe(900);
    expect(s.tasks.minflt[0]).toBe(10);
    expect(s.tasks.vsizeBytes[0]).toBeNaN();
    expect(s.tasks.rssPages[0]).toBeNaN();
    expect(s.tasks.processor[0]).toBeNaN();
    expect(s.tasks.runNs[0]).toBeNaN();
    expect(s.tasks.waitNs[0]).toBeNaN();
    expect(s.tasks.timeslices[0]).toBeNaN();
  });

  it('drops tasks whose stat is missing, empty or unparsable, and processes left without tasks', () => {
    writeTask(10, 10);
    writeTask(10, 11, { stat: null });
    writeTask(10, 12, { stat: '' });
    writeTask(10, 13, { stat: '13 no parens S 1 2 3\n' });
    writeTask(10, 14, { stat: '14 (short) S 1 2 3\n' }); // no starttime
    writeTask(10, 15, { stat: '15 (x)\n' }); // no state
    writeTask(20, 21, { stat: '' });
    mkdirSync(join(root, '30')); // no task directory
    const s = open().read('all');
    expect([...s.tasks.tid]).toEqual([10]);
    expect([...s.procs.pid]).toEqual([10]);
  });

  it('leaves a process starttime NaN when its main thread was not read', () => {
    writeTask(50, 51, { stat: statLine(51, 'w', { starttime: 1234 }) });
    const s = open().read('none');
    expect([...s.tasks.tid]).toEqual([51]);
    expect(s.procs.pid[0]).toBe(50);
    expect(s.procs.starttimeTicks[0]).toBeNaN();
    expect(s.procs.uid[0]).toBeNaN();
  });

  it('decodes comm as UTF-8 with invalid bytes replaced, and keeps a comm with a NUL byte', () => {
    const bad = Buffer.concat([Buffer.from('1 (a'), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from(') ' + statLine(1, 'x').split(') ')[1])]);
    writeTask(1, 1, { stat: bad });
    writeTask(1, 2, { stat: statLine(2, 'héllo wörld') });
    const s = open().read('none');
    expect(s.tasks.comm).toEqual(['a\ufffd\ufffd', 'héllo wörld']);
    writeTask(1, 3, { stat: statLine(3, 'nul\0inside') });
    const s2 = readers[0].read('none');
    expect(s2.tasks.comm).toEqual(['a\ufffd\ufffd', 'héllo wörld', 'nul\0inside']);
  });

  it('reads files larger than its buffer', () => {
    writeTask(3, 3, { status: statusText({ vcsw: 123, ivcsw: 456, pad: 1000 }) });
    const s = open().read('none');
    expect(s.tasks.vcsw[0]).toBe(123);
    expect(s.tasks.ivcsw[0]).toBe(456);
    expect(s.procs.vmSizeKb[0]).toBe(8000);
  });

  it('reads io and wchan only for the threads asked for', () => {
    for (const tid of [60, 61, 62]) writeTask(60, tid);
    const r = open();
    const none = r.read('none');
    expect(none.tasks.wchan).toEqual([null, null, null]);
    expect([...none.tasks.rchar].every(Number.isNaN)).toBe(true);
    const some = r.read(new Set([61, 999]));
    expect(some.tasks.wchan).toEqual([null, 'do_epoll_wait', null]);
    expect([...some.tasks.rchar]).toEqual([NaN, 11, NaN]);
    const all = r.read('all');
    expect(all.tasks.wchan).toEqual(['do_epoll_wait', 'do_epoll_wait', 'do_epoll_wait']);
    expect([...all.tasks.writeBytes]).toEqual([66, 66, 66]);
  });

  it('drops a task that vanished between passes', () => {
    writeTask(70, 70);
    writeTask(70, 71);
    writeTask(70, 72);
    const r = open();
    expect([...r.read('none').tasks.tid]).toEqual([70, 71, 72]);
    rmSync(taskDir(70, 71), { recursive: true });
    truncateSync(join(taskDir(70, 72), 'stat'), 0); // a kept stat that reads 0 bytes: the task exited
    const s = r.read('none');
    expect([...s.tasks.tid]).toEqual([70]);
    expect(s.tasks.state).toBe('S');
    rmSync(join(root, '70'), { recursive: true });
    const empty = r.read('none');
    expect(empty.tasks.count).toBe(0);
    expect(empty.procs.count).toBe(0);
    expect(empty.tasks.comm).toEqual([]);
    expect(empty.tasks.state).toBe('');
  });

  it('re-reads a thread status only when the thread ran, is new, or is the main thread', () => {
    writeTask(80, 80, { status: statusText({ vcsw: 1 }) });
    writeTask(80, 81, { status: statusText({ vcsw: 5 }) });
    const r = open();
    const first = r.read('none');
    expect([...first.tasks.vcsw]).toEqual([1, 5]);
    // Status files change but schedstat does not: the main thread is re-read, the other is not.
    writeFileSync(join(taskDir(80, 80), 'status'), statusText({ vcsw: 2 }));
    writeFileSync(join(taskDir(80, 81), 'status'), statusText({ vcsw: 6 }));
    expect([...r.read('none').tasks.vcsw]).toEqual([2, 5]);
    // Thread 81 ran: re-read.
    writeFileSync(join(taskDir(80, 81), 'schedstat'), '2000 200 4\n');
    expect([...r.read('none').tasks.vcsw]).toEqual([2, 6]);
    // Thread 81 replaced by a new task with the same tid (different starttime): re-read although
    // schedstat is unchanged.
    writeFileSync(join(taskDir(80, 81), 'status'), statusText({ vcsw: 9 }));
    writeFileSync(join(taskDir(80, 81), 'stat'), statLine(81, 'worker', { starttime: 6000 }));
    const reused = r.read('none');
    expect([...reused.tasks.vcsw]).toEqual([2, 9]);
    expect(reused.tasks.starttimeTicks[1]).toBe(6000);
  });

  it('retries a status it could not read on the next pass', () => {
    writeTask(90, 90);
    writeTask(90, 91, { status: null });
    const r = open();
    expect(r.read('none').tasks.vcsw[1]).toBeNaN();
    writeFileSync(join(taskDir(90, 91), 'status'), statusText({ vcsw: 4 }));
    expect(r.read('none').tasks.vcsw[1]).toBe(4);
  });

  it('keeps files open between passes and closes them all on close()', () => {
    writeTask(1, 1);
    writeTask(1, 2);
    writeProcIo(1);
    const before = fdsUnderRoot();
    const r = open();
    r.read('none');
    // stat, schedstat and status of both threads, and /proc/1/io
    expect(fdsUnderRoot() - before).toBe(7);
    r.read('all');
    expect(fdsUnderRoot() - before).toBe(7);
    r.close();
    expect(fdsUnderRoot()).toBe(before);
    // A closed reader can read again (it reopens what it needs), and close twice is harmless.
    expect(r.read('none').tasks.count).toBe(2);
    r.close();
    r.close();
    expect(fdsUnderRoot()).toBe(before);
  });

  it('closes the files of tasks that are gone', () => {
    writeTask(1, 1);
    writeTask(1, 2);
    writeTask(3, 3);
    writeProcIo(1);
    writeProcIo(3);
    const before = fdsUnderRoot();
    const r = open();
    r.read('none');
    expect(fdsUnderRoot() - before).toBe(11);
    rmSync(join(root, '3'), { recursive: true });
    rmSync(taskDir(1, 2), { recursive: true });
    r.read('none');
    expect(fdsUnderRoot() - before).toBe(4);
  });

  it('keeps no file open with a budget of 0, and at most the budget otherwise', () => {
    for (let tid = 1; tid <= 20; tid++) writeTask(1, tid);
    writeProcIo(1);
    const before = fdsUnderRoot();
    const none = open({ fdBudget: 0 });
    const a = none.read('all');
    expect(a.tasks.count).toBe(20);
    expect(fdsUnderRoot()).toBe(before);
    const small = open({ fdBudget: 5 });
    for (let i = 0; i < 3; i++) {
      const s = small.read('none');
      expect(s.tasks.count).toBe(20);
      expect([...s.tasks.vcsw].every((v) => v === 7)).toBe(true);
      expect(fdsUnderRoot() - before).toBeLessThanOrEqual(5);
    }
    // Results do not depend on the budget.
    const { monoNs: _t1, ...withBudget } = open().read('all');
    const { monoNs: _t2, ...withoutBudget } = none.read('all');
    expect(withBudget).toEqual(withoutBudget);
  });

  it('keeps a non-main status open only while 2 x (tasks last pass) fits the budget', () => {
    writeTask(1, 1);
    writeTask(1, 2);
    writeTask(1, 3);
    writeProcIo(1);
    const before = fdsUnderRoot();
    const r = open({ fdBudget: 12 });
    r.read('none');
    // First pass (no previous tasks): 3 × (stat, schedstat, status) + io.
    expect(fdsUnderRoot() - before).toBe(10);
    // 10 kept + 2 × 3 tasks >= 12: the two non-main status files are given back.
    r.read('none');
    expect(fdsUnderRoot() - before).toBe(8);
    writeFileSync(join(taskDir(1, 2), 'schedstat'), '5000 1 1\n');
    const s = r.read('none');
    expect(s.tasks.vcsw[1]).toBe(7);
    expect(fdsUnderRoot() - before).toBe(8);
  });

  it('gives descriptors back instead of dropping tasks when the process runs out of them', () => {
    let limits: string;
    try {
      limits = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'], { encoding: 'utf8' });
    } catch {
      return; // no prlimit here: nothing to test with
    }
    const [soft, hard] = limits.trim().split(/\s+/);
    for (let tid = 1; tid <= 150; tid++) writeTask(1, tid);
    writeProcIo(1);
    const before = fdsUnderRoot();
    const open = readdirSync('/proc/self/fd').length;
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${open + 100}:${hard}`]);
    try {
      const r = loadNativeTaskReader(root, { fdBudget: 1e6 }).reader!;
      readers.push(r);
      for (let pass = 0; pass < 3; pass++) {
        const s = r.read('none');
        expect(s.tasks.count).toBe(150);
        expect([...s.tasks.vcsw].every((v) => v === 7)).toBe(true);
      }
      r.close();
      expect(fdsUnderRoot()).toBe(before);
    } finally {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`]);
    }
  });

  it('reports a proc root it cannot open instead of throwing', () => {
    const missing = join(root, 'nope');
    const loaded = loadNativeTaskReader(missing);
    expect(loaded.reader).toBeNull();
    expect(loaded.reason).toBe(`cannot read proc root ${missing}: No such file or directory`);
  });
});
