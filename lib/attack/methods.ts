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
 * A snapshot is taken when iteration % returnEvery == 0, after that iteration's update, and after
 * the last iteration whatever returnEvery (marked `offSchedule`: what the attack ends with); the
 * distance recorded for an iteration is the objective before its update (L-BFGS: at the step's start).
 */
import { argmaxRows } from "../metrics/labels";
import { tf } from "../core/tf";
import { DivergenceError } from "../core/errors";
import { makeStepper } from "./steppers";
import { runAnalytic, runAnalyticPlain } from "./analytic_attack";
import { lbfgsDlg } from "./lbfgs_dlg";
import { analyticApplies } from "./analytic";
import { dlgAttack, initialLabels, snapshotAt, type DLGSnapshot } from "./dlg";
import { ADAPTIVE_ATTACK } from "./adaptive";
import { IG_ATTACK } from "./ig";
import { inferLabel, inversionObjective, meanStart, noiseStart, type InversionAttack } from "./invert";
import { dlgObjective, totalVariation, transmittedMask } from "./objectives";
import { pixelsOf, type Model } from "../models/model";
import { AttackSetupError, type AttackInput, type AttackMethod, type AttackOptimizer, type AttackOutput, type AttackRecipe, type AttackSpec, type IterationHook } from "./spec";

export * from "./spec";
// DLG's objective lives with the other objectives (lbfgs_dlg.ts uses it too)
export { dlgObjective };

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

/**
 * The command lines' default on LeNet (`--model lenet`, MNIST's or CIFAR-10's): the inversion attacks
 * ig and adaptive take L-BFGS (strong Wolfe) instead of Adam, as the sweep's LeNet frontier runs them —
 * Adam does not invert LeNet in affordable iterations (docs/defenses.md: adaptive at DGC 0.9 10.6 dB
 * by Adam × 1000, 40.6 dB by L-BFGS × 20; docs/fedavg.md: ig, no defense, E = 5, 23.8 dB); fl's history
 * attacker, whose inversions are adaptive's, with them. dlg keeps
 * the seed's gd, idlg its L-BFGS, Linear every method's paper default (their numbers do not move).
 */
export function modelDefaultOptimizer(method: AttackMethod, model: string): AttackOptimizer | "none" {
  return model === "lenet" && (method === "ig" || method === "adaptive") ? "lbfgs" : defaultOptimizer(method);
}

/**
 * `--attack_epoch` where `modelDefaultOptimizer` switched to L-BFGS and no count was given: the same
 * 2000 descent iterations as the seed's default, at torch's max_iter = 20 iterations per L-BFGS step.
 * (Once L-BFGS stalls a step costs one or two evaluations: the issue-23 command's 100 steps took 34–73 s.)
 */
export const LBFGS_DEFAULT_STEPS = 100;

/** The learning rate each optimizer starts from unless one is named: the seed's 0.2, torch's 1, IG's 0.1. */
export function defaultLr(optimizer: AttackOptimizer | "none"): number {
  return optimizer === "lbfgs" ? 1 : optimizer === "adam" ? 0.1 : 0.2;
}

/** Throws AttackSetupError when the method cannot apply to this model and batch size. */
export function checkApplicable(method: AttackMethod, model: Model, batch: number): void {
  if (method !== "analytic") return;
  if (!analyticApplies(model.paramShapes)) throw new AttackSetupError(`the analytic attack needs a first layer that is Linear with a bias; ${model.kind}'s is a convolution`);
  if (batch !== 1) throw new AttackSetupError(`the analytic attack recovers one image; the attacked batch has ${batch}`);
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
  const C = input.model.classes;
  if (input.labels && input.labels.length !== input.batch * C) {
    throw new AttackSetupError(`labels: ${input.labels.length} values do not make ${input.batch} rows of ${C}`);
  }
  if (spec.method === "analytic") {
    return spec.analytic?.fill === "prior" ? runAnalyticPlain(input, spec.analytic.dense, onIteration) : runAnalytic(spec, input, attackGuess(spec, input.observed), onIteration);
  }
  if (spec.optimizer === "none") throw new AttackSetupError(`method ${spec.method} needs an optimizer (gd, adam or lbfgs)`);
  const recipe = attackRecipe(spec, input.model);
  if (spec.method === "dlg" && spec.optimizer === "lbfgs" && recipe.labelStart === "noise") return paperLbfgsDlg(spec, input, onIteration);
  const { batch: B } = input;
  const guess = attackGuess(spec, input.observed);
  if (spec.method === "dlg" && spec.optimizer === "gd" && spec.victimLoss === "sse" && !spec.recipe && !input.gradsOf) {
    const r = dlgAttack(input.model, input.params, input.observed, B, {
      iterations: spec.iterations, lr: spec.lr, returnEvery: spec.returnEvery, windowSize: spec.windowSize,
      labelStart: input.labels ?? initialLabels(spec.labelInit, B, guess, C), rng: input.rng,
    }, onIteration);
    // dlgAttack keeps only snapshots, and always one after the last iteration: that is the result
    const last = r.snapshots[r.snapshots.length - 1];
    const y = last?.y ?? input.labels ?? initialLabels(spec.labelInit, B, guess, C);
    return { x: last?.x ?? new Float32Array(B * pixelsOf(input.model)), y, labels: argmaxRows(y, B), guess, snapshots: r.snapshots, distances: r.distances, seconds: r.seconds };
  }
  const start = recipe.start === "mean" ? meanStart(requireMean(input), B) : noiseStart(input.rng, B, pixelsOf(input.model));
  const labelRows = input.labels ?? (spec.method === "dlg" ? initialLabels(spec.labelInit, B, guess, C) : initialLabels("guess", B, guess, C));
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
      return (recipe.tvWeight > 0 ? tf.add(base, tf.mul(totalVariation(xs[0], model.inputShape), recipe.tvWeight)) : base) as tf.Scalar;
    };
    return { f, dispose: () => undefined };
  }
  const labels = tf.tensor2d(labelRows, [B, model.classes]);
  const mask = recipe.masked ? transmittedMask(observed) : undefined;
  const g = inversionObjective(model, params, observed, labels, { ...recipe, victimLoss: spec.victimLoss }, mask, input.gradsOf);
  return { f: (xs: tf.Tensor[]) => g(xs[0]), dispose: () => tf.dispose([labels, ...(mask ?? []).map((m) => m.mask)]) };
}

function optimize(spec: AttackSpec, recipe: AttackRecipe, input: AttackInput, start: Float32Array, labelRows: Float32Array, guess: number, onIteration?: IterationHook): AttackOutput {
  const t0 = performance.now();
  const B = input.batch;
  const P = pixelsOf(input.model);
  const shapes = recipe.optimizeLabel ? [[B, P], [B, input.model.classes]] : [[B, P]];
  const objective = buildObjective(spec, recipe, input, labelRows);
  const stepper = makeStepper(shapes, [start, labelRows], recipe, spec, objective.f, input.range);
  const snapshots: DLGSnapshot[] = [];
  const distances = new Float64Array(spec.iterations);
  try {
    for (let it = 0; it < spec.iterations; it++) {
      const d = stepper.step(it);
      distances[it] = d;
      let snap: DLGSnapshot | undefined;
      const at = snapshotAt(it, spec.iterations, spec.returnEvery);
      if (at.take) {
        // the last iteration's snapshot is what the attack ends with (stepper.final())
        const { x, y } = it === spec.iterations - 1 ? stepper.final() : stepper.read();
        if (!x.every(Number.isFinite) || !y.every(Number.isFinite)) throw new DivergenceError(`${spec.method} diverged: dummy data is not finite at iteration ${it}`);
        snapshots.push((snap = { iteration: it, x, y, distance: d, ...(at.offSchedule ? { offSchedule: true as const } : {}) }));
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

/**
 * DLG as its paper's code runs it (lbfgs_dlg.ts): x' and y' logits from N(0, 1), cross-entropy, the
 * summed distance, L-BFGS, the best finite iterate. One snapshot, after the last step; its guess is
 * the recovered label's argmax.
 */
function paperLbfgsDlg(spec: AttackSpec, input: AttackInput, onIteration?: IterationHook): AttackOutput {
  if (spec.victimLoss !== "ce") throw new AttackSetupError("the DLG paper's L-BFGS start (labelStart noise) assumes a cross-entropy victim");
  const B = input.batch;
  const r = lbfgsDlg(input.model, input.params, input.observed, B, { steps: spec.iterations, rng: input.rng, restarts: spec.recipe?.restarts });
  for (let it = 0; it < spec.iterations - 1; it++) onIteration?.(it, r.distances[it]);
  const labels = argmaxRows(r.y, B);
  const last = spec.iterations - 1;
  const snap: DLGSnapshot = { iteration: Math.max(0, last), x: r.x, y: r.y, distance: r.distances[last] ?? NaN };
  if (spec.iterations > 0) onIteration?.(last, snap.distance, snap);
  const guess = r.y.indexOf(Math.max(...r.y.subarray(0, input.model.classes)));
  return { x: r.x, y: r.y, labels, guess, snapshots: spec.iterations > 0 ? [snap] : [], distances: r.distances, seconds: r.seconds, lbfgs: { bestDistance: r.bestDistance, evals: r.evals, starts: r.starts } };
}

/**
 * An inversion attack's settings (ig.ts, adaptive.ts, aware.ts: distance, mask, TV, box, schedule,
 * start, label rule, clipping) as the registry's spec; one snapshot, at the last iteration.
 */
export function inversionSpec(method: "ig" | "adaptive", a: InversionAttack, optimizer: AttackOptimizer = "adam"): AttackSpec {
  return {
    method, optimizer, iterations: a.iterations, lr: a.lr, returnEvery: Math.max(1, a.iterations - 1), windowSize: 200,
    victimLoss: a.victimLoss, labelInit: "ones", labelRule: "gram",
    recipe: { distance: a.distance, masked: a.masked, tvWeight: a.tvWeight, clipNorm: a.clipNorm, start: a.start, labelRule: a.labelRule, box: a.box, decay: a.decay },
  };
}

/** DLG as its paper's code runs it (lbfgs_dlg.ts) as the registry's spec: dlg × lbfgs from noise, cross-entropy; `restarts` beyond the paper (default 0). */
export function paperDlgSpec(steps: number, restarts = 0): AttackSpec {
  return {
    method: "dlg", optimizer: "lbfgs", iterations: steps, lr: 1, returnEvery: Math.max(1, steps - 1), windowSize: 200,
    victimLoss: "ce", labelInit: "ones", labelRule: "gram", recipe: restarts > 0 ? { labelStart: "noise", restarts } : { labelStart: "noise" },
  };
}
