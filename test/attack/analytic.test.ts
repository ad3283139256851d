/**
 * The analytic attack (lib/attack/analytic.ts) on the Linear model: Example 2's victim recovered to
 * float rounding from its gradient, for both victim losses; under DGC only the sent coordinates.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { analyticApplies, analyticLinear } from "../../lib/attack/analytic";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { makeConfig } from "../../lib/trial/demo_config";
import { setupRun, victimStep } from "../../lib/trial/demo";
import { loadMnist } from "../../lib/data/mnist";
import { useBackend } from "../helpers";

before(useBackend);
const data = loadMnist("train");

for (const loss of ["sse", "ce"] as const) {
  test(`recovers Example 2's image (Momentum, ${loss}) to float rounding`, async () => {
    for (const seed of [1, 2, 3]) {
      const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed }));
      const v = victimStep(ctx, data, loss);
      try {
        const [dW, db] = v.observed.map((g) => g.dataSync());
        const r = analyticLinear(dW, db);
        assert.equal(r.recoveredCount, 784);
        let maxErr = 0;
        for (let i = 0; i < 784; i++) maxErr = Math.max(maxErr, Math.abs(r.x[i] - v.target.x[i]));
        assert.ok(maxErr < 1e-5, `seed ${seed}: max |x − target| = ${maxErr}`);
      } finally {
        v.dispose();
      }
    }
  });
}

test("under DGC 0.8 only transmitted pixels are recovered, and those exactly; the rest get the fill", async () => {
  const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc: true, sparsity: 0.8, seed: 4 }));
  const v = victimStep(ctx, data, "ce");
  try {
    const [dW, db] = v.observed.map((g) => g.dataSync());
    const fill = new Float32Array(784).fill(0.123);
    const r = analyticLinear(dW, db, fill);
    // DGC keeps k − 1 = 1 of the bias's 10 entries (the true class's, under cross-entropy)
    assert.equal(r.classUsed, v.target.y[0]);
    assert.ok(r.recoveredCount > 0 && r.recoveredCount < 784, `recovered ${r.recoveredCount}`);
    for (let i = 0; i < 784; i++) {
      if (r.recovered[i]) assert.ok(Math.abs(r.x[i] - v.target.x[i]) < 1e-5);
      else assert.equal(r.x[i], Math.fround(0.123));
    }
  } finally {
    v.dispose();
  }
});

test("a hand-made case: x_i = ∂W[i, j] / ∂b[j] with the largest |∂b[j]|; nothing received, nothing recovered", () => {
  // 2 features, 3 classes: ∂W = x ⊗ δ with x = [2, −1], δ = [0.5, −4, 0]
  const r = analyticLinear([1, -8, 0, -0.5, 4, 0], [0.5, -4, 0]);
  assert.equal(r.classUsed, 1);
  assert.deepEqual(Array.from(r.x), [2, -1]);
  const none = analyticLinear([0, 0, 0, 0, 0, 0], [0, 0, 0], [7, 7]);
  assert.equal(none.classUsed, null);
  assert.deepEqual(Array.from(none.x), [7, 7]);
  assert.equal(none.recoveredCount, 0);
  // a pixel exactly 0: not sent unless the attacker knows the upload is dense
  assert.equal(analyticLinear([0, 0, 0, -0.5, 4, 0], [0.5, -4, 0]).recoveredCount, 1);
  assert.equal(analyticLinear([0, 0, 0, -0.5, 4, 0], [0.5, -4, 0], undefined, true).recoveredCount, 2);
});

test("applies to the Linear model only", () => {
  assert.equal(analyticApplies(linearModel().paramShapes), true);
  assert.equal(analyticApplies(lenetModel().paramShapes), false);
});
