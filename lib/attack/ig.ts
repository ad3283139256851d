/**
 * Inverting Gradients (Geiping et al. 2020, "Inverting Gradients — How easy is it to break
 * privacy in federated learning?"), on the seed's model:
 *   - the victim back-propagates cross-entropy (what federated training sends), not the seed's
 *     attack-mode Σ(logits − onehot)²;
 *   - the label is read off the observed bias gradient first (iDLG) and then held fixed;
 *   - x' starts from N(0, 1) and minimizes Σ_tensors (1 − cos(∂L/∂θ(x'), g)) + λ_TV·TV(x') with
 *     Adam, the step schedule, and x' boxed to [−1, 1].
 * Geiping et al.'s code takes one cosine over all tensors concatenated; the sum of per-tensor
 * cosines used here weighs the bias (10 entries) as much as the weight (7840), so the bias's
 * label-and-scale information is not drowned. It treats what it received as a dense gradient:
 * the unsent entries of a DGC update count as zeros to match.
 */
import { runInversionAttack, type InversionAttack } from "./invert";
import type { tf } from "../core/tf";
import type { Model } from "../models/model";
import type { Rng } from "../core/rng";

export const IG_ATTACK: Readonly<InversionAttack> = {
  iterations: 2000,
  lr: 0.1,
  decay: true,
  victimLoss: "ce",
  distance: "cosine",
  masked: false,
  tvWeight: 1e-4,
  box: true,
  clipNorm: null,
  start: "noise",
  labelRule: "idlg",
};

export function igAttack(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number, rng: Rng, overrides: Partial<InversionAttack> = {}) {
  return runInversionAttack({ ...IG_ATTACK, ...overrides }, model, params, observed, batch, { rng });
}
