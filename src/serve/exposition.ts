// What `whytop serve` exports: the latest sample as Prometheus/OpenMetrics metric families, through
// prom-client. Kernel counters are exported as counters from the raw snapshot (Prometheus computes
// rates over any window), instantaneous values as gauges. Cardinality is bounded: per CPU, per
// softirq type, per state, per memory kind, and per process only for the top K by CPU — never one
// series per thread. HELP texts come from the metric catalog (src/model/metrics.ts).
import { Counter, Gauge, Registry } from 'prom-client';
import type { Hint } from '../hints/types.js';
import type { Frame, ProcessFrame } from '../model/frame.js';
import { metric } from '../model/metrics.js';
import type { Snapshot } from '../model/snapshot.js';
import { SOFTIRQ_TYPES } from '../model/snapshot.js';
import { WHYTOP_VERSION } from '../store/format.js';

/** The sample the families are read from at scrape time. */
export interface Latest {
  snapshot: Snapshot;
  frame: Frame;
  hints: readonly Hint[];
}

/** One labelled value of a family. */
type Sample = [labels: Record<string, string>, value: number];

/** The catalog's meaning of `id` (HELP text), with a note on what this family holds. */
function help(id: string, note: string): string {
  const m = metric(id);
  if (!m) throw new Error(`no metric catalog entry '${id}'`);
  return `${m.meaning} (${note})`;
}

const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Finite, non-negative numbers only: a counter never goes below 0 and never takes NaN. */
function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** The top `k` processes by CPU (then by resident memory), the only ones with per-process series. */
export function topProcesses(frame: Frame, k: number): ProcessFrame[] {
  return [...frame.processes].sort((a, b) => (b.cpu_pct ?? -1) - (a.cpu_pct ?? -1) || (b.rss_bytes ?? -1) - (a.rss_bytes ?? -1) || a.pid - b.pid).slice(0, k);
}

/** The metric families of whytop serve, registered in a Prometheus-text and an OpenMetrics registry. */
export class Exposition {
  readonly prometheus = new Registry();
  readonly openMetrics = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
  private latest: Latest | null = null;
  private readonly scrapes: Counter;

  constructor(private readonly topK: number) {
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registers = [this.prometheus, this.openMetrics];
    /** A family whose samples are read from the latest sample at scrape time (non-finite ones left out). */
    const family = (kind: 'counter' | 'gauge', name: string, helpText: string, labelNames: string[], read: (l: Latest) => Sample[]): void => {
      const samples = (): Sample[] => {
        const latest = this.latest;
        return latest ? read(latest).filter(([, v]) => (kind === 'counter' ? finite(v) : Number.isFinite(v))) : [];
      };
      if (kind === 'counter') {
        new Counter({ name, help: helpText, labelNames, registers, collect() {
          this.reset();
          for (const [labels, value] of samples()) this.inc(labels, value);
        } });
      } else {
        new Gauge({ name, help: helpText, labelNames, registers, collect() {
          this.reset();
          for (const [labels, value] of samples()) this.set(labels, value);
        } });
      }
    };
    const counter = (name: string, helpText: string, labelNames: string[], read: (l: Latest) => Sample[]): void => family('counter', name, helpText, labelNames, read);
    const gauge = (name: string, helpText: string, labelNames: string[], read: (l: Latest) => Sample[]): void => family('gauge', name, helpText, labelNames, read);

    // ---- CPU, switches, interrupts, syscalls (counters from the raw snapshot)
    counter('whytop_cpu_seconds_total', help('cpus[].user_pct', 'per CPU and mode: user, nice, system, idle, iowait, irq, softirq, steal; seconds'), ['cpu', 'mode'], ({ snapshot: s }) =>
      (s.stat?.cpus ?? []).flatMap((c) => CPU_MODES.map((mode): Sample => [{ cpu: String(c.cpu), mode }, c.times[mode] / s.host.clkTck])),
    );
    counter('whytop_context_switches_total', help('system.ctxsw_per_s', 'count since boot, /proc/stat ctxt'), [], ({ snapshot: s }) => [[{}, s.stat?.ctxt ?? NaN]]);
    counter('whytop_interrupts_total', help('system.interrupts_per_s', 'count since boot'), [], ({ snapshot: s }) => [[{}, s.stat?.intrTotal ?? NaN]]);
    counter('whytop_forks_total', help('system.forks_per_s', 'count since boot'), [], ({ snapshot: s }) => [[{}, s.stat?.processes ?? NaN]]);
    counter('whytop_cpu_context_switches_total', help('cpus[].ctxsw_per_s', 'per CPU, since the probes were attached; eBPF tier only'), ['cpu'], ({ snapshot: s, frame }) =>
      (s.kernel?.counters?.ctxsw ?? []).flatMap((v, cpu): Sample[] => (frame.cpus.some((c) => c.cpu === cpu) ? [[{ cpu: String(cpu) }, v]] : [])),
    );
    counter('whytop_syscalls_total', help('cpus[].syscalls_per_s', 'per CPU, while syscall counting is on; eBPF tier with --syscalls only'), ['cpu'], ({ snapshot: s, frame }) =>
      s.kernel?.syscalls ? (s.kernel.counters?.syscalls ?? []).flatMap((v, cpu): Sample[] => (frame.cpus.some((c) => c.cpu === cpu) ? [[{ cpu: String(cpu) }, v]] : [])) : [],
    );

    // ---- softirqs per CPU per type: counts (/proc/softirqs) and, on the eBPF tier, time
    counter('whytop_softirqs_total', help('softirqs.*', 'count since boot, per CPU and type'), ['cpu', 'type'], ({ snapshot: s }) =>
      s.softirqs ? Object.entries(s.softirqs.counts).flatMap(([type, counts]) => s.softirqs!.cpus.map((cpu, i): Sample => [{ cpu: String(cpu), type }, counts[i]])) : [],
    );
    counter('whytop_softirq_seconds_total', help('softirq_time_pct.*', 'seconds handling each type per CPU, since the probes were attached; eBPF tier only'), ['cpu', 'type'], ({ snapshot: s, frame }) => {
      const ns = s.kernel?.counters?.softirqNs;
      if (!ns) return [];
      return SOFTIRQ_TYPES.flatMap((type, t) => frame.softirq_cpus.map((cpu): Sample => [{ cpu: String(cpu), type }, (ns[t]?.[cpu] ?? NaN) / 1e9]));
    });

    // ---- memory split and paging
    gauge('whytop_memory_bytes', help('memory.anon_bytes', 'one series per kind: total, free, available, anon, page_cache, shmem, buffers, slab, slab_reclaimable, dirty, writeback, swap_total, swap_used, swap_cached'), ['kind'], ({ frame }) =>
      Object.entries(frame.memory).map(([field, v]): Sample => [{ kind: field.replace(/_bytes$/, '') }, v ?? NaN]),
    );
    const vm = (name: string, id: string, key: string): void =>
      counter(name, help(id, `count since boot, /proc/vmstat ${key}`), [], ({ snapshot: s }) => (s.vmstat?.[key] === undefined ? [] : [[{}, s.vmstat[key]]]));
    vm('whytop_swap_in_pages_total', 'paging.pswpin_per_s', 'pswpin');
    vm('whytop_swap_out_pages_total', 'paging.pswpout_per_s', 'pswpout');
    vm('whytop_major_faults_total', 'paging.pgmajfault_per_s', 'pgmajfault');
    vm('whytop_page_faults_total', 'paging.pgfault_per_s', 'pgfault');
    counter('whytop_reclaim_scanned_pages_total', help('paging.pgscan_direct_per_s', 'by kswapd (background) or direct (an allocating task); count since boot'), ['by'], ({ snapshot: s }) =>
      (['kswapd', 'direct'] as const).flatMap((by): Sample[] => (s.vmstat?.[`pgscan_${by}`] === undefined ? [] : [[{ by }, s.vmstat[`pgscan_${by}`]]])),
    );

    // ---- pressure (PSI) and load
    counter('whytop_pressure_stall_seconds_total', help('pressure.*.some_total_us', 'seconds, per resource (cpu, memory, io) and kind (some: at least one task, full: all at once)'), ['resource', 'kind'], ({ snapshot: s }) =>
      (['cpu', 'memory', 'io'] as const).flatMap((resource) => {
        const f = s.pressure[resource];
        if (!f) return [];
        return (['some', 'full'] as const).flatMap((kind): Sample[] => (f[kind] ? [[{ resource, kind }, f[kind]!.totalUs / 1e6]] : []));
      }),
    );
    gauge('whytop_pressure_ratio', help('pressure.*.some_avg10', 'per resource and kind, kernel average over a window of 10, 60 or 300 s, as a ratio'), ['resource', 'kind', 'window'], ({ snapshot: s }) =>
      (['cpu', 'memory', 'io'] as const).flatMap((resource) => {
        const f = s.pressure[resource];
        if (!f) return [];
        return (['some', 'full'] as const).flatMap((kind) => {
          const line = f[kind];
          if (!line) return [];
          return ([['10', line.avg10], ['60', line.avg60], ['300', line.avg300]] as const).map(([window, v]): Sample => [{ resource, kind, window }, v / 100]);
        });
      }),
    );
    gauge('whytop_load_average', help('system.load1', 'over 1, 5 and 15 minutes'), ['window'], ({ frame }) => [
      [{ window: '1' }, frame.system.load1 ?? NaN],
      [{ window: '5' }, frame.system.load5 ?? NaN],
      [{ window: '15' }, frame.system.load15 ?? NaN],
    ]);

    // ---- threads by state (and the runnable ones that wait for a CPU)
    gauge('whytop_threads', help('threads_by_state.*', 'threads in each state now'), ['state'], ({ frame }) => Object.entries(frame.threads_by_state).map(([state, n]): Sample => [{ state }, n]));
    gauge('whytop_runnable_waiting_threads', help('system.runnable_waiting', 'now'), [], ({ frame }) => [[{}, frame.system.runnable_waiting ?? NaN]]);

    // ---- the top K processes by CPU
    const perProcess = (name: string, id: string, note: string, value: (p: ProcessFrame) => number | null): void =>
      gauge(name, help(id, `${note}; top ${this.topK} processes by CPU only`), ['pid', 'comm'], ({ frame }) => topProcesses(frame, this.topK).map((p): Sample => [{ pid: String(p.pid), comm: p.comm }, value(p) ?? NaN]));
    perProcess('whytop_process_cpu_ratio', 'processes[].cpu_pct', 'share of one CPU over the last interval, as a ratio', (p) => (p.cpu_pct === null ? null : p.cpu_pct / 100));
    perProcess('whytop_process_runq_wait_ratio', 'processes[].runq_wait_pct', 'summed over threads, as a ratio', (p) => (p.runq_wait_pct === null ? null : p.runq_wait_pct / 100));
    perProcess('whytop_process_offcpu_d_ratio', 'processes[].offcpu_d_pct', 'summed over threads, as a ratio; eBPF tier only', (p) => (p.offcpu_d_pct === null ? null : p.offcpu_d_pct / 100));
    perProcess('whytop_process_resident_bytes', 'processes[].rss_bytes', 'bytes', (p) => p.rss_bytes);
    perProcess('whytop_process_anon_bytes', 'processes[].rss_anon_bytes', 'bytes', (p) => p.rss_anon_bytes);
    perProcess('whytop_process_swap_bytes', 'processes[].swap_bytes', 'bytes', (p) => p.swap_bytes);
    perProcess('whytop_process_threads', 'processes[].threads', 'count', (p) => p.threads);
    perProcess('whytop_process_read_bytes_per_second', 'processes[].read_bytes_per_s', 'over the last interval', (p) => p.read_bytes_per_s);
    perProcess('whytop_process_write_bytes_per_second', 'processes[].write_bytes_per_s', 'over the last interval', (p) => p.write_bytes_per_s);

    // ---- hints: kind and CPU number only; a pid only for the top K processes
    gauge('whytop_hint_active', 'a hint of whytop is active now (1): its id, severity and the kind of subject; cpu for CPU hints, pid only for the top K processes', ['id', 'severity', 'kind', 'cpu', 'pid'], ({ frame, hints }) => {
      const top = new Set(topProcesses(frame, this.topK).map((p) => p.pid));
      const seen = new Set<string>();
      const out: Sample[] = [];
      for (const h of hints) {
        const cpu = h.subject.kind === 'cpu' && h.subject.id !== undefined ? String(h.subject.id) : '';
        const pidOf = h.subject.kind === 'process' ? h.subject.id : h.subject.pid;
        const pid = pidOf !== undefined && top.has(pidOf) ? String(pidOf) : '';
        const labels = { id: h.id, severity: h.severity, kind: h.subject.kind, cpu, pid };
        const key = JSON.stringify(labels);
        if (!seen.has(key)) out.push([labels, 1]);
        seen.add(key);
      }
      return out;
    });

    // ---- whytop itself
    gauge('whytop_sample_seconds', help('sampler.sample_ms', 'last sample, seconds'), [], ({ frame }) => [[{}, frame.sampler.sample_ms / 1000]]);
    gauge('whytop_sample_cpu_seconds', help('sampler.sample_cpu_ms', 'last sample, seconds'), [], ({ frame }) => [[{}, frame.sampler.sample_cpu_ms / 1000]]);
    gauge('whytop_info', 'whytop build and tiers in use (always 1)', ['version', 'backend', 'kernel_tier'], ({ frame }) => [[{ version: WHYTOP_VERSION, backend: frame.sampler.backend, kernel_tier: frame.kernel.tier }, 1]]);
    this.scrapes = new Counter({ name: 'whytop_scrapes_total', help: 'scrapes of /metrics answered', registers });
  }

  /** Makes `latest` what the next scrapes read. */
  update(latest: Latest): void {
    this.latest = latest;
  }

  /** True once a first sample is in. */
  get ready(): boolean {
    return this.latest !== null;
  }

  /** The exposition for one scrape, in OpenMetrics when the scraper asks for it. */
  async scrape(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    this.scrapes.inc();
    const registry = accept?.includes('application/openmetrics-text') ? this.openMetrics : this.prometheus;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}
