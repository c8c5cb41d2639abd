// The views besides the main list: States, Modes, Softirq and Memory. Each is a pure function of the
// frame (plus what the app tracks across frames) to lines of tagged text.
import { kptiNote } from '../../hints/rules/threads.js';
import type { Hint, Severity } from '../../hints/types.js';
import { rwSyscallsPerSec, switchesPerSec } from '../../model/frame.js';
import type { Frame, ThreadFrame } from '../../model/frame.js';
import { STATE_GROUPS, stateGroup } from '../../model/threadState.js';
import type { StateSince } from '../../model/threadState.js';
import { fit, fmtBytes, fmtCount, fmtDuration, fmtPct, NA, safeName } from '../format.js';
import { esc, paint, tone } from '../style.js';
import type { Tone } from '../style.js';
import { meter } from './bars.js';
import { severityTone } from './overlays.js';

function title(text: string): string {
  return tone('title', tone('bold', esc(text)));
}

/** One table line: cells fitted to `widths` (right-aligned where `right`), the last taking the rest of `width`. */
function tableLine(cells: string[], widths: number[], right: boolean[], width: number): string {
  const rest = Math.max(8, width - widths.slice(0, -1).reduce((a, b) => a + b + 1, 0));
  return cells.map((c, i) => fit(c, i === cells.length - 1 ? rest : widths[i], right[i] && i < cells.length - 1)).join(' ');
}

/** A table: a full-width header row, then rows; numbers right-aligned, text left-aligned. */
function table(header: string[], widths: number[], right: boolean[], rows: string[][], width: number): string[] {
  return [tone('header', esc(tableLine(header, widths, right, width))), ...rows.map((r) => esc(tableLine(r, widths, right, width)))];
}

/** The mark of a hint on a row, a CPU or a line: '!' for a warning or worse, 'i' for information. */
export function hintMark(severity: Severity): string {
  return severity === 'info' ? 'i' : '!';
}

/** The hints about one kind of subject, most severe first, one marked line each. */
function hintLines(hints: readonly Hint[], kind: Hint['subject']['kind']): string[] {
  return hints.filter((h) => h.subject.kind === kind).map((h) => paint(severityTone(h.severity), `${hintMark(h.severity)} ${h.message}`));
}

/** Threads grouped by state, blocked and CPU-starved first, with how long each has been so. */
export function statesView(frame: Frame, since: StateSince, width: number, height: number): string[] {
  const now = Date.parse(frame.time);
  const groups = new Map<string, ThreadFrame[]>();
  for (const t of frame.threads) {
    const g = stateGroup(t);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(t);
  }
  const widths = [7, 7, 8, 6, 6, 20, 0];
  const right = [true, true, true, true, true, false, false];
  const header = ['TID', 'PID', 'FOR', 'CPU%', 'WAIT%', 'WCHAN', 'COMMAND'];
  const lines: string[] = [tone('header', esc(tableLine(header, widths, right, width)))];
  let budget = height - 1;
  for (const g of STATE_GROUPS) {
    const list = groups.get(g.id) ?? [];
    if (list.length === 0) continue;
    if (budget < 3) break;
    const age = (t: ThreadFrame): number => now - (since.get(t.tid)?.sinceMs ?? now);
    list.sort((a, b) => age(b) - age(a) || a.tid - b.tid);
    const urgent = g.id === 'D' || g.id === 'Rw';
    const headTone: Tone = g.id === 'D' ? 'crit' : g.id === 'Rw' ? 'warn' : 'title';
    lines.push(tone(headTone, tone('bold', esc(`${g.title} — ${list.length} thread${list.length === 1 ? '' : 's'}`))));
    budget--;
    const room = urgent ? budget - 4 : Math.min(budget - 2, g.id === 'R' ? 8 : 3);
    const shown = list.slice(0, Math.max(0, room));
    if (shown.length > 0) {
      const rows = shown.map((t) => {
        const s = since.get(t.tid);
        const dur = s ? `${s.atLeast ? '≥' : ''}${fmtDuration(age(t))}` : NA;
        return [String(t.tid), String(t.pid), dur, fmtPct(t.cpu_pct), fmtPct(t.runq_wait_pct), t.wchan ? safeName(t.wchan) : NA, safeName(t.comm)];
      });
      lines.push(...rows.map((r) => esc(tableLine(r, widths, right, width))));
      budget -= rows.length;
    }
    if (list.length > shown.length) {
      lines.push(tone('dim', esc(`   … ${list.length - shown.length} more: press 1, then S and type ${g.id === 'Rw' ? 'R' : g.id} to list them all`)));
      budget--;
    }
  }
  return lines;
}

/**
 * What syscall counting costs right now: the probe's measured ns per syscall × the syscall rate,
 * as a share of one CPU; null when syscalls are not counted.
 */
export function syscallProbeCostPct(frame: Frame): number | null {
  const ns = frame.kernel.syscall_probe_ns;
  const rate = frame.system.syscalls_per_s;
  return ns === null || rate === null ? null : (ns * rate) / 1e7;
}

/** Per CPU: user vs kernel time, switches and syscalls; the threads that cross into the kernel most. */
export function modesView(frame: Frame, width: number, height: number): string[] {
  const lines = [title('Mode switches: time in user code vs in the kernel, per CPU')];
  const barWidth = Math.min(60, Math.max(20, width - 74));
  const cpuLine = (label: string, c: Frame['cpus'][number] | Frame['cpu_total'], counts: string): string => {
    const user = c ? (c.user_pct ?? 0) + (c.nice_pct ?? 0) : null;
    const kernel = c ? (c.system_pct ?? 0) + (c.irq_pct ?? 0) + (c.softirq_pct ?? 0) : null;
    const ratio = user !== null && kernel !== null && user + kernel > 0 ? `${Math.round((100 * kernel) / (user + kernel))}% of busy in kernel` : '';
    return `${meter(label, [{ tone: 'user', pct: user }, { tone: 'system', pct: kernel }], '', barWidth)} ${esc(`usr ${fmtPct(user)}%  kernel ${fmtPct(kernel)}%  ${counts}${ratio}`)}`;
  };
  const counts = (csw: number | null, sysc: number | null): string =>
    `${csw === null ? '' : `csw/s ${fmtCount(csw)}  `}${sysc === null ? '' : `sysc/s ${fmtCount(sysc)}  `}`;
  for (const c of frame.cpus) lines.push(cpuLine(String(c.cpu).padStart(3), c, counts(c.ctxsw_per_s, c.syscalls_per_s)));
  lines.push(cpuLine('all', frame.cpu_total, counts(frame.system.ctxsw_per_s, frame.system.syscalls_per_s)));
  const cost = syscallProbeCostPct(frame);
  lines.push(
    esc(`context switches/s ${fmtCount(frame.system.ctxsw_per_s)} (whole system)   interrupts/s ${fmtCount(frame.system.interrupts_per_s)}`),
    frame.kernel.tier === 'proc'
      ? tone('dim', esc(`context switches per CPU and syscalls/s: ${frame.kernel.reason ?? 'no kernel probes'}`))
      : frame.system.syscalls_per_s === null
        ? tone('dim', esc(`syscalls/s: not counted — press c to count them (it slows every syscall on the machine while on)`))
        : cost === null
          ? esc(`syscalls/s ${fmtCount(frame.system.syscalls_per_s)} (perf counters; c stops)`)
          : paint(
              cost >= 5 ? 'warn' : 'title',
              `syscalls/s ${fmtCount(frame.system.syscalls_per_s)}; counting them costs ${fmtPct(frame.kernel.syscall_probe_ns)} ns each ≈ ${fmtPct(cost)}% of a CPU (c stops)`,
            ),
    esc(kptiNote(frame) || 'KPTI (page-table isolation) state unknown: /sys/devices/system/cpu/vulnerabilities/meltdown is missing or says neither.'),
    '',
  );
  // With per-thread syscall counts, rank by syscalls/s; otherwise by kernel time (read/write syscalls from io as a hint).
  const counted = frame.system.syscalls_per_s !== null && frame.kernel.tier === 'ebpf';
  lines.push(title(counted ? 'Threads making the most syscalls' : 'Threads spending the most time in the kernel'));
  const key = (t: ThreadFrame): number => (counted ? (t.syscalls_per_s ?? 0) : (t.system_pct ?? 0));
  const top = frame.threads
    .filter((t) => key(t) > 0 || (switchesPerSec(t) ?? 0) > 0)
    .sort((a, b) => key(b) - key(a) || (switchesPerSec(b) ?? 0) - (switchesPerSec(a) ?? 0))
    .slice(0, Math.max(0, height - lines.length - 1));
  const rows = top.map((t) => {
    return [String(t.tid), fmtPct(t.system_pct), fmtPct(t.user_pct), fmtCount(counted ? t.syscalls_per_s : rwSyscallsPerSec(t)), fmtCount(t.vcsw_per_s), fmtCount(t.ivcsw_per_s), safeName(t.comm)];
  });
  lines.push(...table(['TID', 'SYS%', 'USR%', counted ? 'SYSC/s' : 'RWSC/s', 'VCSW/s', 'ICSW/s', 'COMMAND'], [7, 6, 6, 7, 7, 7, 0], [true, true, true, true, true, true, false], rows, width));
  return lines;
}

const HEAT: Tone[] = ['dim', 'ok', 'warn', 'crit'];

/** The CPUs the Softirq view has room for: from the first, or a window that keeps `focus` in sight. */
function visibleCpus(cpus: readonly number[], room: number, focus: number | null): number[] {
  const at = focus === null ? -1 : cpus.indexOf(focus);
  const first = at < room ? 0 : at - room + 1;
  return cpus.slice(first, first + room);
}

/**
 * CPU × softirq type heat map of softirqs/s, %si per CPU and ksoftirqd's CPU use. CPUs with a hint
 * are marked in the header ('!' or 'i', in the hint's colour), with the hints listed above; the CPU a
 * hint was jumped to (`focusCpu`) is highlighted and kept in sight.
 */
export function softirqView(frame: Frame, hints: readonly Hint[], width: number, focusCpu: number | null = null): string[] {
  const cpus = frame.softirq_cpus;
  const types = Object.keys(frame.softirqs);
  const lines = [title('Softirqs per second, by type and CPU (deferred interrupt work: network receive, timers, block I/O ...)'), ...hintLines(hints, 'cpu')];
  if (types.length === 0) return [...lines, esc('/proc/softirqs is not available')];
  const cell = Math.max(6, Math.min(9, Math.floor((width - 10) / Math.max(1, cpus.length))));
  const maxCpus = Math.max(1, Math.floor((width - 10) / (cell + 1)));
  const shownCpus = visibleCpus(cpus, maxCpus, focusCpu);
  const max = Math.max(1, ...types.flatMap((t) => frame.softirqs[t].map((v) => v ?? 0)));
  // Hints come most severe first: the first about a CPU is the one its mark shows.
  const marked = new Map<number, Severity>();
  for (const h of hints) if (h.subject.kind === 'cpu' && h.subject.id !== undefined && !marked.has(h.subject.id)) marked.set(h.subject.id, h.severity);
  const cpuHead = (c: number): string => {
    const severity = marked.get(c);
    const text = fit(`${severity ? hintMark(severity) : ''}CPU${c}`, cell, true);
    return c === focusCpu ? tone('selected', esc(text)) : severity ? paint(severityTone(severity), text) : tone('header', esc(text));
  };
  lines.push(tone('header', esc(fit('TYPE', 9) + ' ')) + shownCpus.map(cpuHead).join(tone('header', ' ')));
  // The softirq arrays are indexed like frame.softirq_cpus.
  const column = shownCpus.map((c) => cpus.indexOf(c));
  for (const type of types) {
    const cells = column.map((i) => {
      const v = frame.softirqs[type][i];
      const text = fit(fmtCount(v), cell, true);
      if (v === null || v === 0) return tone('dim', esc(text));
      const level = Math.min(3, 1 + Math.floor((v / max) * 3));
      return paint(HEAT[level], text);
    });
    lines.push(esc(fit(type, 9)) + ' ' + cells.join(' '));
  }
  // softnet_stat right under the NET_RX row: the packets that softirq processed, dropped, ran out of budget on.
  const softnet = new Map(frame.softnet.map((s) => [s.cpu, s]));
  const netCell = (c: number, field: 'processed_per_s' | 'dropped_per_s' | 'squeezed_per_s'): string => {
    const v = softnet.get(c)?.[field] ?? null;
    const text = fit(fmtCount(v), cell, true);
    return field !== 'processed_per_s' && (v ?? 0) > 0 ? paint('crit', text) : esc(text);
  };
  const netRx = types.indexOf('NET_RX');
  lines.splice(lines.length - types.length + (netRx < 0 ? types.length : netRx + 1), 0,
    esc(fit('pkts/s', 9) + ' ') + shownCpus.map((c) => netCell(c, 'processed_per_s')).join(' '),
    esc(fit('drops/s', 9) + ' ') + shownCpus.map((c) => netCell(c, 'dropped_per_s')).join(' '),
    esc(fit('squeeze/s', 9) + ' ') + shownCpus.map((c) => netCell(c, 'squeezed_per_s')).join(' '),
  );
  const cpuPct = new Map(frame.cpus.map((c) => [c.cpu, c]));
  const ksoftirqd = new Map<number, number | null>();
  for (const t of frame.threads) {
    const m = /^ksoftirqd\/(\d+)$/.exec(t.comm);
    if (m) ksoftirqd.set(Number(m[1]), t.cpu_pct);
  }
  const timed = Object.entries(frame.softirq_time_pct).filter(([, v]) => v.some((x) => (x ?? 0) > 0));
  if (timed.length > 0) {
    lines.push(tone('header', esc(fit('TIME %', 9) + ' ')) + shownCpus.map(cpuHead).join(tone('header', ' ')));
    for (const [type, pcts] of timed) lines.push(esc(fit(type, 9) + ' ' + column.map((i) => fit(fmtPct(pcts[i] ?? null), cell, true)).join(' ')));
  }
  const si = shownCpus.map((c) => fit(`${fmtPct(cpuPct.get(c)?.softirq_pct ?? null)}`, cell, true));
  const hi = shownCpus.map((c) => fit(`${fmtPct(cpuPct.get(c)?.irq_pct ?? null)}`, cell, true));
  const kd = shownCpus.map((c) => fit(`${fmtPct(ksoftirqd.get(c) ?? null)}`, cell, true));
  lines.push(
    esc(fit('%si', 9) + ' ' + si.join(' ')),
    esc(fit('%hi', 9) + ' ' + hi.join(' ')),
    esc(fit('ksoftirqd', 9) + ' ' + kd.join(' ')),
    '',
    tone('dim', esc('%si: CPU time in softirq handlers. ksoftirqd: CPU% of the per-CPU thread that takes over softirq work when it keeps coming back.')),
    tone('dim', esc(frame.kernel.tier === 'ebpf' ? 'TIME %: share of each CPU spent in each softirq type, measured by the kernel probes.' : `time per softirq type: ${frame.kernel.reason ?? 'needs the kernel probes'}`)),
    tone('dim', esc('pkts/s: packets NET_RX processed (softnet_stat); drops/s: backlog full, packets lost; squeeze/s: NET_RX ran out of budget.')),
  );
  if (marked.size > 0 || focusCpu !== null) lines.push(tone('dim', esc(`! or i before a CPU: a hint is about it (listed above, w explains)${focusCpu === null ? '' : `; highlighted: CPU${focusCpu}, the hint's CPU`}.`)));
  if (cpus.length > shownCpus.length) lines.push(tone('dim', esc(`… ${cpus.length - shownCpus.length} more CPUs: widen the terminal`)));
  return lines;
}

/** One stacked bar of RAM use, the numbers behind it, paging rates, the top processes, and memory hints. */
export function memoryView(frame: Frame, hints: readonly Hint[], width: number, height: number): string[] {
  const m = frame.memory;
  const p = frame.paging;
  const share = (v: number | null): number | null => (v === null || !m.total_bytes ? null : (100 * v) / m.total_bytes);
  const lines = [title('Memory: where RAM goes (anonymous can only go to swap; page cache is dropped cheaply)'), ...hintLines(hints, 'memory')];
  lines.push(
    meter('RAM', [
      { tone: 'anon', pct: share(m.anon_bytes) },
      { tone: 'cache', pct: share(m.page_cache_bytes) },
      { tone: 'shmem', pct: share(m.shmem_bytes) },
      { tone: 'slab', pct: share(m.slab_bytes) },
    ], `free ${fmtBytes(m.free_bytes)}`, Math.min(width, 100), '█'),
  );
  const kv = (label: string, value: string, t?: Tone): string => `${esc(label)} ${t ? paint(t, value) : esc(value)}`;
  lines.push(
    [kv('total', fmtBytes(m.total_bytes)), kv('available', fmtBytes(m.available_bytes)), kv('free', fmtBytes(m.free_bytes))].join('   '),
    [kv('anon', fmtBytes(m.anon_bytes), 'anon'), kv('page cache', fmtBytes(m.page_cache_bytes), 'cache'), kv('shmem', fmtBytes(m.shmem_bytes), 'shmem'), kv('buffers', fmtBytes(m.buffers_bytes)), kv('slab', fmtBytes(m.slab_bytes), 'slab')].join('   '),
    [kv('dirty', fmtBytes(m.dirty_bytes)), kv('writeback', fmtBytes(m.writeback_bytes))].join('   '),
    m.swap_total_bytes === 0
      ? esc('swap: none configured')
      : [kv('swap used', `${fmtBytes(m.swap_used_bytes)} of ${fmtBytes(m.swap_total_bytes)}`), kv('swap cached', fmtBytes(m.swap_cached_bytes))].join('   '),
    '',
    title('Paging per second'),
    [
      kv('swap-in', fmtCount(p.pswpin_per_s), (p.pswpin_per_s ?? 0) > 0 ? 'crit' : undefined),
      kv('swap-out', fmtCount(p.pswpout_per_s), (p.pswpout_per_s ?? 0) > 0 ? 'crit' : undefined),
      kv('major faults', fmtCount(p.pgmajfault_per_s), (p.pgmajfault_per_s ?? 0) > 0 ? 'warn' : undefined),
      kv('all faults', fmtCount(p.pgfault_per_s)),
    ].join('   '),
    [
      kv('reclaim scans: all', fmtCount(p.pgscan_per_s)),
      kv('kswapd', fmtCount(p.pgscan_kswapd_per_s)),
      kv('direct', fmtCount(p.pgscan_direct_per_s), (p.pgscan_direct_per_s ?? 0) > 0 ? 'warn' : undefined),
      kv('reclaimed', fmtCount(p.pgsteal_per_s)),
      kv('disk in', `${fmtCount(p.pgpgin_kb_per_s)} kB`),
      kv('out', `${fmtCount(p.pgpgout_kb_per_s)} kB`),
    ].join('   '),
    tone('dim', esc('(all: also reclaim by a memory cgroup at its limit, which kswapd and direct leave out)')),
    '',
  );
  const room = Math.max(0, height - lines.length - 2);
  const n = Math.max(1, Math.min(10, room));
  const top = (field: 'rss_anon_bytes' | 'rss_file_bytes' | 'swap_bytes'): string[][] =>
    frame.processes
      .filter((pr) => (pr[field] ?? 0) > 0)
      .sort((a, b) => (b[field] ?? 0) - (a[field] ?? 0))
      .slice(0, n)
      .map((pr) => [String(pr.pid), fmtBytes(pr[field]), safeName(pr.comm)]);
  const colWidth = Math.floor((width - 4) / 3);
  const blocks = [
    ['Top anon', top('rss_anon_bytes')],
    ['Top file-backed', top('rss_file_bytes')],
    ['Top swapped out', top('swap_bytes')],
  ] as const;
  const rendered = blocks.map(([name, rows]) => [fit(name, colWidth), ...rows.map((r) => fit(`${r[0].padStart(7)} ${r[1].padStart(6)} ${r[2]}`, colWidth))]);
  const tallest = Math.max(...rendered.map((b) => b.length));
  for (let i = 0; i < tallest; i++) {
    lines.push(rendered.map((b, j) => (i === 0 ? title(b[0] ?? '') : esc(b[i] ?? fit(j === 2 && i === 1 && blocks[2][1].length === 0 ? '   (nothing in swap)' : '', colWidth)))).join('  '));
  }
  return lines;
}
