/**
 * The batch study (not a test): B × defense × attack on one model, over seeds (each seed: a
 * different victim batch and initialization). Per cell: median matched PSNR, the fraction of images
 * recovered (matched PSNR ≥ the mean image's + 3 dB), label-count accuracy (multiset, and how often
 * the whole count vector is exact), the multiset accuracy of the labels the attack ends with (DLG
 * optimizes its dummy label from the counts' start), median seconds. A diverged attack counts as not recovered.
 *   npm run study:batches -- --model linear --seeds 5 --iterations 1000 [--batches 1,2,4,8]
 *     [--attacks dlg,dlg-all,ig,adaptive] [--defenses momentum,dgc0.8,dgc0.9] [--json out.json]
 *     [--out study-batches] [--jobs N] [--shard i/n] [--summary]
 * One task per cell and seed on the one study runner (records in --out; resumable); the table and
 * the JSON are read back from the records.
 */
import { medianOrNaN as median } from "./summary";
import { BATCH_ATTACKS, runBatchAttack, type BatchAttackName } from "../trial/batch";
import { DivergenceError } from "../core/errors";
import { loadMnist, meanImage, type MnistSplit } from "../data/mnist";
import { makeConfig } from "../trial/demo_config";
import { publicData } from "../attack/label_counts";
import { setupRun } from "../trial/demo";
import { fieldsProblem, type StudyRecord } from "./record";
import type { ModelKind } from "../models/model";
import type { StudyTask } from "./task";

export { BATCH_ATTACKS };
export const DEFENSES: Record<string, { use_dgc: boolean; sparsity: number; train_lr: number }> = {
  momentum: { use_dgc: false, sparsity: 0.8, train_lr: 0.01 },
  "dgc0.8": { use_dgc: true, sparsity: 0.8, train_lr: 0.001 },
  "dgc0.9": { use_dgc: true, sparsity: 0.9, train_lr: 0.001 },
};

export interface BatchRow {
  model: ModelKind; attack: BatchAttackName; defense: string; batch: number; seed: number;
  diverged: boolean; psnr: number[]; ssim: number[]; recovered: number; labelAcc: number; finalLabelAcc: number; countsExact: boolean;
  sent: number; total: number; attackSeconds: number;
}

type Prior = Parameters<typeof runBatchAttack>[2];
let shared: { train: MnistSplit; prior: Prior } | undefined;

export function cellTask(model: ModelKind, attack: BatchAttackName, defense: string, batch: number, seed: number, iterations: number): StudyTask<BatchRow> {
  return {
    key: `batch-${model}-${attack}-${defense}-B${batch}-it${iterations}-seed${seed}`,
    config: { study: "batches", model, attack, defense, batch, seed, iterations },
    run: async () => {
      if (!shared) {
        const train = loadMnist("train");
        shared = { train, prior: { labelled: publicData(loadMnist("test")), mean: meanImage(train), cache: new Map() } };
      }
      const ctx = await setupRun(makeConfig({ ...DEFENSES[defense], model, seed, dlg_attack: true, attack_batch_size: batch }));
      const base = { model, attack, defense, batch, seed };
      try {
        const r = runBatchAttack(ctx, shared.train, shared.prior, { attack, iterations });
        return {
          backend: ctx.backend,
          result: {
            ...base, diverged: false, psnr: r.matched.pairs.map((p) => p.psnr), ssim: r.matched.pairs.map((p) => p.ssim),
            recovered: r.recovered, labelAcc: r.labelAcc, finalLabelAcc: r.finalLabelAcc, countsExact: r.counts.every((n, j) => n === r.trueCounts[j]),
            sent: r.sent.sent, total: r.sent.total, attackSeconds: r.seconds,
          },
        };
      } catch (e) {
        if (!(e instanceof DivergenceError)) throw e;
        return { backend: ctx.backend, result: { ...base, diverged: true, psnr: [], ssim: [], recovered: 0, labelAcc: NaN, finalLabelAcc: NaN, countsExact: false, sent: NaN, total: NaN, attackSeconds: NaN } };
      }
    },
    resultProblem: (r) => fieldsProblem(r, [["recovered", "number"], ["batch", "number"], ["labelAcc", "number|null"]]),
    describe: (r) => `${(r as BatchRow).recovered} of ${batch} recovered${(r as BatchRow).diverged ? " (diverged)" : ""}`,
  };
}


/** The grid's rows from its records (a diverged run's NaNs are nulls in its record). */
export function batchRows(recs: readonly (StudyRecord & BatchRow)[]): BatchRow[] {
  return recs.map(({ model: m, attack: a, defense: d, batch: b, seed, diverged, psnr, ssim, recovered, labelAcc, finalLabelAcc, countsExact, sent, total, attackSeconds }) => ({
    model: m, attack: a, defense: d, batch: b, seed, diverged, psnr, ssim, recovered, labelAcc: labelAcc ?? NaN, finalLabelAcc: finalLabelAcc ?? NaN, countsExact, sent: sent ?? NaN, total: total ?? NaN, attackSeconds: attackSeconds ?? NaN,
  }));
}

/** The table: a row per attack × defense × B (in the given orders), over seeds; `wallSeconds` for its heading. */
export function batchesMarkdown(rows: readonly BatchRow[], g: { model: string; iterations: number; seeds: number; backend: string; wallSeconds: number; attacks: readonly string[]; defenses: readonly string[]; batches: readonly number[] }): string {
  const out: string[] = [];
  const { model, iterations, seeds, backend, attacks, defenses, batches } = g;
  out.push(`\n### ${model}, ${iterations} iterations, seeds 1–${seeds}, backend ${backend}, wall ${g.wallSeconds.toFixed(0)} s\n`);
  out.push("| attack | defense | B | median matched PSNR (dB) | recovered | label-count acc | counts exact | attack's label acc | median s | diverged |");
  out.push("|---|---|---|---|---|---|---|---|---|---|");
  for (const attack of attacks) {
    for (const defense of defenses) {
      for (const batch of batches) {
        const cell = rows.filter((r) => r.attack === attack && r.defense === defense && r.batch === batch);
        const ok = cell.filter((r) => !r.diverged);
        const rec = cell.reduce((s, r) => s + r.recovered, 0);
        const acc = ok.reduce((s, r) => s + r.labelAcc, 0) / Math.max(1, ok.length);
        const finalAcc = ok.reduce((s, r) => s + r.finalLabelAcc, 0) / Math.max(1, ok.length);
        out.push(
          `| ${attack} | ${defense} | ${batch} | ${median(ok.flatMap((r) => r.psnr)).toFixed(1)} | ${rec}/${cell.length * batch} | ${acc.toFixed(2)} | ${ok.filter((r) => r.countsExact).length}/${cell.length} | ${finalAcc.toFixed(2)} | ${median(ok.map((r) => r.attackSeconds)).toFixed(2)} | ${cell.length - ok.length} |`,
        );
      }
    }
  }
  return out.join("\n");
}
