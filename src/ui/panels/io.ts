// The I/O view: disks and network interfaces with their recent history, the threads blocked in D
// next to the busiest disk, and the processes reading and writing the most.
import type { Frame } from '../../model/frame.js';
import { fit, fmtBytes, fmtCount, fmtPct, NA, safeName } from '../format.js';
import { esc, paint, tone } from '../style.js';
import { sparkline } from './bars.js';

/** Recent values per device (disk busy %, interface bytes/s), kept by the app across frames. */
export type DeviceSeries = ReadonlyMap<string, ReadonlyArray<number | null>>;

function title(text: string): string {
  return tone('title', tone('bold', esc(text)));
}

/** A header row across the full width. */
function headerRow(cells: string[], widths: number[], width: number): string {
  return tone('header', esc(fit(cells.map((c, i) => fit(c, widths[i], i > 0)).join(' '), width)));
}

/** Lines of the I/O view. `diskBusy` and `netBytes` hold each device's last minute. */
export function ioView(frame: Frame, diskBusy: DeviceSeries, netBytes: DeviceSeries, width: number, height: number): string[] {
  const lines = [title('I/O: disks and network interfaces (busy: share of time the device had I/O in flight)')];
  const spark = Math.max(8, Math.min(30, width - 90));
  const disks = [...frame.disks].sort((a, b) => (b.busy_pct ?? 0) - (a.busy_pct ?? 0));
  const dw = [12, 7, 7, 8, 8, 8, 6, 6, spark];
  lines.push(headerRow(['DISK', 'READ/s', 'WRITE/s', 'RD B/s', 'WR B/s', 'AWAIT ms', 'QUEUE', 'BUSY%', 'busy, last minute'], dw, width));
  if (disks.length === 0) lines.push(tone('dim', esc('no block devices (or /proc/diskstats not readable)')));
  for (const d of disks.slice(0, Math.max(1, Math.floor(height / 3) - 2))) {
    const busy = d.busy_pct ?? 0;
    const cells = [
      fit(safeName(d.name), dw[0]),
      fit(fmtCount(d.reads_per_s), dw[1], true),
      fit(fmtCount(d.writes_per_s), dw[2], true),
      fit(fmtBytes(d.read_bytes_per_s), dw[3], true),
      fit(fmtBytes(d.write_bytes_per_s), dw[4], true),
      fit(d.await_ms === null ? NA : d.await_ms.toFixed(1), dw[5], true),
      fit(d.queue_depth === null ? NA : d.queue_depth.toFixed(1), dw[6], true),
      fit(fmtPct(d.busy_pct), dw[7], true),
    ];
    const line = esc(cells.slice(0, 7).join(' ')) + ' ' + (busy >= 90 ? paint('crit', cells[7]) : busy >= 50 ? paint('warn', cells[7]) : esc(cells[7]));
    lines.push(`${line} ${paint('user', sparkline([...(diskBusy.get(d.name) ?? [])], spark))}`);
  }
  lines.push('');
  const nw = [16, 9, 9, 9, 9, 7, 7, spark];
  lines.push(headerRow(['INTERFACE', 'RX B/s', 'TX B/s', 'RX pkt/s', 'TX pkt/s', 'ERR/s', 'DROP/s', 'rx+tx bytes, last minute'], nw, width));
  for (const n of frame.nets) {
    const errs = (n.rx_errors_per_s ?? 0) + (n.tx_errors_per_s ?? 0);
    const drops = (n.rx_drops_per_s ?? 0) + (n.tx_drops_per_s ?? 0);
    const cells = [
      fit(safeName(n.name) + (n.loopback ? ' (loopback)' : ''), nw[0]),
      fit(fmtBytes(n.rx_bytes_per_s), nw[1], true),
      fit(fmtBytes(n.tx_bytes_per_s), nw[2], true),
      fit(fmtCount(n.rx_packets_per_s), nw[3], true),
      fit(fmtCount(n.tx_packets_per_s), nw[4], true),
      fit(fmtCount(errs), nw[5], true),
      fit(fmtCount(drops), nw[6], true),
    ];
    const line = esc(cells.slice(0, 5).join(' ')) + ' ' + (errs > 0 ? paint('warn', cells[5]) : esc(cells[5])) + ' ' + (drops > 0 ? paint('warn', cells[6]) : esc(cells[6]));
    lines.push(`${n.loopback ? tone('dim', line) : line} ${paint('title', sparkline([...(netBytes.get(n.name) ?? [])], spark))}`);
  }
  lines.push('');
  const busiest = disks[0];
  const blocked = frame.threads.filter((t) => t.state === 'D');
  lines.push(title(`Threads in D${busiest ? ` (busiest disk: ${safeName(busiest.name)}, ${fmtPct(busiest.busy_pct)}% busy)` : ''}`));
  if (blocked.length === 0) lines.push(tone('dim', esc('none right now')));
  for (const t of blocked.slice(0, 5)) lines.push(esc(`  ${String(t.tid).padStart(7)} ${fit(t.wchan ? safeName(t.wchan) : NA, 20)} ${safeName(t.comm)}`));
  lines.push('', title('Processes by disk reads + writes per second'));
  const top = frame.processes
    .filter((p) => (p.read_bytes_per_s ?? 0) + (p.write_bytes_per_s ?? 0) > 0)
    .sort((a, b) => (b.read_bytes_per_s ?? 0) + (b.write_bytes_per_s ?? 0) - ((a.read_bytes_per_s ?? 0) + (a.write_bytes_per_s ?? 0)))
    .slice(0, Math.max(1, height - lines.length - 1));
  if (top.length === 0) lines.push(tone('dim', esc('no process read from or wrote to storage in the last interval')));
  for (const p of top) lines.push(esc(`  ${String(p.pid).padStart(7)} read ${fit(fmtBytes(p.read_bytes_per_s) + '/s', 9, true)} write ${fit(fmtBytes(p.write_bytes_per_s) + '/s', 9, true)}  ${safeName(p.comm)}`));
  return lines;
}
