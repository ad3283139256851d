/**
 * The Linear model's closed-form gradients (lib/models/linear_closed_form.ts) must give the same
 * numbers as the generic autodiff path, up to float32 rounding.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { dlgAttack, gradientDistance, initialLabels } from "../lib/attack/dlg";
import { gatherBatch } from "../lib/data/batcher";
import { linearModel } from "../lib/models/linear";
import { loadMnist } from "../lib/data/mnist";
import { lossAndGrads, train } from "../lib/optim/train";
import { Momentum } from "../lib/optim/momentum";
import { Rng } from "../lib/core/rng";
import { tf, variableFrom } from "../lib/core/tf";
import { victimGradients } from "../lib/threat/victim";
import { assertClose, useBackend, values } from "./helpers";

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
