/**
 * A trial's images side by side — what was attacked beside what the attacker rebuilt — as one
 * labelled PNG: one row per victim image, columns "target" and "reconstruction (iteration N,
 * PSNR P dB)". Reads the record it is given; runs nothing.
 */
import type { TrialRecord } from "../trial/run";
import { labelledGridPng } from "./labelled";
import { formatOfSize } from "./png";

/** Grey for MNIST, colour for CIFAR-10 (the format by the values per image). */
export async function comparisonPng(r: Pick<TrialRecord, "target" | "snapshots" | "final">, scale = 4): Promise<Buffer> {
  const PIXELS = r.target.x.length / r.target.size;
  const f = formatOfSize(PIXELS);
  const last = r.snapshots[r.snapshots.length - 1];
  const rows = Array.from({ length: r.target.size }, (_, i) => [
    r.target.x.subarray(i * PIXELS, (i + 1) * PIXELS),
    last ? last.x.subarray(i * PIXELS, (i + 1) * PIXELS) : null,
  ]);
  const note = r.final ? `it ${r.final.iteration}, ${r.final.psnr.toFixed(1)} dB` : "0 iterations";
  return labelledGridPng({ cells: rows, columnLabels: ["target", "reconstruction"], cellNotes: rows.map(() => [null, note]), scale, size: f.width, channels: f.channels });
}
