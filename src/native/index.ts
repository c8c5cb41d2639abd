// Loader and typed surface of the native addon (build/Release/whytop_native.node, built from
// src/native/*.cc by node-gyp). Loading never throws: without a usable build the caller gets a
// one-line reason and falls back to the TypeScript reader.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../model/snapshot.js';
import type { ProcTable, TaskSample, TaskTable } from '../model/snapshot.js';
import type { DetailSelection, TaskReader } from '../sources/taskReader.js';

/** What one native read() returns: columns in the order of the addon's column name lists. */
interface RawSample {
  monoNs: number;
  taskCount: number;
  procCount: number;
  taskColumns: Float64Array[];
  procColumns: Float64Array[];
  /** One Latin-1 character per task. */
  state: string;
  /** Every comm joined with NUL, or one string per task when a comm itself holds a NUL. */
  comm: string | string[];
  /** Rows whose wchan is not null, and their values (absent when there are none). */
  wchanRows?: Int32Array;
  wchanValues?: string[];
}

interface RawReader {
  read(mode: number, tids?: Int32Array): RawSample;
  close(): void;
  keptFds(): number;
}

/** The bpf(2) calls of the BPF task iterator (src/native/bpf.cc). */
export interface BpfCalls {
  /** Loads and attaches the iterator program; throws (with .errno) when the kernel refuses. */
  bpfLoadTaskIter(insns: Uint8Array, attachBtfId: number, tgid?: number): { progFd: number; linkFd: number };
  /** Runs the iterator into `into`; returns the size of its whole output (more than `into` holds: retry larger). */
  bpfReadTaskIter(linkFd: number, into: Uint8Array): number;
  bpfClose(fd: number): void;
  /** Loads a tp_btf program for tracepoint typedef `attachBtfId` (btf_trace_<event>) and attaches it. */
  bpfAttachRawTp(insns: Uint8Array, attachBtfId: number, name: string): { progFd: number; linkFd: number };
  /** Loads BTF type information (for maps that need it); returns its fd. */
  bpfLoadBtf(blob: Uint8Array): number;
  /** Creates a map; returns its fd. */
  bpfCreateMap(opts: BpfMapOptions): number;
  /** Copies the value at `key` into `value`; false when there is none. */
  bpfMapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean;
  /** ns per getppid() syscall on this thread (the fastest of five runs of `count`). */
  bpfSyscallNs(count: number): number;
}

/** BPF_MAP_CREATE attributes. */
export interface BpfMapOptions {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  name?: string;
}

/** The perf_event_open(2) calls of the perf tier (src/native/perf.cc). */
export interface PerfCalls {
  /** A counting event of `type`/`config` on one CPU, all tasks; throws (with .errno) when refused. */
  perfOpen(type: number, config: number, cpu: number): number;
  /** The event's count so far (NaN when unreadable). */
  perfRead(fd: number): number;
  perfClose(fd: number): void;
}

interface Addon extends Partial<BpfCalls>, Partial<PerfCalls> {
  TaskReader: new (procRoot: string, fdBudget?: number) => RawReader;
  hostConstants(): { clkTck: number; pageSizeBytes: number; cpuCount: number };
  mallocTrim?(): boolean;
  taskColumns: string[];
  procColumns: string[];
}

const DETAIL_NONE = 0;
const DETAIL_ALL = 1;
const DETAIL_SET = 2;

let cached: { addon: Addon; reason: null } | { addon: null; reason: string } | undefined;

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0].trim();
}

/** The nearest directory at or above this file's directory that holds a package.json. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((name, i) => name === b[i]);
}

/** Loads the addon once; later calls return the same result. */
function loadAddon(): { addon: Addon; reason: null } | { addon: null; reason: string } {
  if (cached) return cached;
  try {
    const root = packageRoot();
    if (root === null) {
      cached = { addon: null, reason: 'native addon not found: no package.json above ' + fileURLToPath(import.meta.url) };
      return cached;
    }
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    const addon = nodeGypBuild(root) as Addon;
    if (typeof addon?.TaskReader !== 'function' || typeof addon.hostConstants !== 'function') {
      cached = { addon: null, reason: 'native addon loaded but does not export TaskReader/hostConstants' };
    } else if (!sameNames(addon.taskColumns, TASK_NUMERIC_COLUMNS) || !sameNames(addon.procColumns, PROC_NUMERIC_COLUMNS)) {
      cached = { addon: null, reason: 'native addon column layout differs from snapshot.ts (stale build? run npm run build:native)' };
    } else {
      cached = { addon, reason: null };
    }
  } catch (err) {
    cached = { addon: null, reason: `native addon not available: ${oneLine(err)}` };
  }
  return cached;
}

/** The tids of a detail set as an Int32Array (values that cannot be tids are left out). */
function tidArray(set: ReadonlySet<number>): Int32Array {
  const out = new Int32Array(set.size);
  let n = 0;
  for (const tid of set) if (Number.isInteger(tid) && tid >= 0 && tid <= 0x7fffffff) out[n++] = tid;
  return out.subarray(0, n);
}

/** The native TaskReader: one addon call per pass, wrapped into a TaskSample. */
class NativeTaskReader implements TaskReader {
  readonly backend = 'native' as const;
  private readonly raw: RawReader;

  constructor(raw: RawReader) {
    this.raw = raw;
  }

  read(detail: DetailSelection): TaskSample {
    let raw: RawSample;
    if (detail === 'none') raw = this.raw.read(DETAIL_NONE);
    else if (detail === 'all') raw = this.raw.read(DETAIL_ALL);
    else raw = this.raw.read(DETAIL_SET, tidArray(detail));

    const n = raw.taskCount;
    const comm = typeof raw.comm === 'string' ? (n === 0 ? [] : raw.comm.split('\0')) : raw.comm;
    const wchan = new Array<string | null>(n).fill(null);
    if (raw.wchanRows && raw.wchanValues) {
      const rows = raw.wchanRows;
      for (let i = 0; i < rows.length; i++) wchan[rows[i]] = raw.wchanValues[i];
    }
    const tasks = { count: n, state: raw.state, comm, wchan } as TaskTable;
    for (let i = 0; i < TASK_NUMERIC_COLUMNS.length; i++) tasks[TASK_NUMERIC_COLUMNS[i]] = raw.taskColumns[i];

    const np = raw.procCount;
    const procs = {
      count: np,
      cmdline: new Array<string | null>(np).fill(null),
      cgroup: new Array<string | null>(np).fill(null),
    } as ProcTable;
    for (let i = 0; i < PROC_NUMERIC_COLUMNS.length; i++) procs[PROC_NUMERIC_COLUMNS[i]] = raw.procColumns[i];

    return { monoNs: raw.monoNs, tasks: fastTaskTable(tasks), procs };
  }

  close(): void {
    this.raw.close();
  }

  /** Descriptors the reader keeps open right now (diagnostics; not part of TaskReader). */
  keptFds(): number {
    return this.raw.keptFds();
  }
}

/** Creates the native TaskReader for `procRoot`, or says in one line why it cannot (never throws). */
export function loadNativeTaskReader(
  procRoot: string,
  opts: { fdBudget?: number } = {},
): { reader: TaskReader; reason: null } | { reader: null; reason: string } {
  const loaded = loadAddon();
  if (loaded.addon === null) return { reader: null, reason: loaded.reason };
  try {
    const raw = opts.fdBudget === undefined ? new loaded.addon.TaskReader(procRoot) : new loaded.addon.TaskReader(procRoot, opts.fdBudget);
    return { reader: new NativeTaskReader(raw), reason: null };
  } catch (err) {
    return { reader: null, reason: oneLine(err) };
  }
}

/** Host constants from sysconf (CLK_TCK, page size, CPUs configured), or null without the addon. */
export function nativeHostConstants(): { clkTck: number; pageSizeBytes: number; cpuCount: number } | null {
  const loaded = loadAddon();
  if (loaded.addon === null) return null;
  try {
    return loaded.addon.hostConstants();
  } catch {
    return null;
  }
}

/** Returns the C allocator's free memory to the system (glibc); false without the addon or glibc. */
export function trimNativeHeap(): boolean {
  const loaded = loadAddon();
  return loaded.addon?.mallocTrim?.() ?? false;
}

/** The addon's bpf(2) calls, or why they are not available (never throws). */
export function nativeBpfCalls(): { calls: BpfCalls; reason: null } | { calls: null; reason: string } {
  const loaded = loadAddon();
  if (loaded.addon === null) return { calls: null, reason: loaded.reason };
  const { bpfLoadTaskIter, bpfReadTaskIter, bpfClose, bpfAttachRawTp, bpfLoadBtf, bpfCreateMap, bpfMapLookup, bpfSyscallNs } = loaded.addon;
  if (!bpfLoadTaskIter || !bpfReadTaskIter || !bpfClose || !bpfAttachRawTp || !bpfLoadBtf || !bpfCreateMap || !bpfMapLookup || !bpfSyscallNs) {
    return { calls: null, reason: 'native addon built without linux/bpf.h' };
  }
  return { calls: { bpfLoadTaskIter, bpfReadTaskIter, bpfClose, bpfAttachRawTp, bpfLoadBtf, bpfCreateMap, bpfMapLookup, bpfSyscallNs }, reason: null };
}

/** The addon's perf_event_open calls, or why they are not available (never throws). */
export function nativePerfCalls(): { calls: PerfCalls; reason: null } | { calls: null; reason: string } {
  const loaded = loadAddon();
  if (loaded.addon === null) return { calls: null, reason: loaded.reason };
  const { perfOpen, perfRead, perfClose } = loaded.addon;
  if (!perfOpen || !perfRead || !perfClose) return { calls: null, reason: 'native addon built without perf support' };
  return { calls: { perfOpen, perfRead, perfClose }, reason: null };
}
