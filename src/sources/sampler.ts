// One sampling pass over every source → a Snapshot. Picks the task reader (the BPF task iterator
// when the kernel and privileges allow, else the native /proc reader, else its TypeScript twin;
// --no-bpf and --no-native skip the first ones) and times its own cost.
import type { HostInfo, KernelSample, Snapshot, TaskBackend, TaskSample, TaskTable } from '../model/snapshot.js';
import { loadNativeTaskReader, nativeBpfCalls, nativeHostConstants, nativePerfCalls } from '../native/index.js';
import type { BpfCalls, PerfCalls } from '../native/index.js';
import { PerfCounters } from './perfCounters.js';
import { loadBpfTaskReader, readKernelBtf } from './bpfTaskReader.js';
import type { BpfTaskReader } from './bpfTaskReader.js';
import type { Btf } from './btf.js';
import { KernelProbes } from './kernelProbes.js';
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
  /** Attach no kernel probes (the eBPF tier's tracepoint programs). */
  noProbes?: boolean;
  /** Count syscalls (a probe on every syscall: it slows them all while on). */
  syscalls?: boolean;
}

/** What the perf tier cannot give (kernel.reason on that tier). */
const PERF_TIER_MISSES = 'perf counters only (no BPF: needs CAP_BPF): per-CPU switches and syscalls, but no per-thread off-CPU time, per-thread syscalls or softirq time';

/** kernel.reason on the eBPF tier while syscalls are not counted. */
const SYSCALLS_OFF = 'syscall counting off (--syscalls)';

/** Why the probes are not attached when attaching them failed with `err`. */
function probesFailure(err: unknown): string {
  const e = err as Error & { errno?: number };
  return e.errno === 1 ? 'kernel probes need root (CAP_BPF and CAP_PERFMON): run as root for off-CPU states and softirq time' : `kernel probes not attached: ${e.message}`;
}

/**
 * The BPF side of sampling: the task iterator reader and the kernel probes it copies thread totals
 * from. Probes and syscall counting can be turned off and on while sampling (keys K and c).
 */
class BpfTier {
  reader: BpfTaskReader;
  probes: KernelProbes | null;
  /** Why the probes are not attached, while they are not. */
  probesReason: string | null;
  /** Why syscall counting could not be turned on, when it could not. */
  syscallsFailure: string | null = null;

  private constructor(
    private readonly calls: BpfCalls,
    private readonly btf: Btf,
    private readonly constants: { clkTck: number; pageSizeBytes: number },
    reader: BpfTaskReader,
    probes: KernelProbes | null,
    probesReason: string | null,
  ) {
    this.reader = reader;
    this.probes = probes;
    this.probesReason = probesReason;
  }

  /** Loads the reader and (unless `noProbes`) the probes; or says why the reader cannot load. */
  static open(procRoot: string, opts: SamplerOptions, constants: { clkTck: number; pageSizeBytes: number } | null): BpfTier | string {
    if (opts.noNative) return 'disabled by --no-native';
    if (opts.noBpf) return 'BPF reader disabled by --no-bpf';
    const bpf = nativeBpfCalls();
    if (bpf.calls === null || constants === null) return bpf.reason ?? 'BPF needs the native addon';
    if (procRoot !== '/proc') return `BPF reads the running kernel, not --proc-root ${procRoot}`;
    const btf = readKernelBtf();
    if (typeof btf === 'string') return btf;
    let probes: KernelProbes | null = null;
    let probesReason: string | null = opts.noProbes ? 'kernel probes disabled by --no-probes' : null;
    if (!opts.noProbes) {
      try {
        probes = KernelProbes.attach(bpf.calls, btf);
      } catch (err) {
        probesReason = probesFailure(err);
      }
    }
    const loaded = loadBpfTaskReader(procRoot, bpf.calls, constants, { btf, taskMapFd: probes?.taskMapFd });
    if (loaded.reader === null) {
      probes?.close();
      return loaded.reason;
    }
    return new BpfTier(bpf.calls, btf, constants, loaded.reader, probes, probesReason);
  }

  /** Attaches or detaches the probes (the reader is rebuilt to copy their totals, or not); why not, or null. */
  setProbes(on: boolean): string | null {
    if (on === (this.probes !== null)) return null;
    let probes: KernelProbes | null = null;
    if (on) {
      try {
        probes = KernelProbes.attach(this.calls, this.btf);
      } catch (err) {
        return probesFailure(err);
      }
    }
    const loaded = loadBpfTaskReader('/proc', this.calls, this.constants, { btf: this.btf, taskMapFd: probes?.taskMapFd });
    if (loaded.reader === null) {
      probes?.close();
      return loaded.reason;
    }
    this.reader.close();
    this.probes?.close();
    this.reader = loaded.reader;
    this.probes = probes;
    this.probesReason = on ? null : 'kernel probes turned off (K)';
    return null;
  }

  /** Turns syscall counting on or off; why it cannot, or null. */
  setSyscalls(on: boolean): string | null {
    if (!this.probes) return on ? `syscall counting needs the kernel probes: ${this.probesReason ?? 'not attached'}` : null;
    try {
      this.probes.setSyscalls(on);
    } catch (err) {
      return `syscall counting failed: ${(err as Error).message}`;
    }
    this.reader.countSyscalls = on;
    return null;
  }

  /** The kernel tier's part of a snapshot. */
  sample(): KernelSample {
    if (!this.probes) return { tier: 'proc', reason: this.probesReason, counters: null, syscalls: false };
    const syscalls = this.probes.syscalls;
    return { tier: 'ebpf', reason: syscalls ? null : (this.syscallsFailure ?? SYSCALLS_OFF), counters: this.probes.read(), syscalls, syscallProbeNs: this.probes.syscallProbeNs };
  }

  /** Closes the reader and detaches the probes. */
  close(): void {
    this.reader.close();
    this.probes?.close();
  }
}

/** Reads snapshots from a proc root; one instance keeps the readers' open files between passes. */
export class Sampler {
  readonly host: HostInfo;
  private readonly procRoot: string;
  /** The BPF tier when it loaded; else the /proc reader below does all the work. */
  private readonly bpf: BpfTier | null;
  private readonly procReader: TaskReader | null;
  private readonly backendReason: string | null;
  /** kernel.reason when there is no BPF tier. */
  private readonly noTierReason: string;
  /** The perf tier's counters, where there is no BPF tier but perf counters are allowed. */
  private perf: PerfCounters | null = null;
  private readonly perfCalls: PerfCalls | null;
  private perfSyscallsFailure: string | null = null;
  private readonly processInfo: ProcessInfoCache;
  private readonly userNames = readPasswd();

  constructor(opts: SamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    const constants = nativeHostConstants();
    const tier = BpfTier.open(this.procRoot, opts, constants);
    this.bpf = typeof tier === 'string' ? null : tier;
    const reasons: string[] = typeof tier === 'string' ? [tier] : [];
    let reader: TaskReader | null = null;
    if (this.bpf === null && !opts.noNative) {
      const loaded = loadNativeTaskReader(this.procRoot);
      reader = loaded.reader;
      if (loaded.reason !== null) reasons.push(loaded.reason);
    }
    this.procReader = this.bpf ? null : (reader ?? new TsTaskReader(this.procRoot));
    this.backendReason = reasons.length > 0 ? reasons.join('; ') : null;
    this.noTierReason = typeof tier === 'string' && /needs root/.test(tier) ? 'kernel probes need root (CAP_BPF and CAP_PERFMON): run as root for off-CPU states and softirq time' : `no kernel probes: ${typeof tier === 'string' ? tier : ''}`;
    this.perfCalls = opts.noNative || opts.procRoot !== undefined && opts.procRoot !== '/proc' ? null : nativePerfCalls().calls;
    if (!this.bpf?.probes && !opts.noProbes) this.openPerf();
    if (opts.syscalls) {
      const why = this.setSyscalls(true);
      if (this.bpf?.probes) this.bpf.syscallsFailure = why;
      else this.perfSyscallsFailure = why;
    }
    this.host = readHostInfo(this.procRoot, constants);
    this.processInfo = new ProcessInfoCache(this.procRoot);
  }

  /** The task reader in use now. */
  private get reader(): TaskReader {
    return this.bpf?.reader ?? this.procReader!;
  }

  /** Opens the perf tier's counters (when perf allows them); keeps them null otherwise. */
  private openPerf(): void {
    if (!this.perfCalls) return;
    try {
      this.perf = PerfCounters.open(this.perfCalls);
    } catch {
      this.perf = null; // not permitted either: the /proc tier
    }
  }

  /** True while syscall counting is on. */
  get syscalls(): boolean {
    return (this.bpf?.probes ? this.bpf.probes.syscalls : this.perf?.syscalls) ?? false;
  }

  /** Turns syscall counting on or off; returns why it cannot, or null. */
  setSyscalls(on: boolean): string | null {
    if (this.bpf?.probes) {
      this.bpf.syscallsFailure = null;
      return this.bpf.setSyscalls(on);
    }
    if (this.perf) {
      this.perfSyscallsFailure = null;
      try {
        this.perf.setSyscalls(on);
        return null;
      } catch (err) {
        return `syscall counting failed: ${(err as Error).message}`;
      }
    }
    return on ? `syscall counting needs the kernel probes or perf counters: ${this.noTierReason}` : null;
  }

  /** True while the kernel probes (or, without BPF, the perf counters) are on. */
  get probesOn(): boolean {
    return this.bpf?.probes != null || this.perf !== null;
  }

  /** Attaches or detaches the kernel probes (the perf counters without BPF); returns why it cannot, or null. */
  setProbes(on: boolean): string | null {
    if (this.bpf) return this.bpf.setProbes(on);
    if (!on) {
      this.perf?.close();
      this.perf = null;
      return null;
    }
    this.openPerf();
    return this.perf ? null : this.noTierReason;
  }

  /** The kernel tier's part of a snapshot: eBPF probes, else perf counters, else /proc only. */
  private kernelSample(): KernelSample {
    if (this.bpf?.probes) return this.bpf.sample();
    if (this.perf) {
      const syscalls = this.perf.syscalls;
      const off = syscalls ? '' : `; ${this.perfSyscallsFailure ?? SYSCALLS_OFF}`;
      return { tier: 'perf', reason: `${PERF_TIER_MISSES}${off}`, counters: this.perf.read(), syscalls, syscallProbeNs: null };
    }
    return { tier: 'proc', reason: this.bpf ? this.bpf.probesReason : this.noTierReason, counters: null, syscalls: false };
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
    const kernel = this.kernelSample();
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
      kernel,
      sampler: {
        backend: this.reader.backend,
        backendReason: this.backendReason,
        sampleMs: Number(process.hrtime.bigint() - t0) / 1e6,
        sampleCpuMs: (cpu.user + cpu.system) / 1000,
      },
    };
  }

  /** Releases the reader's open files and detaches the kernel probes. */
  close(): void {
    this.bpf?.close();
    this.perf?.close();
    this.procReader?.close();
  }
}
