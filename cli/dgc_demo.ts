#!/usr/bin/env node
/**
 * dgc_demo: the original dgc_demo.py's command line. Prints its arguments, then either trains
 * (Examples 3, 4) or runs the DLG attack on the first batch of an untrained model (Examples 1, 2).
 * Bad input: one line on stderr, exit 2, nothing written. Divergence: one line, exit 1.
 */
import { ResultDirError, checkWritableDir } from "../lib/results";
import { DataError } from "../lib/data/idx";
import { DivergenceError } from "../lib/train";
import { argumentsLine, attackLogLine, loadData, runAttack, runTraining, setupRun, type RunContext } from "../lib/demo";
import { StagedDir } from "../lib/results";
import { grayPng, gridPng } from "../lib/viz/png";
import type { MnistSplit } from "../lib/data/mnist";
import { parseArgs, UsageError } from "./args";
import { makeProgress } from "./progress";
import { pyFloat } from "../lib/pyfmt";
import type { DemoConfig } from "../lib/config";

function fail(code: number, msg: string): never {
  process.stderr.write(`dgc_demo: error: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let cfg: DemoConfig | null;
  try {
    cfg = parseArgs(process.argv.slice(2));
    if (cfg === null) return;
    if (cfg.dlg_attack) checkWritableDir(cfg.result_dir);
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
  console.log(`backend: ${ctx.backend}, seed: ${ctx.seed}`);
  if (cfg.dlg_attack) return attack(ctx, data.train);
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

/** Examples 1 and 2. Images are staged and moved into result_dir only if the attack succeeds. */
async function attack(ctx: RunContext, data: MnistSplit): Promise<void> {
  const { cfg } = ctx;
  const out = new StagedDir(cfg.result_dir);
  try {
    const bar = makeProgress(cfg.attack_method === "dlg" ? "DLG" : cfg.attack_method);
    const run = runAttack(ctx, data, {
      onStart: (info) => bar.log(`${startLine(cfg, info.guess)}; sent ${info.sent} of ${info.total} gradient entries`),
      onIteration: (it, d, rec) => {
        if (rec) bar.log(attackLogLine(rec));
        if (it % 10 === 0 || it === cfg.attack_epoch - 1) bar.update(it + 1, cfg.attack_epoch, `D ${d.toExponential(3)}`);
      },
    });
    bar.stop();
    if (run.analytic) {
      const a = run.analytic;
      const rest = a.recoveredCount < run.target.x.length ? "; the rest: the training set's mean image, clamped to the range DGC's threshold allows" : "";
      console.log(`analytic: recovered ${a.recoveredCount} of ${run.target.x.length} pixels exactly (class column ${a.classUsed ?? "none: no bias gradient received"})${rest}`);
    }
    console.log(`Attack cost time in seconds: ${pyFloat(run.seconds)}`);
    const B = run.target.size;
    const img = (x: Float32Array, i: number) => x.subarray(i * 784, (i + 1) * 784);
    for (let i = 0; i < B; i++) await out.write(`target_${i}.png`, await grayPng(img(run.target.x, i)));
    for (const s of run.snapshots) for (let i = 0; i < B; i++) await out.write(`result_${s.iteration}_${i}.png`, await grayPng(img(s.x, i)));
    // one overview: the targets, then a row per snapshot (columns: the samples of the batch)
    const rows = [run.target, ...run.snapshots].map((s) => Array.from({ length: B }, (_, i) => img(s.x, i)));
    await out.write("grid.png", await gridPng(B === 1 ? [rows.map((r) => r[0])] : rows));
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

main().catch((e: unknown) => {
  if (e instanceof DivergenceError) fail(1, e.message);
  fail(1, e instanceof Error ? e.message : String(e));
});
