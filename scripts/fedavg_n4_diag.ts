#!/usr/bin/env node
/**
 * Why the FedAvg attacker fails on n = 4 images (docs/fedavg.md, "Why n = 4 fails"): one upload of the
 * study's setting (LeNet, one client, round 0, no defense, η = 0.1, μ = 0, b = n, E steps), attacked by
 * the study's adaptive attack (L-BFGS, strong Wolfe) with one thing changed per variant:
 *   A  labels from Δ (the count rule along the path), mean-image start — the study's attack
 *   B  the true labels, mean-image start
 *   C  the true labels, noise start
 * Prints one JSON line: the true and used labels, the matched PSNR per image, how many are recovered,
 * the attack's objective at the true images (in their labels' order) and at the reconstruction, and for
 * a repeated label the largest pixel difference between its two reconstructions (0: identical dummies).
 *   node dist/scripts/fedavg_n4_diag.js --steps 2 --seed 1 --variant B [--n 4] [--iterations 10]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { fedavgConfig } from "../lib/trial/fl_config";
import { federatedOptions, setupFL } from "../lib/trial/fl_run";
import { initParams, loadData } from "../lib/trial/demo";
import { demoView } from "../lib/trial/fl_config";
import { meanImage } from "../lib/data/mnist";
import { runFederated } from "../lib/threat/federated/simulation";
import { fedavgAttackInput, fedavgLabels } from "../lib/attack/fedavg";
import { inversionObjective } from "../lib/attack/invert";
import { transmittedMask } from "../lib/attack/objectives";
import { attackRecipe, type AttackSpec } from "../lib/attack/methods";
import { attackObservation } from "../lib/trial/run";
import { labelRows, publicData } from "../lib/attack/label_counts";
import { tf } from "../lib/core/tf";

async function main(): Promise<void> {
  const o = parseFlagsOrExit("fedavg_n4_diag", {
    steps: { kind: "int", min: 2, max: 1000, default: 2, help: "local steps E (a FedAvg delta: E ≥ 2)" },
    seed: { kind: "int", min: 0, default: 1, help: "the run's seed" },
    n: { kind: "int", min: 2, max: 10, default: 4, help: "the client's images (b = n)" },
    variant: { kind: "choice", choices: ["A", "B", "C"], default: "A", help: "A: labels from Δ, mean start; B: true labels, mean start; C: true labels, noise start" },
    iterations: { kind: "int", min: 1, default: 10, help: "L-BFGS steps" },
  }, process.argv.slice(2), "Why the FedAvg attacker fails on n images: labels, start, optimizer");
  const { steps: E, seed, n, variant, iterations } = o;
  const cfg = fedavgConfig({ seed, steps: E, n, defense: "none", iterations });
  const ctx = await setupFL(cfg);
  const data = loadData(demoView(cfg));
  const mean = meanImage(data.train);
  const params = initParams(ctx);
  const fed = runFederated(ctx.model, params, data.train, federatedOptions(cfg), ctx.rng);
  tf.dispose(params);
  const w = fed.watched!;
  const p0 = w.models[0].map((t, i) => tf.tensor(t, ctx.model.paramShapes[i] as number[]));
  const raw = w.uploads[0].map((t, i) => tf.tensor(t, ctx.model.paramShapes[i] as number[]));
  const k = { training: w.local!.training, n, loss: "ce" as const, order: null };
  const truth = Array.from(w.target.y);
  const fromDelta = Array.from(fedavgLabels(ctx.model, p0, raw, k, { labelled: publicData(data.test), mean }).labels);
  const labels = variant === "A" ? fromDelta : truth;
  const fa = fedavgAttackInput(ctx.model, p0, raw, k);
  const spec: AttackSpec = {
    method: "adaptive", optimizer: "lbfgs", iterations, lr: 1, returnEvery: iterations, windowSize: 200, victimLoss: "ce", labelInit: "ones", labelRule: "gram",
    recipe: { start: variant === "C" ? "noise" : "mean" }, // otherwise adaptive's recipe, as the study runs it under no defense
  };
  const view = { dummy: ctx.rng.fork("dummy"), victimLoss: "ce" as const, mean, keepDlgStart: false, labels: labelRows(labels), gradsOf: fa.gradsOf, describe: "fedavg_n4_diag" };
  const r = attackObservation({ model: ctx.model, params: p0, target: w.target, observed: fa.observed, sent: { sent: [1], total: [1] } }, spec, view);
  const recipe = attackRecipe(spec, ctx.model);
  const yRows = tf.tensor2d(labelRows(labels), [n, ctx.model.classes]);
  const mask = recipe.masked ? transmittedMask(fa.observed) : undefined;
  const f = inversionObjective(ctx.model, p0, fa.observed, yRows, { victimLoss: "ce", distance: recipe.distance, tvWeight: recipe.tvWeight, clipNorm: null }, mask, fa.gradsOf);
  const at = (x: Float32Array) => tf.tidy(() => f(tf.tensor2d(x, [n, 784])).dataSync()[0]);
  let tie: number | null = null;
  const row = (i: number) => r.reconstruction.subarray(i * 784, (i + 1) * 784);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (labels[i] !== labels[j]) continue;
      let m = 0;
      for (let q = 0; q < 784; q++) m = Math.max(m, Math.abs(row(i)[q] - row(j)[q]));
      tie = Math.max(tie ?? 0, m);
    }
  }
  console.log(JSON.stringify({
    E, seed, n, variant, iterations, trueLabels: truth, labelsFromDelta: fromDelta, labelsUsed: labels,
    psnr: r.matched.pairs.map((p) => Number(p.psnr.toFixed(1))), recovered: r.recoveredCount,
    objectiveAtTruth: at(w.target.x), objectiveAtReconstruction: at(r.reconstruction), repeatedLabelMaxDiff: tie, seconds: Number(r.seconds.toFixed(1)),
  }));
  tf.dispose([...p0, ...raw, ...fa.observed, yRows, ...(mask ?? []).map((m) => m.mask)]);
}

main().catch((e) => {
  process.stderr.write(`fedavg_n4_diag: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
