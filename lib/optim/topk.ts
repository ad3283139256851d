/**
 * Thresholds for top-k sparsification: the k-th largest |u|.
 * The exact one reads |u| back and selects in O(n), instead of tf.topk, which sorts; they agree
 * exactly (test/optim/optim.test.ts). It is a radix select on the float32 bit patterns: for x ≥ 0 the
 * pattern read as an unsigned integer orders exactly as x does, so counting the top 11 bits of
 * every entry finds the bucket of the k-th largest, and two more counting passes over that
 * bucket's few entries find the rest: no comparisons or swaps, and one pass over the tensor plus
 * one to collect the bucket (docs/performance.md). The sampled one is DGC's estimate.
 */
import { tf } from "../core/tf";
import type { Rng } from "../core/rng";

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

const histogram = new Int32Array(1 << 11);
let scratch = new Uint32Array(1024);
const asFloat = new Float32Array(1);
const asBits = new Uint32Array(asFloat.buffer);

/**
 * The bucket (digit d of `width` bits at `shift`) holding the rank-th largest key, and the rank
 * left within it.
 */
function pickDigit(keys: Uint32Array, n: number, shift: number, width: number, rank: number): [number, number] {
  const size = 1 << width;
  const mask = size - 1;
  histogram.fill(0, 0, size);
  for (let i = 0; i < n; i++) histogram[(keys[i] >>> shift) & mask]++;
  let d = size - 1;
  while (histogram[d] < rank) rank -= histogram[d--];
  return [d, rank];
}

/** The same on values already in JS (left unchanged): the k-th largest |values[i]|, 1 ≤ k ≤ n. */
export function kthLargestAbsOf(values: Float32Array, k: number): number {
  const n = values.length;
  if (!(k >= 1 && k <= n)) throw new RangeError(`k must be in [1, ${n}], got ${k}`);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  // digit 1: bits 20–30 of |x| (the exponent and 3 mantissa bits), over every entry
  const size = 1 << 11;
  histogram.fill(0, 0, size);
  for (let i = 0; i < n; i++) histogram[(bits[i] & 0x7fffffff) >>> 20]++;
  let top = size - 1;
  let rank = k;
  while (histogram[top] < rank) rank -= histogram[top--];
  // the entries in that bucket (usually a few percent) carry on to digits 2 and 3
  const m = histogram[top];
  if (scratch.length < m) scratch = new Uint32Array(m);
  for (let i = 0, c = 0; c < m; i++) {
    const key = bits[i] & 0x7fffffff;
    if (key >>> 20 === top) scratch[c++] = key;
  }
  const [mid, rank2] = pickDigit(scratch, m, 10, 10, rank);
  let c = 0;
  for (let i = 0; i < m; i++) if (((scratch[i] >>> 10) & 1023) === mid) scratch[c++] = scratch[i];
  const [low] = pickDigit(scratch, c, 0, 10, rank2);
  asBits[0] = (top << 20) | (mid << 10) | low;
  return asFloat[0];
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
