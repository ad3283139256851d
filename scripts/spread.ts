/**
 * Statistics for paired timings on a shared machine (scripts/bench.ts and scripts/paired.ts): runs of
 * A and B alternate, A B A B …, and what is reported is the median of the per-pair ratios A/B with its
 * spread, since a burst of load from other work hits both sides of a pair more often than not.
 */

/** summary's median (the two middle values averaged for an even count; NaN for none, as this file's own gave). */
import { medianOrNaN as median } from "../lib/study/summary";
export { median };

/** The q-quantile (0..1), linear between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (at - lo) : s[lo];
}

export interface Spread {
  min: number;
  median: number;
  max: number;
  /** interquartile range over the median (0.1: the middle half within ±5 % of it) */
  iqr_rel: number;
}

export function spread(xs: readonly number[]): Spread {
  const m = median(xs);
  return { min: Math.min(...xs), median: m, max: Math.max(...xs), iqr_rel: (quantile(xs, 0.75) - quantile(xs, 0.25)) / m };
}

/** A pair is flagged when its ratio is more than this factor off the median ratio (either way). */
export const WILD = 1.5;

/** Indices of the pairs whose ratio is more than WILD× off the median of all pairs. */
export function wildPairs(ratios: readonly number[]): number[] {
  const m = median(ratios);
  return ratios.flatMap((r, i) => (r > m * WILD || r < m / WILD ? [i] : []));
}

/**
 * Whether the median ratio has settled: its interquartile range within ±`tol`/2 of the median and
 * fewer than a quarter of the pairs flagged. Callers run at least a minimum of pairs, then add pairs
 * until this holds or a maximum is reached.
 */
export function settled(ratios: readonly number[], tol = 0.2): boolean {
  return ratios.length >= 3 && spread(ratios).iqr_rel <= tol && wildPairs(ratios).length * 4 < ratios.length;
}

/** "0.62× (0.55–0.71)" */
export const fmtRatio = (s: Spread): string => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
