#!/usr/bin/env node
/**
 * fl: federated training of K clients (FedSGD or FedAvg, Momentum, DGC or any --defense), one log line per round
 * (training loss, test accuracy, bytes up per client and down), and with --dlg_attack True the
 * honest-but-curious server's attack on client --victim_client's upload of round --attack_round.
 * Bad input: one line on stderr, exit 2, nothing written. Divergence or NaN: one line, exit 1.
 */
import { checkResultDir, ResultDirError, StagedDir } from "../lib/io/results";
import { DataError } from "../lib/data/idx";
import { describeBackend } from "../lib/core/backend";
import type { MnistSplit } from "../lib/data/mnist";
import { splitMean } from "../lib/data/dataset";
import { ATTACK_RESULT_FILES, attackFinalLine, attackLogLine, loadData } from "../lib/trial/demo";
import { guardStdout } from "../lib/io/stdio";
import { matchedLines } from "../lib/trial/batch";
import { pyFloat } from "../lib/io/pyfmt";
import { grayPng, gridPng, rgbGridPng, rgbPng } from "../lib/viz/png";
import { runFL, setupFL } from "../lib/trial/fl_run";
import { roundLogLine } from "../lib/threat/federated/simulation";
import { checkFLSizes, demoView, type FLConfig } from "../lib/trial/fl_config";
import { UsageError } from "./args";
import { ConfigError, inTermsOf } from "../lib/core/errors";

/** The library's names of the settings its errors can name, as this command's flags. */
const FLAGS = { attackBatchSize: "--attack_batch_size", attackRound: "--attack_round", alpha: "--alpha" };
import { flArgumentsLine, parseFLArgs } from "./fl_args";
import { clearProgress, failWith, makeProgress } from "./progress";

const fail = failWith("fl");

async function main(): Promise<void> {
  let cfg: FLConfig | null;
  let data: { train: MnistSplit; test: MnistSplit };
  guardStdout("fl", clearProgress);
  try {
    cfg = parseFLArgs(process.argv.slice(2));
    if (cfg === null) return;
    if (cfg.dlg_attack) checkResultDir(cfg.result_dir, { overwrite: cfg.overwrite, ownNames: ATTACK_RESULT_FILES });
    data = loadData(demoView(cfg));
    // CIFAR-10's training set is the folder's (the subset's 4,660 images, or the release's 50,000)
    checkFLSizes(cfg, data.train.n);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ResultDirError || e instanceof DataError || e instanceof ConfigError) fail(2, e.message);
    throw e;
  }
  const rounds = cfg.rounds;
  // the Namespace and backend lines wait for the first round: input errors found while the clients
  // are dealt (a Dirichlet shard too small, say) come before any output, alone on one line
  let header = [flArgumentsLine(cfg)];
  const ctx = await setupFL(cfg);
  header.push(`backend: ${describeBackend(ctx.backend)}, seed: ${ctx.seed}`);
  const printHeader = () => {
    for (const line of header) console.log(line);
    header = [];
  };
  const mean = splitMean(data.train);
  // CIFAR-10 names its classes (batches.meta.txt); MNIST's lines stay the seed's (digits)
  const names = (data.train as { classNames?: readonly string[] }).classNames;
  const bar = makeProgress("fl");
  const run = runFL(ctx, data, mean, {
    onRound: (r) => {
      printHeader();
      bar.log(roundLogLine(r));
      bar.update(r.round + 1, rounds, `acc ${r.testAccuracy?.toFixed(4) ?? "-"}`);
    },
    onRecord: (rec) => {
      printHeader();
      bar.log(rec.offSchedule ? attackFinalLine(rec, cfg!.return_epoch) : attackLogLine(rec));
    },
  });
  bar.stop();
  printHeader();
  const last = run.fed.rounds[run.fed.rounds.length - 1];
  console.log(`Training cost time in seconds: ${pyFloat(run.fed.seconds)}`);
  if (last.testAccuracy !== null) console.log(`test accuracy ${pyFloat(last.testAccuracy)}`);
  const eps = run.fed.privacy.map((p) => p.epsilon);
  if (eps.length) console.log(`gaussian: (ε, δ = ${run.fed.privacy[0].delta}) per client over its ${run.fed.privacy[0].rounds} rounds: ε = ${pyFloat(Math.max(...eps))}${Math.min(...eps) !== Math.max(...eps) ? ` (min ${pyFloat(Math.min(...eps))})` : ""} (add/remove one client, lib/optim/rdp.ts)`);
  const a = run.attack;
  if (!a) return;
  const w = run.fed.watched!;
  for (const h of a.history) {
    console.log(`history: rounds ${w.round}..${w.round + h.h}, ${h.received} values received, psnr ${h.psnr === null ? "- (nothing sent)" : pyFloat(h.psnr)}${h.recovered ? " (recovered)" : ""}`);
  }
  if (a.fedavg) console.log(a.fedavg.line);
  console.log(
    `attack ${a.method} on client ${w.client}, round ${w.round}: data_mse_loss = ${pyFloat(a.metrics.mse)}, data_psnr = ${pyFloat(a.metrics.psnr)}, data_ssim = ${pyFloat(a.metrics.ssim)}, labels_acc = ${pyFloat(a.metrics.labelAcc)}; mean image ${pyFloat(a.baselinePsnr)} dB; ${a.recovered ? "recovered" : "not recovered"}` +
      (a.method === "history" ? `; first leak: ${a.firstLeakRound === null ? `none by round ${w.round + w.uploads.length - 1}` : `round ${a.firstLeakRound}`}` : ""),
  );
  if (names) console.log(classLine(names, w.target.y, a.y, w.target.size));
  if (a.matched) for (const line of matchedLines({ matched: a.matched, target: w.target }, undefined, names)) console.log(line);
  console.log(`Attack cost time in seconds: ${pyFloat(a.seconds)}`);
  await saveImages(cfg, ctx.model.inputShape, w.target.x, a.x, w.target.size, a.history.filter((h) => h.x).map((h) => h.x!));
}

/** The victim's classes and the attacker's labels (argmax of its label rows), by name. */
export function classLine(names: readonly string[], truth: ArrayLike<number>, y: Float32Array, B: number): string {
  const k = y.length / B;
  const guessed = Array.from({ length: B }, (_, i) => {
    let j = 0;
    for (let c = 1; c < k; c++) if (y[i * k + c] > y[i * k + j]) j = c;
    return names[j];
  });
  return `classes: victim ${Array.from(truth, (t) => names[t]).join(", ")}; the attack's label${B > 1 ? "s" : ""} ${guessed.join(", ")}`;
}

/**
 * target_i.png, result_i.png, grid.png (targets, then the reconstructions), all or nothing: MNIST's
 * [−1, 1] grey 28 × 28, or colour [0, 1] CHW images (CIFAR-10's 3 × 32 × 32), by the model's input shape.
 */
async function saveImages(cfg: FLConfig, shape: readonly number[], target: Float32Array, x: Float32Array, B: number, steps: Float32Array[]): Promise<void> {
  const [channels, height, width] = shape;
  const P = channels * height * width;
  const png = (a: Float32Array) => (channels === 3 ? rgbPng(a, width, height) : grayPng(a, width, height));
  const out = new StagedDir(cfg.result_dir, { overwrite: cfg.overwrite, ownNames: ATTACK_RESULT_FILES });
  for (const line of out.recovered) console.log(`${cfg.result_dir}: ${line}`);
  try {
    const img = (a: Float32Array, i: number) => a.subarray(i * P, (i + 1) * P);
    for (let i = 0; i < B; i++) {
      await out.write(`target_${i}.png`, await png(img(target, i)));
      await out.write(`result_${i}.png`, await png(img(x, i)));
    }
    const rows = [target, ...(steps.length ? steps : [x])].map((s) => Array.from({ length: B }, (_, i) => img(s, i)));
    const grid = B === 1 ? [rows.map((r) => r[0])] : rows;
    await out.write("grid.png", channels === 3 ? await rgbGridPng(grid, { width, height }) : await gridPng(grid));
    out.commit();
    for (const k of out.kept) console.log(`${cfg.result_dir}: kept ${k}, which appeared during the run (not this run's; it was not replaced)`);
  } catch (e) {
    out.abort();
    throw e;
  }
}

main().catch((e: unknown) => {
  // the folder can change during the run (another run's files appear): refused as before the work
  if (e instanceof ResultDirError) fail(2, e.message);
  if (e instanceof ConfigError) fail(2, inTermsOf(e, FLAGS));
  fail(1, e instanceof Error ? e.message : String(e));
});
