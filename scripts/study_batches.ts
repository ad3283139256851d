/**
 * The batch study (not a test): B × defense × attack on one model, over seeds (each seed: a
 * different victim batch and initialization). Per cell: median matched PSNR, the fraction of images
 * recovered (matched PSNR ≥ the mean image's + 3 dB), label-count accuracy (multiset, and how often
 * the whole count vector is exact), the multiset accuracy of the labels the attack ends with (DLG
 * optimizes its dummy label from the counts' start), median seconds. A diverged attack counts as not recovered.
 *   npm run study:batches -- --model linear --seeds 5 --iterations 1000 [--batches 1,2,4,8]
 *     [--attacks dlg,dlg-all,ig,adaptive] [--defenses momentum,dgc0.8,dgc0.9] [--json out.json]
 */
import { Command } from "commander";
import writeFileAtomic from "write-file-atomic";
import { BATCH_ATTACKS, runBatchAttack, type BatchAttackName } from "../lib/trial/batch";
import { DivergenceError } from "../lib/core/errors";
import { loadMnist, meanImage } from "../lib/data/mnist";
import { makeConfig } from "../lib/trial/demo_config";
import { publicData } from "../lib/attack/label_counts";
import { setupRun } from "../lib/trial/demo";
import { type ModelKind } from "../lib/models/model";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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

function list(s: string): string[] {
  return s.split(",").map((t) => t.trim()).filter(Boolean);
}

function fail(msg: string): never {
  process.stderr.write(`study_batches: error: ${msg}\n`);
  process.exit(2);
}

async function main() {
  const o = new Command()
    .option("--model <kind>", "linear or lenet", "linear")
    .option("--seeds <n>", "seeds 1..n", "5")
    .option("--iterations <n>", "attack iterations", "1000")
    .option("--batches <list>", "batch sizes", "1,2,4,8")
    .option("--attacks <list>", "attacks", BATCH_ATTACKS.join(","))
    .option("--defenses <list>", "momentum, dgc0.8, dgc0.9", Object.keys(DEFENSES).join(","))
    .option("--json <file>", "write every run's numbers here (atomically)")
    .parse()
    .opts();
  const model = o.model as ModelKind;
  if (model !== "linear" && model !== "lenet") fail(`--model must be linear or lenet, got ${o.model}`);
  const seeds = Number(o.seeds);
  const iterations = Number(o.iterations);
  if (!Number.isInteger(seeds) || seeds < 1) fail(`--seeds must be an integer >= 1, got ${o.seeds}`);
  if (!Number.isInteger(iterations) || iterations < 2) fail(`--iterations must be an integer >= 2, got ${o.iterations}`);
  const batches = list(o.batches).map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1)) fail(`--batches must be integers >= 1, got ${o.batches}`);
  const attacks = list(o.attacks) as BatchAttackName[];
  for (const a of attacks) if (!BATCH_ATTACKS.includes(a)) fail(`unknown attack ${a} (choose from ${BATCH_ATTACKS.join(", ")})`);
  const defenses = list(o.defenses);
  for (const d of defenses) if (!DEFENSES[d]) fail(`unknown defense ${d} (choose from ${Object.keys(DEFENSES).join(", ")})`);

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
