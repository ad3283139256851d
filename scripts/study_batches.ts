/**
 * The batch study (not a test): B × defense × attack on one model, over seeds (each seed: a
 * different victim batch and initialization). Per cell: median matched PSNR, the fraction of images
 * recovered (matched PSNR ≥ the mean image's + 3 dB), label-count accuracy (multiset, and how often
 * the whole count vector is exact), the multiset accuracy of the labels the attack ends with (DLG
 * optimizes its dummy label from the counts' start), median seconds. A diverged attack counts as not recovered.
 *   npm run study:batches -- --model linear --seeds 5 --iterations 1000 [--batches 1,2,4,8]
 *     [--attacks dlg,dlg-all,ig,adaptive] [--defenses momentum,dgc0.8,dgc0.9] [--json out.json]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { medianOrNaN as median } from "../lib/study/summary";
import writeFileAtomic from "write-file-atomic";
import { BATCH_ATTACKS, runBatchAttack, type BatchAttackName } from "../lib/trial/batch";
import { DivergenceError } from "../lib/core/errors";
import { loadMnist, meanImage, SPLIT_SIZES } from "../lib/data/mnist";
import { makeConfig } from "../lib/trial/demo_config";
import { publicData } from "../lib/attack/label_counts";
import { setupRun } from "../lib/trial/demo";
import { type ModelKind } from "../lib/models/model";

const DEFENSES: Record<string, { use_dgc: boolean; sparsity: number; train_lr: number }> = {
  momentum: { use_dgc: false, sparsity: 0.8, train_lr: 0.01 },
  "dgc0.8": { use_dgc: true, sparsity: 0.8, train_lr: 0.001 },
  "dgc0.9": { use_dgc: true, sparsity: 0.9, train_lr: 0.001 },
};

interface Row {
  model: ModelKind; attack: BatchAttackName; defense: string; batch: number; seed: number;
  diverged: boolean; psnr: number[]; ssim: number[]; recovered: number; labelAcc: number; finalLabelAcc: number; countsExact: boolean;
  sent: number; total: number; seconds: number;
}

async function main() {
  const o = parseFlagsOrExit("study_batches", {
    model: { kind: "choice", choices: ["linear", "lenet"], default: "linear", help: "linear or lenet" },
    seeds: { kind: "int", min: 1, max: 100_000, default: 5, help: "seeds 1..n" },
    iterations: { kind: "int", min: 2, default: 1000, help: "attack iterations" },
    batches: { kind: "ints", min: 1, max: SPLIT_SIZES.train, default: "1,2,4,8", help: "batch sizes" },
    attacks: { kind: "choices", choices: BATCH_ATTACKS, default: BATCH_ATTACKS.join(","), help: "attacks" },
    defenses: { kind: "choices", choices: Object.keys(DEFENSES), default: Object.keys(DEFENSES).join(","), help: "momentum, dgc0.8, dgc0.9" },
    json: { kind: "outFile", help: "write every run's numbers here (atomically)" },
  }, process.argv.slice(2), "The batch study: B × defense × attack over seeds (Markdown on stdout)");
  const model = o.model as ModelKind;
  const { seeds, iterations, batches } = o;
  const attacks = o.attacks as BatchAttackName[];
  const defenses = o.defenses;

  const train = loadMnist("train");
  const prior = { labelled: publicData(loadMnist("test")), mean: meanImage(train), cache: new Map() };
  const rows: Row[] = [];
  let backend = "";
  const t0 = performance.now();
  for (const attack of attacks) {
    for (const defense of defenses) {
      for (const batch of batches) {
        for (let seed = 1; seed <= seeds; seed++) {
          const ctx = await setupRun(makeConfig({ ...DEFENSES[defense], model, seed, dlg_attack: true, attack_batch_size: batch }));
          backend = ctx.backend;
          const base = { model, attack, defense, batch, seed };
          try {
            const r = runBatchAttack(ctx, train, prior, { attack, iterations });
            rows.push({
              ...base, diverged: false, psnr: r.matched.pairs.map((p) => p.psnr), ssim: r.matched.pairs.map((p) => p.ssim),
              recovered: r.recovered, labelAcc: r.labelAcc, finalLabelAcc: r.finalLabelAcc, countsExact: r.counts.every((n, j) => n === r.trueCounts[j]),
              sent: r.sent.sent, total: r.sent.total, seconds: r.seconds,
            });
          } catch (e) {
            if (!(e instanceof DivergenceError)) throw e;
            rows.push({ ...base, diverged: true, psnr: [], ssim: [], recovered: 0, labelAcc: NaN, finalLabelAcc: NaN, countsExact: false, sent: NaN, total: NaN, seconds: NaN });
          }
        }
        process.stderr.write(`${attack} ${defense} B=${batch}: done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    }
  }
  console.log(`\n### ${model}, ${iterations} iterations, seeds 1–${seeds}, backend ${backend}, wall ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log("| attack | defense | B | median matched PSNR (dB) | recovered | label-count acc | counts exact | attack's label acc | median s | diverged |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const attack of attacks) {
    for (const defense of defenses) {
      for (const batch of batches) {
        const cell = rows.filter((r) => r.attack === attack && r.defense === defense && r.batch === batch);
        const ok = cell.filter((r) => !r.diverged);
        const rec = cell.reduce((s, r) => s + r.recovered, 0);
        const acc = ok.reduce((s, r) => s + r.labelAcc, 0) / Math.max(1, ok.length);
        const finalAcc = ok.reduce((s, r) => s + r.finalLabelAcc, 0) / Math.max(1, ok.length);
        console.log(
          `| ${attack} | ${defense} | ${batch} | ${median(ok.flatMap((r) => r.psnr)).toFixed(1)} | ${rec}/${cell.length * batch} | ${acc.toFixed(2)} | ${ok.filter((r) => r.countsExact).length}/${cell.length} | ${finalAcc.toFixed(2)} | ${median(ok.map((r) => r.seconds)).toFixed(2)} | ${cell.length - ok.length} |`,
        );
      }
    }
  }
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify({ model, iterations, seeds, backend, rows }, null, 1)}\n`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
