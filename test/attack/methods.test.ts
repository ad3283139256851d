/**
 * The attack registry (lib/attack/methods.ts): dlg + gd is the seed's DLG to the last bit, every
 * method × optimizer runs and lowers its objective without leaking tensors, L-BFGS reconstructs,
 * iDLG's label is exact under cross-entropy, and a method that cannot apply is refused.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { ATTACK_METHODS, ATTACK_OPTIMIZERS, AttackSetupError, attackGuess, attackRecipe, checkApplicable, defaultOptimizer, runAttackMethod, type AttackSpec } from "../../lib/attack/methods";
import { DivergenceError } from "../../lib/core/errors";
import { l2Distance } from "../../lib/attack/objectives";
import { dlgAttack, initialLabels } from "../../lib/attack/dlg";
import { gatherBatch } from "../../lib/data/batcher";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { loadMnist, meanImage } from "../../lib/data/mnist";
import { makeConfig } from "../../lib/trial/demo_config";
import { psnr } from "../../lib/metrics/image";
import { Rng } from "../../lib/core/rng";
import { setupRun, victimStep, attackSpec } from "../../lib/trial/demo";
import { tf } from "../../lib/core/tf";
import { victimGradients } from "../../lib/threat/victim";
import { type Model } from "../../lib/models/model";
import { useBackend } from "../helpers";

before(useBackend);

const train = loadMnist("train");
const mean = meanImage(train);

const spec = (over: Partial<AttackSpec>): AttackSpec => ({
  method: "dlg", optimizer: "gd", iterations: 20, lr: 0.2, returnEvery: 10, windowSize: 200,
  victimLoss: "sse", labelInit: "ones", labelRule: "gram", ...over,
});

function victim(model: Model, seed: number, images: number[], loss: "sse" | "ce" = "sse") {
  const params = model.init(new Rng(seed));
  const batch = gatherBatch(train, Int32Array.from(images));
  const observed = victimGradients(model, params, batch, loss);
  return { params, batch, observed, dispose: () => tf.dispose([...params, ...observed]) };
}

test("dlg + gd is dlgAttack: the same snapshots and distances, bit for bit, also with a batch of 2", () => {
  const model = linearModel();
  for (const images of [[0], [1, 2]]) {
    const v = victim(model, 1, images);
    const B = images.length;
    const ref = dlgAttack(model, v.params, v.observed, B, { iterations: 250, lr: 0.2, returnEvery: 100, windowSize: 200, labelStart: initialLabels("ones", B, 0), rng: new Rng(7) });
    const out = runAttackMethod(spec({ iterations: 250, returnEvery: 100 }), { model, params: v.params, observed: v.observed, batch: B, rng: new Rng(7) });
    assert.deepEqual(out.distances, ref.distances);
    assert.deepEqual(out.snapshots, ref.snapshots);
    assert.deepEqual(out.x, ref.snapshots[3].x);
    assert.equal(ref.snapshots[3].iteration, 249);
    v.dispose();
  }
});

test("every method × optimizer on Linear: runs, lowers its objective, leaves no tensors behind", () => {
  const model = linearModel();
  const v = victim(model, 2, [3], "ce");
  for (const method of ATTACK_METHODS.filter((m) => m !== "analytic")) {
    for (const optimizer of ATTACK_OPTIMIZERS) {
      const s = spec({ method, optimizer, victimLoss: "ce", iterations: 8, returnEvery: 4, lr: optimizer === "lbfgs" ? 1 : optimizer === "adam" ? 0.1 : 0.2 });
      const run = () => runAttackMethod(s, { model, params: v.params, observed: v.observed, batch: 1, rng: new Rng(3), mean });
      run();
      const before = tf.memory().numTensors;
      const out = run();
      assert.equal(tf.memory().numTensors, before, `${method}/${optimizer} left tensors behind`);
      assert.deepEqual(out.snapshots.map((x) => x.iteration), [0, 4, 7], `${method}/${optimizer}`);
      // the last snapshot is what the attack returns
      assert.deepEqual(out.snapshots[2].x, out.x, `${method}/${optimizer}: final snapshot`);
      assert.ok(out.distances[7] < out.distances[0], `${method}/${optimizer}: objective ${out.distances[0]} → ${out.distances[7]}`);
      if (method !== "dlg") assert.deepEqual(out.labels, [v.batch.y[0]], `${method}/${optimizer}: label`);
    }
  }
  v.dispose();
});

test("L-BFGS reconstructs: dlg on Linear (seed's loss) and iDLG on LeNet (cross-entropy) beat 30 dB", () => {
  const linear = linearModel();
  const a = victim(linear, 4, [5]);
  const outA = runAttackMethod(spec({ optimizer: "lbfgs", lr: 1, iterations: 30 }), { model: linear, params: a.params, observed: a.observed, batch: 1, rng: new Rng(5) });
  assert.ok(psnr(outA.x, a.batch.x) > 30, `Linear dlg/lbfgs: ${psnr(outA.x, a.batch.x)} dB`);
  a.dispose();
  const lenet = lenetModel();
  const b = victim(lenet, 1, [0], "ce");
  const outB = runAttackMethod(spec({ method: "idlg", optimizer: "lbfgs", lr: 1, iterations: 30, victimLoss: "ce" }), { model: lenet, params: b.params, observed: b.observed, batch: 1, rng: new Rng(6) });
  assert.ok(psnr(outB.x, b.batch.x) > 30, `LeNet idlg/lbfgs: ${psnr(outB.x, b.batch.x)} dB`);
  assert.deepEqual(outB.labels, [b.batch.y[0]]);
  b.dispose();
});

test("iDLG's label is exact under cross-entropy: every class, 4 initializations, Linear and LeNet (80 victims)", () => {
  // for one image, ∂CE/∂b_j = p_j − [j = y]: negative at the true class only, whatever the model
  const firstOfClass = Array.from({ length: 10 }, (_, c) => train.labels.findIndex((l) => l === c));
  for (const model of [linearModel(), lenetModel()]) {
    for (const seed of [1, 2, 3, 4]) {
      for (const image of firstOfClass) {
        const v = victim(model, seed, [image], "ce");
        const guess = attackGuess(spec({ method: "idlg", optimizer: "lbfgs" }), v.observed);
        assert.equal(guess, v.batch.y[0], `${model.kind}, seed ${seed}, image ${image}`);
        v.dispose();
      }
    }
  }
});

test("the papers' distance (l2sum) is the plain sum; L-BFGS on LeNet takes it for dlg and idlg, everything else the seed's mean", () => {
  tf.tidy(() => {
    const g = [tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([5, 6])];
    const o = [tf.tensor1d([0, 2, 0, 1]), tf.tensor1d([0, 0])];
    assert.equal(l2Distance(g, o, undefined, "sum").dataSync()[0], 1 + 0 + 9 + 9 + 25 + 36);
    assert.equal(l2Distance(g, o).dataSync()[0], 19 / 4 + 61 / 2);
  });
  const lenet = lenetModel();
  assert.equal(attackRecipe(spec({ optimizer: "lbfgs" }), lenet).distance, "l2sum");
  assert.equal(attackRecipe(spec({ method: "idlg", optimizer: "lbfgs" }), lenet).distance, "l2sum");
  assert.equal(attackRecipe(spec({ method: "idlg", optimizer: "lbfgs" }), linearModel()).distance, "l2", "Linear keeps the mean");
  assert.equal(attackRecipe(spec({ method: "idlg", optimizer: "adam" }), lenet).distance, "l2");
  assert.equal(attackRecipe(spec({ optimizer: "lbfgs", recipe: { distance: "l2" } }), lenet).distance, "l2");
  assert.equal(attackRecipe(spec({ method: "ig", optimizer: "lbfgs" }), lenet).distance, "cosine");
});

test("L-BFGS: an attack that never reaches a finite objective is a divergence; gd's first NaN is one too", () => {
  const model = linearModel();
  const params = model.init(new Rng(1)).map((p) => tf.tidy(() => tf.mul(p, NaN)));
  const observed = params.map((p) => tf.zerosLike(p));
  const input = { model, params, observed, batch: 1, rng: new Rng(2) };
  assert.throws(() => runAttackMethod(spec({ method: "idlg", optimizer: "lbfgs", lr: 1, iterations: 3 }), input), DivergenceError);
  assert.throws(() => runAttackMethod(spec({ method: "idlg", optimizer: "gd", iterations: 3 }), input), DivergenceError);
  tf.dispose([...params, ...observed]);
});

test("defaults: dlg → gd, idlg → lbfgs, ig and adaptive → adam, analytic → none", () => {
  assert.deepEqual(ATTACK_METHODS.map((m) => defaultOptimizer(m)), ["gd", "lbfgs", "adam", "adam", "none"]);
});

test("analytic on Example 2's victim: the image to float rounding, every pixel; under DGC what was sent, the rest bounded by the threshold", async () => {
  const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 1, attack_method: "analytic" }));
  const v = victimStep(ctx, train);
  const out = runAttackMethod(attackSpec(ctx.cfg), { model: ctx.model, params: v.params, observed: v.observed, batch: 1, rng: new Rng(1), mean });
  let worst = 0;
  for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(out.x[i] - v.target.x[i]));
  assert.ok(worst <= 1e-6, `max |x − target| = ${worst}`);
  assert.equal(out.analytic!.recoveredCount, 784);
  assert.deepEqual(out.labels, [v.target.y[0]]);
  assert.equal(out.snapshots.length, 1);
  v.dispose();
  // DGC 0.5: recovered exactly the pixels whose entry of the divided column arrived, to float rounding
  const dctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc: true, sparsity: 0.5, seed: 2, attack_method: "analytic" }));
  const d = victimStep(dctx, train);
  const r = runAttackMethod(attackSpec(dctx.cfg), { model: dctx.model, params: d.params, observed: d.observed, batch: 1, rng: new Rng(1), mean });
  const dW = d.observed[0].dataSync();
  const db = d.observed[1].dataSync();
  const j = r.analytic!.classUsed!;
  assert.notEqual(j, null, "DGC 0.5 sends some bias entries");
  // an unsent entry lies below the smallest sent magnitude: |x_i| ≤ τ = min|sent| / |∂b[j]|
  const tau = Math.min(...Array.from(dW).filter((v) => v !== 0).map(Math.abs)) / Math.abs(db[j]);
  let sentInColumn = 0;
  let clamped = 0;
  for (let i = 0; i < 784; i++) {
    if (dW[i * 10 + j] !== 0) {
      sentInColumn++;
      assert.ok(Math.abs(r.x[i] - d.target.x[i]) <= 1e-6, `pixel ${i}`);
    } else {
      assert.ok(Math.abs(r.x[i] - Math.max(-tau, Math.min(tau, mean[i]))) < 1e-6, `pixel ${i} not sent: the mean image, clamped to ±τ`);
      assert.ok(Math.abs(d.target.x[i]) <= tau * (1 + 1e-6), `pixel ${i}: the bound holds for the true image`);
      if (Math.abs(mean[i]) > tau) clamped++;
    }
  }
  assert.ok(clamped > 0, "the bound is tighter than the prior somewhere");
  assert.equal(r.analytic!.recoveredCount, sentInColumn);
  assert.ok(sentInColumn > 0 && sentInColumn < 784, `${sentInColumn}`);
  d.dispose();
});

test("a method that cannot apply is refused: analytic on LeNet (a convolution first), analytic on a batch of 2", () => {
  assert.throws(() => checkApplicable("analytic", lenetModel(), 1), AttackSetupError);
  assert.throws(() => checkApplicable("analytic", linearModel(), 2), AttackSetupError);
  assert.doesNotThrow(() => checkApplicable("analytic", linearModel(), 1));
  assert.doesNotThrow(() => checkApplicable("dlg", lenetModel(), 4));
});
