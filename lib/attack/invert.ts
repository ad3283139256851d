/**
 * Gradient inversion by optimization, the engine behind the Inverting-Gradients attack
 * (`ig.ts`) and the DGC-aware attack (`adaptive.ts`):
 *
 *   minimize over x'   D(∂loss(net(x'), y)/∂θ, g_observed [, transmitted mask]) + λ_TV · TV(x')
 *
 * with Adam, the label y fixed (inferred beforehand from the observed gradient), x' clamped to the
 * data range after each step (Geiping et al.'s "boxed" constraint), and optionally their step
 * schedule (lr × 0.1 at 3/8, 5/8 and 7/8 of the iterations). Every sample of the batch moves at once.
 */
import { tf, variableFrom } from "../core/tf";
import { PIXELS } from "../data/mnist";
import { DivergenceError } from "../core/errors";
import { Adam } from "./adam";
import { clipByNorm } from "../optim/clip";
import { cosineDistance, l2Distance, totalVariation, transmittedMask, type Transmitted } from "./objectives";
import { parameterGradients, type VictimLoss } from "../models/losses";
import { initialLabels } from "./dlg";
import { inferLabelGram, inferLabelIdlg, inferLabelLargest } from "./labels";
import { pixelsOf, type Model } from "../models/model";
import type { Rng } from "../core/rng";

/** l2: Σ_t ‖g − o‖² / n_t (the seed's); l2sum: without the 1/n_t (the DLG papers' code); cosine: IG's. */
export type GradientDistanceKind = "l2" | "l2sum" | "cosine";

/** How the attacker sets up the optimization (what it assumes, not what it observed). */
export interface InversionSettings {
  iterations: number;
  lr: number;
  /** Geiping et al.'s schedule: lr × 0.1 at 3/8, 5/8 and 7/8 of the iterations. */
  decay: boolean;
  /** The loss the attacker assumes the victim back-propagated. */
  victimLoss: VictimLoss;
  distance: GradientDistanceKind;
  /** Compare only the transmitted (non-zero) coordinates of the observed gradient. */
  masked: boolean;
  /** λ_TV; 0 turns the prior off. */
  tvWeight: number;
  /** Clamp x' to the data range [−1, 1] after every step. */
  box: boolean;
  /** The victim's local gradient clipping, mirrored on the dummy gradient (null: none). */
  clipNorm: number | null;
}

export interface InversionOptions extends InversionSettings {
  /** x' at the start, [B × 784]. */
  start: Float32Array;
  /** The fixed label rows fed to the victim loss, [B × 10] (one-hot). */
  labels: Float32Array;
}

export interface InversionResult {
  /** x' after the last step, [B × 784]. */
  x: Float32Array;
  /** The objective at every iteration (before its step). */
  objective: Float64Array;
  seconds: number;
}

const l2Sum = (g: readonly tf.Tensor[], o: readonly tf.Tensor[], mask?: readonly Transmitted[]) => l2Distance(g, o, mask, "sum");

/** lr at iteration `it` under the schedule. */
export function scheduledLr(settings: Pick<InversionSettings, "lr" | "decay" | "iterations">, it: number): number {
  if (!settings.decay) return settings.lr;
  const n = settings.iterations;
  const drops = [3 / 8, 5 / 8, 7 / 8].filter((f) => it >= Math.floor(f * n)).length;
  return settings.lr * 0.1 ** drops;
}

/** The objective as a function of x' (labels, parameters and observation fixed). */
export function inversionObjective(
  model: Model,
  params: readonly tf.Tensor[],
  observed: readonly tf.Tensor[],
  labels: tf.Tensor,
  settings: Pick<InversionSettings, "victimLoss" | "distance" | "tvWeight" | "clipNorm">,
  mask?: ReturnType<typeof transmittedMask>,
  /** What the attacker assumes was uploaded, as a function of (x', y); default the parameter gradient. */
  simulate?: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor[],
): (x: tf.Tensor) => tf.Scalar {
  const gradsOf = simulate ?? parameterGradients(model, params, settings.victimLoss);
  const distance = settings.distance === "cosine" ? cosineDistance : settings.distance === "l2sum" ? l2Sum : l2Distance;
  const { clipNorm } = settings;
  return (x) => {
    const grads = gradsOf(x, labels);
    const d = distance(clipNorm === null ? grads : grads.map((g) => clipByNorm(g, clipNorm)), observed, mask);
    return (settings.tvWeight > 0 ? tf.add(d, tf.mul(totalVariation(x, model.inputShape), settings.tvWeight)) : d) as tf.Scalar;
  };
}

export function invertGradients(
  model: Model,
  params: readonly tf.Tensor[],
  observed: readonly tf.Tensor[],
  batch: number,
  opts: InversionOptions,
  onIteration?: (it: number, objective: number) => void,
): InversionResult {
  const t0 = performance.now();
  const x = variableFrom(tf.tensor2d(opts.start, [batch, pixelsOf(model)]));
  const labels = tf.tensor2d(opts.labels, [batch, model.classes]);
  const mask = opts.masked ? transmittedMask(observed) : undefined;
  const adam = new Adam([x]);
  const valueAndGrad = tf.valueAndGrad(inversionObjective(model, params, observed, labels, opts, mask));
  const objective = new Float64Array(opts.iterations);
  try {
    for (let it = 0; it < opts.iterations; it++) {
      const v = tf.tidy(() => {
        const { value, grad } = valueAndGrad(x);
        adam.step([grad], scheduledLr(opts, it));
        if (opts.box) x.assign(tf.clipByValue(x, -1, 1));
        return value.dataSync()[0];
      });
      objective[it] = v;
      if (!Number.isFinite(v)) throw new DivergenceError(`gradient inversion diverged: objective is ${v} at iteration ${it}`);
      onIteration?.(it, v);
    }
    const out = x.dataSync().slice() as Float32Array;
    if (!out.every(Number.isFinite)) throw new DivergenceError("gradient inversion diverged: dummy data is not finite");
    return { x: out, objective, seconds: (performance.now() - t0) / 1000 };
  } finally {
    adam.dispose();
    tf.dispose([x, labels, ...(mask ?? []).map((m) => m.mask)]);
  }
}

/** x' ~ N(0, 1), as DLG and Inverting Gradients start. */
export function noiseStart(rng: Rng, batch: number, pixels = PIXELS): Float32Array {
  return rng.normalArray(batch * pixels);
}

/** Every sample starts at the data set's mean image: the attacker's prior of "a digit". */
export function meanStart(mean: Float32Array, batch: number): Float32Array {
  const x = new Float32Array(batch * mean.length);
  for (let b = 0; b < batch; b++) x.set(mean, b * mean.length);
  return x;
}

export type LabelRuleName = "idlg" | "gram" | "largest";

/** An attack = the optimization's settings + how it starts and infers the label. */
export interface InversionAttack extends InversionSettings {
  start: "noise" | "mean";
  labelRule: LabelRuleName;
}

/** The label from the last layer's observed gradient (weight [features, 10], then bias [10]). */
export function inferLabel(rule: LabelRuleName, observed: readonly tf.Tensor[]): number {
  const dW = observed[observed.length - 2].dataSync();
  const db = observed[observed.length - 1].dataSync();
  return rule === "idlg" ? inferLabelIdlg(db) : rule === "gram" ? inferLabelGram(dW, db.length) : inferLabelLargest(dW, db, db.length);
}

/** Infers the label, picks the start, and inverts. `mean` is needed for a mean-image start. */
export function runInversionAttack(
  attack: InversionAttack,
  model: Model,
  params: readonly tf.Tensor[],
  observed: readonly tf.Tensor[],
  batch: number,
  prior: { rng: Rng; mean?: Float32Array },
  onIteration?: (it: number, objective: number) => void,
): InversionResult & { guess: number; y: Float32Array } {
  const guess = inferLabel(attack.labelRule, observed);
  const labels = initialLabels("guess", batch, guess, model.classes);
  let start: Float32Array;
  if (attack.start === "mean") {
    if (!prior.mean) throw new Error("a mean-image start needs the mean image");
    start = meanStart(prior.mean, batch);
  } else {
    start = noiseStart(prior.rng, batch, pixelsOf(model));
  }
  const result = invertGradients(model, params, observed, batch, { ...attack, start, labels }, onIteration);
  return { ...result, guess, y: labels };
}
