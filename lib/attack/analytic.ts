/**
 * The analytic attack on a first layer that is Linear with a bias (Phong et al. 2017; breaching's
 * "analytic" attack). For one image x and logits z = xW + b (W stored [784, 10], in × out):
 *
 *   ∂L/∂W[i, j] = x_i · ∂L/∂z_j   and   ∂L/∂b[j] = ∂L/∂z_j,   so   x_i = ∂W[i, j] / ∂b[j]
 *
 * for any class j with ∂b[j] ≠ 0, whatever the loss: no optimization, exact to float rounding. We
 * divide by the class with the largest |∂b[j]| (the least rounding). What the attacker knows: the
 * observed gradient and that it is one image's. Under sparsification (DGC, top-k) a zero entry was
 * not sent, so a pixel is recovered only where ∂W[i, j] and ∂b[j] both arrived; the others get `fill`.
 * With B > 1 the same division gives a mixture of the batch's images, not one of them.
 */

export interface AnalyticResult {
  /** [784] the recovered image, `fill` where a pixel was not recovered. */
  x: Float32Array;
  /** 1 where the pixel was recovered from the gradient. */
  recovered: Uint8Array;
  recoveredCount: number;
  /** The class whose column was divided by, or null when no bias entry arrived. */
  classUsed: number | null;
}

/**
 * `dense`: the attacker knows nothing was dropped (no sparsification), so a zero entry is the value 0
 * (a pixel exactly 0), not "not sent".
 */
export function analyticLinear(weightGrad: ArrayLike<number>, biasGrad: ArrayLike<number>, fill?: ArrayLike<number>, dense = false): AnalyticResult {
  const classes = biasGrad.length;
  const features = weightGrad.length / classes;
  if (!Number.isInteger(features)) throw new Error(`weight gradient of ${weightGrad.length} entries does not match a bias of ${classes}`);
  if (fill && fill.length !== features) throw new Error(`fill has ${fill.length} entries, expected ${features}`);
  let j: number | null = null;
  for (let c = 0; c < classes; c++) if (biasGrad[c] !== 0 && (j === null || Math.abs(biasGrad[c]) > Math.abs(biasGrad[j]))) j = c;
  const x = new Float32Array(features);
  const recovered = new Uint8Array(features);
  let recoveredCount = 0;
  for (let i = 0; i < features; i++) {
    const w = j === null ? 0 : weightGrad[i * classes + j];
    if (j !== null && (w !== 0 || dense)) {
      x[i] = w / biasGrad[j];
      recovered[i] = 1;
      recoveredCount++;
    } else {
      x[i] = fill ? fill[i] : 0;
    }
  }
  return { x, recovered, recoveredCount, classUsed: j };
}

/** The analytic attack needs a Linear model's [pixels × classes] weight and [classes] bias gradients (MNIST: 784 × 10). */
export function analyticApplies(paramShapes: readonly (readonly number[])[]): boolean {
  const [w, b] = paramShapes;
  return paramShapes.length === 2 && w.length === 2 && b.length === 1 && w[1] === b[0] && w[0] > 0;
}
