// One sampling pass over every source → a Snapshot. Picks the task reader (the BPF task iterator
// when the kernel and privileges allow, else the native /proc reader, else its TypeScript twin;
// --no-bpf and --no-native skip the first ones) and times its own cost.
import type { HostInfo, Snapshot, TaskBackend, TaskSample, TaskTable } from '../model/snapshot.js';
import { loadNativeTaskReader, nativeBpfCalls, nativeHostConstants } from '../native/index.js';
import { loadBpfTaskReader } from './bpfTaskReader.js';
import { readDiskstats } from './diskstats.js';
import { readHostInfo, readUptimeS } from './host.js';
import { readLoadAvg } from './loadavg.js';
import { readMeminfo } from './meminfo.js';
import { readNetDev, readSoftnet } from './netdev.js';
import { readPressure } from './pressure.js';
import { ProcessInfoCache } from './processInfo.js';
import { readProcStat } from './procStat.js';
import { readSoftirqs } from './softirqs.js';
import type { DetailSelection, TaskReader } from './taskReader.js';
import { TsTaskReader } from './tsTaskReader.js';
import { readProcText } from './procFile.js';
import { parseStack } from './taskKernel.js';
import { readPasswd } from './users.js';
import { readVmstat } from './vmstat.js';

/** Threads in D whose kernel side is read per pass at most (there are rarely more). */
const MAX_BLOCKED_DETAIL = 64;

/**
 * For threads in D: fills their wchan (when not read already) and returns their kernel stacks
 * (when readable), so a recording keeps where blocked threads waited.
 */
function readBlockedDetail(procRoot: string, tasks: TaskTable): Record<number, string[]> {
  const stacks: Record<number, string[]> = {};
  let n = 0;
  for (let i = 0; i < tasks.count && n < MAX_BLOCKED_DETAIL; i++) {
    if (tasks.state[i] !== 'D') continue;
    n++;
    const dir = `${procRoot}/${tasks.pid[i]}/task/${tasks.tid[i]}`;
    if (tasks.wchan[i] === null) {
      const w = readProcText(`${dir}/wchan`)?.trim();
      tasks.wchan[i] = w && w !== '0' ? w : null;
    }
    const stack = readProcText(`${dir}/stack`);
    if (stack !== null) stacks[tasks.tid[i]] = parseStack(stack);
  }
  return stacks;
}

/** How to sample. */
export interface SamplerOptions {
  /** Root of the proc tree (default /proc); fixture trees in tests. */
  procRoot?: string;
  /** Force the TypeScript reader. */
  noNative?: boolean;
  /** Read /proc even where the BPF task iterator would work. */
  noBpf?: boolean;
}

/** Reads snapshots from a proc root; one instance keeps the readers' open files between passes. */
export class Sampler {
  readonly host: HostInfo;
  private readonly procRoot: string;
  private readonly reader: TaskReader;
  private readonly backendReason: string | null;
  private readonly processInfo: ProcessInfoCache;
  private readonly userNames = readPasswd();

  constructor(opts: SamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    const constants = nativeHostConstants();
    const reasons: string[] = [];
    let reader: TaskReader | null = null;
    if (opts.noNative) reasons.push('disabled by --no-native');
    else {
      if (opts.noBpf) reasons.push('BPF reader disabled by --no-bpf');
      else {
        const bpf = nativeBpfCalls();
        const loaded = loadBpfTaskReader(this.procRoot, constants && bpf.calls, constants ?? { clkTck: 100, pageSizeBytes: 4096 });
        reader = loaded.reader;
        if (loaded.reason !== null) reasons.push(bpf.calls === null ? bpf.reason : loaded.reason);
      }
      if (reader === null) {
        const loaded = loadNativeTaskReader(this.procRoot);
        reader = loaded.reader;
        if (loaded.reason !== null) reasons.push(loaded.reason);
      }
    }
    this.reader = reader ?? new TsTaskReader(this.procRoot);
    this.backendReason = reasons.length > 0 ? reasons.join('; ') : null;
    this.host = readHostInfo(this.procRoot, constants);
    this.processInfo = new ProcessInfoCache(this.procRoot);
  }

  /** Which task reader is in use. */
  get backend(): TaskBackend {
    return this.reader.backend;
  }

  /** Reads every source once; `detail` selects the threads whose io and wchan are read. */
  sample(detail: DetailSelection = 'none'): Snapshot {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const root = this.procRoot;
    const wallMs = Date.now();
    const monoNs = Number(t0);
    const stat = readProcStat(root);
    const softirqs = readSoftirqs(root);
    const loadavg = readLoadAvg(root);
    const meminfoKb = readMeminfo(root);
    const vmstat = readVmstat(root);
    const pressure = readPressure(root);
    const diskstats = readDiskstats(root);
    const netdev = readNetDev(root);
    const softnet = readSoftnet(root);
    const uptimeS = readUptimeS(root);
    const taskSample: TaskSample = this.reader.read(detail);
    this.processInfo.fill(taskSample.procs, taskSample.tasks);
    const blockedStacks = readBlockedDetail(root, taskSample.tasks);
    const userNames: Record<number, string> = {};
    for (const uid of taskSample.procs.uid) {
      if (!Number.isNaN(uid) && userNames[uid] === undefined) userNames[uid] = this.userNames.get(uid) ?? String(uid);
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      host: this.host,
      wallMs,
      monoNs,
      stat,
      softirqs,
      loadavg,
      meminfoKb,
      vmstat,
      pressure,
      uptimeS,
      taskSample,
      userNames,
      blockedStacks,
      diskstats,
      netdev,
      softnet,
      sampler: {
        backend: this.reader.backend,
        backendReason: this.backendReason,
        sampleMs: Number(process.hrtime.bigint() - t0) / 1e6,
        sampleCpuMs: (cpu.user + cpu.system) / 1000,
      },
    };
  }

  /** Releases the reader's open files. */
  close(): void {
    this.reader.close();
  }
}
