/**
 * The attack registry: one entry point for every gradient-inversion attack, method × optimizer.
 *
 * A method fixes the objective and what the attacker assumes; an optimizer minimizes it:
 *   dlg      (Zhu et al. 2019)  min over x', y'  Σ_t ‖∂L(net(x'), ŷ)/∂θ_t − g_t‖² / n_t, ŷ = y' under
 *                               the seed's Σ(·)² victim loss, softmax(y') under cross-entropy (as the
 *                               DLG paper's code); x' ~ N(0, 1). With L-BFGS on LeNet the 1/n_t
 *                               is dropped, as in the papers' code (`lbfgsRecipe` says why)
 *   idlg     (Zhao et al. 2020) the same distance over x' only, the label read off the last layer's
 *                               gradient beforehand (`inferLabelIdlg`)
 *   ig       (Geiping et al. 2020) Σ_t (1 − cos) + λ_TV·TV(x'), label by iDLG's rule (ig.ts)
 *   adaptive (DGC-aware)       masked L2 on the transmitted entries + TV, mean-image start (adaptive.ts)
 *   analytic (Linear with a bias, B = 1) x = ∂W[:, j] / ∂b[j]: no optimization (analytic.ts)
 * Optimizers: gd (x ← x − lr·∇, the seed's), adam (adam.ts, with ig/adaptive's 3/8, 5/8, 7/8 step
 * schedule where the recipe has it), lbfgs (one torch-style L-BFGS `.step` per attack iteration).
 * dlg + gd under the seed's victim loss *is* `dlgAttack` (same numbers, same closed-form fast path,
 * same round-robin over a batch); every other pair moves the whole batch at once. L-BFGS is
 * unconstrained: the [−1, 1] box and the step schedule apply to gd and adam only; it runs without
 * a line search for dlg/idlg (the papers' torch default) and with strong Wolfe for ig/adaptive,
 * whose scale-free cosine and non-smooth TV terms make unit steps overshoot (measured: the
 * objective rose without it).
 * A snapshot is taken when iteration % returnEvery == 0, after that iteration's update; the
 * distance recorded for an iteration is the objective before its update (L-BFGS: at the step's start).
 */
import { argmaxRows } from "../metrics/labels";
import { tf } from "../core/tf";
import { NUM_CLASSES, PIXELS } from "../data/mnist";
import { DivergenceError } from "../core/errors";
import { makeStepper } from "./steppers";
import { runAnalytic } from "./analytic_attack";
import { analyticApplies } from "./analytic";
import { dlgAttack, initialLabels, type DLGSnapshot } from "./dlg";
import { ADAPTIVE_ATTACK } from "./adaptive";
import { IG_ATTACK } from "./ig";
import { inferLabel, inversionObjective, meanStart, noiseStart } from "./invert";
import { l2Distance, totalVariation, transmittedMask } from "./objectives";
import { parameterGradients, type VictimLoss } from "../models/losses";
import { logSumExp } from "../models/losses";
import type { Model } from "../models/model";
import { AttackSetupError, type AttackInput, type AttackMethod, type AttackOptimizer, type AttackOutput, type AttackRecipe, type AttackSpec, type IterationHook } from "./spec";

export * from "./spec";

const fromInversion = (a: typeof IG_ATTACK): AttackRecipe => ({
  optimizeLabel: false, distance: a.distance, masked: a.masked, tvWeight: a.tvWeight, box: a.box, decay: a.decay,
  start: a.start, labelRule: a.labelRule, clipNorm: a.clipNorm, lineSearch: "strong_wolfe",
});

export const ATTACK_RECIPES: Readonly<Record<Exclude<AttackMethod, "analytic">, Readonly<AttackRecipe>>> = {
  dlg: { optimizeLabel: true, distance: "l2", masked: false, tvWeight: 0, box: false, decay: false, start: "noise", labelRule: null, clipNorm: null, lineSearch: "none" },
  idlg: { optimizeLabel: false, distance: "l2", masked: false, tvWeight: 0, box: false, decay: false, start: "noise", labelRule: "idlg", clipNorm: null, lineSearch: "none" },
  ig: fromInversion(IG_ATTACK),
  adaptive: fromInversion(ADAPTIVE_ATTACK),
};

/** The optimizer each method is run with unless one is named (the papers' choices). */
export function defaultOptimizer(method: Exclude<AttackMethod, "analytic">): AttackOptimizer;
export function defaultOptimizer(method: AttackMethod): AttackOptimizer | "none";
export function defaultOptimizer(method: AttackMethod): AttackOptimizer | "none" {
  return method === "dlg" ? "gd" : method === "idlg" ? "lbfgs" : method === "analytic" ? "none" : "adam";
}

/** The learning rate each optimizer starts from unless one is named: the seed's 0.2, torch's 1, IG's 0.1. */
export function defaultLr(optimizer: AttackOptimizer | "none"): number {
  return optimizer === "lbfgs" ? 1 : optimizer === "adam" ? 0.1 : 0.2;
}

/** Throws AttackSetupError when the method cannot apply to this model and batch size. */
export function checkApplicable(method: AttackMethod, model: Model, batch: number): void {
  if (method !== "analytic") return;
  if (!analyticApplies(model.paramShapes)) throw new AttackSetupError(`--attack_method analytic needs a first layer that is Linear with a bias; ${model.kind}'s is a convolution`);
  if (batch !== 1) throw new AttackSetupError(`--attack_method analytic recovers one image; the attacked batch has ${batch}`);
}

/** softmax along the last axis from elementary ops (tfjs's Softmax gradient is output-based). */
function softmax(y: tf.Tensor): tf.Tensor {
  return tf.exp(tf.sub(y, logSumExp(y)));
}

/**
 * DLG's objective D(x', y') under the given victim loss (ce: the dummy label goes through softmax),
 * with the seed's per-tensor mean ("l2") or the papers' plain sum ("l2sum").
 */
export function dlgObjective(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], loss: VictimLoss, distance: "l2" | "l2sum" = "l2", simulate?: AttackInput["gradsOf"]) {
  const gradsOf = simulate ?? parameterGradients(model, params, loss);
  return (x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    l2Distance(gradsOf(x, loss === "ce" ? softmax(y) : y), observed, undefined, distance === "l2sum" ? "sum" : "mean");
}


/**
 * With L-BFGS on LeNet, dlg and idlg match gradients by the papers' plain sum (their code's
 * `grad_diff`), not the seed's per-tensor mean: L-BFGS's tolerances are absolute (|Δloss| < 1e-9
 * ends a step) and the mean reweights the tensors, and it stopped early (LeNet, Momentum, seeds
 * 1–5: iDLG/ce 34–38 dB with the mean, 65–77 dB with the sum; DLG/sse 58–69 vs 89–104 dB). On the
 * seed's Linear model the sum is the wrong choice: its weight gradient x·δᵀ is blind to the scale
 * trade (c·x, δ/c) that only the bias pins down, and with the bias's 10 entries outweighed by 7,840
 * L-BFGS drifted off to a scaled image (3 of 5 seeds at −30 dB; all 5 at 76–82 dB with the mean).
 */
function lbfgsRecipe(method: AttackMethod, model: Model): Partial<AttackRecipe> {
  return (method === "dlg" || method === "idlg") && model.kind !== "linear" ? { distance: "l2sum" } : {};
}

/** The method's recipe for this optimizer and model, with the spec's changes. */
export function attackRecipe(spec: AttackSpec, model: Model): AttackRecipe {
  if (spec.method === "analytic") throw new AttackSetupError("analytic has no optimization recipe");
  return { ...ATTACK_RECIPES[spec.method], ...(spec.optimizer === "lbfgs" ? lbfgsRecipe(spec.method, model) : {}), ...spec.recipe };
}

/** The label the attack infers from the observed gradient before it starts (DLG: its guess). */
export function attackGuess(spec: AttackSpec, observed: readonly tf.Tensor[]): number {
  const rule = spec.method === "analytic" ? "idlg" : ({ ...ATTACK_RECIPES[spec.method], ...spec.recipe }.labelRule ?? spec.labelRule);
  return inferLabel(rule, observed);
}

/** The attack, with snapshots and the per-iteration objective. */
export function runAttackMethod(spec: AttackSpec, input: AttackInput, onIteration?: IterationHook): AttackOutput {
  checkApplicable(spec.method, input.model, input.batch);
  if (input.labels && input.labels.length !== input.batch * NUM_CLASSES) {
    throw new AttackSetupError(`labels: ${input.labels.length} values do not make ${input.batch} rows of ${NUM_CLASSES}`);
  }
  if (spec.method === "analytic") return runAnalytic(spec, input, attackGuess(spec, input.observed), onIteration);
  if (spec.optimizer === "none") throw new AttackSetupError(`--attack_method ${spec.method} needs an optimizer (gd, adam or lbfgs)`);
  const recipe = attackRecipe(spec, input.model);
  const { batch: B } = input;
  const guess = attackGuess(spec, input.observed);
  if (spec.method === "dlg" && spec.optimizer === "gd" && spec.victimLoss === "sse" && !spec.recipe && !input.gradsOf) {
    const r = dlgAttack(input.model, input.params, input.observed, B, {
      iterations: spec.iterations, lr: spec.lr, returnEvery: spec.returnEvery, windowSize: spec.windowSize,
      labelStart: input.labels ?? initialLabels(spec.labelInit, B, guess), rng: input.rng,
    }, onIteration);
    const last = r.snapshots[r.snapshots.length - 1];
    const y = last?.y ?? input.labels ?? initialLabels(spec.labelInit, B, guess);
    // dlgAttack keeps only snapshots; with no snapshot at the last iteration the start stands in
    return { x: last?.x ?? new Float32Array(B * PIXELS), y, labels: argmaxRows(y, B), guess, snapshots: r.snapshots, distances: r.distances, seconds: r.seconds };
  }
  const start = recipe.start === "mean" ? meanStart(requireMean(input), B) : noiseStart(input.rng, B);
  const labelRows = input.labels ?? (spec.method === "dlg" ? initialLabels(spec.labelInit, B, guess) : initialLabels("guess", B, guess));
  return optimize(spec, recipe, input, start, labelRows, guess, onIteration);
}

function requireMean(input: AttackInput): Float32Array {
  if (!input.mean) throw new AttackSetupError("this attack starts from (or fills with) the training set's mean image: pass `mean`");
  return input.mean;
}

/** The objective over the optimized tensors: [x'] or [x', y']. Owns the mask/label tensors it makes. */
function buildObjective(spec: AttackSpec, recipe: AttackRecipe, input: AttackInput, labelRows: Float32Array) {
  const { model, params, observed, batch: B } = input;
  if (recipe.optimizeLabel) {
    if (recipe.distance === "cosine" || recipe.masked) throw new AttackSetupError("an attack that optimizes the label takes the unmasked l2 or l2sum distance");
    const d = dlgObjective(model, params, observed, spec.victimLoss, recipe.distance, input.gradsOf);
    const f = (xs: tf.Tensor[]) => {
      const base = d(xs[0], xs[1]);
      return (recipe.tvWeight > 0 ? tf.add(base, tf.mul(totalVariation(xs[0]), recipe.tvWeight)) : base) as tf.Scalar;
    };
    return { f, dispose: () => undefined };
  }
  const labels = tf.tensor2d(labelRows, [B, NUM_CLASSES]);
  const mask = recipe.masked ? transmittedMask(observed) : undefined;
  const g = inversionObjective(model, params, observed, labels, { ...recipe, victimLoss: spec.victimLoss }, mask, input.gradsOf);
  return { f: (xs: tf.Tensor[]) => g(xs[0]), dispose: () => tf.dispose([labels, ...(mask ?? []).map((m) => m.mask)]) };
}

function optimize(spec: AttackSpec, recipe: AttackRecipe, input: AttackInput, start: Float32Array, labelRows: Float32Array, guess: number, onIteration?: IterationHook): AttackOutput {
  const t0 = performance.now();
  const B = input.batch;
  const shapes = recipe.optimizeLabel ? [[B, PIXELS], [B, NUM_CLASSES]] : [[B, PIXELS]];
  const objective = buildObjective(spec, recipe, input, labelRows);
  const stepper = makeStepper(shapes, [start, labelRows], recipe, spec, objective.f);
  const snapshots: DLGSnapshot[] = [];
  const distances = new Float64Array(spec.iterations);
  try {
    for (let it = 0; it < spec.iterations; it++) {
      const d = stepper.step(it);
      distances[it] = d;
      let snap: DLGSnapshot | undefined;
      if (it % spec.returnEvery === 0) {
        const { x, y } = stepper.read();
        if (!x.every(Number.isFinite) || !y.every(Number.isFinite)) throw new DivergenceError(`${spec.method} diverged: dummy data is not finite at iteration ${it}`);
        snapshots.push((snap = { iteration: it, x, y, distance: d }));
      }
      onIteration?.(it, d, snap);
    }
    const { x, y } = stepper.final();
    if (!x.every(Number.isFinite) || !y.every(Number.isFinite)) throw new DivergenceError(`${spec.method} diverged: dummy data is not finite`);
    // a fixed label: y is its rows
    const labels = argmaxRows(y, B);
    return { x, y, labels, guess, snapshots, distances, seconds: (performance.now() - t0) / 1000 };
  } finally {
    stepper.dispose();
    objective.dispose();
  }
}
