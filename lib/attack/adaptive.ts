/**
 * An attacker who knows the victim runs DGC. What it receives is a sparse tensor: the non-zero
 * entries are exact gradient values (after one step from zero state, u = g), the zeros are
 * "not sent", not "zero". So it
 *   - matches only the transmitted coordinates (the dummy gradient is masked the same way),
 *   - reads the label off the column of the last layer that received the most energy
 *     (`inferLabelLargest`: the gram and iDLG rules need entries DGC dropped),
 *   - uses an image prior: x' starts at the training set's mean image (a public statistic) and
 *     total variation is penalized, so coordinates the gradient does not pin down stay digit-like.
 * The victim back-propagates cross-entropy, as for Inverting Gradients, so the two attacks differ
 * only in what the attacker assumes about DGC and the prior.
 */
import { runInversionAttack, type InversionAttack } from "./invert";
import type { tf } from "../core/tf";
import type { Model } from "../models/model";
import type { Rng } from "../core/rng";

export const ADAPTIVE_ATTACK: Readonly<InversionAttack> = {
  iterations: 2000,
  lr: 0.1,
  decay: true,
  victimLoss: "ce",
  distance: "l2",
  masked: true,
  tvWeight: 1e-4,
  box: true,
  clipNorm: null,
  start: "mean",
  labelRule: "largest",
};

export function adaptiveAttack(
  model: Model,
  params: readonly tf.Tensor[],
  observed: readonly tf.Tensor[],
  batch: number,
  prior: { rng: Rng; mean: Float32Array },
  overrides: Partial<InversionAttack> = {},
) {
  return runInversionAttack({ ...ADAPTIVE_ATTACK, ...overrides }, model, params, observed, batch, prior);
}
