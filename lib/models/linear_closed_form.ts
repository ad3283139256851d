/**
 * Closed-form gradients of the Linear model (logits = xW + b), used instead of autodiff because
 * per-op overhead, not arithmetic, is what costs time on a model this small, and because the
 * wasm backend's matMul with a transposed operand (which autodiff's matMul gradient uses) is ~6×
 * slower than a plain one: every matMul below has untransposed operands, with explicit transposes.
 * DLG's gradient goes further and leaves tfjs altogether (JS arrays).
 */
import { tf } from "../tf";
import type { ClosedFormGradients } from "./model";
import { crossEntropyJS } from "./cross_entropy";

/**
 * Cross-entropy. The [B, 10] logits come back to JS, where softmax, the loss (log-sum-exp, in
 * float64), the correct count, ∂/∂logits = (softmax − onehot) / B and ∂b = Σ ∂logits are a few
 * hundred flops — cheaper than a dozen tfjs ops; ∂W = xᵀ·∂logits goes back to tfjs.
 */
function crossEntropy(params: readonly tf.Tensor[], x: tf.Tensor2D, labels: Int32Array) {
  const [w, b] = params;
  const B = x.shape[0];
  const C = w.shape[1]!;
  const logits = tf.add(tf.matMul(x, w as tf.Tensor2D), b).dataSync();
  const { loss, correct, d } = crossEntropyJS(logits, labels, C);
  const db = new Float32Array(C); // Σ over the batch, here rather than as a tfjs op
  for (let i = 0; i < B; i++) for (let j = 0; j < C; j++) db[j] += d[i * C + j];
  // ∂W = xᵀ·d with xᵀ as the left factor: XNNPACK (wasm) repacks the *right* factor of every
  // matMul, and a fresh batch on the right costs ~3× this transpose-then-multiply (measured).
  return { loss, correct, grads: [tf.matMul(tf.transpose(x), tf.tensor2d(d, [B, C])), tf.tensor1d(db)] };
}

/**
 * DLG on the Linear model. With r = 2(x'W + b − y'), the dummy gradients are x'ᵀr and Σ_batch r,
 * so with E_W = x'ᵀr − g_W, E_b = Σ r − g_b, nW = 7840, nb = 10:
 *   D  = ‖E_W‖²/nW + ‖E_b‖²/nb
 *   A  = (4/nW)·x'E_W + (4/nb)·E_b            (∂D/∂r · ∂r/∂(x'W), per sample)
 *   ∂D/∂x' = (2/nW)·r·E_Wᵀ + A·Wᵀ;   ∂D/∂y' = −A
 * All in JS arrays (float64 sums, float32 results), three passes over the 784 × 10 entries: the
 * whole attack loop then runs without a tfjs op, whose fixed cost is most of an iteration here.
 */
function dlgDistance(params: readonly tf.Tensor[], observed: readonly tf.Tensor[]) {
  const [W, bias, gW, gb] = [...params, ...observed].map((t) => t.dataSync() as Float32Array);
  const C = bias.length;
  const P = W.length / C;
  const nW = W.length;
  const E = new Float64Array(nW); // E_W
  return {
    step(x: Float32Array, y: Float32Array, gx: Float32Array, gy: Float32Array): number {
      const B = x.length / P;
      const r = new Float64Array(B * C);
      for (let s = 0; s < B; s++) {
        const xs = s * P;
        for (let j = 0; j < C; j++) r[s * C + j] = bias[j] - y[s * C + j];
        for (let i = 0; i < P; i++) {
          const xi = x[xs + i];
          for (let j = 0; j < C; j++) r[s * C + j] += xi * W[i * C + j];
        }
      }
      for (let q = 0; q < r.length; q++) r[q] *= 2;
      let dW = 0;
      const xE = new Float64Array(B * C); // x'·E_W
      for (let i = 0; i < P; i++) {
        for (let j = 0; j < C; j++) {
          let e = -gW[i * C + j];
          for (let s = 0; s < B; s++) e += x[s * P + i] * r[s * C + j];
          E[i * C + j] = e;
          dW += e * e;
        }
        for (let s = 0; s < B; s++) {
          const xi = x[s * P + i];
          for (let j = 0; j < C; j++) xE[s * C + j] += xi * E[i * C + j];
        }
      }
      let db = 0;
      const eb = new Float64Array(C);
      for (let j = 0; j < C; j++) {
        eb[j] = -gb[j];
        for (let s = 0; s < B; s++) eb[j] += r[s * C + j];
        db += eb[j] * eb[j];
      }
      const A = new Float64Array(B * C);
      for (let q = 0; q < A.length; q++) A[q] = (4 / nW) * xE[q] + (4 / C) * eb[q % C];
      for (let s = 0; s < B; s++) {
        for (let i = 0; i < P; i++) {
          let g = 0;
          for (let j = 0; j < C; j++) g += (2 / nW) * r[s * C + j] * E[i * C + j] + A[s * C + j] * W[i * C + j];
          gx[s * P + i] = g;
        }
        for (let j = 0; j < C; j++) gy[s * C + j] = -A[s * C + j];
      }
      return dW / nW + db / C;
    },
  };
}

export const linearClosedForm: ClosedFormGradients = { crossEntropy, dlgDistance };
