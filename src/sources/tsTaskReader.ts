// The TypeScript per-task reader: the twin of the native addon, written for speed (kept-open files
// re-read with pread, byte-level parsing into columns, status skipped for threads that did not run).
import * as fs from 'node:fs';
import { allocProcTable, allocTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../model/snapshot.js';
import type { ProcTable, TaskSample, TaskTable } from '../model/snapshot.js';
import { parseIoInto, parseSchedstatInto, parseTaskStatInto, parseTaskStatusInto, parseWchan } from './taskFiles.js';
import type { DetailSelection, TaskReader } from './taskReader.js';

/** What the reader remembers about one task between passes. */
interface TaskEntry {
  pid: number;
  starttimeTicks: number;
  statFd: number;
  schedstatFd: number;
  statusFd: number;
  /** schedstat on-CPU time at the previous pass (NaN when unknown). */
  runNs: number;
  vcsw: number;
  ivcsw: number;
  seenPass: number;
}

/** What the reader remembers about one process between passes. */
interface ProcEntry {
  ioFd: number;
  seenPass: number;
}

type FdSlot = 'statFd' | 'schedstatFd' | 'statusFd';

const NO_FD = -1;
/** File descriptors left for everything else in the process. */
const FD_RESERVE = 1024;

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits (the real /proc). */
export function openFileLimit(): number {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.slice(26).trim().split(/\s+/)[0]) : NaN;
    return Number.isFinite(soft) ? soft : 1024;
  } catch {
    return 1024;
  }
}

/** The default number of files a task reader may keep open. */
export function defaultFdBudget(): number {
  return Math.max(0, openFileLimit() - FD_RESERVE);
}

/** Numeric order; module-level: no closure is made per call on a refresh path (README, Performance). */
const ascending = (a: number, b: number): number => a - b;

/** Numeric entries of a directory, ascending; null when it cannot be listed. */
function listNumeric(dir: string): number[] | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const ids: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) {
      const id = Number(name);
      if (Number.isInteger(id)) ids.push(id);
    }
  }
  return ids.sort(ascending);
}

function closeFd(fd: number): void {
  if (fd !== NO_FD) {
    try {
      fs.closeSync(fd);
    } catch {
      // already gone: nothing to release
    }
  }
}

/** Resets row `row` of every numeric column of `table` to NaN (after a failed partial parse). */
function clearRow(table: TaskTable | ProcTable, columns: readonly string[], row: number): void {
  const t = table as unknown as Record<string, Float64Array>;
  for (const col of columns) t[col][row] = NaN;
}

/** Shrinks a table allocated for `capacity` rows to its first `count` rows (views, no copies). */
function truncate<T extends TaskTable | ProcTable>(table: T, columns: readonly string[], count: number): T {
  const t = table as unknown as Record<string, unknown>;
  for (const col of columns) t[col] = (t[col] as Float64Array).subarray(0, count);
  table.count = count;
  return table;
}

/** Reads /proc/PID/task/* with plain Node fs calls. See TaskReader for the contract. */
export class TsTaskReader implements TaskReader {
  readonly backend = 'ts' as const;
  private readonly procRoot: string;
  /** Files this reader may keep open; lowered for good if the process runs out of descriptors. */
  private fdBudget: number;
  private keptFds = 0;
  private pass = 0;
  private previousTaskCount = 0;
  private readonly tasks = new Map<number, TaskEntry>();
  private readonly procs = new Map<number, ProcEntry>();
  private buf = Buffer.allocUnsafe(16384);

  constructor(procRoot = '/proc', opts: { fdBudget?: number } = {}) {
    try {
      fs.readdirSync(procRoot);
    } catch (err) {
      throw new Error(`cannot read proc root ${procRoot}: ${(err as Error).message}`);
    }
    this.procRoot = procRoot;
    this.fdBudget = opts.fdBudget ?? defaultFdBudget();
  }

  read(detail: DetailSelection): TaskSample {
    return this.readProcesses(listNumeric(this.procRoot) ?? [], detail);
  }

  /** The process ids under the proc root right now, ascending. */
  listProcesses(): number[] {
    return listNumeric(this.procRoot) ?? [];
  }

  /** One pass over only the processes `pids` (ascending); files of other tasks are let go. */
  readProcesses(pids: readonly number[], detail: DetailSelection): TaskSample {
    const monoNs = Number(process.hrtime.bigint());
    this.pass++;
    // Under budget pressure, threads' status files give way to the files every pass needs.
    if (this.keptFds + 2 * this.previousTaskCount >= this.fdBudget) this.closeSecondaryStatus();
    const plan: Array<{ pid: number; tids: number[] }> = [];
    let capacity = 0;
    for (const pid of pids) {
      const tids = listNumeric(`${this.procRoot}/${pid}/task`);
      if (tids === null || tids.length === 0) continue;
      plan.push({ pid, tids });
      capacity += tids.length;
    }
    const tasks = allocTaskTable(capacity);
    const procs = allocProcTable(plan.length);
    const states: string[] = [];
    let row = 0;
    let procRow = 0;
    for (const { pid, tids } of plan) {
      const firstRow = row;
      for (const tid of tids) {
        const state = this.readTask(pid, tid, tasks, row, procs, procRow, detail);
        if (state === null) {
          clearRow(tasks, TASK_NUMERIC_COLUMNS, row);
          continue;
        }
        states.push(state);
        row++;
      }
      if (row === firstRow) {
        clearRow(procs, PROC_NUMERIC_COLUMNS, procRow);
        continue;
      }
      procs.pid[procRow] = pid;
      this.readProcIo(pid, procs, procRow);
      procRow++;
    }
    this.forgetUnseen();
    this.previousTaskCount = row;
    tasks.state = states.join('');
    tasks.comm.length = row;
    tasks.wchan.length = row;
    procs.cmdline.length = procRow;
    procs.cgroup.length = procRow;
    return {
      monoNs,
      tasks: truncate(tasks, TASK_NUMERIC_COLUMNS, row),
      procs: truncate(procs, PROC_NUMERIC_COLUMNS, procRow),
    };
  }

  close(): void {
    for (const entry of this.tasks.values()) this.closeTask(entry);
    for (const entry of this.procs.values()) this.releaseFd(entry.ioFd);
    this.tasks.clear();
    this.procs.clear();
  }

  /** Reads one task into row `row`; returns its state, or null when the task vanished. */
  private readTask(
    pid: number,
    tid: number,
    tasks: TaskTable,
    row: number,
    procs: ProcTable,
    procRow: number,
    detail: DetailSelection,
  ): string | null {
    const dir = `${this.procRoot}/${pid}/task/${tid}`;
    let entry = this.tasks.get(tid);
    if (entry && entry.pid !== pid) {
      this.dropTask(tid, entry);
      entry = undefined;
    }
    let len = entry ? this.readSlot(entry, 'statFd', `${dir}/stat`, true) : -1;
    if (!entry || len <= 0) {
      // Not known yet, or its kept file went stale (the task exited; the tid may be reused).
      if (entry) this.dropTask(tid, entry);
      const fresh: TaskEntry = { pid, starttimeTicks: NaN, statFd: NO_FD, schedstatFd: NO_FD, statusFd: NO_FD, runNs: NaN, vcsw: NaN, ivcsw: NaN, seenPass: 0 };
      len = this.readSlot(fresh, 'statFd', `${dir}/stat`, true);
      if (len <= 0) {
        this.closeTask(fresh);
        return null;
      }
      this.tasks.set(tid, fresh);
      entry = fresh;
    }
    const head = parseTaskStatInto(this.buf, len, tasks, row);
    if (head === null) return null;
    const isNew = entry.starttimeTicks !== tasks.starttimeTicks[row];
    if (isNew) {
      // Files kept for an earlier task with this tid belong to that task.
      this.releaseFd(entry.schedstatFd);
      this.releaseFd(entry.statusFd);
      entry.schedstatFd = entry.statusFd = NO_FD;
      entry.starttimeTicks = tasks.starttimeTicks[row];
      entry.runNs = NaN;
      entry.vcsw = NaN;
      entry.ivcsw = NaN;
    }
    entry.seenPass = this.pass;
    tasks.tid[row] = tid;
    tasks.pid[row] = pid;
    tasks.comm[row] = head.comm;

    len = this.readSlot(entry, 'schedstatFd', `${dir}/schedstat`, true);
    if (len <= 0 || !parseSchedstatInto(this.buf, len, tasks, row)) {
      tasks.runNs[row] = tasks.waitNs[row] = tasks.timeslices[row] = NaN;
    }

    const isMain = tid === pid;
    const runNs = tasks.runNs[row];
    const ran = Number.isNaN(runNs) || Number.isNaN(entry.runNs) || runNs !== entry.runNs;
    if (isMain || isNew || ran || Number.isNaN(entry.vcsw)) {
      const keep = isMain || this.keptFds + 2 * this.previousTaskCount < this.fdBudget;
      len = this.readSlot(entry, 'statusFd', `${dir}/status`, keep);
      if (len > 0 && parseTaskStatusInto(this.buf, len, tasks, row, isMain ? procs : null, procRow)) {
        entry.vcsw = tasks.vcsw[row];
        entry.ivcsw = tasks.ivcsw[row];
      } else {
        tasks.vcsw[row] = tasks.ivcsw[row] = entry.vcsw = entry.ivcsw = NaN;
      }
    } else {
      tasks.vcsw[row] = entry.vcsw;
      tasks.ivcsw[row] = entry.ivcsw;
    }
    entry.runNs = runNs;
    if (isMain) procs.starttimeTicks[procRow] = tasks.starttimeTicks[row];

    if (detail === 'all' || (detail !== 'none' && detail.has(tid))) {
      len = this.readOnce(`${dir}/io`);
      if (len > 0) parseIoInto(this.buf, len, tasks, row);
      len = this.readOnce(`${dir}/wchan`);
      tasks.wchan[row] = len > 0 ? parseWchan(this.buf, len) : null;
    }
    return head.state;
  }

  /** Reads /proc/PID/io (kept open within budget) into process row `procRow`. */
  private readProcIo(pid: number, procs: ProcTable, procRow: number): void {
    let entry = this.procs.get(pid);
    if (!entry) {
      entry = { ioFd: NO_FD, seenPass: 0 };
      this.procs.set(pid, entry);
    }
    entry.seenPass = this.pass;
    const path = `${this.procRoot}/${pid}/io`;
    let len = -1;
    if (entry.ioFd !== NO_FD) {
      len = this.pread(entry.ioFd);
      if (len <= 0) {
        this.releaseFd(entry.ioFd);
        entry.ioFd = NO_FD;
      }
    }
    if (len <= 0) {
      const fd = this.open(path);
      if (fd === NO_FD) return;
      len = this.pread(fd);
      if (len > 0 && this.keptFds < this.fdBudget) {
        entry.ioFd = fd;
        this.keptFds++;
      } else closeFd(fd);
    }
    if (len > 0) parseIoInto(this.buf, len, procs, procRow);
  }

  /**
   * Reads a file through the entry's kept descriptor, opening it first when needed; keeps it open
   * when `keep` and the budget allow. Returns the byte count in this.buf, or -1.
   */
  private readSlot(entry: TaskEntry, slot: FdSlot, path: string, keep: boolean): number {
    if (entry[slot] !== NO_FD) {
      const len = this.pread(entry[slot]);
      if (len > 0) return len;
      this.releaseFd(entry[slot]);
      entry[slot] = NO_FD;
      if (slot === 'statFd') return -1;
    }
    const fd = this.open(path);
    if (fd === NO_FD) return -1;
    const len = this.pread(fd);
    if (len > 0 && keep && this.keptFds < this.fdBudget) {
      entry[slot] = fd;
      this.keptFds++;
    } else closeFd(fd);
    return len;
  }

  /** Opens, reads and closes a file; returns the byte count in this.buf, or -1. */
  private readOnce(path: string): number {
    const fd = this.open(path);
    if (fd === NO_FD) return -1;
    const len = this.pread(fd);
    closeFd(fd);
    return len;
  }

  /** Opens a file read-only; NO_FD on failure. Out of descriptors, it sheds kept files and retries once. */
  private open(path: string): number {
    for (let attempt = 0; ; attempt++) {
      try {
        return fs.openSync(path, 'r');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (attempt > 0 || (code !== 'EMFILE' && code !== 'ENFILE')) return NO_FD;
        this.fdBudget = Math.floor((this.keptFds * 7) / 8);
        this.shedTo(this.fdBudget);
      }
    }
  }

  /** Closes the status files kept for threads other than a process's main thread. */
  private closeSecondaryStatus(): void {
    for (const [tid, entry] of this.tasks) {
      if (tid !== entry.pid && entry.statusFd !== NO_FD) {
        this.releaseFd(entry.statusFd);
        entry.statusFd = NO_FD;
      }
    }
  }

  /** Closes kept files until at most `limit` remain: secondary status files first. */
  private shedTo(limit: number): void {
    this.closeSecondaryStatus();
    for (const entry of this.tasks.values()) {
      if (this.keptFds <= limit) return;
      this.closeTask(entry);
    }
    for (const entry of this.procs.values()) {
      if (this.keptFds <= limit) return;
      this.releaseFd(entry.ioFd);
      entry.ioFd = NO_FD;
    }
  }

  /** Reads a whole file from offset 0 into this.buf (growing it as needed); -1 on error. */
  private pread(fd: number): number {
    for (;;) {
      let len: number;
      try {
        len = fs.readSync(fd, this.buf, 0, this.buf.length, 0);
      } catch {
        return -1;
      }
      if (len < this.buf.length) return len;
      this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    }
  }

  private releaseFd(fd: number): void {
    if (fd === NO_FD) return;
    closeFd(fd);
    this.keptFds--;
  }

  private closeTask(entry: TaskEntry): void {
    this.releaseFd(entry.statFd);
    this.releaseFd(entry.schedstatFd);
    this.releaseFd(entry.statusFd);
    entry.statFd = entry.schedstatFd = entry.statusFd = NO_FD;
  }

  private dropTask(tid: number, entry: TaskEntry): void {
    this.closeTask(entry);
    this.tasks.delete(tid);
  }

  /** Closes the files of tasks and processes not seen in this pass. */
  private forgetUnseen(): void {
    for (const [tid, entry] of this.tasks) if (entry.seenPass !== this.pass) this.dropTask(tid, entry);
    for (const [pid, entry] of this.procs) {
      if (entry.seenPass !== this.pass) {
        this.releaseFd(entry.ioFd);
        this.procs.delete(pid);
      }
    }
  }
}
