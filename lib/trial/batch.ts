/**
 * Attacks on a batch (B ≥ 1), shared by the CLI, the study and the notebook: the victim's step on
 * the first batch of B of an untrained model, the label *counts* the attacker reads off the
 * observed bias gradient (lib/attack/label_counts.ts, with labelled public data: MNIST's test
 * set), one attack from the registry (lib/attack/methods.ts) in which sample b gets the b-th label
 * of those counts, and scores after the optimal matching of reconstructions to targets
 * (lib/metrics/match.ts). Which sample gets which inferred label is arbitrary; matching makes the
 * order irrelevant.
 */
import type { MnistSplit } from "../data/mnist";
import type { Batch } from "../data/batcher";
import { seedThreat, type RunContext } from "./demo";
import type { DGCRefinements } from "../optim/dgc";
import { type AttackSpec, type IterationHook } from "../attack/methods";
import { labelCounts, type BatchLabels, type PublicPrior } from "../attack/label_counts";
import { multisetLabelAccuracy, type MatchedMetrics } from "../metrics/match";
import { sumStats } from "../optim/optimizer";
import { runTrial } from "./run";

/**
 * The attacks on a batch, as registry specs:
 *   dlg       the seed's DLG (Σ(z − onehot)² victim, gradient descent, lr 0.2), round-robin: one
 *             sample moves per window of 200 iterations;
 *   dlg-all   the same with every sample moving at once (lr 0.2 / B: the summed gradient of D grows
 *             with B, and at 0.2 it diverged at B = 4 here);
 *   dlg-lbfgs DLG as its paper ran it: cross-entropy victim, L-BFGS (lr 1) on x' and y';
 *   idlg      iDLG: L-BFGS on x' only, each sample's label fixed from the counts;
 *   ig        Inverting Gradients (cosine + TV, Adam lr 0.1), labels fixed from the counts;
 *   adaptive  the DGC-aware attacker (masked L2 + TV, mean-image start, Adam), labels from the counts.
 * The DLG variants start their dummy label at the counts' one-hot rows and optimize it.
 */
export type BatchAttackName = "dlg" | "dlg-all" | "dlg-lbfgs" | "idlg" | "ig" | "adaptive";
export const BATCH_ATTACKS: readonly BatchAttackName[] = ["dlg", "dlg-all", "dlg-lbfgs", "idlg", "ig", "adaptive"];

/** The registry spec of a batch attack (one snapshot, at the last iteration). */
export function batchAttackSpec(attack: BatchAttackName, batch: number, iterations: number, lr?: number): AttackSpec {
  const base = { iterations, returnEvery: Math.max(1, iterations - 1), windowSize: 200, labelInit: "guess" as const, labelRule: "idlg" as const };
  switch (attack) {
    case "dlg":
      return { ...base, method: "dlg", optimizer: "gd", lr: lr ?? 0.2, victimLoss: "sse" };
    case "dlg-all":
      return { ...base, method: "dlg", optimizer: "gd", lr: lr ?? 0.2 / batch, victimLoss: "sse", windowSize: 0 };
    case "dlg-lbfgs":
      return { ...base, method: "dlg", optimizer: "lbfgs", lr: lr ?? 1, victimLoss: "ce" };
    case "idlg":
      return { ...base, method: "idlg", optimizer: "lbfgs", lr: lr ?? 1, victimLoss: "ce" };
    default:
      return { ...base, method: attack, optimizer: "adam", lr: lr ?? 0.1, victimLoss: "ce" };
  }
}

export interface BatchAttackOptions {
  attack: BatchAttackName;
  iterations: number;
  /** Default: per attack (`batchAttackSpec`). */
  lr?: number;
  /** dlg only: iterations per sample (the seed's 200). */
  windowSize?: number;
  dgc?: DGCRefinements;
  /** Every iteration of the attack (progress, a live image at its snapshots). */
  onIteration?: IterationHook;
}

export interface BatchAttackRun extends BatchLabels {
  target: Batch;
  trueCounts: Int32Array;
  /** Multiset label accuracy of the inferred counts. */
  labelAcc: number;
  /** The labels the attack ends with (DLG optimizes its dummy label; the others keep `labels`), and their multiset accuracy. */
  finalLabels: Int32Array;
  finalLabelAcc: number;
  /** [B × 784] after the last iteration. */
  x: Float32Array;
  matched: MatchedMetrics;
  /** Per target: PSNR of the mean image (the trivial baseline of the recovery rule). */
  baselinePsnr: number[];
  /** Matched pairs with PSNR ≥ baseline + RECOVERY_MARGIN_DB. */
  recovered: number;
  sent: { sent: number; total: number };
  seconds: number;
}

/** A batch attack is a trial: the seed's threat model at the context's batch size, the labelled public prior. */
export function runBatchAttack(ctx: RunContext, train: MnistSplit, prior: PublicPrior, opts: BatchAttackOptions): BatchAttackRun {
  const spec = batchAttackSpec(opts.attack, ctx.cfg.attack_batch_size, opts.iterations, opts.lr);
  if (opts.windowSize !== undefined && opts.attack === "dlg") spec.windowSize = opts.windowSize;
  const threat = seedThreat(ctx, train, opts.dgc, prior.mean);
  threat.victim.loss = spec.victimLoss;
  const hook = opts.onIteration;
  const r = runTrial(threat, spec, hook ? { onIteration: (it, d, _rec, snap) => hook(it, d, snap) } : {}, prior);
  const inferred = r.inferred!;
  const finalLabels = Int32Array.from(r.labels);
  return {
    ...inferred, target: r.target, trueCounts: labelCounts(r.target.y), labelAcc: multisetLabelAccuracy(inferred.labels, r.target.y),
    finalLabels, finalLabelAcc: multisetLabelAccuracy(finalLabels, r.target.y),
    x: r.reconstruction, matched: r.matched, baselinePsnr: r.targetBaselines, recovered: r.recoveredCount, sent: sumStats(r.sent), seconds: r.seconds,
  };
}

/** The printed lines of a batch's matched scores: one per target, then the means. */
export function matchedLines(run: { matched: MatchedMetrics; target: Batch }, labels?: ArrayLike<number>, classNames?: readonly string[]): string[] {
  // CIFAR-10: a class by its name ("label 1 automobile"); MNIST: the digit alone, as before
  const name = (k: number) => (classNames ? `${k} ${classNames[k]}` : `${k}`);
  const lines = run.matched.pairs.map(
    (p) => `Matched sample ${p.target} (label ${name(run.target.y[p.target])}) <- reconstruction ${p.recon}${labels ? ` (label ${name(labels[p.recon])})` : ""}: data_mse_loss = ${p.mse.toFixed(6)}, data_psnr = ${p.psnr.toFixed(3)}, data_ssim = ${p.ssim.toFixed(4)}`,
  );
  const m = run.matched;
  lines.push(`Matched mean over ${m.pairs.length}: data_mse_loss = ${m.mse.toFixed(6)}, data_psnr = ${m.psnr.toFixed(3)}, data_ssim = ${m.ssim.toFixed(4)}`);
  return lines;
}
