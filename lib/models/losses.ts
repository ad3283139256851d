/**
 * Losses, written from elementary ops so that their second derivatives are right in tfjs
 * (DLG and the inverting-gradients attack differentiate through them twice).
 */
import { tf, unaryCustomGrad } from "../core/tf";
import type { Model } from "./model";

/** max(x) along the last axis with a zero gradient: log-sum-exp is invariant to the shift, and
 *  tfjs's own Max gradient needs a gradient of Equal, which it lacks, at second order. */
const stopGradientMax = unaryCustomGrad(
  (x) => tf.max(x, -1, true),
  (_dy, x) => tf.zerosLike(x),
);

/** log Σ exp(x) along the last axis, stably: m + log Σ exp(x − m). Shape [..., 1]. */
export function logSumExp(x: tf.Tensor): tf.Tensor {
  const m = stopGradientMax(x);
  return tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true)));
}

/** Per-sample softmax cross-entropy, [B]: −log softmax(logits)[label], given one-hot targets. */
export function softmaxCrossEntropy(logits: tf.Tensor, onehot: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(onehot, tf.sub(logSumExp(logits), logits)), -1);
}

/** Σ (pred − target)²: the seed's victim and DLG loss (MSE with no reduction, summed). */
export function sumSquaredError(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.sum(tf.square(tf.sub(pred, target)));
}

export function oneHot(labels: Int32Array, numClasses: number): tf.Tensor2D {
  return tf.oneHot(tf.tensor1d(labels, "int32"), numClasses).toFloat() as tf.Tensor2D;
}

/**
 * The loss a victim back-propagates. "sse": Σ(logits − onehot)², the seed's attack mode (MSE, no
 * reduction, summed); "ce": mean softmax cross-entropy, what the seed's training uses.
 */
export type VictimLoss = "sse" | "ce";
export const VICTIM_LOSSES: readonly VictimLoss[] = ["sse", "ce"];

export function victimLoss(kind: VictimLoss): (logits: tf.Tensor, target: tf.Tensor) => tf.Scalar {
  return kind === "sse" ? sumSquaredError : (logits, target) => tf.mean(softmaxCrossEntropy(logits, target)) as tf.Scalar;
}

/** (x, y) ↦ ∂loss(net(x), y)/∂θ, kept on the tape so it can be differentiated again. */
export function parameterGradients(model: Model, params: readonly tf.Tensor[], loss: VictimLoss) {
  const f = victimLoss(loss);
  return (x: tf.Tensor, y: tf.Tensor): tf.Tensor[] => tf.grads((...ps: tf.Tensor[]) => f(model.forward(ps, x), y))(params as tf.Tensor[]);
}
