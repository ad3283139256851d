/**
 * Views of finished attack runs for notebooks and docs: the DLG paper's iteration grid (target,
 * then the reconstruction at chosen iterations, one row per attack, PSNR under each cell) and a
 * summary table with the seed's metrics beside the 8-bit SSIM and the sign-aware reading.
 */
import type { AttackRun } from "../trial/demo";
import type { LabelledGrid } from "./labelled";
import { formatOfSize } from "./png";

const dB = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : `${x} dB`);

/**
 * One row per run: its target, then its snapshot at each of `iterations` that some run has (in
 * order, once each; blank where a run has none). Runs are on the same victim, so the target column
 * is the first run's. `label` names a column (default "iter N").
 */
export function iterationGrid(runs: Record<string, AttackRun>, iterations: readonly number[], title?: string, label = (it: number) => `iter ${it}`): LabelledGrid {
  const names = Object.keys(runs);
  const its = [...new Set(iterations)].filter((it) => names.some((n) => runs[n].snapshots.some((s) => s.iteration === it))).sort((a, b) => a - b);
  const cells = names.map((n) => {
    const r = runs[n];
    const pixels = r.target.x.length / r.target.size;
    return [r.target.x.subarray(0, pixels), ...its.map((it) => r.snapshots.find((s) => s.iteration === it)?.x.subarray(0, pixels) ?? null)];
  });
  const cellNotes = names.map((n) => ["", ...its.map((it) => {
    const rec = runs[n].records.find((r) => r.iteration === it);
    return rec ? dB(rec.psnr) : null;
  })]);
  // grey MNIST digits or colour CIFAR-10 photographs, by the values per image
  const f = names.length ? formatOfSize(runs[names[0]].target.x.length / runs[names[0]].target.size) : null;
  return { title, cells, cellNotes, rowLabels: names, columnLabels: ["target", ...its.map(label)], ...(f ? { size: f.width, channels: f.channels } : {}) };
}

/** Rows (header first): each run's last snapshot, in the seed's metrics and the extra readings. */
export function attackSummaryRows(runs: Record<string, AttackRun>): string[][] {
  const head = ["attack", "iteration", "PSNR", "SSIM (seed's)", "SSIM 8-bit", "sign-aware PSNR", "read inverted", "label acc", "seconds"];
  return [
    head,
    ...Object.entries(runs).map(([name, run]) => {
      const r = run.records[run.records.length - 1];
      return [name, String(r.iteration), dB(r.psnr), r.ssim.toFixed(4), r.ssim8.toFixed(4), dB(r.signAware.psnr), String(r.signAware.inverted), r.labelAcc.toFixed(2), run.seconds.toFixed(2)];
    }),
  ];
}
