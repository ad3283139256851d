/**
 * Closed-form gradients of the Linear model (logits = xW + b), used instead of autodiff because
 * per-op overhead, not arithmetic, is what costs time on a model this small, and because the
 * wasm backend's matMul with a transposed operand (which autodiff's matMul gradient uses) is ~6×
 * slower than a plain one: every matMul below has untransposed operands, with explicit transposes.
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
 */
function dlgDistance(params: readonly tf.Tensor[], observed: readonly tf.Tensor[]) {
  const [w, b] = params;
  const [gW, gb] = observed;
  const nW = gW.size;
  const nb = gb.size;
  const wT = tf.keep(tf.transpose(w)) as tf.Tensor2D;
  const gWT = tf.keep(tf.transpose(gW)) as tf.Tensor2D;
  return {
    step(x: tf.Tensor2D, y: tf.Tensor2D) {
      const r = tf.mul(tf.sub(tf.add(tf.matMul(x, w as tf.Tensor2D), b), y), 2) as tf.Tensor2D;
      const eWT = tf.sub(tf.matMul(tf.transpose(r), x), gWT) as tf.Tensor2D;
      const eW = tf.transpose(eWT);
      const eb = tf.sub(tf.sum(r, 0), gb);
      const value = tf.add(tf.div(tf.sum(tf.square(eW)), nW), tf.div(tf.sum(tf.square(eb)), nb)) as tf.Scalar;
      const A = tf.add(tf.mul(tf.matMul(x, eW), 4 / nW), tf.mul(eb, 4 / nb)) as tf.Tensor2D;
      const gx = tf.add(tf.mul(tf.matMul(r, eWT), 2 / nW), tf.matMul(A, wT)) as tf.Tensor2D;
      return { value, gx, gy: tf.neg(A) };
    },
    dispose() {
      tf.dispose([wT, gWT]);
    },
  };
}

export const linearClosedForm: ClosedFormGradients = { crossEntropy, dlgDistance };
