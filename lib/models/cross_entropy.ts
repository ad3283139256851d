/**
 * Mean softmax cross-entropy of a batch computed in JS from logits read back to the host:
 *   loss = (1/B) Σ_i [log Σ_j exp(z_ij) − z_i,y_i]   (log-sum-exp shifted by the row max, float64)
 *   ∂loss/∂z = (softmax(z) − onehot(y)) / B,   correct = #{i : argmax_j z_ij = y_i}.
 * For B × 10 logits these are a few hundred flops, far cheaper than the dozen tfjs ops (and their
 * gradients) of the op-by-op formula in lib/losses.ts, whose per-op overhead dominates small models.
 * First order only: `crossEntropyOp`'s gradient is a constant tensor, not differentiable again.
 */
import { tf } from "../core/tf";

export interface CrossEntropyJS {
  loss: number;
  correct: number;
  /** ∂loss/∂logits, [B × C] */
  d: Float32Array;
}

export function crossEntropyJS(logits: ArrayLike<number>, labels: Int32Array, C: number): CrossEntropyJS {
  const B = labels.length;
  const d = new Float32Array(B * C);
  const e = new Float64Array(C); // exp(z_ij − m) of the row, computed once for the sum and for d
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < B; i++) {
    const row = i * C;
    let m = -Infinity;
    let best = 0;
    for (let j = 0; j < C; j++) {
      if (logits[row + j] > m) {
        m = logits[row + j];
        best = j;
      }
    }
    let s = 0;
    for (let j = 0; j < C; j++) s += e[j] = Math.exp(logits[row + j] - m);
    loss += Math.log(s) + m - logits[row + labels[i]];
    if (best === labels[i]) correct++;
    for (let j = 0; j < C; j++) d[row + j] = (e[j] / s - (j === labels[i] ? 1 : 0)) / B;
  }
  return { loss: loss / B, correct, d };
}

/**
 * The same as a tfjs op on the tape: value = mean cross-entropy (a scalar), gradient dy · ∂loss/∂z.
 * `onValue` receives the loss and correct count computed on the way (no second read-back).
 */
export function crossEntropyOp(logits: tf.Tensor2D, labels: Int32Array, onValue?: (r: CrossEntropyJS) => void): tf.Scalar {
  const C = logits.shape[1];
  const f = tf.customGrad(((z: tf.Tensor2D) => {
    const r = crossEntropyJS(z.dataSync(), labels, C);
    onValue?.(r);
    return { value: tf.scalar(r.loss), gradFunc: (dy: tf.Scalar) => tf.mul(dy, tf.tensor2d(r.d, [labels.length, C])) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(logits) as tf.Scalar;
}
