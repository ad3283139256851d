/**
 * DLG exactly as the DLG paper's code starts it (mit-han-lab/dlg, main.py): dummy data x' *and* dummy
 * label logits y' drawn N(0, 1), the victim loss cross-entropy against softmax(y'), the registry's
 * summed distance D = Σ_tensors Σ (∂L(x', y')/∂θ − g)² over every received entry (zeros included: the
 * attacker does not model the defense) — `dlgObjective(…, "ce", "l2sum")` of objectives.ts — minimized over
 * (x', y') together by L-BFGS (torch's defaults, lr 1), one `.step(closure)` per "iteration". The result
 * is the best finite point L-BFGS evaluated. It differs from `runAttackMethod` (dlg × lbfgs × ce) only
 * in the random label start and in keeping the summed distance on the Linear model too, where it fails
 * (docs/defenses.md); the sweep's `lbfgs` axis and the DLG paper's anchor use it for that fidelity.
 *
 * L-BFGS without a line search sometimes jumps to a point where D is not finite (pytorch/pytorch#5953),
 * or so far out that the sigmoids saturate and ∂D falls below tolerance_grad, after which every step is
 * one evaluation (a stall; seen on CIFAR at D ≈ 2e2). `restarts` N (default 0: the paper's single run)
 * lets such a step, away from a solution (D > STALL_DISTANCE), be followed by a fresh N(0, 1) draw from
 * the same stream, up to N times within the same step budget; the best point of all starts is the result.
 */
import { tf } from "../core/tf";
import { DivergenceError } from "../core/errors";
import { LBFGS, tfObjective, type LBFGSOptions, type Objective } from "./lbfgs";
import { dlgObjective } from "./objectives";
import { pixelsOf, type Model } from "../models/model";
import type { Rng } from "../core/rng";

/** A stalled run with D above this may restart; recovered images end near 1e-6 (CIFAR) or below. */
export const STALL_DISTANCE = 1e-3;

export interface LbfgsDlgResult {
  /** [B × c·h·w] and the label distribution softmax(y'), [B × classes]. */
  x: Float32Array;
  y: Float32Array;
  /** D after each step, and the function evaluations spent. */
  distances: Float64Array;
  evals: number;
  /** D at the best point, and how many starts the budget took (restarts + 1 at most). */
  bestDistance: number;
  starts: number;
  seconds: number;
}

/** D(x', y') and its gradient over the flat vector [x' (B·784), y' (B·10)]. */
export function lbfgsDlgObjective(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number): Objective {
  const d = dlgObjective(model, params, observed, "ce", "l2sum");
  return tfObjective([[batch, pixelsOf(model)], [batch, model.classes]], ([x, y]) => d(x, y));
}

export function lbfgsDlg(
  model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number,
  opts: { steps: number; rng: Rng; lbfgs?: Partial<LBFGSOptions>; restarts?: number },
): LbfgsDlgResult {
  const t0 = performance.now();
  const objective = lbfgsDlgObjective(model, params, observed, batch);
  const PIXELS = pixelsOf(model);
  const NUM_CLASSES = model.classes;
  const draw = () => {
    const x0 = new Float64Array(batch * (PIXELS + NUM_CLASSES));
    for (let i = 0; i < x0.length; i++) x0[i] = opts.rng.normal();
    return new LBFGS(x0, { lr: 1, ...opts.lbfgs });
  };
  let lbfgs = draw();
  let best: { x: Float64Array; loss: number } | null = null;
  let evals = 0;
  let starts = 1;
  const keepBest = () => {
    const b = lbfgs.best;
    if (b && (best === null || b.loss < best.loss)) best = { x: Float64Array.from(b.x), loss: b.loss };
    evals += lbfgs.funcEvals;
  };
  const distances = new Float64Array(opts.steps);
  for (let s = 0; s < opts.steps; s++) {
    const r = lbfgs.step(objective);
    distances[s] = r.loss;
    if ((r.nonFinite || (r.evals <= 1 && r.loss > STALL_DISTANCE)) && starts <= (opts.restarts ?? 0)) {
      keepBest();
      lbfgs = draw();
      starts++;
    }
  }
  keepBest();
  if (!best) throw new DivergenceError("L-BFGS DLG never evaluated a finite point");
  const found: { x: Float64Array; loss: number } = best;
  const x = Float32Array.from(found.x.subarray(0, batch * PIXELS));
  const y = tf.tidy(() => tf.softmax(tf.tensor2d(Float32Array.from(found.x.subarray(batch * PIXELS)), [batch, NUM_CLASSES])).dataSync() as Float32Array);
  return { x, y, distances, evals, bestDistance: found.loss, starts, seconds: (performance.now() - t0) / 1000 };
}
