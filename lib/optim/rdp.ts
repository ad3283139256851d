/**
 * Rényi-DP accounting of the `gaussian` defense (Mironov 2017):
 *
 *   one round:   the Gaussian mechanism with noise multiplier z = σ_noise / Δ is (α, α/(2z²))-RDP
 *                for every order α > 1;
 *   T rounds:    RDP composes additively, (α, T·α/(2z²));
 *   (ε, δ):      ε = min_α [ r(α) + log(1 − 1/α) − log(δ·α)/(α − 1) ]   (Canonne, Kamath & Steinke
 *                2020, Prop. 12, the conversion Google's dp-accounting uses), over its default orders.
 *
 * What it protects: the `gaussian` defense clips the client's *whole* update (all tensors at once) to
 * L2 norm C and adds N(0, σ²C²) to every entry, once per round, with no subsampling modelled (every
 * round counts in full). Neighbouring inputs are the client's update and no update (add/remove the
 * client: sensitivity Δ = C, so z = σ) — the guarantee of one client's participation in a sum. Two
 * arbitrary data sets of the same client (replace-one) give Δ = 2C, z = σ/2. It protects neither
 * against an attacker who sees the unclipped gradient nor rounds that send without noise.
 */

/** dp-accounting 0.6.0's DEFAULT_RDP_ORDERS: 1.1…10.9 by 0.1, 11…63, 128, 256, 512, 1024. */
export const RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => Math.round(11 + i) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128, 256, 512, 1024,
];

export type Neighbouring = "add_remove" | "replace";

/** RDP of T rounds of the Gaussian mechanism with noise multiplier z, at each order. */
export function gaussianRdp(z: number, rounds: number, orders: readonly number[] = RDP_ORDERS): number[] {
  if (!(z > 0) || !(rounds >= 0)) throw new RangeError(`need a noise multiplier > 0 and rounds ≥ 0 (got ${z}, ${rounds})`);
  return orders.map((a) => (rounds * a) / (2 * z * z));
}

/** The smallest ε over the orders for a target δ, and the order that attains it. */
export function rdpToDp(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  let best = { epsilon: Infinity, order: orders[0] };
  orders.forEach((a, i) => {
    const r = rdp[i];
    let eps: number;
    if (delta * delta + Math.expm1(-r) > 0) eps = 0; // δ ≥ √(1 − e^{−KL}): the KL bound alone suffices
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

export interface GaussianGuarantee {
  sigma: number;
  rounds: number;
  delta: number;
  neighbouring: Neighbouring;
  /** The noise multiplier relative to the sensitivity: σ (add/remove) or σ/2 (replace-one). */
  noiseMultiplier: number;
  epsilon: number;
  order: number;
}

/** (ε, δ) of `rounds` rounds of the `gaussian` defense with noise multiplier σ (noise std σ·C). */
export function gaussianGuarantee(sigma: number, rounds: number, delta: number, neighbouring: Neighbouring = "add_remove"): GaussianGuarantee {
  const z = neighbouring === "replace" ? sigma / 2 : sigma;
  const { epsilon, order } = rdpToDp(RDP_ORDERS, gaussianRdp(z, rounds), delta);
  return { sigma, rounds, delta, neighbouring, noiseMultiplier: z, epsilon, order };
}
