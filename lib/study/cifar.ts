/**
 * The CIFAR-10 attack study (scripts/cifar_attack.ts: one task per seed and victim image on the one
 * runner) read back: one line per method × model × split over its records — median PSNR and 8-bit
 * colour SSIM, recovered (PSNR ≥ the mean image's + 3 dB), labels right, median seconds.
 */
import { medianOrNaN as median } from "./summary";
import type { StudyRecord } from "./record";

export interface ColourRow { psnr: number; ssim8: number; recovered: boolean; label: number; labelGuess: number; seconds: number }

/** One line over the runs: median PSNR and 8-bit SSIM, recovered, labels right, median seconds. */
export function summaryLine(rs: readonly ColourRow[]): string {
  return `median PSNR ${median(rs.map((r) => r.psnr)).toFixed(2)} dB, median SSIM (8-bit) ${median(rs.map((r) => r.ssim8)).toFixed(4)} over ${rs.length}; recovered ${rs.filter((r) => r.recovered).length}/${rs.length}; labels right ${rs.filter((r) => r.label === r.labelGuess).length}/${rs.length}; median ${median(rs.map((r) => r.seconds)).toFixed(1)} s per image`;
}

type CifarRecord = StudyRecord & Omit<ColourRow, "seconds"> & { attackSeconds: number; config: { method: string; model: string; split: string; steps: number; params: string | null } };

/** Per method × model × split × steps × weights: its summary line. */
export function cifarMarkdown(recs: readonly CifarRecord[]): string {
  const groups = new Map<string, CifarRecord[]>();
  for (const r of recs) {
    const c = r.config;
    const g = `${c.method} on ${c.model}${c.params ? " (trained weights)" : " (untrained)"}, ${c.split} images, ${c.steps} ${c.method === "ig" ? "iterations" : "steps"}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  return [...groups.entries()].map(([g, rs]) => `- ${g}: ${summaryLine(rs.map((r) => ({ ...r, seconds: r.attackSeconds })))}`).join("\n");
}

type TrainRecord = StudyRecord & { seed: number; epochs: { epoch: number; testAcc: number }[]; config: { model: string; lr: number; batch: number } };

/** scripts/cifar_train.ts's records: per model and settings, the test accuracy after the last epoch, per seed. */
export function cifarTrainMarkdown(recs: readonly TrainRecord[]): string {
  const groups = new Map<string, TrainRecord[]>();
  for (const r of recs) {
    const g = `${r.config.model}, Momentum lr ${r.config.lr}, batch ${r.config.batch}, ${r.epochs.length} epochs`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  return [...groups.entries()].map(([g, rs]) => `- ${g}: test accuracy ${rs.sort((a, b) => a.seed - b.seed).map((r) => `${r.epochs.at(-1)!.testAcc.toFixed(4)} (seed ${r.seed})`).join(", ")}`).join("\n");
}
