// Statistics of the benchmarks' repeated measurements: medians, quartiles and ranges.

/** Median, quartiles and range of a set of measurements. */
export interface Summary {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
}

/** The finite values of `values`, sorted ascending (NaN and ±Infinity dropped). */
export function sortedFinite(values: readonly number[]): number[] {
  return values.filter(Number.isFinite).sort((a, b) => a - b);
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, interpolated between neighbours; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, quartiles and range of the finite values, or null when there are none. */
export function summarize(values: readonly number[]): Summary | null {
  const s = sortedFinite(values);
  if (s.length === 0) return null;
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0], max: s[s.length - 1] };
}

/** Median of the finite values (the mean of the middle two when their count is even), or null when there are none. */
export function median(values: readonly number[]): number | null {
  const v = sortedFinite(values);
  if (v.length === 0) return null;
  const mid = (v.length - 1) / 2;
  return (v[Math.floor(mid)] + v[Math.ceil(mid)]) / 2;
}

/** The value at index ⌊n/2⌋ of `values` sorted (the upper of the middle two when n is even); no filtering. */
export function upperMedian(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
