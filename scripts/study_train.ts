/**
 * The 5-seed study of Examples 3 and 4 (not a test): running accuracy at epoch 1, batch id 900,
 * test accuracy and wall time of 2 epochs, per seed, with medians, as a Markdown table.
 *   npm run study:train -- [--seeds 5] [--backend wasm]   (flags: cli/flags.ts; a bad one: one line, exit 2)
 */
import { parseFlagsOrExit } from "../cli/flags";
import { BACKENDS, type BackendChoice } from "../lib/core/backend";
import { medianOrNaN as median } from "../lib/study/summary";
import { loadData, runTraining, setupRun } from "../lib/trial/demo";
import { makeConfig, type DemoConfig } from "../lib/trial/demo_config";
import { tf } from "../lib/core/tf";

const EXAMPLES: { name: string; cfg: Partial<DemoConfig>; band: [number, number] }[] = [
  { name: "Example 3 (Momentum, lr 0.01)", cfg: { use_dgc: false, train_lr: 0.01 }, band: [0.88, 0.93] },
  { name: "Example 4 (DGC 0.8, lr 0.001)", cfg: { use_dgc: true, train_lr: 0.001, sparsity: 0.8 }, band: [0.8, 0.92] },
];

async function main() {
  const o = parseFlagsOrExit("study_train", {
    seeds: { kind: "seeds", default: "5", help: "seeds: n (1..n), a-b or a list" },
    backend: { kind: "choice", choices: BACKENDS, default: "auto", help: "tfjs backend" },
  }, process.argv.slice(2), "The 5-seed study of Examples 3 and 4 (Markdown on stdout)");
  const seeds = o.seeds;
  const data = loadData(makeConfig());
  let backend = "";
  for (const ex of EXAMPLES) {
    const rows: { seed: number; acc: number; test: number; secs: number }[] = [];
    for (const seed of seeds) {
      const ctx = await setupRun(makeConfig({ ...ex.cfg, seed, backend: o.backend as BackendChoice }));
      backend = ctx.backend;
      const run = runTraining(ctx, data);
      const r = run.history.find((h) => h.epoch === 1 && h.batch === 900)!;
      rows.push({ seed, acc: r.acc, test: run.testAccuracy!, secs: run.seconds });
      tf.dispose(run.params);
    }
    const m = median(rows.map((r) => r.acc));
    console.log(`\n### ${ex.name} — backend ${backend}\n`);
    console.log("| seed | acc at epoch 1, batch 900 | test acc | seconds (2 epochs + test) |\n|---|---|---|---|");
    for (const r of rows) console.log(`| ${r.seed} | ${r.acc.toFixed(4)} | ${r.test.toFixed(4)} | ${r.secs.toFixed(2)} |`);
    console.log(`| median | ${m.toFixed(4)} | ${median(rows.map((r) => r.test)).toFixed(4)} | ${median(rows.map((r) => r.secs)).toFixed(2)} |`);
    console.log(`\nband [${ex.band[0]}, ${ex.band[1]}]: median ${m >= ex.band[0] && m <= ex.band[1] ? "inside" : "OUTSIDE"}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
