/**
 * The batch study (not a test): B × defense × attack on one model, over seeds (each seed: a
 * different victim batch and initialization). Per cell: median matched PSNR, the fraction of images
 * recovered (matched PSNR ≥ the mean image's + 3 dB), label-count accuracy (multiset, and how often
 * the whole count vector is exact), the multiset accuracy of the labels the attack ends with (DLG
 * optimizes its dummy label from the counts' start), median seconds. A diverged attack counts as not recovered.
 *   npm run study:batches -- --model linear --seeds 5 --iterations 1000 [--batches 1,2,4,8]
 *     [--attacks dlg,dlg-all,ig,adaptive] [--defenses momentum,dgc0.8,dgc0.9] [--json out.json]
 *     [--out study-batches] [--jobs N] [--shard i/n] [--summary]
 * One task per cell and seed on the one study runner (records in --out; resumable).
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import type { StudyTask } from "../lib/study/task";
import type { MnistSplit } from "../lib/data/mnist";
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
  sent: number; total: number; attackSeconds: number;
}

const PROG = "study_batches";
type Prior = Parameters<typeof runBatchAttack>[2];
let shared: { train: MnistSplit; prior: Prior } | undefined;

function cellTask(model: ModelKind, attack: BatchAttackName, defense: string, batch: number, seed: number, iterations: number): StudyTask<Row> {
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
    describe: (r) => `${(r as Row).recovered} of ${batch} recovered${(r as Row).diverged ? " (diverged)" : ""}`,
  };
}

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-batches"),
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

  checkStudyOut(PROG, o);
  const tasks = attacks.flatMap((attack) => defenses.flatMap((defense) => batches.flatMap((batch) => Array.from({ length: seeds }, (_, i) => cellTask(model, attack, defense, batch, i + 1, iterations)))));
  const t0 = performance.now();
  if (!o.summary) await runStudyCli(tasks, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const recs = taskRecords<Row>(o.out, tasks);
  const backend = recs.at(-1)?.backend ?? "";
  // a diverged run's NaNs are nulls in its record
  const rows: Row[] = recs.map(({ model: m, attack: a, defense: d, batch: b, seed, diverged, psnr, ssim, recovered, labelAcc, finalLabelAcc, countsExact, sent, total, attackSeconds }) => ({
    model: m, attack: a, defense: d, batch: b, seed, diverged, psnr, ssim, recovered, labelAcc: labelAcc ?? NaN, finalLabelAcc: finalLabelAcc ?? NaN, countsExact, sent: sent ?? NaN, total: total ?? NaN, attackSeconds: attackSeconds ?? NaN,
  }));
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
          `| ${attack} | ${defense} | ${batch} | ${median(ok.flatMap((r) => r.psnr)).toFixed(1)} | ${rec}/${cell.length * batch} | ${acc.toFixed(2)} | ${ok.filter((r) => r.countsExact).length}/${cell.length} | ${finalAcc.toFixed(2)} | ${median(ok.map((r) => r.attackSeconds)).toFixed(2)} | ${cell.length - ok.length} |`,
        );
      }
    }
  }
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify({ model, iterations, seeds, backend, rows: rows.map(({ attackSeconds, ...r }) => ({ ...r, seconds: attackSeconds })) }, null, 1)}\n`);
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
