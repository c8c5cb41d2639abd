// The last minute of a few per-thread rates, for the detail view's sparklines. Kept for every
// thread (the detail of any row must have its past at once) in compact Float32 rings.
import { rwSyscallsPerSec, switchesPerSec } from '../model/frame.js';
import type { Frame } from '../model/frame.js';

/** Series kept per thread. */
export const HISTORY_SERIES = ['cpu_pct', 'csw_per_s', 'rwsc_per_s'] as const;

/** Name of a kept series. */
export type HistorySeries = (typeof HISTORY_SERIES)[number];

/** Recent values of each series for one thread (oldest first, null: no value that frame). */
export type ThreadSeries = Record<HistorySeries, Array<number | null>>;

/** One thread's rings: HISTORY_SERIES.length rings of `length` values (NaN: no value). */
interface Rings {
  comm: string;
  values: Float32Array;
  /** Frames recorded so far (the newest is at (filled - 1) % length). */
  filled: number;
  /** The frame count at which the thread was last seen. */
  seen: number;
}

/** Keeps the last `length` frames' values per thread; threads that exit are forgotten. */
export class ThreadHistory {
  private readonly byTid = new Map<number, Rings>();
  private frames = 0;

  constructor(private readonly length = 60) {}

  /** Appends one frame's values. */
  add(frame: Frame): void {
    this.frames++;
    const n = this.length;
    for (const t of frame.threads) {
      let r = this.byTid.get(t.tid);
      if (!r || r.comm !== t.comm) {
        r = { comm: t.comm, values: new Float32Array(HISTORY_SERIES.length * n).fill(NaN), filled: 0, seen: 0 };
        this.byTid.set(t.tid, r);
      }
      const slot = r.filled % n;
      r.values[slot] = t.cpu_pct ?? NaN;
      r.values[n + slot] = switchesPerSec(t) ?? NaN;
      r.values[2 * n + slot] = rwSyscallsPerSec(t) ?? NaN;
      r.filled++;
      r.seen = this.frames;
    }
    for (const [tid, r] of this.byTid) if (r.seen !== this.frames) this.byTid.delete(tid);
  }

  /** The series of one thread, oldest first, or null when it has none. */
  get(tid: number): ThreadSeries | null {
    const r = this.byTid.get(tid);
    if (!r) return null;
    const n = this.length;
    const count = Math.min(r.filled, n);
    const series = (s: number): Array<number | null> => {
      const out: Array<number | null> = [];
      for (let k = r.filled - count; k < r.filled; k++) {
        const v = r.values[s * n + (k % n)];
        out.push(Number.isNaN(v) ? null : v);
      }
      return out;
    };
    return { cpu_pct: series(0), csw_per_s: series(1), rwsc_per_s: series(2) };
  }
}

/** The last minute of each disk's busy % and each interface's rx+tx bytes/s, for the I/O view. */
export class DeviceHistory {
  readonly diskBusy = new Map<string, Array<number | null>>();
  readonly netBytes = new Map<string, Array<number | null>>();

  constructor(private readonly length = 60) {}

  /** Appends one frame's values; devices that are gone are forgotten. */
  add(frame: Frame): void {
    this.put(this.diskBusy, frame.disks.map((d) => [d.name, d.busy_pct]));
    this.put(this.netBytes, frame.nets.map((n) => [n.name, n.rx_bytes_per_s === null && n.tx_bytes_per_s === null ? null : (n.rx_bytes_per_s ?? 0) + (n.tx_bytes_per_s ?? 0)]));
  }

  private put(series: Map<string, Array<number | null>>, values: Array<[string, number | null]>): void {
    const seen = new Set<string>();
    for (const [name, v] of values) {
      seen.add(name);
      let list = series.get(name);
      if (!list) series.set(name, (list = []));
      list.push(v);
      if (list.length > this.length) list.shift();
    }
    for (const name of series.keys()) if (!seen.has(name)) series.delete(name);
  }
}
