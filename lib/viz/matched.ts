/**
 * A batch's reconstructions beside their targets after optimal matching (lib/metrics/match.ts):
 * one row per matched pair — the target, then the reconstruction assigned to it (and, if given,
 * the same reconstruction at earlier snapshots); and a bar chart of matched against same-index PSNR.
 */
import { className, gridPng, type GridOptions } from "./png";
import { tileGridPng } from "./tiles";
import type { MatchedPair } from "../metrics/match";
import type { Figure } from "./plots";

export async function matchedGridPng(
  target: Float32Array,
  recons: readonly Float32Array[],
  pairs: readonly MatchedPair[],
  opts: GridOptions & {
    /** Captions: each target's class (by name where `classNames` is given: CIFAR-10) and each pair's PSNR under the last reconstruction. */
    labels?: ArrayLike<number>;
    classNames?: readonly string[];
  } = {},
): Promise<Buffer> {
  const colour = opts.channels === 3;
  const n = (colour ? 3 : 1) * (opts.width ?? (colour ? 32 : 28)) * (opts.height ?? (colour ? 32 : 28));
  const img = (x: Float32Array, i: number) => x.subarray(i * n, (i + 1) * n);
  const rows = pairs.map((p) => [img(target, p.target), ...recons.map((r) => img(r, p.recon))]);
  const labels = opts.labels;
  if (!labels) return gridPng(rows, opts);
  return tileGridPng(
    rows.map((row, r) => row.map((pixels, c) => ({ pixels, label: c === 0 ? className(labels[pairs[r].target], opts.classNames) : c === row.length - 1 ? `${pairs[r].psnr.toFixed(1)} dB` : "" }))),
    { width: opts.width, height: opts.height, channels: opts.channels, scale: opts.scale ?? 3 },
  );
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
