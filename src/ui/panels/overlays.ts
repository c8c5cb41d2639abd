// What is drawn over the main view: help, thread detail, pickers and confirmations.
import type { Frame, ProcessFrame, ThreadFrame } from '../../model/frame.js';
import type { StateSince } from '../../model/threadState.js';
import { CPU_BAR_PARTS } from './header.js';
import type { TaskKernelDetail } from '../../sources/taskKernel.js';
import { columnHelp } from '../columns.js';
import type { Column } from '../columns.js';
import { fit, fmtBytes, fmtCount, fmtDuration, fmtPct, NA, safeName } from '../format.js';
import type { ThreadSeries } from '../history.js';
import { KEY_HELP } from '../keys.js';
import type { Hint, Severity } from '../../hints/types.js';
import type { Confirm, Picker, ViewId, WhyList } from '../state.js';
import { esc, paint, tone } from '../style.js';
import { meter, sparkline } from './bars.js';

function title(text: string): string {
  return tone('title', tone('bold', esc(text)));
}

/** What each view shows, for the help screen. */
const VIEW_HELP: Record<ViewId, string[]> = {
  threads: ['Threads: every thread (H: processes, F5: tree) with CPU use, run-queue wait and switches; the columns are below.'],
  states: [
    'States: threads grouped by what they are doing. D (blocked, usually on disk) and R-waiting (runnable, no CPU free)',
    'come first: they are why a machine with idle CPUs can still be slow. FOR: how long the thread has been in that state.',
  ],
  modes: [
    'Modes: per CPU, time in user code vs in the kernel (system + irq + softirq). Every syscall crosses from user to kernel',
    'mode; a thread with high SYS% and many switches makes many small syscalls, where batching or larger I/O helps.',
  ],
  softirq: [
    'Softirq: how often each kind of deferred interrupt work ran on each CPU (NET_RX: packets received, TIMER, SCHED,',
    'RCU, BLOCK: disk completions). %si is CPU time spent there; a busy ksoftirqd means the work could not keep up inline.',
  ],
  memory: [
    'Memory: RAM split into anonymous (heaps, stacks: only swap can take it), page cache (file data: dropped cheaply),',
    'shmem and slab. Swap-in/out > 0 means anonymous paging, the bad kind; direct reclaim means allocations stall.',
  ],
  io: [
    'I/O: per disk, operations and bytes per second, await (ms per I/O, queueing included), queue depth and busy % (time',
    'with I/O in flight); per interface, bytes, packets, errors and drops; the threads in D; the processes doing disk I/O.',
  ],
};

/** The help screen: keys, the current view, colours, and the meaning of each column shown. */
export function helpLines(view: ViewId, columns: Column[], width: number): string[] {
  const lines = [title('whytop help — any of Esc, q, ?, h, F1 closes'), ''];
  for (const [keys, what] of KEY_HELP) lines.push(`${tone('key', esc(fit(keys, 26)))} ${esc(what)}`);
  lines.push('', title('This view'), ...VIEW_HELP[view].map(esc), '', title('CPU bar colours'));
  lines.push(CPU_BAR_PARTS.map(([, t, what]) => paint(t, '|') + ' ' + esc(what.split(':')[0])).join('  '));
  lines.push(tone('dim', esc('Memory bar: ')) + [paint('anon', 'anon'), paint('cache', 'page cache'), paint('shmem', 'shmem'), paint('slab', 'slab')].join(' '));
  if (view === 'threads') {
    lines.push('', title('Columns'));
    for (const c of columns) lines.push(`${tone('key', esc(fit(c.header, 8)))} ${esc(fit(columnHelp(c), Math.max(10, width - 10)))}`);
    lines.push(tone('dim', esc("'-' means not available (not permitted, not read for rows off screen, or no rate yet), not zero.")));
  }
  return lines;
}

function pct(v: number | null): string {
  return v === null ? NA : `${fmtPct(v)}%`;
}

/** Everything known about one thread. */
export function detailLines(
  frame: Frame,
  tid: number,
  since: StateSince,
  series: ThreadSeries | null,
  kernel: TaskKernelDetail | null,
  width: number,
): string[] {
  const t: ThreadFrame | undefined = frame.threads.find((x) => x.tid === tid);
  if (!t) return [title(`Thread ${tid}`), '', esc('This thread has exited.'), '', tone('dim', 'Esc: back')];
  const p: ProcessFrame | undefined = frame.processes.find((x) => x.pid === t.pid);
  const s = since.get(t.tid);
  const forText = s ? ` for ${s.atLeast ? '≥' : ''}${fmtDuration(Date.parse(frame.time) - s.sinceMs)}` : '';
  const lines = [
    title(`Thread ${t.tid} "${safeName(t.comm)}" of process ${t.pid} "${safeName(p?.comm ?? '?')}"`) + tone('dim', '   Esc: back'),
    esc(`state ${t.state}${forText}   user ${t.user ?? NA}   nice ${t.nice ?? NA}   priority ${t.priority ?? NA}   last CPU ${t.processor ?? NA}   CPU time ${t.cpu_time_s?.toFixed(2) ?? NA}s`),
    '',
    title('Where its time went in the last interval'),
  ];
  const onCpu = t.cpu_pct;
  const wait = t.runq_wait_pct;
  const off = onCpu === null || wait === null ? null : Math.max(0, 100 - onCpu - wait);
  const barWidth = Math.min(60, width - 2);
  const split = t.offcpu_d_pct !== null && t.offcpu_s_pct !== null;
  const offParts = split ? [{ tone: 'crit' as const, pct: t.offcpu_d_pct }, { tone: 'dim' as const, pct: t.offcpu_s_pct }] : [{ tone: 'dim' as const, pct: off }];
  lines.push(meter('', [{ tone: 'user', pct: onCpu }, { tone: 'warn', pct: wait }, ...offParts], '', barWidth, '█'));
  const offText = split
    ? `${paint('crit', 'blocked (D)')} ${esc(pct(t.offcpu_d_pct))}   ${tone('dim', 'sleeping (S)')} ${esc(pct(t.offcpu_s_pct))}`
    : `${tone('dim', 'off CPU')} ${esc(pct(off))}`;
  lines.push(
    `${paint('user', 'on CPU')} ${esc(pct(onCpu))} (user ${pct(t.user_pct)}, kernel ${pct(t.system_pct)})   ${paint('warn', 'waiting for a CPU')} ${esc(pct(wait))}   ${offText}`,
    tone('dim', esc(split ? 'D: uninterruptible sleep, usually disk I/O (kernel probes). S: the rest of the time off CPU — waiting for an event, a lock, a timer.' : `Off-CPU time split into blocked (D) and sleeping (S): ${frame.kernel.reason ?? 'needs the kernel probes'}.`)),
    '',
    title('Last minute'),
  );
  const sparkWidth = Math.min(60, width - 60);
  const spark = (label: string, values: Array<number | null> | undefined, t2: 'user' | 'softirq' | 'title', now: string): string =>
    `${esc(fit(label, 22))} ${esc(fit(now, 22))} ${values && values.length ? paint(t2, sparkline(values, sparkWidth)) : tone('dim', esc('(no history yet)'))}`;
  lines.push(
    spark('CPU %', series?.cpu_pct, 'user', pct(onCpu)),
    spark('context switches/s', series?.csw_per_s, 'softirq', `vol ${fmtCount(t.vcsw_per_s)} invol ${fmtCount(t.ivcsw_per_s)}`),
    spark('read+write syscalls/s', series?.rwsc_per_s, 'title', `${fmtCount(t.syscr_per_s)} r ${fmtCount(t.syscw_per_s)} w`),
    t.syscalls_per_s !== null
      ? esc(`  all syscalls/s ${fmtCount(t.syscalls_per_s)} (counted by the kernel probe: c stops)`)
      : tone('dim', esc('  (read+write syscalls come from the io file: a proxy; c counts all syscalls, as root)')),
    '',
    title('In the kernel'),
    esc(`wchan: ${t.wchan ? safeName(t.wchan) : t.state === 'R' ? 'running' : 'not shown (running, or not permitted)'}`),
  );
  const sc = kernel?.syscall ?? null;
  const syscallText =
    sc === null ? 'not readable (needs root or ptrace access)'
    : sc.kind === 'running' ? 'running on a CPU'
    : sc.kind === 'none' ? 'not in a syscall (blocked in the kernel for another reason, e.g. a page fault)'
    : `${sc.name ?? `#${sc.nr}`}(${sc.args.slice(0, 3).join(', ')}, …)`;
  lines.push(esc(`current syscall: ${syscallText}`));
  if (kernel?.stack && kernel.stack.length > 0) {
    lines.push(esc('kernel stack (innermost first):'));
    for (const frameLine of kernel.stack.slice(0, 8)) lines.push(esc(`  ${frameLine}`));
  } else {
    lines.push(tone('dim', esc(`kernel stack: ${kernel?.stack ? 'empty (running in user space)' : 'not readable (needs root)'}`)));
  }
  lines.push('', title('Process memory and I/O'));
  if (p) {
    lines.push(
      esc(`RSS ${fmtBytes(p.rss_bytes)} = anon ${fmtBytes(p.rss_anon_bytes)} + file ${fmtBytes(p.rss_file_bytes)} + shmem ${fmtBytes(p.rss_shmem_bytes)}   swap ${fmtBytes(p.swap_bytes)}   VSZ ${fmtBytes(p.vsz_bytes)}   threads ${p.threads}`),
      esc(`disk read ${fmtBytes(p.read_bytes_per_s)}/s  write ${fmtBytes(p.write_bytes_per_s)}/s   through syscalls: read ${fmtBytes(p.rchar_per_s)}/s  write ${fmtBytes(p.wchar_per_s)}/s`),
      esc(`command line: ${p.cmdline === null ? NA : safeName(p.cmdline) || '(kernel thread)'}`),
      esc(`cgroup: ${p.cgroup === null ? NA : safeName(p.cgroup)}`),
    );
  }
  return lines;
}

/** A picker list with the current item highlighted, scrolled to keep it visible. */
export function pickerLines(p: Picker, height: number): string[] {
  const lines = [title(p.title), tone('dim', '↑↓ move, Enter choose, Esc cancel')];
  const room = Math.max(1, height - lines.length);
  const top = Math.max(0, Math.min(p.index - Math.floor(room / 2), p.items.length - room));
  for (let i = top; i < Math.min(p.items.length, top + room); i++) {
    const item = p.items[i];
    const box = item.checked === undefined ? '' : item.checked ? '[x] ' : '[ ] ';
    const text = fit(` ${box}${item.label}`, 30);
    lines.push(i === p.index ? tone('selected', esc(text)) : esc(text));
  }
  return lines;
}

/** A confirmation question. */
export function confirmLines(c: Confirm): string[] {
  return [title('Confirm'), '', paint('warn', safeName(c.question))];
}

/** The tone of a severity. */
export function severityTone(s: Severity): 'crit' | 'warn' | 'title' {
  return s === 'crit' ? 'crit' : s === 'warn' ? 'warn' : 'title';
}

/** Words wrapped to lines of at most `width` columns. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Every active hint, the selected one with its explanation. */
export function whyLines(hints: readonly Hint[], why: WhyList, width: number): string[] {
  const lines = [title('Why: active hints'), tone('dim', esc('↑↓ choose, Enter go to what it is about, Esc back')), ''];
  if (hints.length === 0) return [...lines, esc('No hints are active: nothing unusual in the last samples.')];
  hints.forEach((h, i) => {
    const head = `${h.severity.toUpperCase().padEnd(4)} ${h.message}`;
    lines.push(i === why.index ? tone('selected', esc(fit(head, width))) : paint(severityTone(h.severity), head));
    if (i === why.index) {
      for (const l of wrap(h.explain, Math.max(20, width - 6))) lines.push(esc(`      ${l}`));
      lines.push('');
    }
  });
  return lines;
}
