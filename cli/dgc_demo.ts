#!/usr/bin/env node
/**
 * dgc_demo: the original dgc_demo.py's command line. Prints its arguments, then either trains
 * (Examples 3, 4) or runs the DLG attack on the first batch of an untrained model (Examples 1, 2).
 * Bad input: one line on stderr, exit 2, nothing written. Divergence: one line, exit 1.
 */
import { ResultDirError, StagedDir, checkResultDir } from "../lib/io/results";
import { DataError } from "../lib/data/idx";
import { describeBackend } from "../lib/core/backend";
import { ATTACK_RESULT_FILES, argumentsLine, attackFinalLine, attackLogLine, loadData, runAttack, runTraining, setupRun, type RunContext } from "../lib/trial/demo";
import { guardStdout } from "../lib/io/stdio";
import { grayPng, gridPng, rgbGridPng, rgbPng } from "../lib/viz/png";
import { matchedGridPng } from "../lib/viz/matched";
import { matchReconstructions, multisetLabelAccuracy } from "../lib/metrics/match";
import { matchedLines } from "../lib/trial/batch";
import { labelCounts, publicData } from "../lib/attack/label_counts";
import type { MnistSplit } from "../lib/data/mnist";
import { splitMean } from "../lib/data/dataset";
import { parseArgs, UsageError } from "./args";
import { clearProgress, failWith, makeProgress } from "./progress";
import { pyFloat } from "../lib/io/pyfmt";
import type { DemoConfig } from "../lib/trial/demo_config";

const fail = failWith("dgc_demo");

async function main(): Promise<void> {
  guardStdout("dgc_demo", clearProgress);
  let cfg: DemoConfig | null;
  try {
    cfg = parseArgs(process.argv.slice(2));
    if (cfg === null) return;
    if (cfg.dlg_attack) checkResultDir(cfg.result_dir, { overwrite: cfg.overwrite, ownNames: ATTACK_RESULT_FILES });
  } catch (e) {
    if (e instanceof UsageError || e instanceof ResultDirError) fail(2, e.message);
    throw e;
  }
  let data;
  try {
    data = loadData(cfg);
  } catch (e) {
    if (e instanceof DataError) fail(2, e.message);
    throw e;
  }
  const epochs = cfg.train_epoch;
  console.log(argumentsLine(cfg));
  const ctx = await setupRun(cfg);
  console.log(`backend: ${describeBackend(ctx.backend)}, seed: ${ctx.seed}`);
  if (cfg.dlg_attack) return attack(ctx, data.train, data.test);
  const bar = makeProgress("train");
  const run = runTraining(ctx, data, {
    log: (line) => bar.log(line),
    onBatch: (r, perEpoch) => bar.update(r.epoch * perEpoch + r.batch + 1, epochs * perEpoch, `epoch ${r.epoch} loss ${r.loss.toFixed(3)} acc ${r.acc.toFixed(4)}`),
  });
  bar.stop();
  if (run.testAccuracy !== undefined) console.log(`test accuracy ${pyFloat(run.testAccuracy)}`);
  console.log(`Training cost time in seconds: ${pyFloat(run.seconds)}`);
}

/** The line before the attack: its label guess and how it was made. The seed's DLG line is unchanged. */
function startLine(cfg: DemoConfig, guess: number): string {
  if (cfg.attack_method === "dlg" && cfg.attack_optimizer === "gd" && cfg.victim_loss === "sse") return `label guess: ${guess} (rule ${cfg.label_rule}, start ${cfg.label_init})`;
  if (cfg.attack_method === "analytic") return `attack analytic (x = ∂W[:, j] / ∂b[j], no optimization); label guess: ${guess} (iDLG rule)`;
  const how = cfg.attack_method === "dlg" ? `rule ${cfg.label_rule}, start ${cfg.label_init}` : cfg.attack_method === "adaptive" ? "largest received column, held fixed" : "iDLG rule, held fixed";
  return `attack ${cfg.attack_method} (optimizer ${cfg.attack_optimizer}, lr ${pyFloat(cfg.attack_lr)}, victim loss ${cfg.victim_loss}); label guess: ${guess} (${how})`;
}

/**
 * Examples 1 and 2. Nothing touches result_dir until the attack has finished (so Ctrl-C during it
 * leaves nothing); then the images are staged inside result_dir and committed (lib/results.ts).
 */
async function attack(ctx: RunContext, data: MnistSplit, test: MnistSplit): Promise<void> {
  const { cfg } = ctx;
  const bar = makeProgress(cfg.attack_method === "dlg" ? "DLG" : cfg.attack_method);
  // a batch: per-sample labels from the label counts, read with labelled public data (the test set)
  const batchPrior = cfg.attack_batch_size > 1 ? { labelled: publicData(test), mean: splitMean(data) } : undefined;
  const run = runAttack(ctx, data, {
    onStart: (info) => bar.log(`${startLine(cfg, info.guess)}; sent ${info.sent} of ${info.total} gradient entries`),
    onIteration: (it, d, rec) => {
      // the seed's lines; the last iteration, when off the return_epoch schedule, on one marked line
      if (rec) bar.log(rec.offSchedule ? attackFinalLine(rec, cfg.return_epoch) : attackLogLine(rec));
      if (it % 10 === 0 || it === cfg.attack_epoch - 1) bar.update(it + 1, cfg.attack_epoch, `D ${d.toExponential(3)}`);
    },
  }, {}, batchPrior?.mean, batchPrior);
  bar.stop();
  if (run.analytic) {
    const a = run.analytic;
    const rest = a.recoveredCount < run.target.x.length ? "; the rest: the training set's mean image, clamped to the range DGC's threshold allows" : "";
    console.log(`analytic: recovered ${a.recoveredCount} of ${run.target.x.length} pixels exactly (class column ${a.classUsed ?? "none: no bias gradient received"})${rest}`);
  }
  console.log(`Attack cost time in seconds: ${pyFloat(run.seconds)}`);
  const out = new StagedDir(cfg.result_dir, { overwrite: cfg.overwrite, ownNames: ATTACK_RESULT_FILES });
  for (const line of out.recovered) console.log(`${cfg.result_dir}: ${line}`);
  try {
    const B = run.target.size;
    // one image: MNIST's 28 × 28 grey in [−1, 1], or a colour CHW image in [0, 1] (CIFAR-10's 3 × 32 × 32)
    const [channels, height, width] = ctx.model.inputShape;
    const P = channels * height * width;
    const img = (x: Float32Array, i: number) => x.subarray(i * P, (i + 1) * P);
    const png = (x: Float32Array) => (channels === 3 ? rgbPng(x, width, height) : grayPng(x, width, height));
    for (let i = 0; i < B; i++) await out.write(`target_${i}.png`, await png(img(run.target.x, i)));
    for (const s of run.snapshots) for (let i = 0; i < B; i++) await out.write(`result_${s.iteration}_${i}.png`, await png(img(s.x, i)));
    // one overview: the targets, then a row per snapshot (columns: the samples of the batch)
    const rows = [run.target, ...run.snapshots].map((s) => Array.from({ length: B }, (_, i) => img(s.x, i)));
    const grid = B === 1 ? [rows.map((r) => r[0])] : rows;
    await out.write("grid.png", channels === 3 ? await rgbGridPng(grid, { width, height }) : await gridPng(grid));
    const last = run.snapshots[run.snapshots.length - 1];
    if (B > 1 && last) {
      // the lines above score the batch in the order the attack happened to find it; match it fairly
      if (run.inferred) {
        const c = run.inferred;
        console.log(`Label counts inferred from the bias gradient (${c.biasSent} of 10 entries sent): [${Array.from(c.counts).join(", ")}], true [${Array.from(labelCounts(run.target.y)).join(", ")}]; multiset accuracy ${pyFloat(multisetLabelAccuracy(c.labels, run.target.y))}`);
      }
      const matched = matchReconstructions(last.x, run.target.x, B, ctx.model.inputShape);
      console.log(`Matched to the targets by optimal assignment on MSE, at iteration ${last.iteration}:`);
      for (const line of matchedLines({ matched, target: run.target }, run.labels, (data as { classNames?: readonly string[] }).classNames)) console.log(line);
      console.log(`Label accuracy as a multiset (the labels the attack ends with): ${pyFloat(multisetLabelAccuracy(run.labels, run.target.y))}`);
      // CIFAR-10: the pairs in colour, each target captioned by its class's name; MNIST: the seed-era grey grid
      const names = (data as { classNames?: readonly string[] }).classNames;
      await out.write("matched.png", await matchedGridPng(run.target.x, [last.x], matched.pairs, channels === 3 ? { channels: 3, width, height, labels: run.target.y, classNames: names } : {}));
    }
    out.commit();
    for (const k of out.kept) console.log(`${cfg.result_dir}: kept ${k}, which appeared during the run (not this run's; it was not replaced)`);
  } catch (e) {
    out.abort();
    throw e;
  }
}

main().catch((e: unknown) => {
  if (e instanceof ResultDirError) fail(2, e.message);
  fail(1, e instanceof Error ? e.message : String(e));
});
