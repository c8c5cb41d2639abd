// Kernel probes (the eBPF tier): small BPF programs on scheduler and softirq tracepoints keep
// counters inside the kernel, and whytop reads them once per sample.
//
//   sched_switch   per CPU: context switches. A thread that leaves the CPU in D (uninterruptible,
//                  usually waiting for I/O): when, in its task storage.
//   sched_wakeup   closes that sleep: adds its length to the thread's D total.
//   softirq_entry/exit  per CPU and softirq type: time spent handling softirqs.
//   sys_enter      only with --syscalls: syscalls per CPU and per thread.
//
// Sleep in S needs no probe: over an interval, a thread's time is on a CPU + waiting for one
// (schedstat) + in D (these probes) + in S, so S is what is left (derive.ts). Leaving S sleeps
// alone keeps the probes off the hottest path: a context-switch ping-pong sleeps in S every time.
// Per-thread values live in task storage (BPF_MAP_TYPE_TASK_STORAGE), which the kernel frees with
// the task, so exited threads leave nothing behind; the task iterator (bpfTaskIter.ts) copies them
// into each thread's record, adding a sleep still in progress. Programs, links and maps are file
// descriptors: the kernel detaches and frees them when whytop exits, however it exits.
import * as fs from 'node:fs';
import { SOFTIRQ_TYPES } from '../model/snapshot.js';
import type { ProbeCounters } from '../model/snapshot.js';
import type { BpfCalls } from '../native/index.js';
import { Alu, BpfAsm, Helper, Jmp, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10, TASK_STORAGE_CREATE } from './bpfAsm.js';
import { Btf, BtfKind, encodeBtf } from './btf.js';

const MAP_PERCPU_ARRAY = 6;
const MAP_TASK_STORAGE = 29;
const BPF_F_NO_PREALLOC = 1;

/** Byte offsets in a thread's task storage value. */
export const TaskStorage = {
  /** ktime ns when the current sleep in D began (0: not in D, as far as the probes know). */
  sleepStartNs: 0,
  offcpuDNs: 8,
  /** Syscalls entered (only while syscall counting is on). */
  syscalls: 16,
  bytes: 24,
} as const;

const NR_SOFTIRQS = SOFTIRQ_TYPES.length;

/** Byte offsets in the per-CPU value. */
const CpuValue = {
  ctxsw: 0,
  syscalls: 8,
  softirqNs: 16,
  softirqEntryNs: 16 + 8 * NR_SOFTIRQS,
  bytes: 16 + 16 * NR_SOFTIRQS,
} as const;

/** __state & D_MASK === D_ONLY: TASK_UNINTERRUPTIBLE without TASK_NOLOAD (that is an idle kernel thread, I). */
const D_MASK = 0x402;
const D_ONLY = 0x2;

/** The little-endian u64 at byte `at` (a module-level helper: no closure per read, README Performance). */
function u64At(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
}

/** The CPUs the kernel may ever bring up (per-CPU map values come for each), from sysfs. */
export function possibleCpus(text: string): number {
  let max = -1;
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    max = Math.max(max, b ?? a);
  }
  if (!Number.isInteger(max) || max < 0) throw new Error(`cannot parse possible CPUs '${text.trim()}'`);
  return max + 1;
}

/** r0 = this CPU's value of the per-CPU map (or jump to `none`). Clobbers r1–r5. */
function cpuValue(a: BpfAsm, cpuMapFd: number, none: string): void {
  a.storeImm(4, R10, -4, 0).mov(R2, R10).aluImm(Alu.add, R2, -4).loadMap(R1, cpuMapFd).call(Helper.mapLookupElem).jumpImm(Jmp.eq, R0, 0, none);
}

/** r0 = the task storage of the task in `taskReg` (created when `create`), or jump to `none`. Clobbers r1–r5. */
function taskStorage(a: BpfAsm, taskMapFd: number, taskReg: number, create: boolean, none: string): void {
  a.mov(R2, taskReg).loadMap(R1, taskMapFd).movImm(R3, 0).movImm(R4, create ? TASK_STORAGE_CREATE : 0).call(Helper.taskStorageGet).jumpImm(Jmp.eq, R0, 0, none);
}

/** tp_btf/sched_switch(bool preempt, task *prev, task *next, unsigned int prev_state). */
function schedSwitchProgram(cpuMapFd: number, taskMapFd: number): Uint8Array {
  const a = new BpfAsm();
  a.mov(R6, R1);
  cpuValue(a, cpuMapFd, 'sleep');
  a.load(8, R1, R0, CpuValue.ctxsw).aluImm(Alu.add, R1, 1).store(8, R0, CpuValue.ctxsw, R1);
  a.label('sleep')
    .load(8, R1, R6, 0) // preempt: the task stays runnable (its wait is in schedstat)
    .jumpImm(Jmp.ne, R1, 0, 'out')
    .load(8, R1, R6, 24) // prev_state
    .aluImm(Alu.and, R1, D_MASK)
    .jumpImm(Jmp.ne, R1, D_ONLY, 'out')
    .load(8, R7, R6, 8); // prev
  taskStorage(a, taskMapFd, R7, true, 'out');
  a.mov(R8, R0)
    .call(Helper.ktimeGetNs)
    .store(8, R8, TaskStorage.sleepStartNs, R0)
    .label('out')
    .movImm(R0, 0)
    .exit();
  return a.encode();
}

/** Adds the time since `startReg` (ktime ns) to the u64 at `base + totalAt`. Clobbers r0–r5. */
function addElapsed(a: BpfAsm, base: number, startReg: number, totalAt: number): void {
  a.call(Helper.ktimeGetNs).alu(Alu.sub, R0, startReg).load(8, R1, base, totalAt).alu(Alu.add, R1, R0).store(8, base, totalAt, R1);
}

/** tp_btf/sched_wakeup(task *p): a sleep of p in D ends. */
function schedWakeupProgram(taskMapFd: number): Uint8Array {
  const a = new BpfAsm();
  a.load(8, R7, R1, 0);
  taskStorage(a, taskMapFd, R7, false, 'out');
  a.mov(R8, R0)
    .load(8, R9, R8, TaskStorage.sleepStartNs)
    .jumpImm(Jmp.eq, R9, 0, 'out');
  addElapsed(a, R8, R9, TaskStorage.offcpuDNs);
  a.storeImm(8, R8, TaskStorage.sleepStartNs, 0)
    .label('out')
    .movImm(R0, 0)
    .exit();
  return a.encode();
}

/** tp_btf/softirq_entry(unsigned int vec) and softirq_exit: per-CPU time per softirq type. */
function softirqProgram(cpuMapFd: number, exit: boolean): Uint8Array {
  const a = new BpfAsm();
  a.load(8, R6, R1, 0).jumpImm(Jmp.ge, R6, NR_SOFTIRQS, 'out');
  cpuValue(a, cpuMapFd, 'out');
  a.aluImm(Alu.lsh, R6, 3).alu(Alu.add, R0, R6).mov(R6, R0); // r6 = &value + 8 * vec
  if (!exit) {
    a.call(Helper.ktimeGetNs).store(8, R6, CpuValue.softirqEntryNs, R0);
  } else {
    a.load(8, R7, R6, CpuValue.softirqEntryNs).jumpImm(Jmp.eq, R7, 0, 'out');
    addElapsed(a, R6, R7, CpuValue.softirqNs);
    a.storeImm(8, R6, CpuValue.softirqEntryNs, 0);
  }
  a.label('out').movImm(R0, 0).exit();
  return a.encode();
}

/** tp_btf/sys_enter(struct pt_regs *regs, long id): counts syscalls per CPU and per thread. */
function sysEnterProgram(cpuMapFd: number, taskMapFd: number): Uint8Array {
  const a = new BpfAsm();
  cpuValue(a, cpuMapFd, 'thread');
  a.load(8, R1, R0, CpuValue.syscalls).aluImm(Alu.add, R1, 1).store(8, R0, CpuValue.syscalls, R1);
  a.label('thread').call(Helper.getCurrentTaskBtf);
  taskStorage(a, taskMapFd, R0, true, 'out');
  a.load(8, R1, R0, TaskStorage.syscalls)
    .aluImm(Alu.add, R1, 1)
    .store(8, R0, TaskStorage.syscalls, R1)
    .label('out')
    .movImm(R0, 0)
    .exit();
  return a.encode();
}

/**
 * Emits, into the task iterator's program, the copy of the thread's probe totals: r7 = task,
 * `stateOffset` its __state. Leaves ns asleep in D at `dAt` (a stack offset from r10), a sleep in
 * progress included, and syscalls at `syscallsAt`; starts tracking a thread found in D with no
 * open sleep (it blocked before the probes were attached). Clobbers r0–r5, r8, r9.
 */
export function emitProbeCopy(a: BpfAsm, taskMapFd: number, stateOffset: number, dAt: number, syscallsAt: number): void {
  // Storage is created only for a thread in D: most threads never need any.
  a.movImm(R4, 0)
    .load(4, R2, R7, stateOffset)
    .aluImm(Alu.and, R2, D_MASK)
    .jumpImm(Jmp.ne, R2, D_ONLY, 'probe_lookup')
    .movImm(R4, TASK_STORAGE_CREATE)
    .label('probe_lookup')
    .loadMap(R1, taskMapFd)
    .mov(R2, R7)
    .movImm(R3, 0)
    .call(Helper.taskStorageGet)
    .jumpImm(Jmp.eq, R0, 0, 'probe_done')
    .mov(R8, R0)
    .load(8, R1, R8, TaskStorage.syscalls)
    .store(8, R10, syscallsAt, R1)
    .load(8, R9, R8, TaskStorage.sleepStartNs)
    .jumpImm(Jmp.ne, R9, 0, 'probe_open')
    .load(4, R2, R7, stateOffset)
    .aluImm(Alu.and, R2, D_MASK)
    .jumpImm(Jmp.ne, R2, D_ONLY, 'probe_closed')
    .call(Helper.ktimeGetNs)
    .store(8, R8, TaskStorage.sleepStartNs, R0)
    .goto('probe_closed')
    .label('probe_open')
    .call(Helper.ktimeGetNs)
    .alu(Alu.sub, R0, R9)
    .load(8, R1, R8, TaskStorage.offcpuDNs)
    .alu(Alu.add, R1, R0)
    .store(8, R10, dAt, R1)
    .goto('probe_done')
    .label('probe_closed')
    .load(8, R1, R8, TaskStorage.offcpuDNs)
    .store(8, R10, dAt, R1)
    .label('probe_done');
}

/** Syscalls timed, in each of five runs, without and then with the syscall probe (a few ms). */
const SYSCALL_CALIBRATION_CALLS = 20_000;

/** The attached probes and their maps. */
export class KernelProbes {
  private readonly calls: BpfCalls;
  private readonly fds: number[];
  private readonly cpuMapFd: number;
  private readonly sysEnterBtfId: number | null;
  /** The syscall probe's program and link while syscall counting is on. */
  private syscallFds: number[] = [];
  /** What the syscall probe adds to each syscall, ns, measured when it was attached (null: off). */
  syscallProbeNs: number | null = null;
  private readonly cpus: number;
  private readonly key = new Uint8Array(4);
  private readonly value: Uint8Array;
  /** The task storage map, for the task iterator to copy per-thread totals from. */
  readonly taskMapFd: number;

  private constructor(calls: BpfCalls, fds: number[], cpuMapFd: number, taskMapFd: number, cpus: number, sysEnterBtfId: number | null) {
    this.calls = calls;
    this.fds = fds;
    this.sysEnterBtfId = sysEnterBtfId;
    this.cpuMapFd = cpuMapFd;
    this.taskMapFd = taskMapFd;
    this.cpus = cpus;
    this.value = new Uint8Array(CpuValue.bytes * cpus);
  }

  /** Creates the maps and attaches the programs; throws (closing what it made) when the kernel refuses. */
  static attach(calls: BpfCalls, btf: Btf): KernelProbes {
    const fds: number[] = [];
    try {
      const tracepoint = (event: string): number => {
        const id = btf.find(BtfKind.TYPEDEF, `btf_trace_${event}`);
        if (id === null) throw new Error(`kernel has no BTF for tracepoint ${event}`);
        return id;
      };
      const cpus = possibleCpus(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
      // Task storage maps need BTF for their key and value: an int, and a struct of u64 counters.
      const btfFd = calls.bpfLoadBtf(
        encodeBtf([
          { kind: BtfKind.INT, name: 'int', sizeOrType: 4, extra: [(1 << 24) | 32] },
          { kind: BtfKind.INT, name: 'unsigned long long', sizeOrType: 8, extra: [64] },
          {
            kind: BtfKind.STRUCT,
            name: 'whytop_task',
            sizeOrType: TaskStorage.bytes,
            members: [['sleep_start_ns', 2, 0], ['offcpu_d_ns', 2, 64], ['syscalls', 2, 128]],
          },
        ]),
      );
      fds.push(btfFd);
      const taskMapFd = calls.bpfCreateMap({ type: MAP_TASK_STORAGE, keySize: 4, valueSize: TaskStorage.bytes, maxEntries: 0, flags: BPF_F_NO_PREALLOC, btfFd, btfKeyTypeId: 1, btfValueTypeId: 3, name: 'whytop_tasks' });
      fds.push(taskMapFd);
      const cpuMapFd = calls.bpfCreateMap({ type: MAP_PERCPU_ARRAY, keySize: 4, valueSize: CpuValue.bytes, maxEntries: 1, name: 'whytop_cpus' });
      fds.push(cpuMapFd);
      const programs: Array<[string, Uint8Array]> = [
        ['sched_switch', schedSwitchProgram(cpuMapFd, taskMapFd)],
        ['sched_wakeup', schedWakeupProgram(taskMapFd)],
        ['softirq_entry', softirqProgram(cpuMapFd, false)],
        ['softirq_exit', softirqProgram(cpuMapFd, true)],
      ];
      for (const [event, insns] of programs) {
        const { progFd, linkFd } = calls.bpfAttachRawTp(insns, tracepoint(event), `whytop_${event}`.slice(0, 15));
        fds.push(progFd, linkFd);
      }
      return new KernelProbes(calls, fds, cpuMapFd, taskMapFd, cpus, btf.find(BtfKind.TYPEDEF, 'btf_trace_sys_enter'));
    } catch (err) {
      for (const fd of fds.reverse()) calls.bpfClose(fd);
      throw err;
    }
  }

  /** True while the syscall probe is attached. */
  get syscalls(): boolean {
    return this.syscallFds.length > 0;
  }

  /**
   * Attaches or detaches the syscall probe (raw_syscalls:sys_enter). It slows every syscall on the
   * machine while attached, so it is off unless asked for. Throws when the kernel refuses.
   */
  setSyscalls(on: boolean): void {
    if (on === this.syscalls) return;
    if (!on) {
      for (const fd of this.syscallFds.splice(0).reverse()) this.calls.bpfClose(fd);
      this.syscallProbeNs = null;
      return;
    }
    if (this.sysEnterBtfId === null) throw new Error('kernel has no BTF for tracepoint sys_enter');
    const before = this.calls.bpfSyscallNs(SYSCALL_CALIBRATION_CALLS);
    const { progFd, linkFd } = this.calls.bpfAttachRawTp(sysEnterProgram(this.cpuMapFd, this.taskMapFd), this.sysEnterBtfId, 'whytop_syscall');
    this.syscallFds = [progFd, linkFd];
    this.syscallProbeNs = Math.max(0, this.calls.bpfSyscallNs(SYSCALL_CALIBRATION_CALLS) - before);
  }

  /** The per-CPU counters now (cumulative since attach). */
  read(): ProbeCounters {
    const ctxsw: number[] = [];
    const syscalls: number[] = [];
    const softirqNs: number[][] = SOFTIRQ_TYPES.map(() => []);
    if (!this.calls.bpfMapLookup(this.cpuMapFd, this.key, this.value)) return { ctxsw, syscalls, softirqNs };
    const view = new DataView(this.value.buffer);
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const base = cpu * CpuValue.bytes;
      ctxsw.push(u64At(view, base + CpuValue.ctxsw));
      syscalls.push(u64At(view, base + CpuValue.syscalls));
      for (let t = 0; t < NR_SOFTIRQS; t++) softirqNs[t].push(u64At(view, base + CpuValue.softirqNs + 8 * t));
    }
    return { ctxsw, syscalls, softirqNs };
  }

  /** Detaches the programs and frees the maps. */
  close(): void {
    this.setSyscalls(false);
    for (const fd of this.fds.splice(0).reverse()) this.calls.bpfClose(fd);
  }
}
