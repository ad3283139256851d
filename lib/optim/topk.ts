/**
 * Thresholds for top-k sparsification.
 */
import { tf } from "../tf";
import type { Rng } from "../rng";

/** The k-th largest value of |u| (k ≥ 1), exact. Returns a scalar tensor. */
export function kthLargestAbs(u: tf.Tensor, k: number): tf.Scalar {
  return tf.tidy(() => {
    const { values } = tf.topk(tf.reshape(tf.abs(u), [-1]), k, true);
    return tf.reshape(tf.slice(values, [k - 1], [1]), []) as tf.Scalar;
  });
}

/**
 * DGC's sampled threshold estimation (Lin et al. 2018, §3): the k-th largest |u| estimated from a
 * random sample of `ratio · n` entries (at least min(n, 64)), i.e. the (k·m/n)-th largest of the
 * sample. Cheaper on large tensors; sends roughly, not exactly, k entries.
 */
export function sampledThresholdAbs(u: tf.Tensor, k: number, ratio: number, rng: Rng): tf.Scalar {
  const n = u.size;
  const m = Math.min(n, Math.max(64, Math.ceil(ratio * n)));
  const idx = new Int32Array(m);
  for (let i = 0; i < m; i++) idx[i] = rng.int(n);
  return tf.tidy(() => {
    const sample = tf.gather(tf.reshape(tf.abs(u), [-1]), tf.tensor1d(idx, "int32"));
    const kS = Math.min(m, Math.max(1, Math.round((k * m) / n)));
    return kthLargestAbs(sample, kS);
  });
}
