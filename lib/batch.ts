/**
 * Attacks on a batch (B ≥ 1), shared by the CLI, the study and the notebook: the victim's step on
 * the first batch of B of an untrained model, the label *counts* the attacker reads off the
 * observed bias gradient (lib/attack/label_counts.ts, with labelled public data: MNIST's test
 * set), one attack in which sample b gets the b-th label of those counts, and scores after the
 * optimal matching of reconstructions to targets (lib/metrics/match.ts).
 * Which sample gets which inferred label is arbitrary; matching makes the order irrelevant.
 */
import { IMAGE_SIZE, NUM_CLASSES, PIXELS, type MnistSplit } from "./data/mnist";
import { gatherBatch, type Batch } from "./data/batcher";
import { victimStep, type DGCRefinements, type RunContext } from "./demo";
import { dlgAttack } from "./attack/dlg";
import { runInversionAttack } from "./attack/invert";
import { IG_ATTACK } from "./attack/ig";
import { ADAPTIVE_ATTACK } from "./attack/adaptive";
import { inferLabelLargest } from "./attack/labels";
import { countsToLabels, inferLabelCounts, labelCountPrior, labelCounts, labelRows, type LabelCountPrior, type PublicData } from "./attack/label_counts";
import type { VictimLoss } from "./attack/objectives";
import { matchReconstructions, multisetLabelAccuracy, psnr, type MatchedMetrics } from "./metrics";
import { RECOVERY_MARGIN_DB } from "./sweep/summary";
import { sumStats } from "./optim/optimizer";

/** dlg: the seed's round-robin; dlg-all: every sample moves at once; ig, adaptive: lib/attack. */
export type BatchAttackName = "dlg" | "dlg-all" | "ig" | "adaptive";
export const BATCH_ATTACKS: readonly BatchAttackName[] = ["dlg", "dlg-all", "ig", "adaptive"];

/** The loss the victim back-propagates in each attack's setting (the seed's DLG: Σ(z − onehot)²). */
export function batchVictimLoss(attack: BatchAttackName): VictimLoss {
  return attack === "dlg" || attack === "dlg-all" ? "sse" : "ce";
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

export interface BatchAttackOptions {
  attack: BatchAttackName;
  iterations: number;
  /**
   * Default: the seed's 0.2 for DLG's round-robin (one sample moves), 0.2 / B for dlg-all (the
   * summed gradient of D grows with B; at 0.2 it diverged at B = 4 here), 0.1 (Adam) for ig/adaptive.
   */
  lr?: number;
  /** dlg only: iterations per sample (the seed's 200). */
  windowSize?: number;
  dgc?: DGCRefinements;
}

export interface BatchAttackRun {
  target: Batch;
  /** Inferred and true label counts per class. */
  counts: Int32Array;
  trueCounts: Int32Array;
  /** The inferred labels, one per reconstruction. */
  labels: Int32Array;
  /**
   * How many bias-gradient entries were sent. With none, the counts say nothing and every sample
   * gets the class whose observed column carries the most energy (`inferLabelLargest`).
   */
  biasSent: number;
  /** Multiset label accuracy of the inferred counts. */
  labelAcc: number;
  /** The labels the attack ends with (DLG optimizes its dummy label: argmax per sample; others: `labels`) and their multiset accuracy. */
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
  const loss = batchVictimLoss(opts.attack);
  const victim = victimStep(ctx, train, loss, opts.dgc);
  const { target, params, observed } = victim;
  const B = target.size;
  try {
    const dBias = observed[observed.length - 1].dataSync();
    const biasSent = Array.from(dBias).filter((d) => d !== 0).length;
    let counts: Int32Array;
    if (biasSent > 0) {
      const key = `${model.kind}/${ctx.seed}/${loss}`;
      const countPrior = prior.cache?.get(key) ?? labelCountPrior(model, params, prior.labelled, loss);
      prior.cache?.set(key, countPrior);
      counts = inferLabelCounts(dBias, B, countPrior);
    }
    else {
      counts = new Int32Array(dBias.length);
      counts[inferLabelLargest(observed[observed.length - 2].dataSync(), dBias)] = B;
    }
    const labels = countsToLabels(counts);
    const rows = labelRows(labels);
    const rng = ctx.rng.fork("dummy");
    let x: Float32Array;
    let seconds: number;
    let finalLabels = labels;
    if (opts.attack === "dlg" || opts.attack === "dlg-all") {
      const r = dlgAttack(model, params, observed, B, {
        iterations: opts.iterations,
        lr: opts.lr ?? (opts.attack === "dlg" ? 0.2 : 0.2 / B),
        returnEvery: Math.max(1, opts.iterations - 1),
        windowSize: opts.attack === "dlg" ? (opts.windowSize ?? 200) : 0,
        labelStart: rows,
        rng,
      });
      const last = r.snapshots[r.snapshots.length - 1];
      x = last.x;
      finalLabels = argmaxRows(last.y, B);
      seconds = r.seconds;
    } else {
      const recipe = opts.attack === "ig" ? IG_ATTACK : ADAPTIVE_ATTACK;
      const r = runInversionAttack({ ...recipe, iterations: opts.iterations, lr: opts.lr ?? recipe.lr }, model, params, observed, B, { rng, mean: prior.mean, labels: rows });
      x = r.x;
      seconds = r.seconds;
    }
    const matched = matchReconstructions(x, target.x, B, IMAGE_SIZE);
    const baselinePsnr = Array.from({ length: B }, (_, i) => psnr(prior.mean, target.x.subarray(i * PIXELS, (i + 1) * PIXELS)));
    const recovered = matched.pairs.filter((p) => p.psnr >= baselinePsnr[p.target] + RECOVERY_MARGIN_DB).length;
    return {
      target, counts, trueCounts: labelCounts(target.y), biasSent, labels, labelAcc: multisetLabelAccuracy(labels, target.y),
      finalLabels, finalLabelAcc: multisetLabelAccuracy(finalLabels, target.y),
      x, matched, baselinePsnr, recovered, sent: sumStats(victim.sent), seconds,
    };
  } finally {
    victim.dispose();
  }
}

function argmaxRows(y: Float32Array, batch: number, classes = NUM_CLASSES): Int32Array {
  return Int32Array.from({ length: batch }, (_, b) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (y[b * classes + j] > y[b * classes + best]) best = j;
    return best;
  });
}

/** The printed lines of a batch's matched scores: one per target, then the means. */
export function matchedLines(run: Pick<BatchAttackRun, "matched" | "target">, labels?: ArrayLike<number>): string[] {
  const lines = run.matched.pairs.map(
    (p) => `Matched sample ${p.target} (label ${run.target.y[p.target]}) <- reconstruction ${p.recon}${labels ? ` (label ${labels[p.recon]})` : ""}: data_mse_loss = ${p.mse.toFixed(6)}, data_psnr = ${p.psnr.toFixed(3)}, data_ssim = ${p.ssim.toFixed(4)}`,
  );
  const m = run.matched;
  lines.push(`Matched mean over ${m.pairs.length}: data_mse_loss = ${m.mse.toFixed(6)}, data_psnr = ${m.psnr.toFixed(3)}, data_ssim = ${m.ssim.toFixed(4)}`);
  return lines;
}
