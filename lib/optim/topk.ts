/**
 * Thresholds for top-k sparsification: the k-th largest |u|.
 * The exact one reads |u| back and selects in O(n) (quickselect), instead of tf.topk, which
 * sorts; the two agree exactly (test/optim.test.ts). The sampled one is DGC's estimate.
 */
import { tf } from "../tf";
import type { Rng } from "../rng";

/** The k-th largest value (1-based) of `a`, rearranging `a` in place; O(n) on average. */
export function quickselectDescending(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    // median of three as the pivot keeps sorted and constant runs from going quadratic
    const mid = (lo + hi) >> 1;
    const p = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > p) i++;
      while (a[j] < p) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/** The k-th largest value of |u| (1 ≤ k ≤ n), exact. */
export function kthLargestAbs(u: tf.Tensor, k: number): number {
  return kthLargestAbsOf(u.dataSync() as Float32Array, k);
}

/** The same on values already in JS (left unchanged). */
export function kthLargestAbsOf(values: Float32Array, k: number): number {
  const abs = new Float32Array(values.length);
  for (let i = 0; i < abs.length; i++) abs[i] = Math.abs(values[i]);
  return quickselectDescending(abs, k);
}

/** The same with tf.topk (a sort), kept as the reference the fast one is tested against. */
export function kthLargestAbsTopk(u: tf.Tensor, k: number): number {
  return tf.tidy(() => tf.topk(tf.reshape(tf.abs(u), [-1]), k, true).values.dataSync()[k - 1]);
}

/**
 * DGC's sampled threshold estimation (Lin et al. 2018, §3): the k-th largest |u| estimated from a
 * random sample of `ratio · n` entries (at least min(n, 64)), i.e. the (k·m/n)-th largest of the
 * sample. Cheaper on large tensors; sends roughly, not exactly, k entries.
 */
export function sampledThresholdAbs(u: tf.Tensor, k: number, ratio: number, rng: Rng): number {
  return sampledThresholdAbsOf(u.dataSync() as Float32Array, k, ratio, rng);
}

/** The same on values already in JS. */
export function sampledThresholdAbsOf(values: Float32Array, k: number, ratio: number, rng: Rng): number {
  const n = values.length;
  const m = Math.min(n, Math.max(64, Math.ceil(ratio * n)));
  const sample = new Float32Array(m);
  for (let i = 0; i < m; i++) sample[i] = Math.abs(values[rng.int(n)]);
  const kS = Math.min(m, Math.max(1, Math.round((k * m) / n)));
  return quickselectDescending(sample, kS);
}
