/**
 * The DGC variants compared by the sweep:
 *   seed    — PaddleSleeve's DGCMomentum as the seed runs it (no refinement);
 *   paper   — the DGC paper's refinements (Lin et al. 2018): momentum-factor masking, local gradient
 *             clipping and an exponential sparsity warm-up;
 *   sampled — the seed's DGC with the threshold estimated from a 1% sample (the paper's §3 trick).
 * The constants are ours, chosen for the seed's Linear model and 2-epoch runs (docs/sweep.md).
 */
import type { DGCOptions, DGCRefinements } from "./dgc";
import type { Rng } from "../core/rng";

export const DGC_VARIANTS = ["seed", "paper", "sampled"] as const;
export type DGCVariant = (typeof DGC_VARIANTS)[number];

/** ≈ the 99th percentile of the weight gradient's L2 norm (batch 64, cross-entropy) over DGC's
 *  first 900 steps: clips outliers only. (At 5, about the median, training at sparsity 0.99 diverged.) */
export const PAPER_CLIP_NORM = 20;
/** The paper warms up over 4 of 90+ epochs; with 2 epochs, the first one runs at 75 %. */
export const PAPER_WARMUP_EPOCHS = 1;
/** Fraction of |u| sampled to estimate the top-k threshold (the paper samples 0.1 %–1 %). */
export const SAMPLE_RATIO = 0.01;

/** A variant's refinements, without an rng (so they can be recorded). */
export function dgcVariantSettings(variant: DGCVariant): DGCRefinements {
  switch (variant) {
    case "seed":
      return {};
    case "paper":
      return { momentumFactorMasking: true, clipNorm: PAPER_CLIP_NORM, warmupEpochs: PAPER_WARMUP_EPOCHS };
    case "sampled":
      return { sampleRatio: SAMPLE_RATIO };
  }
}

/** The options to construct a variant's DGCMomentum with; `rng` draws the threshold samples. */
export function dgcVariantOptions(variant: DGCVariant, rng: Rng): Omit<DGCOptions, "lr" | "sparsity"> {
  return { ...dgcVariantSettings(variant), rng };
}
