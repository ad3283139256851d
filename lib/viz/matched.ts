/**
 * A batch's reconstructions beside their targets after optimal matching (lib/metrics/match.ts):
 * one row per matched pair — the target, then the reconstruction assigned to it (and, if given,
 * the same reconstruction at earlier snapshots); and a bar chart of matched against same-index PSNR.
 */
import { gridPng, type GridOptions } from "./png";
import type { MatchedPair } from "../metrics/match";
import type { Figure } from "./plots";

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

/**
 * Per target: PSNR of its matched reconstruction, of the reconstruction at the same index (what a
 * fixed order would score), and the recovery threshold (the mean image's PSNR + margin).
 */
export function matchedPsnrFigure(pairs: readonly MatchedPair[], sameIndex: readonly number[], threshold: readonly number[], title = "PSNR per image: matched vs same index"): Figure {
  const x = pairs.map((p) => `target ${p.target}`);
  const bar = (name: string, y: number[], color: string) => ({ type: "bar", name, x, y, marker: { color } });
  return {
    data: [
      bar("matched reconstruction", pairs.map((p) => p.psnr), "#1f77b4"),
      bar("reconstruction at the same index", pairs.map((p) => sameIndex[p.target]), "#ff7f0e"),
      { type: "scatter", mode: "markers", name: "recovered above (mean image + 3 dB)", x, y: pairs.map((p) => threshold[p.target]), marker: { symbol: "line-ew-open", size: 30, color: "#333" } },
    ],
    layout: {
      title: { text: title }, barmode: "group", height: 380, margin: { t: 60, l: 60, r: 20, b: 90 },
      xaxis: { title: { text: "the victim's image" } }, yaxis: { title: { text: "PSNR (dB)" } }, legend: { orientation: "h", y: -0.35 },
    },
  };
}
