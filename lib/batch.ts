/**
 * Attacks on a batch (B ≥ 1), shared by the CLI, the study and the notebook: the victim's step on
 * the first batch of B of an untrained model, the label *counts* the attacker reads off the
 * observed bias gradient (lib/attack/label_counts.ts, with labelled public data: MNIST's test
 * set), one attack from the registry (lib/attack/methods.ts) in which sample b gets the b-th label
 * of those counts, and scores after the optimal matching of reconstructions to targets
 * (lib/metrics/match.ts). Which sample gets which inferred label is arbitrary; matching makes the
 * order irrelevant.
 */
import { IMAGE_SIZE, PIXELS, type MnistSplit } from "./data/mnist";
import { gatherBatch, type Batch } from "./data/batcher";
import { victimStep, type DGCRefinements, type RunContext } from "./demo";
import { runAttackMethod, type AttackSpec } from "./attack/methods";
import { inferLabelLargest } from "./attack/labels";
import { countsToLabels, inferLabelCounts, labelCountPrior, labelCounts, labelRows, type LabelCountPrior, type PublicData } from "./attack/label_counts";
import type { tf } from "./tf";
import type { Model } from "./models/model";
import type { VictimLoss } from "./attack/objectives";
import { matchReconstructions, multisetLabelAccuracy, psnr, type MatchedMetrics } from "./metrics";
import { RECOVERY_MARGIN_DB } from "./sweep/summary";
import { sumStats } from "./optim/optimizer";

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

/** The attacker's public knowledge: labelled images (for the counts) and the training set's mean image. */
export interface PublicPrior {
  labelled: PublicData;
  mean: Float32Array;
  /**
   * Count priors already computed, keyed by model/seed/loss (the parameters are a function of the
   * run's seed): a study attacking one seed many times computes each once.
   */
  cache?: Map<string, LabelCountPrior>;
}

/** The first `n` images of a split as public labelled data. */
export function publicData(split: MnistSplit, n = 1000): PublicData {
  return gatherBatch(split, Int32Array.from({ length: Math.min(n, split.n) }, (_, i) => i));
}

export interface BatchLabels {
  /** Inferred counts per class, and one label per sample (in class order). */
  counts: Int32Array;
  labels: Int32Array;
  /** How many bias-gradient entries were sent. */
  biasSent: number;
}

/**
 * The batch's labels from what the attacker observed. With no bias entry sent the counts say
 * nothing, and every sample gets the class whose observed column carries the most energy
 * (`inferLabelLargest`, the adaptive attacker's rule).
 */
export function batchLabels(
  model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number, loss: VictimLoss,
  prior: PublicPrior, cacheKey?: string,
): BatchLabels {
  const dBias = observed[observed.length - 1].dataSync();
  const biasSent = Array.from(dBias).filter((d) => d !== 0).length;
  let counts: Int32Array;
  if (biasSent > 0) {
    const key = `${model.kind}/${cacheKey}/${loss}`;
    const countPrior = (cacheKey !== undefined ? prior.cache?.get(key) : undefined) ?? labelCountPrior(model, params, prior.labelled, loss);
    if (cacheKey !== undefined) prior.cache?.set(key, countPrior);
    counts = inferLabelCounts(dBias, batch, countPrior);
  } else {
    counts = new Int32Array(dBias.length);
    counts[inferLabelLargest(observed[observed.length - 2].dataSync(), dBias)] = batch;
  }
  return { counts, labels: countsToLabels(counts), biasSent };
}

export interface BatchAttackOptions {
  attack: BatchAttackName;
  iterations: number;
  /** Default: per attack (`batchAttackSpec`). */
  lr?: number;
  /** dlg only: iterations per sample (the seed's 200). */
  windowSize?: number;
  dgc?: DGCRefinements;
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

export function runBatchAttack(ctx: RunContext, train: MnistSplit, prior: PublicPrior, opts: BatchAttackOptions): BatchAttackRun {
  const { model } = ctx;
  const spec = batchAttackSpec(opts.attack, ctx.cfg.attack_batch_size, opts.iterations, opts.lr);
  if (opts.windowSize !== undefined && opts.attack === "dlg") spec.windowSize = opts.windowSize;
  const victim = victimStep(ctx, train, spec.victimLoss, opts.dgc);
  const { target, params, observed } = victim;
  const B = target.size;
  try {
    const inferred = batchLabels(model, params, observed, B, spec.victimLoss, prior, String(ctx.seed));
    const out = runAttackMethod(spec, { model, params, observed, batch: B, rng: ctx.rng.fork("dummy"), mean: prior.mean, labels: labelRows(inferred.labels) });
    const finalLabels = Int32Array.from(out.labels);
    const matched = matchReconstructions(out.x, target.x, B, IMAGE_SIZE);
    const baselinePsnr = Array.from({ length: B }, (_, i) => psnr(prior.mean, target.x.subarray(i * PIXELS, (i + 1) * PIXELS)));
    const recovered = matched.pairs.filter((p) => p.psnr >= baselinePsnr[p.target] + RECOVERY_MARGIN_DB).length;
    return {
      ...inferred, target, trueCounts: labelCounts(target.y), labelAcc: multisetLabelAccuracy(inferred.labels, target.y),
      finalLabels, finalLabelAcc: multisetLabelAccuracy(finalLabels, target.y),
      x: out.x, matched, baselinePsnr, recovered, sent: sumStats(victim.sent), seconds: out.seconds,
    };
  } finally {
    victim.dispose();
  }
}

/** The printed lines of a batch's matched scores: one per target, then the means. */
export function matchedLines(run: { matched: MatchedMetrics; target: Batch }, labels?: ArrayLike<number>): string[] {
  const lines = run.matched.pairs.map(
    (p) => `Matched sample ${p.target} (label ${run.target.y[p.target]}) <- reconstruction ${p.recon}${labels ? ` (label ${labels[p.recon]})` : ""}: data_mse_loss = ${p.mse.toFixed(6)}, data_psnr = ${p.psnr.toFixed(3)}, data_ssim = ${p.ssim.toFixed(4)}`,
  );
  const m = run.matched;
  lines.push(`Matched mean over ${m.pairs.length}: data_mse_loss = ${m.mse.toFixed(6)}, data_psnr = ${m.psnr.toFixed(3)}, data_ssim = ${m.ssim.toFixed(4)}`);
  return lines;
}
