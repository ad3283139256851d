/**
 * DLG as the DLG paper's code runs it (mit-han-lab/dlg, main.py): dummy data x' and dummy label
 * logits y' drawn N(0, 1), the victim loss cross-entropy against softmax(y'), the distance
 * D = Σ_tensors Σ (∂L(x', y')/∂θ − g)² over every received entry (zeros included: the attacker does
 * not model the defense), minimized over (x', y') together by L-BFGS (torch's defaults, lr 1), one
 * `.step(closure)` per "iteration". The result is the best finite point L-BFGS evaluated.
 */
import { tf } from "../tf";
import { NUM_CLASSES, PIXELS } from "../data/mnist";
import { logSumExp } from "../losses";
import { DivergenceError } from "../train";
import { LBFGS, tfObjective, type LBFGSOptions, type Objective } from "./lbfgs";
import { parameterGradients } from "./objectives";
import type { Model } from "../models/model";
import type { Rng } from "../rng";

export interface LbfgsDlgResult {
  /** [B × 784] and the label distribution softmax(y'), [B × 10]. */
  x: Float32Array;
  y: Float32Array;
  /** D after each step, and the function evaluations spent. */
  distances: Float64Array;
  evals: number;
  seconds: number;
}

/** softmax over the last axis from elementary ops (exp(y − lse y)): right at any order. */
function softmax(y: tf.Tensor): tf.Tensor {
  return tf.exp(tf.sub(y, logSumExp(y)));
}

/** D(x', y') and its gradient over the flat vector [x' (B·784), y' (B·10)]. */
export function lbfgsDlgObjective(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number): Objective {
  const gradsOf = parameterGradients(model, params, "ce");
  return tfObjective([[batch, PIXELS], [batch, NUM_CLASSES]], ([x, y]) => {
    const grads = gradsOf(x, softmax(y));
    return tf.addN(grads.map((g, i) => tf.sum(tf.square(tf.sub(g, observed[i]))))) as tf.Scalar;
  });
}

export function lbfgsDlg(
  model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number,
  opts: { steps: number; rng: Rng; lbfgs?: Partial<LBFGSOptions> },
): LbfgsDlgResult {
  const t0 = performance.now();
  const objective = lbfgsDlgObjective(model, params, observed, batch);
  const x0 = new Float64Array(batch * (PIXELS + NUM_CLASSES));
  for (let i = 0; i < x0.length; i++) x0[i] = opts.rng.normal();
  const lbfgs = new LBFGS(x0, { lr: 1, ...opts.lbfgs });
  const distances = new Float64Array(opts.steps);
  for (let s = 0; s < opts.steps; s++) distances[s] = lbfgs.step(objective).loss;
  const best = lbfgs.best;
  if (!best) throw new DivergenceError("L-BFGS DLG never evaluated a finite point");
  const x = Float32Array.from(best.x.subarray(0, batch * PIXELS));
  const y = tf.tidy(() => softmax(tf.tensor2d(Float32Array.from(best.x.subarray(batch * PIXELS)), [batch, NUM_CLASSES])).dataSync() as Float32Array);
  return { x, y, distances, evals: lbfgs.funcEvals, seconds: (performance.now() - t0) / 1000 };
}
