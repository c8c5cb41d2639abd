// The BPF task reader: one read() of a BPF task iterator (bpfTaskIter.ts) returns every thread's
// task_struct counters, in place of opening stat, schedstat, status and io of each thread under
// /proc. It produces the same TaskSample as the /proc readers (taskReader.ts), converting the raw
// kernel values the way /proc does (clock ticks, adjusted user/system split, state letters).
// It needs root (CAP_BPF + CAP_PERFMON) and the real /proc of the initial pid namespace.
import * as fs from 'node:fs';
import { allocProcTable, allocTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../model/snapshot.js';
import type { TaskSample, TaskTable } from '../model/snapshot.js';
import type { BpfCalls } from '../native/index.js';
import { Btf } from './btf.js';
import { buildTaskIterProgram, RECORD_BYTES, SLOT } from './bpfTaskIter.js';
import type { TaskIterProgram } from './bpfTaskIter.js';
import { parseWchan } from './taskFiles.js';
import type { DetailSelection, TaskReader } from './taskReader.js';
import { TsTaskReader } from './tsTaskReader.js';

const U32_WORDS = RECORD_BYTES / 4;
/**
 * Passes between two listings of /proc for processes the iterator cannot see (on some kernels pid 1);
 * in between, the ones found at the last listing are read again. A new such process shows up late.
 */
const STRAGGLER_LIST_PASSES = 5;
const TWO_32 = 4294967296;
/** Task flag PF_WQ_WORKER: a workqueue worker, whose /proc name carries the work it runs. */
const PF_WQ_WORKER = 0x20;
/** Task flag PF_KTHREAD: a kernel thread, whose /proc name may be longer than its 15-byte comm. */
const PF_KTHREAD = 0x200000;

/** The user/system split the kernel last reported for a task, in ns (its prev_cputime). */
export interface CputimeSplit {
  utimeNs: number;
  stimeNs: number;
}

/**
 * The kernel's cputime_adjust(): scales the tick-sampled user/system times so they sum to the
 * precise run time `rtimeNs`, never going below what was reported before (`prev`, updated in place).
 * This is what /proc/TID/stat prints (in clock ticks), so both readers agree.
 */
export function adjustCputime(utimeNs: number, stimeNs: number, rtimeNs: number, prev: CputimeSplit): CputimeSplit {
  if (prev.stimeNs + prev.utimeNs >= rtimeNs) return prev;
  let stime: number;
  if (stimeNs === 0) stime = 0;
  else if (utimeNs === 0) stime = rtimeNs;
  else stime = Math.min(rtimeNs, Math.floor((stimeNs * rtimeNs) / (stimeNs + utimeNs)));
  if (stime < prev.stimeNs) stime = prev.stimeNs;
  let utime = rtimeNs - stime;
  if (utime < prev.utimeNs) {
    utime = prev.utimeNs;
    stime = rtimeNs - utime;
  }
  prev.utimeNs = utime;
  prev.stimeNs = stime;
  return prev;
}

const STATE_LETTERS = 'RSDTtXZPI';
const TASK_REPORT = 0x7f;
const TASK_UNINTERRUPTIBLE = 0x2;
const TASK_IDLE = 0x402; // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
const TASK_RTLOCK_WAIT = 0x1000;

/** The state letter /proc shows for task_struct __state and exit_state (the kernel's task_state_index). */
export function stateLetter(state: number, exitState: number): string {
  let report = (state | exitState) & TASK_REPORT;
  if ((state & TASK_IDLE) === TASK_IDLE) return 'I';
  if (state === TASK_RTLOCK_WAIT) report = TASK_UNINTERRUPTIBLE;
  return STATE_LETTERS[32 - Math.clz32(report)];
}

/**
 * What the reader remembers of the previous pass, by row in ascending tid order (the iterator's
 * order), so the next pass finds a task's earlier values by walking both lists together.
 */
interface PassMemory {
  count: number;
  tid: Float64Array;
  startNs: Float64Array;
  /** The adjusted user/system split reported last time (cputime_adjust's prev). */
  utimeNs: Float64Array;
  stimeNs: Float64Array;
  runNs: Float64Array;
  /** The 16 comm bytes as four 32-bit words, and the name made of them (or of /proc's comm). */
  commWords: Uint32Array;
  comm: string[];
  /** State letter codes, and the wchan read from /proc (undefined: not read that pass). */
  stateCodes: Uint8Array;
  wchan: Array<string | null | undefined>;
}

function emptyMemory(count: number): PassMemory {
  return {
    count,
    tid: new Float64Array(count),
    startNs: new Float64Array(count),
    utimeNs: new Float64Array(count),
    stimeNs: new Float64Array(count),
    runNs: new Float64Array(count),
    commWords: new Uint32Array(4 * count),
    comm: new Array<string>(count),
    stateCodes: new Uint8Array(count),
    wchan: new Array<string | null | undefined>(count),
  };
}

/** Slot `slot` of the record at word `at`: a u64 from two 32-bit words. Module-level, as no closure is made per pass (README, Performance). */
function u64(w: Uint32Array, at: number, slot: number): number {
  return w[at + 2 * slot + 1] * TWO_32 + w[at + 2 * slot];
}

/** A page count slot (a signed counter: below zero, as the kernel's racy sums can be, reads 0). */
function pages(w: Uint32Array, at: number, slot: number): number {
  return (w[at + 2 * slot + 1] | 0) < 0 ? 0 : u64(w, at, slot);
}

/** The io counters a thread and its process share. */
type IoColumns = Pick<TaskTable, 'rchar' | 'wchar' | 'syscr' | 'syscw' | 'readBytes' | 'writeBytes'>;
if (SLOT.writeBytes - SLOT.rchar !== 5 || SLOT.deadWriteBytes - SLOT.deadRchar !== 5) throw new Error('io record slots are not in IoColumns order');

/**
 * Reads the six io counters from the record slots starting at `first` (SLOT.rchar: the thread's own;
 * SLOT.deadRchar: its process's exited threads') into row `row`. Written out column by column: a
 * loop over column names costs a keyed lookup per value.
 */
function readIo(table: IoColumns, row: number, w: Uint32Array, at: number, first: number): void {
  table.rchar[row] = u64(w, at, first);
  table.wchar[row] = u64(w, at, first + 1);
  table.syscr[row] = u64(w, at, first + 2);
  table.syscw[row] = u64(w, at, first + 3);
  table.readBytes[row] = u64(w, at, first + 4);
  table.writeBytes[row] = u64(w, at, first + 5);
}

/** Copies row `from` of every column of `src` to row `to` of `dst`. */
function copyRow(dst: Record<string, unknown>, src: Record<string, unknown>, columns: readonly string[], to: number, from: number): void {
  for (const col of columns) (dst[col] as Float64Array)[to] = (src[col] as Float64Array)[from];
}

/** Reads every task through the BPF task iterator. See TaskReader for the contract it fulfils. */
export class BpfTaskReader implements TaskReader {
  readonly backend = 'bpf' as const;
  private readonly calls: BpfCalls;
  private readonly progFd: number;
  private readonly linkFd: number;
  private readonly program: TaskIterProgram;
  private readonly nsPerTick: number;
  private readonly pageBytes: number;
  /** Reads the processes the iterator cannot see (a pid the kernel will not look up by number). */
  private readonly stragglers: TsTaskReader;
  /** The processes the last /proc listing found missing from the iterator, and passes since that listing. */
  private stragglerPids: number[] = [];
  private passesSinceListing = STRAGGLER_LIST_PASSES;
  private buf = new Uint8Array(1 << 20);
  private memory = emptyMemory(0);
  private closed = false;
  /** Fill the syscalls column (syscall counting is on: the probes' counts move). */
  countSyscalls = false;

  /** Loads the iterator; throws (with the kernel's reason) when it cannot. */
  constructor(calls: BpfCalls, program: TaskIterProgram, host: { clkTck: number; pageSizeBytes: number }) {
    this.calls = calls;
    this.program = program;
    const { progFd, linkFd } = calls.bpfLoadTaskIter(program.insns, program.attachBtfId);
    this.progFd = progFd;
    this.linkFd = linkFd;
    this.nsPerTick = 1e9 / host.clkTck;
    this.pageBytes = host.pageSizeBytes;
    this.stragglers = new TsTaskReader('/proc');
  }

  /** Runs the iterator; returns the records as 32-bit words and their count. */
  private readRecords(): { words: Uint32Array; count: number } {
    let total = this.calls.bpfReadTaskIter(this.linkFd, this.buf);
    if (total > this.buf.byteLength) {
      this.buf = new Uint8Array(Math.ceil((total * 1.25) / 65536) * 65536);
      total = this.calls.bpfReadTaskIter(this.linkFd, this.buf);
    }
    const count = Math.floor(Math.min(total, this.buf.byteLength) / RECORD_BYTES);
    return { words: new Uint32Array(this.buf.buffer, 0, count * U32_WORDS), count };
  }

  read(detail: DetailSelection): TaskSample {
    if (this.closed) throw new Error('BPF task reader is closed');
    const monoNs = Number(process.hrtime.bigint());
    const { words: w, count } = this.readRecords();

    // Processes, in the order their first thread comes; a pid the iterator missed is read from /proc.
    const procRowOf = new Map<number, number>();
    let n = 0;
    for (let r = 0; r < count; r++) {
      const at = r * U32_WORDS;
      if ((w[at + 2 * SLOT.pid] | 0) <= 0) continue;
      n++;
      const tgid = w[at + 2 * SLOT.tgid];
      if (!procRowOf.has(tgid)) procRowOf.set(tgid, procRowOf.size);
    }
    if (++this.passesSinceListing >= STRAGGLER_LIST_PASSES) {
      this.stragglerPids = this.stragglers.listProcesses();
      this.passesSinceListing = 0;
    }
    this.stragglerPids = this.stragglerPids.filter((pid) => !procRowOf.has(pid));
    const extra = this.stragglers.readProcesses(this.stragglerPids, detail);
    const tasks = allocTaskTable(n + extra.tasks.count);
    const procs = allocProcTable(procRowOf.size + extra.procs.count);
    const stateCodes = Buffer.allocUnsafe(n + extra.tasks.count);

    const missing = this.program.missing;
    const hasPpid = !missing.has('ppid');
    const hasCpu = !missing.has('cpu');
    const hasWait = !missing.has('waitNs');
    const hasSlices = !missing.has('timeslices');
    const hasUid = !missing.has('uid');
    const hasIo = !missing.has('rchar');
    const hasOffcpu = !missing.has('offcpuDNs');
    const nsPerTick = this.nsPerTick;
    const pageBytes = this.pageBytes;
    const pageKb = pageBytes / 1024;
    const prev = this.memory;
    const next = emptyMemory(n);
    const split: CputimeSplit = { utimeNs: 0, stimeNs: 0 };
    let j = 0; // walks the previous pass's rows alongside (both ascending by tid)
    let row = 0;
    for (let r = 0; r < count; r++) {
      const at = r * U32_WORDS;
      const tid = w[at + 2 * SLOT.pid] | 0;
      if (tid <= 0) continue;
      const pid = w[at + 2 * SLOT.tgid];
      const startNs = u64(w, at, SLOT.startBoottimeNs);
      const runNs = u64(w, at, SLOT.runNs);
      while (j < prev.count && prev.tid[j] < tid) j++;
      const known = j < prev.count && prev.tid[j] === tid && prev.startNs[j] === startNs;

      stateCodes[row] = stateLetter(w[at + 2 * SLOT.state], w[at + 2 * SLOT.exitState]).charCodeAt(0);
      tasks.tid[row] = tid;
      tasks.pid[row] = pid;
      tasks.ppid[row] = hasPpid ? w[at + 2 * SLOT.ppid] | 0 : NaN;
      tasks.starttimeTicks[row] = Math.floor(startNs / nsPerTick);
      // The split /proc would report: from our last one, or the kernel's if someone read /proc since.
      const kernelU = u64(w, at, SLOT.prevUtimeNs);
      const kernelS = u64(w, at, SLOT.prevStimeNs);
      const useKernel = !known || kernelU + kernelS > prev.utimeNs[j] + prev.stimeNs[j];
      split.utimeNs = useKernel ? kernelU : prev.utimeNs[j];
      split.stimeNs = useKernel ? kernelS : prev.stimeNs[j];
      adjustCputime(u64(w, at, SLOT.utimeNs), u64(w, at, SLOT.stimeNs), runNs, split);
      tasks.utimeTicks[row] = Math.floor(split.utimeNs / nsPerTick);
      tasks.stimeTicks[row] = Math.floor(split.stimeNs / nsPerTick);
      tasks.minflt[row] = u64(w, at, SLOT.minflt);
      tasks.majflt[row] = u64(w, at, SLOT.majflt);
      tasks.processor[row] = hasCpu ? w[at + 2 * SLOT.cpu] | 0 : NaN;
      tasks.priority[row] = (w[at + 2 * SLOT.prio] | 0) - 100;
      tasks.nice[row] = (w[at + 2 * SLOT.staticPrio] | 0) - 120;
      const hasMm = w[at + 2 * SLOT.hasMm] === 1;
      const filePages = pages(w, at, SLOT.filePages);
      const anonPages = pages(w, at, SLOT.anonPages);
      const shmemPages = pages(w, at, SLOT.shmemPages);
      tasks.vsizeBytes[row] = hasMm ? u64(w, at, SLOT.totalVmPages) * pageBytes : 0;
      tasks.rssPages[row] = hasMm ? filePages + anonPages + shmemPages : 0;
      tasks.runNs[row] = runNs;
      tasks.waitNs[row] = hasWait ? u64(w, at, SLOT.waitNs) : NaN;
      tasks.timeslices[row] = hasSlices ? u64(w, at, SLOT.timeslices) : NaN;
      tasks.vcsw[row] = u64(w, at, SLOT.vcsw);
      tasks.ivcsw[row] = u64(w, at, SLOT.ivcsw);
      if (hasIo) readIo(tasks, row, w, at, SLOT.rchar);
      if (hasOffcpu) {
        tasks.offcpuDNs[row] = u64(w, at, SLOT.offcpuDNs);
        if (this.countSyscalls) tasks.syscalls[row] = u64(w, at, SLOT.syscalls);
      }
      tasks.comm[row] = this.commOf(w, at, r, row, pid, tid, known ? j : -1, runNs, next);
      if (detail === 'all' || (detail !== 'none' && detail.has(tid))) {
        // Where a task sleeps changes only when it runs: one that has not run since, in the same state, sleeps where it did.
        const kept = known && prev.runNs[j] === runNs && prev.stateCodes[j] === stateCodes[row] ? prev.wchan[j] : undefined;
        tasks.wchan[row] = kept !== undefined ? kept : readWchan(pid, tid);
        next.wchan[row] = tasks.wchan[row];
      } else tasks.wchan[row] = null;
      next.stateCodes[row] = stateCodes[row];

      const p = procRowOf.get(pid)!;
      if (Number.isNaN(procs.pid[p])) {
        procs.pid[p] = pid;
        if (hasIo) {
          // /proc/PID/io: what the process's exited threads did, plus each live thread's own.
          readIo(procs, p, w, at, SLOT.deadRchar);
          procs.cancelledWriteBytes[p] = u64(w, at, SLOT.deadCancelledWriteBytes);
        }
      }
      if (hasIo) {
        procs.rchar[p] += tasks.rchar[row];
        procs.wchar[p] += tasks.wchar[row];
        procs.syscr[p] += tasks.syscr[row];
        procs.syscw[p] += tasks.syscw[row];
        procs.readBytes[p] += tasks.readBytes[row];
        procs.writeBytes[p] += tasks.writeBytes[row];
        procs.cancelledWriteBytes[p] += u64(w, at, SLOT.cancelledWriteBytes);
      }
      if (tid === pid) {
        // Owner and memory are per process: the main thread's, as /proc/PID/status shows them.
        procs.starttimeTicks[p] = tasks.starttimeTicks[row];
        procs.uid[p] = hasUid ? w[at + 2 * SLOT.uid] : NaN;
        if (hasMm) {
          procs.vmSizeKb[p] = u64(w, at, SLOT.totalVmPages) * pageKb;
          procs.rssAnonKb[p] = anonPages * pageKb;
          procs.rssFileKb[p] = filePages * pageKb;
          procs.rssShmemKb[p] = shmemPages * pageKb;
          procs.vmSwapKb[p] = pages(w, at, SLOT.swapEntries) * pageKb;
        }
      }
      next.tid[row] = tid;
      next.startNs[row] = startNs;
      next.utimeNs[row] = split.utimeNs;
      next.stimeNs[row] = split.stimeNs;
      next.runNs[row] = runNs;
      row++;
    }
    this.memory = next;

    // The processes read from /proc go after the others.
    for (let i = 0; i < extra.tasks.count; i++, row++) {
      copyRow(tasks, extra.tasks, TASK_NUMERIC_COLUMNS, row, i);
      stateCodes[row] = extra.tasks.state.charCodeAt(i);
      tasks.comm[row] = extra.tasks.comm[i];
      tasks.wchan[row] = extra.tasks.wchan[i];
    }
    for (let i = 0; i < extra.procs.count; i++) copyRow(procs, extra.procs, PROC_NUMERIC_COLUMNS, procRowOf.size + i, i);
    tasks.state = stateCodes.toString('latin1');
    return { monoNs, tasks, procs };
  }

  /**
   * The name /proc shows for the task in record `r`: the comm bytes (decoded once per name), or
   * /proc's own where it says more — a workqueue worker's adds the work it runs
   * ("kworker/0:1-events"; re-read when the worker ran), a kernel thread's is not cut at 15 bytes.
   */
  private commOf(words: Uint32Array, at: number, r: number, row: number, pid: number, tid: number, j: number, runNs: number, next: PassMemory): string {
    const c = at + 2 * SLOT.comm0;
    const prev = this.memory;
    for (let k = 0; k < 4; k++) next.commWords[4 * row + k] = words[c + k];
    const flags = words[at + 2 * SLOT.flags];
    const worker = (flags & PF_WQ_WORKER) !== 0;
    let name: string | undefined;
    if (j >= 0) {
      const same = words[c] === prev.commWords[4 * j] && words[c + 1] === prev.commWords[4 * j + 1] && words[c + 2] === prev.commWords[4 * j + 2] && words[c + 3] === prev.commWords[4 * j + 3];
      if (same && (!worker || prev.runNs[j] === runNs)) name = prev.comm[j];
    }
    if (name === undefined) {
      const cut = (flags & PF_KTHREAD) !== 0 && (words[c + 3] & 0xff0000) !== 0; // 15 bytes used
      name = (worker || cut ? readProcName(pid, tid) : null) ?? this.commBytes(r);
    }
    next.comm[row] = name;
    return name;
  }

  /** comm from record `r`'s 16 bytes (up to the first NUL), decoded as UTF-8 like /proc's. */
  private commBytes(r: number): string {
    const start = r * RECORD_BYTES + SLOT.comm0 * 8;
    let end = start;
    while (end < start + 16 && this.buf[end] !== 0) end++;
    return Buffer.from(this.buf.buffer, start, end - start).toString('utf8');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.calls.bpfClose(this.linkFd);
    this.calls.bpfClose(this.progFd);
    this.stragglers.close();
    this.memory = emptyMemory(0);
  }
}

/** A task's name as /proc shows it, or null when the task is gone. */
function readProcName(pid: number, tid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return null;
  }
}

/** The task's wchan from /proc (the iterator cannot say where a task sleeps), or null. */
function readWchan(pid: number, tid: number): string | null {
  try {
    const bytes = fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`);
    return parseWchan(bytes, bytes.length);
  } catch {
    return null;
  }
}

/** The running kernel's BTF, or why it cannot be read. */
export function readKernelBtf(): Btf | string {
  try {
    return Btf.parse(fs.readFileSync('/sys/kernel/btf/vmlinux'));
  } catch (err) {
    return `kernel BTF unavailable: ${(err as Error).message.split('\n', 1)[0]}`;
  }
}

/** Creates the BPF task reader, or says in one line why it cannot (never throws). */
export function loadBpfTaskReader(
  procRoot: string,
  calls: BpfCalls | null,
  host: { clkTck: number; pageSizeBytes: number },
  opts: { btf?: Btf; taskMapFd?: number } = {},
): { reader: BpfTaskReader; reason: null } | { reader: null; reason: string } {
  if (calls === null) return { reader: null, reason: 'BPF reader needs the native addon' };
  if (procRoot !== '/proc') return { reader: null, reason: `BPF reader reads the running kernel, not --proc-root ${procRoot}` };
  const btf = opts.btf ?? readKernelBtf();
  if (typeof btf === 'string') return { reader: null, reason: btf };
  let reader: BpfTaskReader;
  try {
    reader = new BpfTaskReader(calls, buildTaskIterProgram(btf, { taskMapFd: opts.taskMapFd }), host);
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    const why = (err as Error).message;
    return { reader: null, reason: errno === 1 ? `BPF reader needs root (CAP_BPF and CAP_PERFMON): ${why}` : why };
  }
  // The iterator reports pids of the initial namespace: this process must see itself there.
  const own = reader.read('none');
  let found = false;
  for (let i = 0; i < own.tasks.count && !found; i++) found = own.tasks.tid[i] === process.pid && own.tasks.pid[i] === process.pid;
  if (!found) {
    reader.close();
    return { reader: null, reason: 'BPF reader does not see this process under its own pid (pid namespace?)' };
  }
  return { reader, reason: null };
}
