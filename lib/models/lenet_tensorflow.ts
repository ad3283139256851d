/**
 * LeNet's training gradient on tfjs-node, back-propagated by hand with TensorFlow's own ops
 * (conv_tensorflow.ts) instead of through tfjs's tape. Why: the tape's bookkeeping (a record, a
 * gradient closure and tensor tracking per op) cost as much as the arithmetic of a batch-64 step.
 * With h_0 = x and layers l = 1..L:
 *   forward   h_l = σ(conv_l(h_{l−1}) + b_l);  z = flat(h_L)·W_fc + b_fc
 *   loss      mean cross-entropy of z, its ∂/∂z = d and the correct count, in JS (cross_entropy.ts)
 *   backward  ∂W_fc = flat(h_L)ᵀ·d,  ∂b_fc = Σ_batch d,  ∂h_L = d·W_fcᵀ, then each layer's
 *             convBackward from the top (the first layer's input is data: no ∂x).
 * First order only; equal to autodiff of the any-order path (test/models/conv_first_order.test.ts).
 */
import { tf } from "../core/tf";
import { crossEntropyJS } from "./cross_entropy";
import { convBackward, convForward, tensorflowOnly, type ConvLayer, type ConvSaved } from "./conv_tensorflow";

/** params: conv_1 weight, bias, …, conv_L weight, bias, fc weight [F, C], fc bias [C]; x: [B, H·W] images. */
export function convNetCrossEntropyTensorflow(
  params: readonly tf.Tensor[], x: tf.Tensor2D, labels: Int32Array, layers: readonly ConvLayer[], side: number,
): { loss: number; correct: number; grads: tf.Tensor[] } {
  tensorflowOnly("the hand-written LeNet backward pass");
  const B = x.shape[0];
  const L = layers.length;
  const [wFc, bFc] = params.slice(2 * L);
  const C = wFc.shape[1]!;
  let h: tf.Tensor = tf.reshape(x, [B, side, side, 1]);
  const saved: ConvSaved[] = [];
  layers.forEach((l, i) => {
    const out = convForward(h, params[2 * i], params[2 * i + 1], l);
    saved.push(out.saved);
    h = out.y;
  });
  const flat = tf.reshape(h, [B, -1]) as tf.Tensor2D;
  const z = tf.add(tf.matMul(flat, wFc as tf.Tensor2D), bFc);
  const { loss, correct, d } = crossEntropyJS(z.dataSync(), labels, C);
  const db = new Float32Array(C);
  for (let i = 0; i < B; i++) for (let j = 0; j < C; j++) db[j] += d[i * C + j];
  const dz = tf.tensor2d(d, [B, C]);
  const grads: tf.Tensor[] = new Array(params.length);
  grads[2 * L] = tf.matMul(flat, dz, true, false);
  grads[2 * L + 1] = tf.tensor1d(db);
  let dh: tf.Tensor = tf.reshape(tf.matMul(dz, wFc as tf.Tensor2D, false, true), h.shape);
  for (let i = L - 1; i >= 0; i--) {
    const { dx, dw, db: dbias } = convBackward(dh, saved[i], layers[i], i > 0);
    grads[2 * i] = dw;
    grads[2 * i + 1] = dbias;
    dh = dx;
  }
  return { loss, correct, grads };
}
