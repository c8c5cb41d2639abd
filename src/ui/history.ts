// The last minute of a few per-thread rates, for the detail view's sparklines.
import type { Frame } from '../model/frame.js';

/** Series kept per thread. */
export const HISTORY_SERIES = ['cpu_pct', 'csw_per_s', 'rwsc_per_s'] as const;

/** Name of a kept series. */
export type HistorySeries = (typeof HISTORY_SERIES)[number];

/** Recent values of each series for one thread (oldest first, null: no value that frame). */
export type ThreadSeries = Record<HistorySeries, Array<number | null>>;

/** Keeps the last `length` frames' values per thread; threads that exit are forgotten. */
export class ThreadHistory {
  private readonly byTid = new Map<number, { comm: string; series: ThreadSeries }>();

  constructor(private readonly length = 60) {}

  /** Appends one frame's values. */
  add(frame: Frame): void {
    const seen = new Set<number>();
    for (const t of frame.threads) {
      seen.add(t.tid);
      let entry = this.byTid.get(t.tid);
      if (!entry || entry.comm !== t.comm) {
        entry = { comm: t.comm, series: { cpu_pct: [], csw_per_s: [], rwsc_per_s: [] } };
        this.byTid.set(t.tid, entry);
      }
      const csw = t.vcsw_per_s === null && t.ivcsw_per_s === null ? null : (t.vcsw_per_s ?? 0) + (t.ivcsw_per_s ?? 0);
      const rwsc = t.syscr_per_s === null && t.syscw_per_s === null ? null : (t.syscr_per_s ?? 0) + (t.syscw_per_s ?? 0);
      this.push(entry.series.cpu_pct, t.cpu_pct);
      this.push(entry.series.csw_per_s, csw);
      this.push(entry.series.rwsc_per_s, rwsc);
    }
    for (const tid of this.byTid.keys()) if (!seen.has(tid)) this.byTid.delete(tid);
  }

  /** The series of one thread, or null when it has none. */
  get(tid: number): ThreadSeries | null {
    return this.byTid.get(tid)?.series ?? null;
  }

  private push(list: Array<number | null>, value: number | null): void {
    list.push(value);
    if (list.length > this.length) list.shift();
  }
}
