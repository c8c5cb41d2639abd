// The header: one bar per CPU split by mode, memory and swap bars, load, threads by state,
// scheduler rates and pressure.
import type { CpuPercentages, Frame } from '../../model/frame.js';
import { fmtBytes, fmtCount, fmtPct, NA } from '../format.js';
import { esc, paint, tone } from '../style.js';
import { meter } from './bars.js';
import type { BarPart } from './bars.js';

/** The CPU modes in bar order, with their tones (htop's colours). */
export const CPU_BAR_PARTS: ReadonlyArray<[keyof CpuPercentages, BarPart['tone'], string]> = [
  ['nice_pct', 'nice', 'nice: user code at low priority'],
  ['user_pct', 'user', 'user: programs running their own code'],
  ['system_pct', 'system', 'system: the kernel working for programs (syscalls, faults)'],
  ['irq_pct', 'irq', 'irq: hardware interrupt handlers'],
  ['softirq_pct', 'softirq', 'softirq: deferred interrupt work (network receive, timers, block completions)'],
  ['steal_pct', 'steal', 'steal: the hypervisor ran someone else on this virtual CPU'],
  ['iowait_pct', 'iowait', 'iowait: idle, while some task waits for disk I/O'],
];

function cpuBar(label: string, cpu: CpuPercentages | null, width: number): string {
  const parts: BarPart[] = CPU_BAR_PARTS.map(([field, t]) => ({ tone: t, pct: cpu ? cpu[field] : null }));
  const busy = cpu && cpu.idle_pct !== null ? 100 - cpu.idle_pct - (cpu.iowait_pct ?? 0) : null;
  return meter(label, parts, busy === null ? NA : `${fmtPct(busy)}%`, width);
}

/** Memory bar: anonymous, page cache, shmem, slab as shares of RAM; text: in use / total. */
function memoryBar(frame: Frame, width: number): string {
  const m = frame.memory;
  const share = (v: number | null): number | null => (v === null || !m.total_bytes ? null : (100 * v) / m.total_bytes);
  const parts: BarPart[] = [
    { tone: 'anon', pct: share(m.anon_bytes) },
    { tone: 'cache', pct: share(m.page_cache_bytes) },
    { tone: 'shmem', pct: share(m.shmem_bytes) },
    { tone: 'slab', pct: share(m.slab_bytes) },
  ];
  const used = m.total_bytes !== null && m.available_bytes !== null ? m.total_bytes - m.available_bytes : null;
  return meter('Mem', parts, `${fmtBytes(used)}/${fmtBytes(m.total_bytes)}`, width);
}

function swapBar(frame: Frame, width: number): string {
  const m = frame.memory;
  if (m.swap_total_bytes === 0) return meter('Swp', [], 'no swap', width);
  const pct = m.swap_used_bytes !== null && m.swap_total_bytes ? (100 * m.swap_used_bytes) / m.swap_total_bytes : null;
  return meter('Swp', [{ tone: 'swap', pct }], `${fmtBytes(m.swap_used_bytes)}/${fmtBytes(m.swap_total_bytes)}`, width);
}

/** The thread-state summary: counts by state letter, D and Z highlighted when present. */
function statesLine(frame: Frame): string {
  const s = frame.threads_by_state;
  const total = Object.values(s).reduce((a, b) => a + b, 0);
  const waiting = frame.system.runnable_waiting;
  const part = (letter: string, t: 'crit' | 'warn' | null): string => {
    const n = s[letter] ?? 0;
    const text = `${n} ${letter}`;
    return n > 0 && t ? paint(t, text) : esc(text);
  };
  const r = `${s.R ?? 0} R${waiting ? ` (${waiting} waiting)` : ''}`;
  const others = Object.keys(s).filter((k) => !'RSDZTI'.includes(k));
  return [
    `${tone('title', 'Threads')} ${total}:`,
    waiting ? paint('warn', r) : esc(r),
    part('S', null),
    part('D', 'crit'),
    part('Z', 'warn'),
    part('T', null),
    part('I', null),
    ...others.map((k) => part(k, null)),
  ].join(' ');
}

function pressureLine(frame: Frame): string {
  const p = frame.pressure;
  if (!p) return `${tone('title', 'PSI')} not available on this kernel`;
  const v = (x: number | null | undefined, warnAt: number): string => {
    if (x === null || x === undefined) return NA;
    const text = `${x.toFixed(1)}%`;
    return x >= warnAt ? paint(x >= warnAt * 4 ? 'crit' : 'warn', text) : esc(text);
  };
  return (
    `${tone('title', 'PSI')} avg10 some: cpu ${v(p.cpu?.some_avg10, 5)} mem ${v(p.memory?.some_avg10, 1)} io ${v(p.io?.some_avg10, 5)}` +
    `  full: mem ${v(p.memory?.full_avg10, 1)} io ${v(p.io?.full_avg10, 5)}`
  );
}

function ratesLine(frame: Frame): string {
  const s = frame.system;
  return [
    `${tone('title', 'csw/s')} ${esc(fmtCount(s.ctxsw_per_s))}`,
    `${tone('title', 'intr/s')} ${esc(fmtCount(s.interrupts_per_s))}`,
    `${tone('title', 'forks/s')} ${esc(fmtCount(s.forks_per_s))}`,
    s.syscalls_per_s !== null
      ? `${tone('title', 'syscalls/s')} ${esc(fmtCount(s.syscalls_per_s))}`
      : `${tone('title', 'syscalls/s')} ${tone('dim', frame.kernel.tier === 'proc' ? 'n/a: run as root' : 'off (c counts them)')}`,
  ].join('  ');
}

function loadLine(frame: Frame): string {
  const s = frame.system;
  const f = (x: number | null): string => (x === null ? NA : x.toFixed(2));
  const overloaded = s.load1 !== null && s.online_cpus !== null && s.load1 > s.online_cpus;
  const load = `${f(s.load1)} ${f(s.load5)} ${f(s.load15)}`;
  return `${tone('title', 'Load')} ${overloaded ? paint('warn', load) : esc(load)}  ${tone('dim', `(${s.online_cpus ?? NA} CPUs)`)}`;
}

/** Lines of information beside (or under) the bars. */
const INFO_LINES = 4;

/** Where the header's parts go at a size: bar width, CPU bar grid, and whether info sits beside the bars. */
function headerLayout(cpuCount: number, width: number, height: number) {
  const sideBySide = width >= 110;
  const barWidth = sideBySide ? Math.floor(width * 0.45) : width;
  const maxCpuRows = Math.max(1, Math.floor(height / 3) - (sideBySide ? 2 : 2 + INFO_LINES));
  // CPU bars in as many columns as needed to keep at most maxCpuRows rows (one total bar without CPUs).
  const cpuColumns = Math.max(1, Math.ceil(cpuCount / maxCpuRows));
  const cpuRows = cpuCount === 0 ? 1 : Math.ceil(cpuCount / cpuColumns);
  return { sideBySide, barWidth, cpuColumns, cpuRows };
}

function cpuBars(frame: Frame, width: number, columns: number, rows: number): string[] {
  if (frame.cpus.length === 0) return [cpuBar('cpu', frame.cpu_total, width)];
  const bars = frame.cpus.map((c) => ({ label: String(c.cpu).padStart(3), cpu: c as CpuPercentages }));
  const barWidth = Math.floor((width - (columns - 1)) / columns);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) {
      const b = bars[c * rows + r];
      if (b) cells.push(cpuBar(b.label, b.cpu, barWidth));
    }
    lines.push(cells.join(' '));
  }
  return lines;
}

/** How many lines headerLines gives at this size, without drawing them. */
export function headerHeight(frame: Frame, width: number, height: number): number {
  const { sideBySide, cpuRows } = headerLayout(frame.cpus.length, width, height);
  const bars = cpuRows + 2;
  return sideBySide ? Math.max(bars, INFO_LINES) : bars + INFO_LINES;
}

/** The header's lines for a screen `width` wide, using at most about a third of `height`. */
export function headerLines(frame: Frame, width: number, height: number): string[] {
  const { sideBySide, barWidth, cpuColumns, cpuRows } = headerLayout(frame.cpus.length, width, height);
  const info = [loadLine(frame), statesLine(frame), ratesLine(frame), pressureLine(frame)];
  const bars = [...cpuBars(frame, barWidth, cpuColumns, cpuRows), memoryBar(frame, barWidth), swapBar(frame, barWidth)];
  if (!sideBySide) return [...bars, ...info];
  const lines: string[] = [];
  for (let i = 0; i < Math.max(bars.length, info.length); i++) {
    const left = bars[i] ?? ' '.repeat(barWidth);
    lines.push(`${left}  ${info[i] ?? ''}`);
  }
  return lines;
}
