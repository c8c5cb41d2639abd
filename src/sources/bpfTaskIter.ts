// The BPF task iterator program: for every task on the machine, the kernel runs it once and it
// writes one fixed-size record of raw task_struct fields into the iterator's output, so one read()
// replaces opening and reading stat, schedstat, status and io of every thread under /proc.
// The program is assembled here, instruction by instruction, with field offsets found in the running
// kernel's BTF (btf.ts): no clang or libbpf at install time, no kernel headers.
import { Alu, BpfAsm, Helper, Jmp, R0, R1, R2, R3, R6, R7, R8, R10 } from './bpfAsm.js';
import { Btf, BtfError, BtfKind } from './btf.js';
import { emitProbeCopy } from './kernelProbes.js';

/** What each 8-byte slot of a record holds (zero-extended; NaN when `missing` names it). */
export const RECORD_SLOTS = [
  'pid',
  'tgid',
  'state',
  'exitState',
  'flags',
  'prio',
  'staticPrio',
  'cpu',
  'utimeNs',
  'stimeNs',
  'prevUtimeNs',
  'prevStimeNs',
  'runNs',
  'waitNs',
  'timeslices',
  'vcsw',
  'ivcsw',
  'startBoottimeNs',
  'minflt',
  'majflt',
  'rchar',
  'wchar',
  'syscr',
  'syscw',
  'readBytes',
  'writeBytes',
  'comm0',
  'comm1',
  'ppid',
  'uid',
  /** 1 when the task has an address space (user tasks), 0 for kernel threads. */
  'hasMm',
  'totalVmPages',
  'filePages',
  'anonPages',
  'swapEntries',
  'shmemPages',
  /** signal_struct.ioac: I/O of the process's threads that have exited. */
  'deadRchar',
  'deadWchar',
  'deadSyscr',
  'deadSyscw',
  'deadReadBytes',
  'deadWriteBytes',
  'deadCancelledWriteBytes',
  /** The task's own cancelled_write_bytes (only the process sum is reported). */
  'cancelledWriteBytes',
  /** Kernel probes (kernelProbes.ts): time asleep in D, ns, a sleep in progress included; syscalls entered. */
  'offcpuDNs',
  'syscalls',
] as const;

/** Name of one record slot. */
export type RecordSlot = (typeof RECORD_SLOTS)[number];

/** Bytes in one record. */
export const RECORD_BYTES = RECORD_SLOTS.length * 8;

/** Index of each slot in a record. */
export const SLOT: { readonly [K in RecordSlot]: number } = Object.fromEntries(RECORD_SLOTS.map((s, i) => [s, i])) as { [K in RecordSlot]: number };

/** Where a slot's value comes from: a base pointer and C paths to try in order (older kernels differ). */
interface FieldSource {
  slot: RecordSlot;
  paths: string[];
}

/** A group of fields read through one pointer of task_struct (null pointer: the group stays zero). */
interface PointerGroup {
  pointer: string;
  struct: string;
  /** Set to 1 when the pointer is not null. */
  flagSlot?: RecordSlot;
  fields: FieldSource[];
}

const TASK_FIELDS: FieldSource[] = [
  { slot: 'pid', paths: ['pid'] },
  { slot: 'tgid', paths: ['tgid'] },
  { slot: 'state', paths: ['__state', 'state'] },
  { slot: 'exitState', paths: ['exit_state'] },
  { slot: 'flags', paths: ['flags'] },
  { slot: 'prio', paths: ['prio'] },
  { slot: 'staticPrio', paths: ['static_prio'] },
  { slot: 'cpu', paths: ['thread_info.cpu', 'cpu'] },
  { slot: 'utimeNs', paths: ['utime'] },
  { slot: 'stimeNs', paths: ['stime'] },
  { slot: 'prevUtimeNs', paths: ['prev_cputime.utime'] },
  { slot: 'prevStimeNs', paths: ['prev_cputime.stime'] },
  { slot: 'runNs', paths: ['se.sum_exec_runtime'] },
  { slot: 'waitNs', paths: ['sched_info.run_delay'] },
  { slot: 'timeslices', paths: ['sched_info.pcount'] },
  { slot: 'vcsw', paths: ['nvcsw'] },
  { slot: 'ivcsw', paths: ['nivcsw'] },
  { slot: 'startBoottimeNs', paths: ['start_boottime', 'real_start_time'] },
  { slot: 'minflt', paths: ['min_flt'] },
  { slot: 'majflt', paths: ['maj_flt'] },
  { slot: 'rchar', paths: ['ioac.rchar'] },
  { slot: 'wchar', paths: ['ioac.wchar'] },
  { slot: 'syscr', paths: ['ioac.syscr'] },
  { slot: 'syscw', paths: ['ioac.syscw'] },
  { slot: 'readBytes', paths: ['ioac.read_bytes'] },
  { slot: 'writeBytes', paths: ['ioac.write_bytes'] },
  { slot: 'cancelledWriteBytes', paths: ['ioac.cancelled_write_bytes'] },
  { slot: 'comm0', paths: ['comm'] },
];

/** MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES: the kernel's rss counter indexes. */
function rssPaths(index: number): string[] {
  return [`rss_stat[${index}].count`, `rss_stat.count[${index}].counter`];
}

const POINTER_GROUPS: PointerGroup[] = [
  { pointer: 'real_parent', struct: 'task_struct', fields: [{ slot: 'ppid', paths: ['tgid'] }] },
  { pointer: 'real_cred', struct: 'cred', fields: [{ slot: 'uid', paths: ['uid.val'] }] },
  {
    pointer: 'mm',
    struct: 'mm_struct',
    flagSlot: 'hasMm',
    fields: [
      { slot: 'totalVmPages', paths: ['total_vm'] },
      { slot: 'filePages', paths: rssPaths(0) },
      { slot: 'anonPages', paths: rssPaths(1) },
      { slot: 'swapEntries', paths: rssPaths(2) },
      { slot: 'shmemPages', paths: rssPaths(3) },
    ],
  },
  {
    pointer: 'signal',
    struct: 'signal_struct',
    fields: [
      { slot: 'deadRchar', paths: ['ioac.rchar'] },
      { slot: 'deadWchar', paths: ['ioac.wchar'] },
      { slot: 'deadSyscr', paths: ['ioac.syscr'] },
      { slot: 'deadSyscw', paths: ['ioac.syscw'] },
      { slot: 'deadReadBytes', paths: ['ioac.read_bytes'] },
      { slot: 'deadWriteBytes', paths: ['ioac.write_bytes'] },
      { slot: 'deadCancelledWriteBytes', paths: ['ioac.cancelled_write_bytes'] },
    ],
  },
];

/** Slots without which the iterator cannot stand in for /proc. */
const ESSENTIAL: RecordSlot[] = ['pid', 'tgid', 'state', 'exitState', 'flags', 'comm0', 'runNs', 'utimeNs', 'stimeNs', 'startBoottimeNs'];

/** The assembled program and what its records hold. */
export interface TaskIterProgram {
  /** struct bpf_insn[], 8 bytes each. */
  insns: Uint8Array;
  /** BTF id of the kernel function `bpf_iter_task` (the program's attach point). */
  attachBtfId: number;
  /** Slots this kernel cannot fill (their values are NaN, or derived differently). */
  missing: ReadonlySet<RecordSlot>;
}

/** The first path of `source` that exists in `struct` on this kernel, as a loadable scalar field. */
function locate(btf: Btf, struct: string, source: FieldSource): { offset: number; size: number } | null {
  for (const path of source.paths) {
    const f = btf.field(struct, path);
    if (f === null) continue;
    if (source.slot === 'comm0') return f.kind === BtfKind.ARRAY && f.size === 16 ? f : null;
    if (![1, 2, 4, 8].includes(f.size) || (f.kind !== BtfKind.INT && f.kind !== BtfKind.ENUM && f.kind !== BtfKind.PTR)) continue;
    return f;
  }
  return null;
}

/**
 * Assembles the task iterator program for the kernel described by `btf`; with `taskMapFd` (the
 * kernel probes' task storage) each record also carries the thread's probe totals. Throws
 * BtfError naming the field when the kernel lacks one the iterator cannot do without.
 */
export function buildTaskIterProgram(btf: Btf, opts: { taskMapFd?: number } = {}): TaskIterProgram {
  const attachBtfId = btf.find(BtfKind.FUNC, 'bpf_iter_task');
  if (attachBtfId === null) throw new BtfError('kernel has no BPF task iterator (bpf_iter_task)');
  const recordAt = -RECORD_BYTES; // the record lives on the stack, at r10 - RECORD_BYTES
  const slotAt = (slot: RecordSlot): number => recordAt + 8 * SLOT[slot];
  const missing = new Set<RecordSlot>();
  const a = new BpfAsm();
  const copy = (base: number, offset: number, size: number, slot: RecordSlot): void => {
    a.load(size as 1 | 2 | 4 | 8, R0, base, offset).store(8, R10, slotAt(slot), R0);
  };

  // r6 = ctx->meta, r7 = ctx->task; a NULL task ends the iteration (the last call).
  a.load(8, R6, R1, 0).load(8, R7, R1, 8).jumpImm(Jmp.eq, R7, 0, 'exit');
  a.load(8, R6, R6, 0); // r6 = meta->seq
  for (let i = 0; i < RECORD_SLOTS.length; i++) a.storeImm(8, R10, recordAt + 8 * i, 0);

  let stateOffset = -1;
  for (const source of TASK_FIELDS) {
    const f = locate(btf, 'task_struct', source);
    if (f === null) {
      missing.add(source.slot);
      continue;
    }
    if (source.slot === 'comm0') {
      copy(R7, f.offset, 8, 'comm0');
      copy(R7, f.offset + 8, 8, 'comm1');
    } else copy(R7, f.offset, f.size, source.slot);
    if (source.slot === 'state') stateOffset = f.offset;
  }
  for (const [g, group] of POINTER_GROUPS.entries()) {
    const pointer = btf.field('task_struct', group.pointer);
    const located = group.fields.map((source) => ({ source, f: pointer?.kind === BtfKind.PTR ? locate(btf, group.struct, source) : null }));
    for (const { source, f } of located) if (f === null) missing.add(source.slot);
    if (pointer === null || pointer.kind !== BtfKind.PTR) {
      if (group.flagSlot) missing.add(group.flagSlot);
      continue;
    }
    a.load(8, R8, R7, pointer.offset).jumpImm(Jmp.eq, R8, 0, `group${g}_end`);
    if (group.flagSlot) a.storeImm(8, R10, slotAt(group.flagSlot), 1);
    for (const { source, f } of located) if (f !== null) copy(R8, f.offset, f.size, source.slot);
    a.label(`group${g}_end`);
  }
  for (const slot of ESSENTIAL) if (missing.has(slot)) throw new BtfError(`kernel BTF lacks the task field for '${slot}'`);
  if (opts.taskMapFd !== undefined && stateOffset >= 0) emitProbeCopy(a, opts.taskMapFd, stateOffset, slotAt('offcpuDNs'), slotAt('syscalls'));
  else missing.add('offcpuDNs').add('syscalls');

  // bpf_seq_write(seq, record, RECORD_BYTES)
  a.mov(R1, R6).mov(R2, R10).aluImm(Alu.add, R2, recordAt).movImm(R3, RECORD_BYTES).call(Helper.seqWrite);
  a.label('exit').movImm(R0, 0).exit();
  return { insns: a.encode(), attachBtfId, missing };
}
