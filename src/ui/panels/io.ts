// The I/O view: disks and network interfaces with their recent history, the threads blocked in D
// next to the busiest disk, and the processes reading and writing the most.
import type { DiskFrame, Frame, NetFrame } from '../../model/frame.js';
import { fit, fmtBytes, fmtCount, fmtDuration, fmtPct, NA, safeName } from '../format.js';
import { esc, paint, tone } from '../style.js';
import { sparkline } from './bars.js';

/** Recent values per device (disk busy %, interface bytes/s), one per frame, kept by the app across frames. */
export type DeviceSeries = ReadonlyMap<string, ReadonlyArray<number | null>>;

/** Threads in D listed under the busiest disk, at most. */
const D_THREADS_SHOWN = 5;

function title(text: string): string {
  return tone('title', tone('bold', esc(text)));
}

/** A header row across the full width: the name and sparkline columns left-aligned, the numbers right-aligned. */
function headerRow(cells: string[], widths: number[], width: number): string {
  return tone('header', esc(fit(cells.map((c, i) => fit(c, widths[i], i > 0 && i < cells.length - 1)).join(' '), width)));
}

/** The span a sparkline of `columns` frames covers at the frame's interval: "30s" (whole seconds from 1 s up). */
function sparkSpan(columns: number, intervalS: number): string {
  const ms = columns * intervalS * 1000;
  return fmtDuration(ms >= 1000 ? Math.round(ms / 1000) * 1000 : ms);
}

/** Rx + tx bytes per second of an interface; null when neither is known. */
function netBytesPerSec(n: NetFrame): number | null {
  return n.rx_bytes_per_s === null && n.tx_bytes_per_s === null ? null : (n.rx_bytes_per_s ?? 0) + (n.tx_bytes_per_s ?? 0);
}

/** The first rows of `items` that fit in `room` lines, the last line saying how many more there are when not all fit. */
function capped<T>(items: readonly T[], room: number, more: (k: number) => string): { shown: readonly T[]; moreLine: string | null } {
  if (items.length <= room) return { shown: items, moreLine: null };
  const shown = items.slice(0, Math.max(1, room - 1));
  return { shown, moreLine: tone('dim', esc(`  +${items.length - shown.length} ${more(items.length - shown.length)}`)) };
}

/**
 * Lines for the two device tables (rows and "+k more" lines, headers excluded): each gets what it
 * needs up to half of `room`, and what one leaves the other may use.
 */
function splitRoom(disks: number, nets: number, room: number): { diskRoom: number; netRoom: number } {
  const half = Math.floor(room / 2);
  const diskRoom = Math.max(1, Math.min(disks, Math.max(half, room - nets)));
  return { diskRoom, netRoom: Math.max(1, room - diskRoom) };
}

/** A disk's row: loop devices marked and dimmed (their I/O also lands on the disk holding the file). */
function diskRow(d: DiskFrame, widths: number[], busySpark: string): string {
  const busy = d.busy_pct ?? 0;
  const cells = [
    fit(safeName(d.name) + (d.loop ? ' (loop)' : ''), widths[0]),
    fit(fmtCount(d.reads_per_s), widths[1], true),
    fit(fmtCount(d.writes_per_s), widths[2], true),
    fit(fmtBytes(d.read_bytes_per_s), widths[3], true),
    fit(fmtBytes(d.write_bytes_per_s), widths[4], true),
    fit(d.await_ms === null ? NA : d.await_ms.toFixed(1), widths[5], true),
    fit(d.queue_depth === null ? NA : d.queue_depth.toFixed(1), widths[6], true),
  ];
  const pct = fit(fmtPct(d.busy_pct), widths[7], true);
  const text = esc(cells.join(' '));
  return `${d.loop ? tone('dim', text) : text} ${busy >= 90 ? paint('crit', pct) : busy >= 50 ? paint('warn', pct) : esc(pct)} ${paint('user', busySpark)}`;
}

/** An interface's row: lo (and other loopback interfaces) marked and dimmed. */
function netRow(n: NetFrame, widths: number[], bytesSpark: string): string {
  const errs = (n.rx_errors_per_s ?? 0) + (n.tx_errors_per_s ?? 0);
  const drops = (n.rx_drops_per_s ?? 0) + (n.tx_drops_per_s ?? 0);
  const cells = [
    fit(safeName(n.name) + (n.loopback ? ' (loopback)' : ''), widths[0]),
    fit(fmtBytes(n.rx_bytes_per_s), widths[1], true),
    fit(fmtBytes(n.tx_bytes_per_s), widths[2], true),
    fit(fmtCount(n.rx_packets_per_s), widths[3], true),
    fit(fmtCount(n.tx_packets_per_s), widths[4], true),
    fit(fmtCount(errs), widths[5], true),
    fit(fmtCount(drops), widths[6], true),
  ];
  const line = esc(cells.slice(0, 5).join(' ')) + ' ' + (errs > 0 ? paint('warn', cells[5]) : esc(cells[5])) + ' ' + (drops > 0 ? paint('warn', cells[6]) : esc(cells[6]));
  return `${n.loopback ? tone('dim', line) : line} ${paint('title', bytesSpark)}`;
}

/**
 * Lines of the I/O view. `diskBusy` and `netBytes` hold each device's recent values; the tables
 * show the busiest devices that fit, so that the threads in D and the processes stay on screen.
 */
export function ioView(frame: Frame, diskBusy: DeviceSeries, netBytes: DeviceSeries, width: number, height: number): string[] {
  const spark = Math.max(8, Math.min(30, width - 94));
  const lines = [title(`I/O: disks and network interfaces (busy: share of time the device had I/O in flight; sparklines: last ${sparkSpan(spark, frame.interval_s)})`)];
  const disks = [...frame.disks].sort((a, b) => (b.busy_pct ?? 0) - (a.busy_pct ?? 0));
  const nets = [...frame.nets].sort((a, b) => (netBytesPerSec(b) ?? 0) - (netBytesPerSec(a) ?? 0));
  const blocked = frame.threads.filter((t) => t.state === 'D');
  // Title, two headers, the blank between the tables; then blank, D title and rows, blank, process title, one process.
  const reserved = 4 + 5 + Math.min(D_THREADS_SHOWN, Math.max(1, blocked.length));
  const { diskRoom, netRoom } = splitRoom(disks.length, nets.length, Math.max(2, height - reserved));

  const dw = [16, 7, 7, 8, 8, 8, 6, 6];
  lines.push(headerRow(['DISK', 'READ/s', 'WRITE/s', 'RD B/s', 'WR B/s', 'AWAIT ms', 'QUEUE', 'BUSY%', 'busy'], [...dw, spark], width));
  if (disks.length === 0) lines.push(tone('dim', esc('no block devices (or /proc/diskstats not readable)')));
  const diskRows = capped(disks, diskRoom, (k) => `more disk${k === 1 ? '' : 's'}, less busy`);
  for (const d of diskRows.shown) lines.push(diskRow(d, dw, sparkline([...(diskBusy.get(d.name) ?? [])], spark)));
  if (diskRows.moreLine) lines.push(diskRows.moreLine);
  lines.push('');

  const nw = [16, 9, 9, 9, 9, 7, 7];
  lines.push(headerRow(['INTERFACE', 'RX B/s', 'TX B/s', 'RX pkt/s', 'TX pkt/s', 'ERR/s', 'DROP/s', 'rx+tx bytes'], [...nw, spark], width));
  const netRows = capped(nets, netRoom, (k) => `more interface${k === 1 ? '' : 's'}, less traffic`);
  for (const n of netRows.shown) lines.push(netRow(n, nw, sparkline([...(netBytes.get(n.name) ?? [])], spark)));
  if (netRows.moreLine) lines.push(netRows.moreLine);
  lines.push('');

  const busiest = disks[0];
  lines.push(title(`Threads in D${busiest ? ` (busiest disk: ${safeName(busiest.name)}, ${fmtPct(busiest.busy_pct)}% busy)` : ''}`));
  if (blocked.length === 0) lines.push(tone('dim', esc('none right now')));
  for (const t of blocked.slice(0, D_THREADS_SHOWN)) lines.push(esc(`  ${String(t.tid).padStart(7)} ${fit(t.wchan ? safeName(t.wchan) : NA, 20)} ${safeName(t.comm)}`));
  lines.push('', title('Processes by disk reads + writes per second'));
  const diskBytes = (p: Frame['processes'][number]): number => (p.read_bytes_per_s ?? 0) + (p.write_bytes_per_s ?? 0);
  const top = frame.processes
    .filter((p) => diskBytes(p) > 0)
    .sort((a, b) => diskBytes(b) - diskBytes(a))
    .slice(0, Math.max(1, height - lines.length - 1));
  if (top.length === 0) lines.push(tone('dim', esc('no process read from or wrote to storage in the last interval')));
  for (const p of top) lines.push(esc(`  ${String(p.pid).padStart(7)} read ${fit(fmtBytes(p.read_bytes_per_s) + '/s', 9, true)} write ${fit(fmtBytes(p.write_bytes_per_s) + '/s', 9, true)}  ${safeName(p.comm)}`));
  return lines;
}
