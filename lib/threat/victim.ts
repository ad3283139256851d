/**
 * The victim's side of Examples 1 and 2: one federated step on the first batch of an untrained
 * model, and what the attacker gets to see of it.
 */
import { tf } from "../core/tf";
import { oneHot } from "../models/losses";
import { victimLoss, type VictimLoss } from "../models/losses";
import { toBatchTensor } from "../optim/train";
import { epochBatches, gatherBatch, type Batch } from "../data/batcher";
import type { ImageSplit } from "../data/dataset";
import type { Rng } from "../core/rng";
import type { VictimImages } from "./model";
import { pixelsOf, type Model } from "../models/model";
import type { Optimizer, SentStats } from "../optim/optimizer";

/**
 * ∂loss/∂θ on the victim's batch. Default "sse": Σ (net(x) − onehot(y))², the seed's attack-mode
 * loss (MSE, no reduction, summed); "ce": the cross-entropy its training uses.
 */
export function victimGradients(model: Model, params: readonly tf.Tensor[], batch: Batch, loss: VictimLoss = "sse"): tf.Tensor[] {
  const f = victimLoss(loss);
  return tf.tidy(() => {
    const x = toBatchTensor(batch.x, batch.size, pixelsOf(model));
    const target = oneHot(batch.y, model.classes);
    return tf.grads((...ps: tf.Tensor[]) => f(model.forward(ps, x, { firstOrder: true }), target))(params as tf.Tensor[]);
  });
}

/**
 * What crosses the network for this step: DGC's sparse u·mask (one step from zero state), or
 * Momentum's raw gradient. The caller owns the returned tensors.
 */
export function observedGradients(optimizer: Optimizer, grads: readonly tf.Tensor[]): { observed: tf.Tensor[]; stats: SentStats } {
  const { sent, stats } = optimizer.compress(grads);
  return { observed: sent, stats };
}

/**
 * The victim's batch under a threat model: the first batch of the run's shuffle (`shuffle`, the
 * seed's choice), the chosen indices, or the caller's own arrays — exactly these images, nothing re-derived.
 */
export function victimImages(images: VictimImages, data: ImageSplit, shuffle: Rng): Batch {
  if (images.kind === "first-batch") return epochBatches(data, images.size, shuffle).next().value as Batch;
  if (images.kind === "indices") return gatherBatch(data, Int32Array.from(images.indices));
  const size = images.y.length;
  return { id: 0, index: images.index ?? new Int32Array(size).fill(-1), x: images.x, y: images.y, size };
}
