/**
 * A batch's reconstructions beside their targets after optimal matching (lib/metrics/match.ts):
 * one row per matched pair — the target, then the reconstruction assigned to it (and, if given,
 * the same reconstruction at earlier snapshots).
 */
import { gridPng, type GridOptions } from "./png";
import type { MatchedPair } from "../metrics/match";

export async function matchedGridPng(
  target: Float32Array,
  recons: readonly Float32Array[],
  pairs: readonly MatchedPair[],
  opts: GridOptions = {},
): Promise<Buffer> {
  const n = (opts.width ?? 28) * (opts.height ?? 28);
  const img = (x: Float32Array, i: number) => x.subarray(i * n, (i + 1) * n);
  return gridPng(pairs.map((p) => [img(target, p.target), ...recons.map((r) => img(r, p.recon))]), opts);
}
