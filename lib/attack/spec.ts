/**
 * What an attack is, as data: a method (what the attacker assumes and matches) × an optimizer ×
 * settings, the input it is given (exactly what it attacks: the model, the parameters, the observed
 * upload) and what it returns. methods.ts runs it.
 */
import type { tf } from "../core/tf";
import type { Model } from "../models/model";
import type { VictimLoss } from "../models/losses";
import type { Rng } from "../core/rng";
import type { DLGSnapshot } from "./dlg";
import type { GradientDistanceKind, LabelRuleName } from "./invert";

/** DLG's dummy-label start: the seed's all-ones row ("ones", what produced its numbers) or one-hot(guess). */
export type LabelInit = "ones" | "guess";
/** DLG's label guess: the seed's dWᵀdW rule ("gram") or iDLG's bias-gradient rule. */
export type LabelRule = "gram" | "idlg";

export type AttackMethod = "dlg" | "idlg" | "ig" | "adaptive" | "analytic";
export type AttackOptimizer = "gd" | "adam" | "lbfgs";
export const ATTACK_METHODS: readonly AttackMethod[] = ["dlg", "idlg", "ig", "adaptive", "analytic"];
export const ATTACK_OPTIMIZERS: readonly AttackOptimizer[] = ["gd", "adam", "lbfgs"];

/** A method that cannot apply to this model or batch: bad input, not a failure of the attack. */
export class AttackSetupError extends Error {}

/** What each method's recipe fixes beyond the spec (ig and adaptive: their own modules' settings). */
export interface AttackRecipe {
  /** The dummy label is optimized too (DLG) rather than inferred once and held fixed. */
  optimizeLabel: boolean;
  distance: GradientDistanceKind;
  /** Compare only the transmitted (non-zero) entries of the observed gradient. */
  masked: boolean;
  /** λ_TV; 0: no image prior. */
  tvWeight: number;
  /** Clamp x' to [−1, 1] after each gd/adam step. */
  box: boolean;
  /** lr × 0.1 at 3/8, 5/8, 7/8 of the iterations (gd/adam). */
  decay: boolean;
  start: "noise" | "mean";
  /** The fixed label's rule; null: the spec's `labelRule` (DLG's guess for its label start). */
  labelRule: LabelRuleName | null;
  /** The victim's local gradient clipping, mirrored on the dummy gradient (null: none). */
  clipNorm: number | null;
  /** L-BFGS's line search: none (the DLG/iDLG papers' torch default) or strong Wolfe. */
  lineSearch: "none" | "strong_wolfe";
  /**
   * dlg × lbfgs: how (x', y') start. "rows" (default): y' at the label rows (the seed's or the
   * guess's); "noise": y' ~ N(0, 1) logits drawn with x', as the DLG paper's code starts — the
   * sweep's and the anchor's paper DLG (lbfgs_dlg.ts: cross-entropy, summed distance, best iterate).
   */
  labelStart?: "rows" | "noise";
  /**
   * labelStart "noise": fresh N(0, 1) starts allowed after a step meets a non-finite point or stalls
   * (lbfgs_dlg.ts), within the same step budget, the best point of all starts kept (not the paper's
   * protocol; default 0, the paper's single run).
   */
  restarts?: number;
}

export interface AttackSpec {
  method: AttackMethod;
  /** Ignored by `analytic`, which optimizes nothing ("none"). */
  optimizer: AttackOptimizer | "none";
  iterations: number;
  lr: number;
  returnEvery: number;
  /** dlg + gd only: iterations per sample when the batch has several (the seed's round-robin). */
  windowSize: number;
  /** The loss the victim back-propagated, which the attacker assumes. */
  victimLoss: VictimLoss;
  /** dlg only: the dummy label's start. */
  labelInit: LabelInit;
  /** dlg only: the rule for the label guess that `labelInit: "guess"` starts from. */
  labelRule: LabelRule;
  /** Changes to the method's recipe (e.g. tvWeight, clipNorm). */
  recipe?: Partial<AttackRecipe>;
  /**
   * analytic only. Default: the registry's (unsent pixels filled by the mean image clamped to what
   * DGC's threshold allows; the label the one whose gradient matches best). `{ fill: "prior" }`: the
   * sweep's plain form (the mean image as it is; the label of the column divided by), with `dense`
   * when the attacker knows nothing was dropped (a zero entry is then the value 0, not "not sent").
   */
  analytic?: { fill: "bounded" | "prior"; dense: boolean };
}

export interface AttackInput {
  model: Model;
  params: readonly tf.Tensor[];
  /** What the attacker received, per parameter tensor (zeros: not sent). */
  observed: readonly tf.Tensor[];
  batch: number;
  /** Draws x' (the caller forks it, e.g. `ctx.rng.fork("dummy")`). */
  rng: Rng;
  /** The training set's mean image, a public prior: the adaptive start, analytic's fill. */
  mean?: Float32Array;
  /** The data's range, the box of a boxed recipe (gd/adam); default [−1, 1], MNIST's (CIFAR-10: [0, 1]). */
  range?: readonly [number, number];
  /**
   * One label per sample, [B × 10] one-hot rows (e.g. from the batch's label counts,
   * label_counts.ts): the fixed label of idlg/ig/adaptive and DLG's label start, in place of the
   * one guess every sample otherwise gets.
   */
  labels?: Float32Array;
  /**
   * What the attacker assumes the client computed from (x', y') and uploaded, kept on the tape; by
   * default the parameter gradient ∂loss/∂θ (FedSGD). FedAvg: the unrolled local steps' delta
   * (fedavg.ts `unrolledDelta`). Not with dlg + gd's closed-form path (it is skipped when given).
   */
  gradsOf?: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor[];
}

export interface AttackOutput {
  /** [B × 784], after the last iteration. */
  x: Float32Array;
  /** [B × 10]: DLG's dummy label, or the one-hot rows of the fixed label. */
  y: Float32Array;
  /** The label per sample the attack ends with (argmax of y). */
  labels: number[];
  /** The label inferred from the observed gradient before the attack started. */
  guess: number;
  snapshots: DLGSnapshot[];
  /** The objective at every iteration, before its update. */
  distances: Float64Array;
  seconds: number;
  /** analytic only: which pixels the received gradient determines exactly. */
  analytic?: { recovered: Uint8Array; recoveredCount: number; classUsed: number | null };
  /** The paper's L-BFGS DLG only: D at the best point kept, function evaluations, and starts (restarts + 1). */
  lbfgs?: { bestDistance: number; evals: number; starts: number };
}

export type IterationHook = (it: number, distance: number, snapshot?: DLGSnapshot) => void;

