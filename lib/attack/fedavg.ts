/**
 * The FedAvg attacker (Geiping et al. 2020 §5, "FedAvgReconstructor"; breaching's
 * `num_local_updates`; Dimitrov et al. 2022): the upload is a model delta Δ = θ_0 − θ_E after E
 * local steps, not a gradient, so the attacker simulates the client's E steps on its dummy images
 *
 *   w_0 = θ_0,  v_0 = 0,  for s < E:  g_s = ∂loss(net_{w_s}(x'[I_s]), y[I_s]) / ∂w_s,
 *                                      v_{s+1} = μ·v_s + g_s,  w_{s+1} = w_s − η·v_{s+1}
 *   Δ'(x') = θ_0 − w_E
 *
 * and matches Δ' to the upload with any distance and optimizer of the registry (methods.ts takes Δ'
 * as the attack input's `gradsOf`). Every step is kept on tfjs's tape, so ∂D(Δ'(x'), Δ)/∂x' goes
 * through all E unrolled updates: second order through each step's gradient, with respect to both
 * the dummy images and the weights w_s that earlier steps moved (test/attack/fedavg.test.ts checks it
 * against finite differences through two steps).
 *
 * What it knows (`FedAvgKnowledge`, stated in every record): η, μ, E, b, n, the victim's loss, the
 * model θ_0 it broadcast — and the order the client walked through its images only when granted;
 * otherwise it assumes index order in every epoch (no loss in the first epoch: the dummies are
 * unnamed, so their order there is theirs to pick; from the second epoch on it is a guess).
 *
 * Labels: for n = 1 iDLG's rule reads Δ's bias as it reads a gradient's (Δ is a positive combination
 * of the steps' gradients). For n > 1 the label-count rule (label_counts.ts) gets Δ's bias scaled
 * back to one mean gradient over the n images: Δ_b / (η Σ_s c_s w_s), c_s the momentum weights and
 * w_s = 1 under mean cross-entropy (|I_s|/n under the summed "sse"); exact when every step sees
 * all n images and the softmax does not move, an estimate otherwise.
 */
import { tf } from "../core/tf";
import { victimLoss, type VictimLoss } from "../models/losses";
import type { Model } from "../models/model";
import { localSchedule, stepWeights, type LocalTraining } from "../threat/federated/local";
import { batchLabels, countsToLabels, inferLabelCounts, labelCountPrior, type BatchLabels, type PublicPrior } from "./label_counts";
import { AttackSetupError, type AttackMethod } from "./spec";

/** Exactly what the FedAvg attacker is given about the client's local training. */
export interface FedAvgKnowledge {
  training: LocalTraining;
  /** n: the client's images this round (the dummies it optimizes). */
  n: number;
  /** The loss the attacker assumes the client trained with. */
  loss: VictimLoss;
  /** The client's real data order (which of its images each step used), when granted; null: index order every epoch. */
  order: readonly Int32Array[] | null;
}

/** The schedule the attacker simulates: the granted order, or index order every epoch. */
export function attackerSchedule(k: FedAvgKnowledge): Int32Array[] {
  if (k.order) {
    if (k.order.length !== k.training.steps) throw new AttackSetupError(`the granted data order has ${k.order.length} steps, not E = ${k.training.steps}`);
    return k.order.map((s) => Int32Array.from(s));
  }
  return localSchedule(k.n, k.training.batch, k.training.steps, null);
}

/** One line: what the attacker knows (for logs, records and docs). */
export function knowledgeLine(k: FedAvgKnowledge): string {
  const t = k.training;
  return `FedAvg attacker knows η = ${t.lr}, μ = ${t.momentum}, E = ${t.steps}, b = ${t.batch}, n = ${k.n}, loss ${k.loss}, θ_0; data order ${k.order ? "granted" : "not known (index order assumed)"}`;
}

/** [|idx| × n]: row r picks image idx[r]. */
function selection(idx: Int32Array, n: number): tf.Tensor2D {
  const s = new Float32Array(idx.length * n);
  idx.forEach((i, r) => (s[r * n + i] = 1));
  return tf.tensor2d(s, [idx.length, n]);
}

const isIdentity = (idx: Int32Array, n: number) => idx.length === n && idx.every((v, i) => v === i);

/**
 * (x' [n × 784], y [n × 10]) ↦ Δ'(x') = θ_0 − θ_E, per parameter tensor, kept on the tape (so it can
 * be differentiated with respect to x' — and y, DLG's optimized label). `params` is θ_0.
 */
export function unrolledDelta(model: Model, params: readonly tf.Tensor[], k: FedAvgKnowledge) {
  const schedule = attackerSchedule(k);
  const f = victimLoss(k.loss);
  const { lr, momentum } = k.training;
  return (x: tf.Tensor, y: tf.Tensor): tf.Tensor[] => {
    let w = params.slice() as tf.Tensor[];
    let v: tf.Tensor[] | null = null;
    for (const idx of schedule) {
      const all = isIdentity(idx, k.n);
      // the step's rows as a product with a 0/1 selection matrix: tfjs's gather has no gradient kernel on wasm
      const select = all ? null : selection(idx, k.n);
      const xb = select ? tf.matMul(select, x as tf.Tensor2D) : x;
      const yb = select ? tf.matMul(select, y as tf.Tensor2D) : y;
      const g = tf.grads((...ps: tf.Tensor[]) => f(model.forward(ps, xb), yb))(w);
      const prev: tf.Tensor[] | null = v;
      v = prev ? g.map((gi, i) => tf.add(tf.mul(prev[i], momentum), gi)) : g;
      const vs: tf.Tensor[] = v;
      w = w.map((wi, i) => tf.sub(wi, tf.mul(vs[i], lr)));
    }
    return params.map((p, i) => tf.sub(p, w[i]));
  };
}

/** Σ_s c_s w_s: Δ's bias over one mean gradient of the n images (see the header). */
export function deltaScale(k: FedAvgKnowledge): number {
  const schedule = attackerSchedule(k);
  const c = stepWeights(k.training.steps, k.training.momentum);
  let s = 0;
  schedule.forEach((idx, i) => (s += c[i] * (k.loss === "ce" ? 1 : idx.length / k.n)));
  return k.training.lr * s;
}

/**
 * Where the client's weights were at each step, as the attacker can place them: a gradient that
 * stayed constant would move w_s = θ_0 − f_s·Δ with f_s = Σ_{t<s} (1 − μ^{t+1}) / Σ_{t<E} (1 − μ^{t+1}).
 */
export function pathFractions(steps: number, momentum: number): Float64Array {
  const moved = new Float64Array(steps + 1);
  for (let t = 0, m = momentum; t < steps; t++, m *= momentum) moved[t + 1] = moved[t] + (1 - m);
  return moved.map((v) => v / moved[steps]).subarray(0, steps);
}

/** The most points along the path the label prior is measured at (each is a pass over the public data). */
export const LABEL_PATH_POINTS = 5;

/**
 * The n labels from the delta: the label-count rule (label_counts.ts) on Δ's bias scaled back to one
 * mean gradient, with the class-conditional expected softmax A averaged over the client's path
 * (Dimitrov et al.'s point: the softmax moves during local training) — A measured at
 * w_s = θ_0 − f_s·Δ (pathFractions; Δ as received, zeros where not sent) for up to
 * LABEL_PATH_POINTS steps s, weighted by how much step s counts in Δ (c_s).
 */
export function fedavgLabels(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], k: FedAvgKnowledge, prior: PublicPrior): BatchLabels {
  const scale = deltaScale(k);
  const dBias = Float64Array.from(observed[observed.length - 1].dataSync(), (v) => v / scale);
  const biasSent = dBias.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
  if (biasSent === 0 || k.training.steps === 1) {
    const scaled = tf.tidy(() => observed.map((o) => tf.div(o, scale)));
    try {
      return batchLabels(model, params, scaled, k.n, k.loss, prior);
    } finally {
      tf.dispose(scaled);
    }
  }
  const E = k.training.steps;
  const c = stepWeights(E, k.training.momentum);
  const f = pathFractions(E, k.training.momentum);
  const points = Array.from(new Set(Array.from({ length: Math.min(E, LABEL_PATH_POINTS) }, (_, i) => Math.round((i * (E - 1)) / Math.max(1, Math.min(E, LABEL_PATH_POINTS) - 1)))));
  const C = model.classes;
  const expected = new Float64Array(C * C);
  let total = 0;
  for (const s of points) {
    const w = tf.tidy(() => params.map((p, i) => tf.sub(p, tf.mul(observed[i], f[s]))));
    try {
      const a = labelCountPrior(model, w, prior.labelled, k.loss).expected;
      for (let j = 0; j < a.length; j++) expected[j] += c[s] * a[j];
      total += c[s];
    } finally {
      tf.dispose(w);
    }
  }
  for (let j = 0; j < expected.length; j++) expected[j] /= total;
  const counts = inferLabelCounts(dBias, k.n, { loss: k.loss, expected });
  return { counts, labels: countsToLabels(counts), biasSent };
}

/**
 * The attack's input for a FedAvg upload: the observed Δ and the simulation Δ', both divided by
 * η Σ_s c_s w_s (deltaScale), i.e. brought back to one gradient's scale. Nothing changes for a
 * scale-free distance (cosine) or for the mask (zeros stay zeros), but the L2 objective is no longer
 * η²-small: L-BFGS's tolerances are absolute (|Δf| < 1e-9 ends a step), and on the raw delta at
 * η = 0.1 it stopped after a few steps (LeNet, E = 2 and 5: 20 dB where the same attack on a
 * gradient reached 54). The caller owns the returned `observed`.
 */
export function fedavgAttackInput(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], k: FedAvgKnowledge): { observed: tf.Tensor[]; gradsOf: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor[]; scale: number } {
  const scale = deltaScale(k);
  const sim = unrolledDelta(model, params, k);
  return {
    observed: tf.tidy(() => observed.map((o) => tf.div(o, scale))),
    gradsOf: (x, y) => sim(x, y).map((d) => tf.div(d, scale)),
    scale,
  };
}

/** Throws AttackSetupError when the method cannot apply to a FedAvg delta of E steps. */
export function checkFedAvgApplicable(method: AttackMethod | "history", steps: number): void {
  if (method === "analytic" && steps > 1) {
    throw new AttackSetupError(`--attack_method analytic reads one gradient; a FedAvg delta of ${steps} local steps is not one (use --local_steps 1, or ig, adaptive, idlg, dlg)`);
  }
}
