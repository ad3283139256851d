/**
 * The seed's published numbers (../shared/seed/gradient_compress.md: single runs of the original)
 * and what the original gives over seeds (SPEC.md), so notebooks and reports can set ours beside them.
 */
import { pyFloat } from "../io/pyfmt";
import type { AttackRecord } from "../trial/demo";
import type { BatchRecord } from "../optim/train";

export interface SeedAttack {
  kind: "attack";
  flags: string;
  /** The seed's values at iteration 1900. */
  last: { mse: number; psnr: number; ssim: number; labelAcc: number };
  /** The original over 10 victim images (SPEC.md). */
  overSeeds: string;
}

export interface SeedTraining {
  kind: "training";
  flags: string;
  /** The seed's loss and running accuracy at epoch 1, batch id 900. */
  last: { loss: number; acc: number };
  overSeeds: string;
}

export const SEED_EXAMPLES = {
  example1: {
    kind: "attack", flags: "dlg_attack True, use_dgc True, train_lr 0.001, sparsity 0.8",
    last: { mse: 0.024529650807380676, psnr: 16.103086341624326, ssim: 0.7362926006317139, labelAcc: 0 },
    overSeeds: "PSNR 12.1–30.4 dB (median 18.4), SSIM .71–.998 (median .90), labels_acc 1 on 3 of 10",
  },
  example2: {
    kind: "attack", flags: "dlg_attack True, use_dgc False, train_lr 0.01",
    last: { mse: 0.00013265199959278107, psnr: 38.772861990886206, ssim: 0.9935102462768555, labelAcc: 1 },
    overSeeds: "PSNR 33.6–50.1 dB (median 40.1), SSIM .996–.9999, labels_acc 1 on 10 of 10",
  },
  example3: {
    kind: "training", flags: "dlg_attack False, use_dgc False, train_lr 0.01",
    last: { loss: 0.2521766424179077, acc: 0.9057991120976693 },
    overSeeds: "acc .9049–.9068 (median .9056) over 5 seeds",
  },
  example4: {
    kind: "training", flags: "dlg_attack False, use_dgc True, train_lr 0.001, sparsity 0.8",
    last: { loss: 3.7424607276916504, acc: 0.8587506936736959 },
    overSeeds: "acc .842–.871 (median .865) over 5 seeds",
  },
} as const satisfies Record<string, SeedAttack | SeedTraining>;

export type SeedExample = keyof typeof SEED_EXAMPLES;

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : pyFloat(x));

/**
 * Rows (header first) setting ours beside the seed's last line (iteration 1900 of 2000): ours at the
 * same iteration, and what our attack ended with (its last iteration, which the seed never logs).
 */
export function attackComparison(example: "example1" | "example2", records: readonly AttackRecord[]): string[][] {
  const s = SEED_EXAMPLES[example];
  const final = records[records.length - 1];
  const same = records.find((r) => r.iteration === 1900 && !r.offSchedule) ?? [...records].reverse().find((r) => !r.offSchedule) ?? final;
  const withFinal = final !== same;
  const cols = (f: (r: AttackRecord) => string, seed: string, over: string) => [f(same), seed, ...(withFinal ? [f(final)] : []), over];
  return [
    ["", `ours (iteration ${same.iteration})`, "seed (iteration 1900)", ...(withFinal ? [`ours, final (iteration ${final.iteration})`] : []), "the original over seeds"],
    ["MSE", ...cols((r) => f4(r.mse), f4(s.last.mse), "")],
    ["PSNR (dB)", ...cols((r) => r.psnr.toFixed(2), s.last.psnr.toFixed(2), s.overSeeds)],
    ["SSIM", ...cols((r) => f4(r.ssim), f4(s.last.ssim), "")],
    ["labels_acc", ...cols((r) => r.labelAcc.toFixed(1), s.last.labelAcc.toFixed(1), "")],
  ];
}

/** Rows setting our `epoch 1, batch id 900` (or the last batch logged) beside the seed's. */
export function trainingComparison(example: "example3" | "example4", history: readonly BatchRecord[], testAccuracy?: number): string[][] {
  const s = SEED_EXAMPLES[example];
  const at = history.find((h) => h.epoch === 1 && h.batch === 900) ?? [...history].reverse().find((h) => h.batch % 100 === 0) ?? history[history.length - 1];
  return [
    ["", `ours (epoch ${at.epoch}, batch id ${at.batch})`, "seed (epoch 1, batch id 900)", "the original over seeds"],
    ["training loss", f4(at.loss), f4(s.last.loss), ""],
    ["running accuracy", f4(at.acc), f4(s.last.acc), s.overSeeds],
    ["test accuracy", testAccuracy === undefined ? "" : f4(testAccuracy), "(not measured)", ""],
  ];
}
