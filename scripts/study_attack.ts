/**
 * The multi-seed study of Examples 1 and 2 (not a test): each seed is a different victim image.
 * Per seed: PSNR, SSIM and label accuracy at the last snapshot the seed prints (iteration 1900 of
 * 2000: where the original's numbers in SPEC.md are read, not the final iteration), the true and the guessed label,
 * and the attack's seconds; medians; for both dummy-label starts; optionally LeNet.
 *   npm run study:attack -- [--seeds 10] [--label_init ones,guess] [--lenet_seeds 3]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { medianOrNaN as median } from "../lib/study/summary";
import { loadMnist } from "../lib/data/mnist";
import { makeConfig, type DemoConfig, type LabelInit } from "../lib/trial/demo_config";
import { runAttack, scheduleRecords, setupRun } from "../lib/trial/demo";

const LABEL_INITS: readonly LabelInit[] = ["ones", "guess"];

async function study(title: string, cfg: Partial<DemoConfig>, seeds: number[]) {
  const train = loadMnist("train");
  const rows = [];
  let backend = "";
  for (const seed of seeds) {
    const ctx = await setupRun(makeConfig({ ...cfg, dlg_attack: true, seed }));
    backend = ctx.backend;
    const run = runAttack(ctx, train);
    // the seed's last printed line (the final iteration, off its schedule, is not in the original's numbers)
    const last = scheduleRecords(run.records).at(-1)!;
    rows.push({ seed, label: run.target.y[0], guess: run.guess, sent: run.sent.sent.reduce((a, b) => a + b, 0), ...last, secs: run.seconds });
  }
  const last = rows[0].iteration;
  console.log(`\n### ${title} — backend ${backend}, iteration ${last}\n`);
  console.log("| seed | label | guess | sent | PSNR | SSIM | labels_acc | seconds |\n|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.seed} | ${r.label} | ${r.guess} | ${r.sent} | ${r.psnr.toFixed(2)} | ${r.ssim.toFixed(4)} | ${r.labelAcc.toFixed(1)} | ${r.secs.toFixed(2)} |`);
  }
  const acc = rows.filter((r) => r.labelAcc === 1).length;
  console.log(`| median | | | | ${median(rows.map((r) => r.psnr)).toFixed(2)} | ${median(rows.map((r) => r.ssim)).toFixed(4)} | ${acc} of ${rows.length} | ${median(rows.map((r) => r.secs)).toFixed(2)} |`);
  return rows;
}

async function main() {
  const o = parseFlagsOrExit("study_attack", {
    seeds: { kind: "seeds", default: "10", help: "seeds: n (1..n), a-b or a list" },
    label_init: { kind: "choices", choices: LABEL_INITS, default: "ones,guess", help: "dummy-label starts" },
    lenet_seeds: { kind: "int", min: 0, max: 100_000, default: 3, help: "seeds 1..n for LeNet (0: skip)" },
  }, process.argv.slice(2), "The multi-seed study of Examples 1 and 2 (Markdown on stdout)");
  const seeds = o.seeds;
  for (const label_init of o.label_init as LabelInit[]) {
    const m = await study(`Example 2 (Momentum, train_lr 0.01), label_init ${label_init}`, { use_dgc: false, train_lr: 0.01, label_init }, seeds);
    const d = await study(`Example 1 (DGC 0.8, train_lr 0.001), label_init ${label_init}`, { use_dgc: true, train_lr: 0.001, label_init }, seeds);
    const gap = median(m.map((r) => r.psnr)) - median(d.map((r) => r.psnr));
    console.log(`\nmedian PSNR gap, Momentum − DGC (label_init ${label_init}): ${gap.toFixed(2)} dB`);
  }
  const lenet = Array.from({ length: o.lenet_seeds }, (_, i) => i + 1);
  if (lenet.length) {
    await study("LeNet, Momentum (train_lr 0.01)", { model: "lenet", use_dgc: false, train_lr: 0.01 }, lenet);
    await study("LeNet, DGC 0.8 (train_lr 0.001)", { model: "lenet", use_dgc: true, train_lr: 0.001 }, lenet);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
