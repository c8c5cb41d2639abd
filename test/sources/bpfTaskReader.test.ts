// The BPF task reader: its pure parts (BTF lookup, cputime adjustment, state letters, the program's
// shape) on hand-made inputs, and the reader itself on the live kernel, where every value must match
// what /proc says about the same task — bracketed between two /proc passes for counters.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskSample } from '../../src/model/snapshot.js';
import { loadNativeTaskReader, nativeBpfCalls, nativeHostConstants } from '../../src/native/index.js';
import { Btf, BtfError, BtfKind, encodeBtf } from '../../src/sources/btf.js';
import { buildTaskIterProgram, RECORD_BYTES } from '../../src/sources/bpfTaskIter.js';
import { adjustCputime, loadBpfTaskReader, stateLetter } from '../../src/sources/bpfTaskReader.js';
import type { TaskReader } from '../../src/sources/taskReader.js';

describe('BTF reader', () => {
  // ids: 1 int, 2 u64 (typedef), 3 char, 4 char[16], 5 anon struct {u64 inner}, 6 struct demo,
  // 7 ptr to demo, 8 func, 9 const int, 10 volatile int, 11 the 8-byte int behind u64
  function demoBtf(): Btf {
    return Btf.parse(
      encodeBtf([
        { kind: BtfKind.INT, name: 'int', sizeOrType: 4, extra: [32] },
        { kind: BtfKind.TYPEDEF, name: 'u64', sizeOrType: 11 },
        { kind: BtfKind.INT, name: 'char', sizeOrType: 1, extra: [8] },
        { kind: BtfKind.ARRAY, name: '', sizeOrType: 0, extra: [3, 1, 16] },
        { kind: BtfKind.STRUCT, name: '', sizeOrType: 8, members: [['inner', 2, 0]] },
        { kind: BtfKind.STRUCT, name: 'demo', sizeOrType: 48, members: [['x', 1, 0], ['flags', 1, 32], ['', 5, 64], ['comm', 4, 128], ['next', 7, 256]] },
        { kind: BtfKind.PTR, name: '', sizeOrType: 6 },
        { kind: BtfKind.FUNC, name: 'bpf_iter_task', sizeOrType: 0 },
        { kind: BtfKind.CONST, name: '', sizeOrType: 1 },
        { kind: BtfKind.VOLATILE, name: '', sizeOrType: 1 },
        { kind: BtfKind.INT, name: 'unsigned long long', sizeOrType: 8, extra: [64] },
      ]),
    );
  }

  it('finds fields by C path, through typedefs, anonymous members and arrays', () => {
    const btf = demoBtf();
    expect(btf.field('demo', 'x')).toEqual({ offset: 0, size: 4, kind: BtfKind.INT });
    expect(btf.field('demo', 'flags')).toEqual({ offset: 4, size: 4, kind: BtfKind.INT });
    expect(btf.field('demo', 'inner')).toEqual({ offset: 8, size: 8, kind: BtfKind.INT });
    expect(btf.field('demo', 'comm')).toEqual({ offset: 16, size: 16, kind: BtfKind.ARRAY });
    expect(btf.field('demo', 'comm[3]')).toEqual({ offset: 19, size: 1, kind: BtfKind.INT });
    expect(btf.field('demo', 'next')).toEqual({ offset: 32, size: 8, kind: BtfKind.PTR });
    expect(btf.field('demo', 'missing')).toBeNull();
    expect(btf.field('demo', 'comm[16]')).toBeNull();
    expect(btf.field('nosuch', 'x')).toBeNull();
    expect(btf.find(BtfKind.FUNC, 'bpf_iter_task')).not.toBeNull();
  });

  it('refuses what is not BTF, and truncated type data', () => {
    expect(() => Btf.parse(new Uint8Array(10))).toThrow(BtfError);
    const good = demoBtf();
    expect(good.typeCount).toBeGreaterThan(5);
    const blob = encodeBtf([{ kind: BtfKind.INT, name: 'int', sizeOrType: 4, extra: [32] }]);
    const view = new DataView(blob.buffer);
    view.setUint32(12, 10, true); // type section shorter than one record
    view.setUint32(16, 10, true);
    expect(() => Btf.parse(blob)).toThrow(/truncated/);
  });

  it('builds no program for a kernel without the task iterator', () => {
    const blob = encodeBtf([{ kind: BtfKind.INT, name: 'int', sizeOrType: 4, extra: [32] }]);
    expect(() => buildTaskIterProgram(Btf.parse(blob))).toThrow(/bpf_iter_task/);
  });
});

describe('cputime adjustment (the kernel cputime_adjust)', () => {
  it('scales the tick samples to the precise run time and never goes backwards', () => {
    const prev = { utimeNs: 0, stimeNs: 0 };
    // 30 ms user / 10 ms system sampled, 100 ms actually run: 75 / 25.
    expect(adjustCputime(30e6, 10e6, 100e6, prev)).toEqual({ utimeNs: 75e6, stimeNs: 25e6 });
    // No new run time: the last split stands, whatever the samples say.
    expect(adjustCputime(10e6, 90e6, 100e6, prev)).toEqual({ utimeNs: 75e6, stimeNs: 25e6 });
    // More run time, samples now mostly system: system grows, user does not shrink.
    expect(adjustCputime(10e6, 90e6, 120e6, prev)).toEqual({ utimeNs: 75e6, stimeNs: 45e6 });
    // Only user samples: all of it is user time (system keeps what it had).
    expect(adjustCputime(50e6, 0, 200e6, { utimeNs: 0, stimeNs: 0 })).toEqual({ utimeNs: 200e6, stimeNs: 0 });
    expect(adjustCputime(0, 50e6, 200e6, { utimeNs: 0, stimeNs: 0 })).toEqual({ utimeNs: 0, stimeNs: 200e6 });
  });
});

describe('state letters (the kernel task_state_index)', () => {
  it('maps __state and exit_state as /proc does', () => {
    expect(stateLetter(0, 0)).toBe('R');
    expect(stateLetter(0x1, 0)).toBe('S');
    expect(stateLetter(0x2, 0)).toBe('D');
    expect(stateLetter(0x402, 0)).toBe('I'); // TASK_IDLE
    expect(stateLetter(0x4, 0)).toBe('T');
    expect(stateLetter(0x8, 0)).toBe('t');
    expect(stateLetter(0x80, 0x20)).toBe('Z'); // TASK_DEAD with EXIT_ZOMBIE
    expect(stateLetter(0x80, 0x10)).toBe('X');
    expect(stateLetter(0x40, 0)).toBe('P');
    expect(stateLetter(0x1000, 0)).toBe('D'); // TASK_RTLOCK_WAIT
    expect(stateLetter(0x101, 0)).toBe('S'); // TASK_WAKEKILL | TASK_INTERRUPTIBLE
    expect(stateLetter(0x102, 0)).toBe('D'); // TASK_KILLABLE
  });
});

// ---- the live kernel ------------------------------------------------------------------------------

const calls = nativeBpfCalls().calls;
const constants = nativeHostConstants();
const liveSkip =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync('/sys/kernel/btf/vmlinux') ? 'needs kernel BTF' : calls === null || constants === null ? 'needs the native addon' : null;

const opened: TaskReader[] = [];
afterEach(() => {
  for (const r of opened.splice(0)) r.close();
});

function openBoth(): { bpf: TaskReader; proc: TaskReader } {
  const bpf = loadBpfTaskReader('/proc', calls, constants!);
  if (bpf.reader === null) throw new Error(bpf.reason);
  const proc = loadNativeTaskReader('/proc');
  if (proc.reader === null) throw new Error(proc.reason);
  opened.push(bpf.reader, proc.reader);
  return { bpf: bpf.reader, proc: proc.reader };
}

/** Row of each tid in a sample. */
function rows(s: TaskSample): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < s.tasks.count; i++) m.set(s.tasks.tid[i], i);
  return m;
}

describe.skipIf(liveSkip !== null)(`BPF task reader on the live kernel${liveSkip ? ` [skipped: ${liveSkip}]` : ''}`, () => {
  it('assembles a program the kernel accepts, with one record per task', () => {
    const program = buildTaskIterProgram(Btf.parse(readFileSync('/sys/kernel/btf/vmlinux')));
    expect([...program.missing], 'without the probes only their off-CPU totals are missing').toEqual(['offcpuDNs', 'syscalls']);
    const { progFd, linkFd } = calls!.bpfLoadTaskIter(program.insns, program.attachBtfId, process.pid);
    try {
      const buf = new Uint8Array(1 << 16);
      const bytes = calls!.bpfReadTaskIter(linkFd, buf);
      // Only this process's threads (the tgid filter), each one record.
      expect(bytes % RECORD_BYTES).toBe(0);
      expect(bytes / RECORD_BYTES).toBe(readFileSync(`/proc/${process.pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)!.slice(1).map(Number)[0]);
    } finally {
      calls!.bpfClose(linkFd);
      calls!.bpfClose(progFd);
    }
  });

  it('sees every task /proc lists, with the same identity, names, states and counters between two /proc passes', () => {
    const { bpf, proc } = openBoth();
    proc.read('none');
    bpf.read('none'); // warm both (the bpf reader's split memory, the proc reader's kept files)
    const before = proc.read('none');
    const mid = bpf.read('none');
    const after = proc.read('none');
    expect(mid.tasks.state).toMatch(/^[RSDTtXZPI]*$/);
    const b = rows(before);
    const a = rows(after);
    const m = rows(mid);
    const problems: string[] = [];
    let compared = 0;
    let stateSame = 0;
    for (const [tid, i] of b) {
      const k = a.get(tid);
      if (k === undefined || after.tasks.starttimeTicks[k] !== before.tasks.starttimeTicks[i]) continue; // exited meanwhile
      const j = m.get(tid);
      if (j === undefined) {
        problems.push(`tid ${tid} (${before.tasks.comm[i]}) is in /proc but not in the BPF pass`);
        continue;
      }
      compared++;
      const bt = before.tasks;
      const mt = mid.tasks;
      const at = after.tasks;
      for (const col of ['pid', 'ppid', 'starttimeTicks', 'nice'] as const) {
        if (mt[col][j] !== bt[col][i]) problems.push(`tid ${tid} ${col}: bpf ${mt[col][j]} vs /proc ${bt[col][i]}`);
      }
      if (mt.comm[j] !== bt.comm[i] && mt.comm[j] !== at.comm[k]) problems.push(`tid ${tid} comm: bpf '${mt.comm[j]}' vs /proc '${bt.comm[i]}'`);
      if (bt.priority[i] === at.priority[k] && mt.priority[j] !== bt.priority[i]) problems.push(`tid ${tid} priority: bpf ${mt.priority[j]} vs /proc ${bt.priority[i]}`);
      for (const col of ['utimeTicks', 'stimeTicks', 'minflt', 'majflt', 'runNs', 'waitNs', 'timeslices', 'vcsw', 'ivcsw'] as const) {
        const lo = bt[col][i];
        const hi = at[col][k];
        const v = mt[col][j];
        if (Number.isNaN(lo) || Number.isNaN(hi)) continue; // status not re-read for an idle thread
        // utime/stime: the adjusted split may shift a tick between the two when nobody else reads.
        const slack = col === 'utimeTicks' || col === 'stimeTicks' ? 1 : 0;
        if (!(v >= lo - slack && v <= hi + slack)) problems.push(`tid ${tid} (${bt.comm[i]}) ${col}: bpf ${v} not within /proc's ${lo}..${hi}`);
      }
      if (mt.state[j] === bt.state[i] || mt.state[j] === at.state[k]) stateSame++;
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(compared).toBeGreaterThan(20);
    // A state can change between reads (a thread waking); nearly all must agree.
    expect(stateSame / compared).toBeGreaterThan(0.95);

    // Processes: owner and memory as /proc/PID/status shows them; io between the two passes.
    const pb = new Map<number, number>();
    for (let i = 0; i < before.procs.count; i++) pb.set(before.procs.pid[i], i);
    const pm = new Map<number, number>();
    for (let i = 0; i < mid.procs.count; i++) pm.set(mid.procs.pid[i], i);
    const pa = new Map<number, number>();
    for (let i = 0; i < after.procs.count; i++) pa.set(after.procs.pid[i], i);
    const procProblems: string[] = [];
    for (const [pid, i] of pb) {
      const j = pm.get(pid);
      const k = pa.get(pid);
      if (j === undefined || k === undefined) continue;
      const bp = before.procs;
      const ap = after.procs;
      const mp = mid.procs;
      for (const col of ['uid', 'starttimeTicks', 'vmSizeKb'] as const) {
        const same = mp[col][j] === bp[col][i] || (Number.isNaN(mp[col][j]) && Number.isNaN(bp[col][i]));
        if (!same && col !== 'vmSizeKb') procProblems.push(`pid ${pid} ${col}: bpf ${mp[col][j]} vs /proc ${bp[col][i]}`);
      }
      // Memory moves between the passes (bracketed), and the kernel's rss counters are per-CPU
      // approximations: allow their batching slack.
      for (const col of ['rssAnonKb', 'rssFileKb'] as const) {
        const lo = Math.min(bp[col][i], ap[col][k]);
        const hi = Math.max(bp[col][i], ap[col][k]);
        const slack = Math.max(1024, 0.05 * hi);
        if (Number.isNaN(lo) && Number.isNaN(mp[col][j])) continue; // kernel threads: no memory of their own
        if (!(mp[col][j] >= lo - slack && mp[col][j] <= hi + slack)) procProblems.push(`pid ${pid} ${col}: bpf ${mp[col][j]} vs /proc ${lo}..${hi}`);
      }
      if (!Number.isNaN(bp.rchar[i]) && !(mp.rchar[j] >= bp.rchar[i])) procProblems.push(`pid ${pid} rchar: bpf ${mp.rchar[j]} < /proc ${bp.rchar[i]}`);
    }
    expect(procProblems.slice(0, 20)).toEqual([]);
  });

  it('fills every thread\'s io counters, and wchan only where asked', () => {
    const { bpf } = openBoth();
    const s = bpf.read(new Set([process.pid]));
    const me = rows(s).get(process.pid)!;
    expect(s.tasks.rchar[me]).toBeGreaterThan(0);
    expect(s.tasks.syscr[me]).toBeGreaterThan(0);
    const others = [...rows(s).values()].filter((i) => i !== me);
    expect(others.every((i) => s.tasks.wchan[i] === null)).toBe(true);
    expect(others.some((i) => !Number.isNaN(s.tasks.syscr[i]))).toBe(true);
  });

  it('reads wchan again once a task ran or changed state, and keeps it while the task sleeps on', async () => {
    const { bpf } = openBoth();
    const child = spawn('sleep', ['30']);
    try {
      const pid = child.pid!;
      const procWchan = (): string => readFileSync(`/proc/${pid}/wchan`, 'utf8');
      const shown = (): string | null => {
        const s = bpf.read(new Set([pid]));
        return s.tasks.wchan[rows(s).get(pid)!];
      };
      const deadline = Date.now() + 5000;
      while (procWchan() !== 'hrtimer_nanosleep' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(shown()).toBe('hrtimer_nanosleep');
      expect(shown()).toBe('hrtimer_nanosleep'); // not run since: the wchan read before
      child.kill('SIGSTOP');
      while (!/^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(shown()).toBe(procWchan()); // stopped: it ran to stop, and sleeps elsewhere now
      expect(procWchan()).not.toBe('hrtimer_nanosleep');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names workqueue workers as /proc does (kworker/N:M-queue)', () => {
    const { bpf } = openBoth();
    const s = bpf.read('none');
    const workers = s.tasks.comm.map((c, i) => [c, i] as const).filter(([c]) => c.startsWith('kworker/'));
    expect(workers.length).toBeGreaterThan(0);
    for (const [c, i] of workers.slice(0, 10)) {
      const fromProc = readFileSync(`/proc/${s.tasks.pid[i]}/task/${s.tasks.tid[i]}/comm`, 'utf8').trim();
      expect(c === fromProc || fromProc.startsWith(c) || c.startsWith(fromProc.split('-')[0])).toBe(true);
    }
  });
});

describe.skipIf(liveSkip !== null || spawnSync('which', ['setpriv']).status !== 0)('BPF tier without privileges', () => {
  it('without CAP_BPF and CAP_PERFMON (root otherwise) falls back to the native /proc reader and says why', () => {
    const bin = path.resolve(__dirname, '../../bin/whytop.js');
    const drop = '-bpf,-perfmon,-sys_admin';
    const r = spawnSync('setpriv', [`--bounding-set=${drop}`, `--inh-caps=${drop}`, process.execPath, bin, 'dump', '--count', '1', '--interval', '200'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const frame = JSON.parse(r.stdout.trim().split('\n')[0]);
    expect(frame.sampler.backend).toBe('native');
    expect(frame.sampler.backend_reason).toMatch(/needs root \(CAP_BPF and CAP_PERFMON\).*not permitted/);
  });
});
