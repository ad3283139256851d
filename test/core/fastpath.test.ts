/**
 * The Linear model's closed-form gradients (lib/models/linear_closed_form.ts) must give the same
 * numbers as the generic autodiff path, up to float32 rounding.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { crossEntropyJS } from "../../lib/models/cross_entropy";
import { dlgAttack, gradientDistance, initialLabels } from "../../lib/attack/dlg";
import { gatherBatch } from "../../lib/data/batcher";
import { linearModel } from "../../lib/models/linear";
import { loadMnist } from "../../lib/data/mnist";
import { lossAndGrads, train } from "../../lib/optim/train";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { tf, variableFrom } from "../../lib/core/tf";
import { victimGradients } from "../../lib/threat/victim";
import { assertClose, useBackend, values } from "../helpers";

before(useBackend);
const data = loadMnist("train");
const model = linearModel();

test("cross-entropy: loss, correct count and gradients equal autodiff's", () => {
  const params = model.init(new Rng(4));
  const batch = gatherBatch(data, Int32Array.from({ length: 64 }, (_, i) => 7 * i));
  tf.tidy(() => {
    const fast = lossAndGrads(model, params, batch, true);
    const slow = lossAndGrads(model, params, batch, false, false); // autodiff through lib/losses.ts
    assertClose([fast.loss], [slow.loss], 1e-5, "loss");
    assert.equal(fast.correct, slow.correct);
    fast.grads.forEach((g, i) => assertClose(values(g), values(slow.grads[i]), 1e-4, `grad ${i}`));
  });
  tf.dispose(params);
});

test("cross-entropy's ∂W is the plain product xᵀ·∂logits bit for bit when a saturated softmax makes ∂logits subnormal", () => {
  // logits tens apart (as DGC's Example 4 reaches): ∂logits = p/B has subnormal entries; class 3's
  // bias 90 below the rest makes its whole column subnormal (the column recomputed with them)
  const rows = Int32Array.from({ length: 400 }, (_, i) => i).filter((i) => data.labels[i] !== 3).slice(0, 64);
  const batch = gatherBatch(data, rows);
  for (const [scale, bias3] of [[40, 0], [1, -90]]) {
    const params = tf.tidy(() => {
      const [w, b] = model.init(new Rng(8));
      const bb = b.dataSync().slice();
      bb[3] = bias3;
      return [tf.mul(w, scale), tf.tensor1d(bb)];
    });
    tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [batch.size, 784]);
      const logits = tf.add(tf.matMul(x, params[0] as tf.Tensor2D), params[1]).dataSync();
      const { d } = crossEntropyJS(logits, batch.y, 10);
      const subnormal = d.filter((v) => v !== 0 && Math.abs(v) < 2 ** -126).length;
      assert.ok(subnormal > 0, `scale ${scale}, bias ${bias3}: ∂logits has subnormals`);
      const plain = tf.matMul(tf.transpose(x), tf.tensor2d(d, [batch.size, 10])).dataSync();
      const fast = lossAndGrads(model, params, batch, true).grads[0].dataSync();
      assert.equal(fast.length, plain.length);
      for (let i = 0; i < plain.length; i++) assert.ok(Object.is(fast[i], plain[i]), `scale ${scale}, bias ${bias3}: ∂W[${i}] ${fast[i]} vs ${plain[i]}`);
    });
    tf.dispose(params);
  }
});

test("DLG distance and its gradients wrt x' and y' equal autodiff's (batch 1 and 3)", () => {
  const params = model.init(new Rng(5));
  for (const B of [1, 3]) {
    tf.tidy(() => {
      const rng = new Rng(B);
      const observed = victimGradients(model, params, gatherBatch(data, Int32Array.from({ length: B }, (_, i) => i + 11)));
      const x = tf.tensor2d(rng.normalArray(B * 784), [B, 784]);
      const y = tf.tensor2d(rng.normalArray(B * 10), [B, 10]);
      const closed = model.closedForm!.dlgDistance(params, observed);
      const [gx, gy] = [new Float32Array(B * 784), new Float32Array(B * 10)];
      const d = closed.step(x.dataSync() as Float32Array, y.dataSync() as Float32Array, gx, gy);
      const slow = tf.valueAndGrads(gradientDistance(model, params, observed))([x, y]);
      assertClose([d], values(slow.value), 1e-4, "D");
      assertClose(gx, values(slow.grads[0]), 1e-3, "gx");
      assertClose(gy, values(slow.grads[1]), 1e-3, "gy");
    });
  }
  tf.dispose(params);
});

test("whole runs agree: 200 Momentum training steps and 300 DLG iterations (batch 1 and 3), closed form vs autodiff", () => {
  const sub = { ...data, n: 64 * 200 };
  const losses = [true, false].map((closedForm) => {
    const params = model.init(new Rng(6)).map((t) => variableFrom(t, true));
    const opt = new Momentum(0.01);
    const r = train(model, params, opt, sub, { epochs: 1, batchSize: 64, rng: new Rng(7), closedForm });
    opt.dispose();
    tf.dispose(params);
    return r.history.map((h) => h.loss);
  });
  assertClose(losses[0], losses[1], 1e-3, "loss history");

  const params = model.init(new Rng(8));
  for (const B of [1, 3]) {
    const observed = victimGradients(model, params, gatherBatch(data, Int32Array.from({ length: B }, (_, i) => 5 * i + 2)));
    const runs = [true, false].map((closedForm) =>
      dlgAttack(model, params, observed, B, { iterations: 300, lr: 0.2, returnEvery: 100, windowSize: 40, labelStart: initialLabels("ones", B, 0), rng: new Rng(10), closedForm }),
    );
    runs[0].snapshots.forEach((s, i) => {
      assertClose(s.x, runs[1].snapshots[i].x, 1e-3, `B ${B} snapshot ${s.iteration} x`);
      assertClose(s.y, runs[1].snapshots[i].y, 1e-3, `B ${B} snapshot ${s.iteration} y`);
    });
    assertClose(runs[0].distances, runs[1].distances, 1e-3, `B ${B} distances`);
    tf.dispose(observed);
  }
  tf.dispose(params);
});
