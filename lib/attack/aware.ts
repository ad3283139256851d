/**
 * The defense-aware attacker: the adaptive attack (adaptive.ts: the mean image as a start, total
 * variation, the label from the column with the most energy, x' boxed) with a gradient distance
 * chosen for what the defense does to the upload. It knows the defense and its parameters (the
 * fraction pruned, σ and C, the quantizer) — never the noise drawn, the random coordinates kept
 * or the error-feedback memory.
 *
 *   none, topk, dgc   L2 on the transmitted coordinates only: an unsent entry is "not sent", not 0.
 *   randk             cosine on the transmitted coordinates: randk scales what it sends by n/k, a
 *                     per-tensor constant the cosine ignores (it knows k/n, so this equals de-scaling).
 *   fp16, int8        L2 on every coordinate: the decoded (de-quantized) values are the gradient up
 *                     to rounding error (int8's is unbiased), and a zero is a real, rounded value.
 *   gaussvar, laplace L2 on every coordinate: the noise is zero-mean and independent of x, so L2 is
 *                     the Gaussian log-likelihood (up to its scale) and a consistent estimate for Laplace.
 *   gaussian          cosine on every coordinate: clipping the whole update to C is one positive
 *                     scale for every tensor, which the per-tensor cosine ignores; the noise as above.
 *   signsgd           cosine on every coordinate against scale·sign(g): the attacker matches the
 *                     direction of its dummy gradient to the signs (from zero error memory, the
 *                     attacked step sends sign(g) exactly). The label by iDLG's rule (the smallest
 *                     bias entry): every sent entry has the same magnitude, so "the column with the
 *                     most energy" reads nothing, while under cross-entropy the true class's bias
 *                     gradient is the only negative one, a sign signSGD keeps.
 */
import { ADAPTIVE_ATTACK } from "./adaptive";
import type { InversionAttack } from "./invert";
import type { DefenseSpec } from "../threat/channel/defenses";

export function awareAttack(defense: DefenseSpec): InversionAttack {
  switch (defense.name) {
    case "none":
    case "dgc":
    case "topk":
      return { ...ADAPTIVE_ATTACK };
    case "randk":
      return { ...ADAPTIVE_ATTACK, distance: "cosine" };
    case "fp16":
    case "int8":
    case "gaussvar":
    case "laplace":
      return { ...ADAPTIVE_ATTACK, masked: false };
    case "gaussian":
      return { ...ADAPTIVE_ATTACK, masked: false, distance: "cosine" };
    case "signsgd":
      return { ...ADAPTIVE_ATTACK, masked: false, distance: "cosine", labelRule: "idlg" };
  }
}
