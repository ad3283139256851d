/**
 * Label inference from an observed gradient, before DLG starts.
 */
import { NUM_CLASSES } from "../data/mnist";

/**
 * The seed's rule (PrivBox `_attack_label`, after iDLG): with the last layer's weight gradient dW
 * stored [features, classes], form M = dWᵀ dW; for i = 0..9 zero M[i][i] and return the first i
 * whose row is all ≤ 0. Falls back to 0. (Under DGC most of dW is zero, so rows are often all
 * zero, hence ≤ 0, and the rule answers the first such class.)
 */
export function inferLabelGram(dW: ArrayLike<number>, classes = NUM_CLASSES): number {
  const features = dW.length / classes;
  const M = new Float64Array(classes * classes);
  for (let f = 0; f < features; f++) {
    const row = f * classes;
    for (let i = 0; i < classes; i++) {
      const a = dW[row + i];
      if (a === 0) continue;
      for (let j = 0; j < classes; j++) M[i * classes + j] += a * dW[row + j];
    }
  }
  for (let i = 0; i < classes; i++) {
    M[i * classes + i] = 0;
    let allLe0 = true;
    for (let j = 0; j < classes; j++) if (M[i * classes + j] > 0) allLe0 = false;
    if (allLe0) return i;
  }
  return 0;
}

/**
 * iDLG's rule (Zhao et al. 2020) read off the last layer's bias gradient: for a loss whose
 * gradient with respect to the output is negative only at the true class (cross-entropy; and the
 * seed's Σ(pred − onehot)² while pred < 1), the true class has the smallest bias gradient.
 * The bias is used rather than the weight because MNIST inputs here lie in [−1, 1], so the weight
 * gradient's sign depends on the pixels as well.
 */
export function inferLabelIdlg(dBias: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < dBias.length; j++) if (dBias[j] < dBias[best]) best = j;
  return best;
}

/**
 * A rule that survives sparsification: the class whose column of the last layer's *observed*
 * gradient (weight column and bias entry together) carries the most energy. For one sample, column
 * j of dW is x·δ_j with δ = ∂loss/∂logits; under cross-entropy |δ_y| = 1 − p_y dominates while the
 * model is untrained, so top-k keeps mostly that column — and the rules above, which need the
 * other columns or the bias, see zeros. Returns 0 when nothing was received.
 */
export function inferLabelLargest(dW: ArrayLike<number>, dBias: ArrayLike<number>, classes = NUM_CLASSES): number {
  const energy = new Float64Array(classes);
  for (let i = 0; i < dW.length; i++) energy[i % classes] += dW[i] * dW[i];
  for (let j = 0; j < classes; j++) energy[j] += dBias[j] * dBias[j];
  let best = 0;
  for (let j = 1; j < classes; j++) if (energy[j] > energy[best]) best = j;
  return best;
}
