/**
 * Fair scores for a batch: a reconstruction that finds the images in another order is not worse.
 * Reconstructions are matched to targets by the optimal assignment (Hungarian algorithm, npm
 * `munkres`) on per-image MSE — as breaching does on LPIPS — and scored per matched pair. Labels
 * are scored as a multiset, Σ_j min(n̂_j, n_j) / B: the counts an attacker infers say nothing
 * about which sample carries which label.
 */
import { munkres } from "munkres";
import { mse, psnr, ssim, type FloatArray } from "./image";

export interface MatchedPair {
  /** Index of the target (the victim's sample) and of the reconstruction matched to it. */
  target: number;
  recon: number;
  mse: number;
  psnr: number;
  ssim: number;
}

export interface MatchedMetrics {
  /** One per target, in target order. */
  pairs: MatchedPair[];
  /** Means over the pairs (PSNR: the mean of per-sample PSNRs, as breaching reports). */
  mse: number;
  psnr: number;
  ssim: number;
}

/** The images of a [B × n] array. */
function image(x: FloatArray, i: number, n: number): FloatArray {
  return x.subarray(i * n, (i + 1) * n);
}

/**
 * Optimal assignment of B reconstructions to B targets (28 × 28 unless `side` says otherwise)
 * minimizing the summed MSE; per-pair MSE, PSNR and SSIM after matching.
 */
export function matchReconstructions(recon: FloatArray, target: FloatArray, batch: number, side: number | readonly [number, number, number] = 28): MatchedMetrics {
  // a side (square, one channel) or [channels, height, width] (CHW); SSIM over each channel plane
  const [c, h, w] = typeof side === "number" ? [1, side, side] : side;
  const n = c * h * w;
  if (recon.length !== batch * n || target.length !== batch * n) {
    throw new Error(`matchReconstructions: expected ${batch} images of ${n} values, got ${recon.length} and ${target.length}`);
  }
  const cost = Array.from({ length: batch }, (_, t) => Array.from({ length: batch }, (_, r) => mse(image(recon, r, n), image(target, t, n))));
  const assignment = munkres(cost).sort((a, b) => a[0] - b[0]);
  const pairs = assignment.map(([t, r]) => {
    const a = image(recon, r, n);
    const b = image(target, t, n);
    return { target: t, recon: r, mse: cost[t][r], psnr: psnr(a, b), ssim: ssim(a, b, { batch: c, height: h, width: w }) };
  });
  const mean = (f: (p: MatchedPair) => number) => pairs.reduce((s, p) => s + f(p), 0) / batch;
  return { pairs, mse: mean((p) => p.mse), psnr: mean((p) => p.psnr), ssim: mean((p) => p.ssim) };
}

/** Per image: PSNR of reconstruction i against target i (the fixed order a batch would otherwise be scored in). */
export function sameIndexPsnr(recon: FloatArray, target: FloatArray, batch: number, side = 28): number[] {
  const n = side * side;
  return Array.from({ length: batch }, (_, i) => psnr(image(recon, i, n), image(target, i, n)));
}

/** Label accuracy as a multiset: Σ_j min(#inferred j, #true j) / B. */
export function multisetLabelAccuracy(inferred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (inferred.length !== truth.length || truth.length === 0) {
    throw new Error(`multisetLabelAccuracy: ${inferred.length} inferred labels for ${truth.length} samples`);
  }
  const count = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) count.set(truth[i], (count.get(truth[i]) ?? 0) + 1);
  let hits = 0;
  for (let i = 0; i < inferred.length; i++) {
    const left = count.get(inferred[i]) ?? 0;
    if (left > 0) {
      hits++;
      count.set(inferred[i], left - 1);
    }
  }
  return hits / truth.length;
}
