/**
 * The label *counts* of a batch from the last layer's observed bias gradient.
 *
 * With per-sample output gradient δ_b = s·(f(z_b) − onehot(y_b)) the bias gradient is
 *   ∂b_j = s · (Σ_b f(z_b)_j − n_j),      n_j = #{b : y_b = j},
 * where for mean cross-entropy f = softmax and s = 1/B, and for the seed's Σ(z − onehot)² f = id
 * and s = 2. The attacker does not see the batch's Σ_b f(z_b), so it estimates it — Geng et al.
 * 2021 ("Towards General Deep Leakage in Federated Learning") replace it by B times the mean
 * softmax. We condition that expectation on the class, A[k][j] = E[f(z)_j | y = k], measured with
 * the known (server's) parameters on labelled public data (here MNIST's test set, as Wainakh et
 * al.'s LLG* use auxiliary data), so that the estimate follows the counts themselves:
 *   ∂b/s = (Aᵀ − I)·n,  Σ_j n_j = B,  n_j ∈ ℕ.
 * For B ≤ EXHAUSTIVE_MAX every count vector is tried and the one with the least squared residual
 * wins; beyond that the least-squares solution is rounded under the same constraints. Under
 * cross-entropy ∂b_j < 0 implies n_j ≥ 1 (Σ softmax ≥ 0), which prunes the search — unless more
 * entries are negative than the batch has images: the upload is not the plain gradient (noise, a
 * quantizer), the implication fails, and the search runs without it (the counts always sum to B). An entry that
 * is exactly 0 was not sent (DGC): it is left out of the residual rather than matched as a zero.
 * Not exact in general: measured exact counts on untrained models in docs/batches.md.
 */
import { tf } from "../core/tf";
import { NUM_CLASSES, type MnistSplit } from "../data/mnist";
import { gatherBatch } from "../data/batcher";
import { inferLabelLargest } from "./labels";
import { pixelsOf, type Model } from "../models/model";
import type { VictimLoss } from "../models/losses";

/** What the attacker knows to turn a bias gradient into counts. */
export interface LabelCountPrior {
  loss: VictimLoss;
  /** A[k·C + j] = E[f(z)_j | y = k] over the public data, row-major C × C. */
  expected: Float64Array;
}

/** Labelled public images (the attacker's auxiliary data), [n × 784] and n labels. */
export interface PublicData {
  x: Float32Array;
  y: ArrayLike<number>;
}

/** Estimates A from public data with the victim's (known) parameters; chunked to bound memory. */
export function labelCountPrior(model: Model, params: readonly tf.Tensor[], pub: PublicData, loss: VictimLoss): LabelCountPrior {
  const C = model.classes;
  const PIXELS = pixelsOf(model);
  const n = pub.y.length;
  const sums = new Float64Array(C * C);
  const seen = new Float64Array(C);
  const chunk = 500;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const out = tf.tidy(() => {
      const z = model.forward(params, tf.tensor2d(pub.x.subarray(s * PIXELS, (s + m) * PIXELS), [m, PIXELS]));
      return (loss === "ce" ? tf.softmax(z) : z).dataSync();
    });
    for (let i = 0; i < m; i++) {
      const k = pub.y[s + i];
      seen[k]++;
      for (let j = 0; j < C; j++) sums[k * C + j] += out[i * C + j];
    }
  }
  for (let k = 0; k < C; k++) {
    if (seen[k] === 0) throw new Error(`labelCountPrior: the public data has no image of class ${k}`);
    for (let j = 0; j < C; j++) sums[k * C + j] /= seen[k];
  }
  return { loss, expected: sums };
}

export const EXHAUSTIVE_MAX = 8;

/** Squared residual ‖(Aᵀ − I)n − r‖² over the sent coordinates. */
function residual(A: Float64Array, n: ArrayLike<number>, r: ArrayLike<number>, sent: Uint8Array, C: number): number {
  let total = 0;
  for (let j = 0; j < C; j++) {
    if (!sent[j]) continue;
    let s = -n[j] - r[j];
    for (let k = 0; k < C; k++) s += A[k * C + j] * n[k];
    total += s * s;
  }
  return total;
}

/** Least squares of (Aᵀ − I)n = r with the row Σn = B appended (normal equations, Gauss–Jordan). */
function leastSquares(A: Float64Array, r: ArrayLike<number>, sent: Uint8Array, batch: number, C: number): Float64Array {
  const rows: [Float64Array, number][] = [];
  for (let j = 0; j < C; j++) if (sent[j]) rows.push([Float64Array.from({ length: C }, (_, k) => A[k * C + j] - (j === k ? 1 : 0)), r[j]]);
  rows.push([new Float64Array(C).fill(1), batch]);
  const N = Array.from({ length: C }, () => new Float64Array(C + 1));
  for (const [a, b] of rows) {
    for (let i = 0; i < C; i++) {
      for (let k = 0; k < C; k++) N[i][k] += a[i] * a[k];
      N[i][C] += a[i] * b;
    }
  }
  for (let i = 0; i < C; i++) {
    let p = i;
    for (let q = i + 1; q < C; q++) if (Math.abs(N[q][i]) > Math.abs(N[p][i])) p = q;
    [N[i], N[p]] = [N[p], N[i]];
    for (let q = 0; q < C; q++) {
      if (q === i || N[i][i] === 0) continue;
      const f = N[q][i] / N[i][i];
      for (let k = i; k <= C; k++) N[q][k] -= f * N[i][k];
    }
  }
  return Float64Array.from({ length: C }, (_, i) => (N[i][i] === 0 ? 0 : N[i][C] / N[i][i]));
}

/** Rounds estimates to counts ≥ floor, summing to B (largest remainder first). */
function roundCounts(est: Float64Array, floor: Int32Array, batch: number): Int32Array {
  const C = est.length;
  const n = Int32Array.from(est, (v, j) => Math.max(floor[j], Math.floor(Math.max(0, v))));
  let total = n.reduce((a, b) => a + b, 0);
  while (total < batch) {
    let best = 0;
    for (let j = 1; j < C; j++) if (est[j] - n[j] > est[best] - n[best]) best = j;
    n[best]++;
    total++;
  }
  while (total > batch) {
    let best = -1;
    for (let j = 0; j < C; j++) if (n[j] > floor[j] && (best < 0 || est[j] - n[j] < est[best] - n[best])) best = j;
    if (best < 0) break; // the floors alone exceed B: keep them
    n[best]--;
    total--;
  }
  return n;
}

/** The counts n_j (length C, summing to B) from the observed bias gradient. */
export function inferLabelCounts(dBias: ArrayLike<number>, batch: number, prior: LabelCountPrior): Int32Array {
  const C = dBias.length;
  const s = prior.loss === "ce" ? 1 / batch : 2;
  const r = Float64Array.from(dBias, (d) => d / s);
  const sent = Uint8Array.from(dBias, (d) => (d !== 0 ? 1 : 0));
  // under cross-entropy a negative entry means the class is present; more negatives than images
  // (Gaussian noise on the upload) contradict that, and floors summing past B would give B' ≠ B labels
  const negatives = Array.from(dBias).filter((d) => prior.loss === "ce" && d < 0).length;
  const floor = Int32Array.from(dBias, (d) => (prior.loss === "ce" && d < 0 && negatives <= batch ? 1 : 0));
  if (batch > EXHAUSTIVE_MAX) return roundCounts(leastSquares(prior.expected, r, sent, batch, C), floor, batch);
  let best: Int32Array = new Int32Array(C);
  let bestR = Infinity;
  const n = new Int32Array(C);
  const visit = (j: number, left: number): void => {
    if (j === C - 1) {
      if (left < floor[j]) return;
      n[j] = left;
      const v = residual(prior.expected, n, r, sent, C);
      if (v < bestR) {
        bestR = v;
        best = n.slice();
      }
      return;
    }
    for (let v = floor[j]; v <= left; v++) {
      n[j] = v;
      visit(j + 1, left - v);
    }
  };
  visit(0, batch);
  return best;
}

/** The multiset of counts as B labels in class order (which sample gets which is arbitrary). */
export function countsToLabels(counts: ArrayLike<number>): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < counts.length; j++) for (let c = 0; c < counts[j]; c++) out.push(j);
  return Int32Array.from(out);
}

/** One-hot rows [B × C] for the given labels. */
export function labelRows(labels: ArrayLike<number>, classes = NUM_CLASSES): Float32Array {
  const y = new Float32Array(labels.length * classes);
  for (let b = 0; b < labels.length; b++) y[b * classes + labels[b]] = 1;
  return y;
}

/** Counts per class of a list of labels. */
export function labelCounts(labels: ArrayLike<number>, classes = NUM_CLASSES): Int32Array {
  const n = new Int32Array(classes);
  for (let i = 0; i < labels.length; i++) n[labels[i]]++;
  return n;
}

/** The attacker's public knowledge: labelled images (for the counts) and the training set's mean image. */
export interface PublicPrior {
  labelled: PublicData;
  mean: Float32Array;
  /**
   * Count priors already computed, keyed by model/seed/loss (the parameters are a function of the
   * run's seed): a study attacking one seed many times computes each once.
   */
  cache?: Map<string, LabelCountPrior>;
}

/** The first `n` images of a split as public labelled data. */
export function publicData(split: MnistSplit, n = 1000): PublicData {
  return gatherBatch(split, Int32Array.from({ length: Math.min(n, split.n) }, (_, i) => i));
}

export interface BatchLabels {
  /** Inferred counts per class, and one label per sample (in class order). */
  counts: Int32Array;
  labels: Int32Array;
  /** How many bias-gradient entries were sent. */
  biasSent: number;
}

/**
 * The batch's labels from what the attacker observed. With no bias entry sent the counts say
 * nothing, and every sample gets the class whose observed column carries the most energy
 * (`inferLabelLargest`, the adaptive attacker's rule).
 */
export function batchLabels(
  model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number, loss: VictimLoss,
  prior: PublicPrior, cacheKey?: string,
): BatchLabels {
  const dBias = observed[observed.length - 1].dataSync();
  const biasSent = Array.from(dBias).filter((d) => d !== 0).length;
  let counts: Int32Array;
  if (biasSent > 0) {
    const key = `${model.kind}/${cacheKey}/${loss}`;
    const countPrior = (cacheKey !== undefined ? prior.cache?.get(key) : undefined) ?? labelCountPrior(model, params, prior.labelled, loss);
    if (cacheKey !== undefined) prior.cache?.set(key, countPrior);
    counts = inferLabelCounts(dBias, batch, countPrior);
  } else {
    counts = new Int32Array(dBias.length);
    counts[inferLabelLargest(observed[observed.length - 2].dataSync(), dBias)] = batch;
  }
  return { counts, labels: countsToLabels(counts), biasSent };
}
