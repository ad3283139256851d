import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dlgAttack, initialLabels } from "../../lib/attack/dlg";
import { inferLabelGram, inferLabelIdlg, inferLabelLargest } from "../../lib/attack/labels";
import { linearModel } from "../../lib/models/linear";
import { loadData, runAttack, setupRun } from "../../lib/trial/demo";
import { makeConfig } from "../../lib/trial/demo_config";
import { oneHot, softmaxCrossEntropy } from "../../lib/models/losses";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { victimGradients } from "../../lib/threat/victim";
import { gatherBatch } from "../../lib/data/batcher";
import { kthLargestAbs } from "../../lib/optim/topk";
import { topkCount } from "../../lib/optim/dgc";
import { transmittedMask, l2Distance } from "../../lib/attack/objectives";
import { scheduledLr } from "../../lib/attack/invert";
import { igAttack } from "../../lib/attack/ig";
import { assertClose, useBackend } from "../helpers";

before(useBackend);

const CLI = resolve(__dirname, "../../cli/dgc_demo.js");
const train = loadData(makeConfig()).train;

test("label rule (gram): first class whose row of dWᵀdW, diagonal zeroed, is all ≤ 0", () => {
  // two features, three classes: columns 1 and 2 anti-correlated with 0 ...
  const dW = [
    1, -1, -2, //
    2, -1, -1,
  ];
  // M = [[5,-3,-4],[-3,2,3],[-4,3,5]]: row 0 (diag zeroed) is all ≤ 0 → 0
  assert.equal(inferLabelGram(dW, 3), 0);
  const dW2 = [-1, 1, 2, -1, 2, 1];
  // M = [[2,-3,-3],[-3,5,4],[-3,4,5]]: row 0 → 0; permute so the answer is 2
  assert.equal(inferLabelGram([1, 2, -1, 2, 1, -1], 3), 2);
  assert.equal(inferLabelGram(dW2, 3), 0);
  // all rows positive somewhere → fallback 0
  assert.equal(inferLabelGram([1, 1, 1, 1, 1, 1], 3), 0);
  assert.equal(inferLabelIdlg([0.3, -0.2, 0.5, -0.9]), 3);
});

test("label rules on real digits recover the label from a cross-entropy gradient (their intended setting)", () => {
  // With cross-entropy, column j of dW is x·(p_j − y_j), so dWᵀdW = ‖x‖²·(p − y)(p − y)ᵀ: only the
  // true class's row is ≤ 0 off the diagonal, whatever the pixel signs. (The seed's victim loss
  // Σ(logits − onehot)² breaks that: logits can be negative, and the rule mostly answers 0 —
  // as measured on the original, see README.)
  const model = linearModel();
  const params = model.init(new Rng(1));
  for (let i = 0; i < 20; i++) {
    const batch = gatherBatch(train, Int32Array.of(i));
    const x = tf.tensor2d(batch.x, [1, 784]);
    const [dW, db] = tf.grads((...ps: tf.Tensor[]) => tf.sum(softmaxCrossEntropy(model.forward(ps, x), oneHot(batch.y, 10))))(params);
    assert.equal(inferLabelGram(dW.dataSync()), batch.y[0], `gram, image ${i}`);
    assert.equal(inferLabelIdlg(db.dataSync()), batch.y[0], `idlg, image ${i}`);
    tf.dispose([dW, db, x]);
  }
  tf.dispose(params);
});

test("initial labels: 'ones' fills everything (the seed's quirk), 'guess' is one-hot", () => {
  assert.deepEqual(Array.from(initialLabels("ones", 2, 3)), new Array(20).fill(1));
  const g = initialLabels("guess", 2, 3);
  assert.deepEqual(Array.from(g), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
});

test("DLG: snapshots after the update at iteration % return_epoch == 0; round-robin over the batch; no tensor leak", () => {
  const model = linearModel();
  const params = model.init(new Rng(2));
  const batch = gatherBatch(train, Int32Array.of(0, 1));
  const observed = victimGradients(model, params, batch);
  const start = tf.memory().numTensors;
  const run = (iterations: number, windowSize: number, closedForm = true) =>
    dlgAttack(model, params, observed, 2, { iterations, lr: 0.2, returnEvery: 100, windowSize, labelStart: initialLabels("ones", 2, 0), rng: new Rng(3), closedForm });
  const r = run(250, 200);
  // the seed's schedule, then the last iteration (off the schedule): what the attack ends with
  assert.deepEqual(r.snapshots.map((s) => s.iteration), [0, 100, 200, 249]);
  assert.deepEqual(r.snapshots.map((s) => s.offSchedule ?? false), [false, false, false, true]);
  // iterations 0..199 move sample 0 only; sample 1 still holds its N(0,1) start at snapshot 100
  const x0 = new Rng(3).normalArray(2 * 784);
  assert.deepEqual(Array.from(r.snapshots[1].x.subarray(784)), Array.from(x0.subarray(784)));
  assert.notDeepEqual(Array.from(r.snapshots[1].x.subarray(0, 784)), Array.from(x0.subarray(0, 784)));
  // snapshot 0 is after one step already
  assert.notDeepEqual(Array.from(r.snapshots[0].x.subarray(0, 784)), Array.from(x0.subarray(0, 784)));
  const afterFirst = tf.memory().numTensors;
  run(500, 200);
  assert.equal(tf.memory().numTensors, afterFirst, "500 iterations left tensors behind");
  run(500, 200, false);
  assert.equal(tf.memory().numTensors, afterFirst, "500 autodiff iterations left tensors behind");
  assert.ok(afterFirst - start <= 4, `tensors grew by ${afterFirst - start} over a first run (cached conv plans only)`);
  tf.dispose([...observed, ...params]);
});

test("Examples 1 and 2 at seed 1: Momentum reconstructs (PSNR ≥ 25, SSIM ≥ 0.95, label right), DGC is ≥ 10 dB worse", async () => {
  const last = async (use_dgc: boolean, train_lr: number) => {
    const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc, train_lr, seed: 1, backend: "wasm" }));
    const run = runAttack(ctx, train);
    // the seed's 20 lines (0 … 1900), then the final iteration, off the schedule
    assert.deepEqual(run.records.map((r) => r.iteration), [...Array.from({ length: 20 }, (_, i) => i * 100), 1999]);
    assert.deepEqual(run.records.map((r) => r.offSchedule ?? false), [...new Array(20).fill(false), true]);
    return run.records[19];
  };
  const momentum = await last(false, 0.01);
  const dgc = await last(true, 0.001);
  assert.ok(momentum.psnr >= 25 && momentum.ssim >= 0.95 && momentum.labelAcc === 1, JSON.stringify(momentum));
  assert.ok(dgc.psnr <= momentum.psnr - 10, `DGC ${dgc.psnr} dB vs Momentum ${momentum.psnr} dB`);
});

test("CLI attack: seed-format lines, target/result PNGs; a diverging attack writes nothing and exits 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "dgc-att-"));
  const out = join(dir, "res");
  const r = spawnSync(process.execPath, [CLI, "--dlg_attack", "True", "--seed", "1", "--attack_epoch", "300", "--result_dir", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /^Namespace\(attack_batch_size=1, attack_epoch=300, /);
  const its = lines.filter((l) => l.startsWith("Attack Iteration"));
  assert.equal(its.length, 3);
  assert.match(its[2], /^Attack Iteration 200: data_mse_loss = [0-9.e-]+, data_psnr = [0-9.e-]+, data_ssim = [0-9.e-]+, labels_acc = (0\.0|1\.0)$/);
  assert.match(lines[lines.length - 1], /^Attack cost time in seconds: [0-9.]+$/);
  // the seed's lines stay as they are; the final iteration (299) comes on one marked line of its own
  const finals = lines.filter((l) => l.startsWith("Final iteration"));
  assert.equal(finals.length, 1, r.stdout);
  assert.match(finals[0], /^Final iteration 299 \(not in the seed's log, which prints every return_epoch = 100\): data_mse_loss = [0-9.e-]+, data_psnr = /);
  assert.ok(lines.indexOf(finals[0]) > lines.indexOf(its[2]), "the final line comes after the seed's lines");
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith(".png") && !f.startsWith("grid")).sort(), ["result_0_0.png", "result_100_0.png", "result_200_0.png", "result_299_0.png", "target_0.png"]);
  assert.deepEqual(readdirSync(dir), ["res"], "no staging folder left behind");

  const bad = join(dir, "diverged");
  const d = spawnSync(process.execPath, [CLI, "--dlg_attack", "True", "--seed", "1", "--attack_epoch", "50", "--attack_lr", "1e30", "--result_dir", bad], { encoding: "utf8" });
  assert.equal(d.status, 1, d.stdout + d.stderr);
  assert.match(d.stderr, /^dgc_demo: error: DLG diverged/);
  assert.ok(!existsSync(bad), "a diverged attack left a result directory");
  assert.deepEqual(readdirSync(dir), ["res"], "no staging folder left behind");
});


test("DGC-aware pieces: the largest-column label rule survives sparsification; masked L2 counts transmitted entries only", () => {
  const model = linearModel();
  const params = model.init(new Rng(4));
  for (let i = 0; i < 10; i++) {
    const batch = gatherBatch(train, Int32Array.of(i));
    const grads = victimGradients(model, params, batch, "ce");
    // DGC at 0.9 from zero state sends u = g where |g| > its 784th largest value
    const sent = tf.tidy(() => grads.map((g) => tf.where(tf.greater(tf.abs(g), kthLargestAbs(g, topkCount(g.size, 0.9))), g, tf.zerosLike(g))));
    const [dW, db] = sent.map((t) => t.dataSync());
    assert.ok(db.every((v) => v === 0), "DGC 0.9 sends no bias entry (k = 1, strict >)");
    assert.equal(inferLabelLargest(dW, db), batch.y[0], `image ${i}`);
    tf.dispose([...grads, ...sent]);
  }
  tf.tidy(() => {
    const g = [tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([5, 6])];
    const observed = [tf.tensor1d([0, 2, 0, 1]), tf.tensor1d([0, 0])];
    const mask = transmittedMask(observed);
    assert.deepEqual(mask.map((m) => m.count), [2, 0]);
    // (2 − 2)² + (4 − 1)² over 2 transmitted entries; the second tensor sent nothing and counts 0
    assert.equal(l2Distance(g, observed, mask).dataSync()[0], 4.5);
    assert.equal(l2Distance(g, observed).dataSync()[0], (1 + 0 + 9 + 9) / 4 + (25 + 36) / 2);
    tf.dispose(mask.map((m) => m.mask));
  });
  tf.dispose(params);
});

test("gradient inversion: Adam with the 3/8, 5/8, 7/8 step schedule, x' boxed to [−1, 1], no tensor leak", () => {
  const lrs = [0, 374, 375, 624, 625, 874, 875].map((it) => scheduledLr({ lr: 1, decay: true, iterations: 1000 }, it));
  assertClose(lrs, [1, 1, 0.1, 0.1, 0.01, 0.01, 0.001], 1e-12, "lr");
  assert.equal(scheduledLr({ lr: 1, decay: false, iterations: 1000 }, 999), 1);
  const model = linearModel();
  const params = model.init(new Rng(5));
  const batch = gatherBatch(train, Int32Array.of(3));
  const observed = victimGradients(model, params, batch, "ce");
  const run = () => igAttack(model, params, observed, 1, new Rng(6), { iterations: 50, lr: 0.5 });
  run();
  const tensors = tf.memory().numTensors;
  const r = run();
  assert.equal(tf.memory().numTensors, tensors, "50 iterations left tensors behind");
  assert.ok(r.x.every((v) => v >= -1 && v <= 1), "x' left the box");
  assert.equal(r.guess, batch.y[0], "iDLG label from the dense cross-entropy gradient");
  assert.ok(r.objective[49] < r.objective[0], `objective ${r.objective[0]} → ${r.objective[49]}`);
  tf.dispose([...observed, ...params]);
});
