/**
 * The pieces gradient-inversion objectives are built from (the victim's loss and the differentiable
 * parameter gradient of a dummy input are in models/losses.ts): distances between that gradient and the observed one —
 * optionally only on the coordinates that were transmitted — and an image prior.
 * Every piece is written from elementary ops so that its derivative with respect to the dummy
 * input is right at second order (test/core/second_order.test.ts checks each against finite differences).
 */
import { tf } from "../core/tf";
import { logSumExp, parameterGradients, type VictimLoss } from "../models/losses";
import type { Model } from "../models/model";
import { IMAGE_SIZE } from "../data/mnist";

/** Which entries of one tensor crossed the network (1/0) and how many did. */
export interface Transmitted {
  mask: tf.Tensor;
  count: number;
}

/**
 * The transmitted entries: those the attacker received non-zero. A DGC-aware attacker compares
 * gradients only there (an unsent entry says nothing about its value beyond "below the
 * threshold"). The caller owns the masks.
 */
export function transmittedMask(observed: readonly tf.Tensor[]): Transmitted[] {
  return observed.map((g) => {
    const mask = tf.tidy(() => tf.cast(tf.notEqual(g, 0), "float32"));
    return { mask, count: tf.tidy(() => tf.sum(mask).dataSync()[0]) };
  });
}

/**
 * DLG's distance Σ_tensors Σ (g − o)² / n (PrivBox's, the seed's). With a mask, only transmitted
 * entries count and n is their number (a tensor with none transmitted contributes 0).
 * `reduce: "sum"` drops the 1/n: Σ_tensors Σ (g − o)², the DLG and iDLG papers' code (`grad_diff`).
 */
export function l2Distance(grads: readonly tf.Tensor[], observed: readonly tf.Tensor[], mask?: readonly Transmitted[], reduce: "mean" | "sum" = "mean"): tf.Scalar {
  const terms = grads.map((g, i) => {
    if (!mask) {
      const ss = tf.sum(tf.square(tf.sub(g, observed[i])));
      return reduce === "sum" ? ss : tf.div(ss, g.size);
    }
    const { mask: m, count } = mask[i];
    if (count === 0) return tf.scalar(0);
    const ss = tf.sum(tf.mul(tf.square(tf.sub(g, observed[i])), m));
    return reduce === "sum" ? ss : tf.div(ss, count);
  });
  return tf.addN(terms) as tf.Scalar;
}

/** 1 − cos(a, b) for two tensors; the small ε keeps a zero tensor from dividing by zero. */
function cosineGap(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const eps = 1e-12;
  const dot = tf.sum(tf.mul(a, b));
  const norms = tf.mul(tf.sqrt(tf.add(tf.sum(tf.square(a)), eps)), tf.sqrt(tf.add(tf.sum(tf.square(b)), eps)));
  return tf.sub(1, tf.div(dot, norms)) as tf.Scalar;
}

/**
 * Inverting Gradients' distance (Geiping et al. 2020), Σ_tensors (1 − cos(g, o)): insensitive to
 * the gradient's scale, so it matches the direction of the update rather than its size. With a
 * mask, each tensor is compared on its transmitted entries only (a tensor with none contributes 0).
 */
export function cosineDistance(grads: readonly tf.Tensor[], observed: readonly tf.Tensor[], mask?: readonly Transmitted[]): tf.Scalar {
  const terms = grads.map((g, i) => {
    if (!mask) return cosineGap(g, observed[i]);
    return mask[i].count === 0 ? tf.scalar(0) : cosineGap(tf.mul(g, mask[i].mask), observed[i]);
  });
  return tf.addN(terms) as tf.Scalar;
}

/**
 * Anisotropic total variation of images [B, c·h·w] (CHW; MNIST 1 × 28 × 28), per channel plane:
 * mean |x[i+1, j] − x[i, j]| + mean |x[i, j+1] − x[i, j]|, as Inverting Gradients uses it. Natural
 * images, digits included, are mostly flat, so it favours them over noise.
 */
export function totalVariation(x: tf.Tensor, inputShape: readonly [number, number, number] = [1, IMAGE_SIZE, IMAGE_SIZE]): tf.Scalar {
  const [, H, W] = inputShape;
  const img = tf.reshape(x, [-1, H, W]);
  const down = tf.sub(tf.slice(img, [0, 1, 0], [-1, -1, -1]), tf.slice(img, [0, 0, 0], [-1, H - 1, -1]));
  const right = tf.sub(tf.slice(img, [0, 0, 1], [-1, -1, -1]), tf.slice(img, [0, 0, 0], [-1, -1, W - 1]));
  return tf.add(tf.mean(tf.abs(down)), tf.mean(tf.abs(right))) as tf.Scalar;
}

/** softmax along the last axis from elementary ops (tfjs's Softmax gradient is output-based). */
function softmax(y: tf.Tensor): tf.Tensor {
  return tf.exp(tf.sub(y, logSumExp(y)));
}

/**
 * DLG's objective D(x', y') under the given victim loss (ce: the dummy label goes through softmax),
 * with the seed's per-tensor mean ("l2") or the papers' plain sum ("l2sum").
 */
export function dlgObjective(
  model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], loss: VictimLoss, distance: "l2" | "l2sum" = "l2",
  /** The dummy's gradient as the victim computed it, when not one plain gradient (FedAvg: attack/fedavg.ts's unrolled steps). */
  simulate?: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor[],
) {
  const gradsOf = simulate ?? parameterGradients(model, params, loss);
  return (x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    l2Distance(gradsOf(x, loss === "ce" ? softmax(y) : y), observed, undefined, distance === "l2sum" ? "sum" : "mean");
}
