// The BPF task iterator program: for every task on the machine, the kernel runs it once and it
// writes one fixed-size record of raw task_struct fields into the iterator's output, so one read()
// replaces opening and reading stat, schedstat, status and io of every thread under /proc.
// The program is assembled here, instruction by instruction, with field offsets found in the running
// kernel's BTF (btf.ts): no clang or libbpf at install time, no kernel headers.
import { Btf, BtfError, BtfKind } from './btf.js';

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

// ---- BPF instruction encoding (include/uapi/linux/bpf.h, Documentation/bpf/standardization) ------

const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R6 = 6;
const R7 = 7;
const R8 = 8;
const R10 = 10;

const LDX_MEM = 0x61; // BPF_LDX | BPF_MEM (| size)
const STX_MEM = 0x63; // BPF_STX | BPF_MEM (| size)
const ST_MEM = 0x62; // BPF_ST | BPF_MEM (| size)
const SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const ALU64_ADD_K = 0x07;
const ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf;
const JEQ_K = 0x15;
const CALL = 0x85;
const EXIT = 0x95;
const BPF_FUNC_SEQ_WRITE = 127;

/** One instruction as [code, dst, src, off, imm]. */
type Insn = [number, number, number, number, number];

function encode(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach(([code, dst, src, off, imm], i) => {
    view.setUint8(i * 8, code);
    view.setUint8(i * 8 + 1, (src << 4) | dst);
    view.setInt16(i * 8 + 2, off, true);
    view.setInt32(i * 8 + 4, imm, true);
  });
  return out;
}

/** The first path of `source` that exists in `struct` on this kernel, as a loadable scalar field. */
function locate(btf: Btf, struct: string, source: FieldSource): { offset: number; size: number } | null {
  for (const path of source.paths) {
    const f = btf.field(struct, path);
    if (f === null) continue;
    if (source.slot === 'comm0') return f.kind === BtfKind.ARRAY && f.size === 16 ? f : null;
    if (SIZE[f.size] === undefined || (f.kind !== BtfKind.INT && f.kind !== BtfKind.ENUM && f.kind !== BtfKind.PTR)) continue;
    return f;
  }
  return null;
}

/**
 * Assembles the task iterator program for the kernel described by `btf`. Throws BtfError naming
 * the field when the kernel lacks one the iterator cannot do without.
 */
export function buildTaskIterProgram(btf: Btf): TaskIterProgram {
  const attachBtfId = btf.find(BtfKind.FUNC, 'bpf_iter_task');
  if (attachBtfId === null) throw new BtfError('kernel has no BPF task iterator (bpf_iter_task)');
  const recordAt = -RECORD_BYTES; // the record lives on the stack, at r10 - RECORD_BYTES
  const slotAt = (slot: RecordSlot): number => recordAt + 8 * SLOT[slot];
  const missing = new Set<RecordSlot>();
  const code: Insn[] = [];
  const load = (base: number, offset: number, size: number, slot: RecordSlot): void => {
    code.push([LDX_MEM | SIZE[size], R0, base, offset, 0]);
    code.push([STX_MEM | SIZE[8], R10, R0, slotAt(slot), 0]);
  };

  // r6 = ctx->meta, r7 = ctx->task; a NULL task ends the iteration (the last call).
  code.push([LDX_MEM | SIZE[8], R6, R1, 0, 0]);
  code.push([LDX_MEM | SIZE[8], R7, R1, 8, 0]);
  const exitJumps: number[] = [code.length];
  code.push([JEQ_K, R7, 0, 0, 0]);
  code.push([LDX_MEM | SIZE[8], R6, R6, 0, 0]); // r6 = meta->seq
  for (let i = 0; i < RECORD_SLOTS.length; i++) code.push([ST_MEM | SIZE[8], R10, 0, recordAt + 8 * i, 0]);

  for (const source of TASK_FIELDS) {
    const f = locate(btf, 'task_struct', source);
    if (f === null) {
      missing.add(source.slot);
      continue;
    }
    if (source.slot === 'comm0') {
      load(R7, f.offset, 8, 'comm0');
      load(R7, f.offset + 8, 8, 'comm1');
    } else load(R7, f.offset, f.size, source.slot);
  }
  for (const group of POINTER_GROUPS) {
    const pointer = btf.field('task_struct', group.pointer);
    const located = group.fields.map((source) => ({ source, f: pointer?.kind === BtfKind.PTR ? locate(btf, group.struct, source) : null }));
    for (const { source, f } of located) if (f === null) missing.add(source.slot);
    if (pointer === null || pointer.kind !== BtfKind.PTR) {
      if (group.flagSlot) missing.add(group.flagSlot);
      continue;
    }
    code.push([LDX_MEM | SIZE[8], R8, R7, pointer.offset, 0]);
    const skip = code.length;
    code.push([JEQ_K, R8, 0, 0, 0]);
    if (group.flagSlot) code.push([ST_MEM | SIZE[8], R10, 0, slotAt(group.flagSlot), 1]);
    for (const { source, f } of located) if (f !== null) load(R8, f.offset, f.size, source.slot);
    code[skip][3] = code.length - skip - 1;
  }
  for (const slot of ESSENTIAL) if (missing.has(slot)) throw new BtfError(`kernel BTF lacks the task field for '${slot}'`);

  // bpf_seq_write(seq, record, RECORD_BYTES)
  code.push([ALU64_MOV_X, R1, R6, 0, 0]);
  code.push([ALU64_MOV_X, R2, R10, 0, 0]);
  code.push([ALU64_ADD_K, R2, 0, 0, recordAt]);
  code.push([ALU64_MOV_K, R3, 0, 0, RECORD_BYTES]);
  code.push([CALL, 0, 0, 0, BPF_FUNC_SEQ_WRITE]);
  for (const at of exitJumps) code[at][3] = code.length - at - 1;
  code.push([ALU64_MOV_K, R0, 0, 0, 0]);
  code.push([EXIT, 0, 0, 0, 0]);
  return { insns: encode(code), attachBtfId, missing };
}
