// The last minute of a few per-thread rates, for the detail view's sparklines. Kept for every
// thread (the detail of any row must have its past at once) in compact Float32 rings.
import { rwSyscallsPerSec, switchesPerSec } from '../model/frame.js';
import type { Frame } from '../model/frame.js';
import { carriedOver } from '../model/threadState.js';

/** Series kept per thread. */
export const HISTORY_SERIES = ['cpu_pct', 'csw_per_s', 'rwsc_per_s'] as const;

/** Name of a kept series. */
export type HistorySeries = (typeof HISTORY_SERIES)[number];

/** Recent values of each series for one thread (oldest first, null: no value that frame). */
export type ThreadSeries = Record<HistorySeries, Array<number | null>>;

/**
 * Keeps the last `length` frames' values per thread; threads that exit are forgotten. Each thread
 * has a slot in a few shared arrays (a freed slot is reused), so that thousands of threads cost a
 * handful of objects.
 */
export class ThreadHistory {
  private readonly slotOf = new Map<number, number>();
  private readonly free: number[] = [];
  /** Per slot: its thread's name (a new name on the same tid is a new thread). */
  private readonly comms: string[] = [];
  /** Per slot: HISTORY_SERIES.length rings of `length` values each (NaN: no value). */
  private values = new Float32Array(0);
  /** Per slot: frames recorded so far (the newest is at (filled - 1) % length). */
  private filled = new Int32Array(0);
  /** Per slot: the frame count at which its thread was last seen. */
  private seen = new Int32Array(0);
  private frames = 0;
  /** The frame added last, and the slot of each of its threads. */
  private last: { frame: Frame; slots: Int32Array } | null = null;

  constructor(private readonly length = 60) {}

  /** Appends one frame's values. */
  add(frame: Frame): void {
    this.frames++;
    const n = this.length;
    const stride = HISTORY_SERIES.length * n;
    const from = carriedOver(this.last?.frame ?? null, frame);
    const slots = new Int32Array(frame.threads.length);
    for (let i = 0; i < frame.threads.length; i++) {
      const t = frame.threads[i];
      // A thread frame carried over from the last frame is the same thread: it keeps its slot.
      let slot = from[i] >= 0 ? this.last!.slots[from[i]] : this.slotOf.get(t.tid);
      if (slot === undefined || this.comms[slot] !== t.comm) {
        slot ??= this.allocate(t.tid);
        this.comms[slot] = t.comm;
        this.filled[slot] = 0;
        this.values.fill(NaN, slot * stride, (slot + 1) * stride);
      }
      slots[i] = slot;
      const at = slot * stride + (this.filled[slot] % n);
      this.values[at] = t.cpu_pct ?? NaN;
      this.values[at + n] = switchesPerSec(t) ?? NaN;
      this.values[at + 2 * n] = rwSyscallsPerSec(t) ?? NaN;
      this.filled[slot]++;
      this.seen[slot] = this.frames;
    }
    // Every thread of the frame has a slot: more slots in use means some threads are gone.
    if (this.slotOf.size > frame.threads.length) {
      for (const [tid, slot] of this.slotOf) {
        if (this.seen[slot] === this.frames) continue;
        this.slotOf.delete(tid);
        this.free.push(slot);
      }
    }
    this.last = { frame, slots };
  }

  /** The series of one thread, oldest first, or null when it has none. */
  get(tid: number): ThreadSeries | null {
    const slot = this.slotOf.get(tid);
    if (slot === undefined) return null;
    const n = this.length;
    const filled = this.filled[slot];
    const count = Math.min(filled, n);
    const series = (s: number): Array<number | null> => {
      const out: Array<number | null> = [];
      for (let k = filled - count; k < filled; k++) {
        const v = this.values[(slot * HISTORY_SERIES.length + s) * n + (k % n)];
        out.push(Number.isNaN(v) ? null : v);
      }
      return out;
    };
    return { cpu_pct: series(0), csw_per_s: series(1), rwsc_per_s: series(2) };
  }

  /** A slot for `tid`: a freed one, or a new one (the arrays grow by doubling). */
  private allocate(tid: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slotOf.size;
      if (slot >= this.filled.length) {
        const capacity = Math.max(64, 2 * this.filled.length);
        const values = new Float32Array(capacity * HISTORY_SERIES.length * this.length);
        values.set(this.values);
        this.values = values;
        const filled = new Int32Array(capacity);
        filled.set(this.filled);
        this.filled = filled;
        const seen = new Int32Array(capacity);
        seen.set(this.seen);
        this.seen = seen;
      }
    }
    this.slotOf.set(tid, slot);
    return slot;
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
