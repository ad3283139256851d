/**
 * L-BFGS DLG (attack/lbfgs_dlg.ts): its objective's gradient against central finite differences
 * (a second-order path: the gradient of a gradient distance, through softmax of the dummy label),
 * and on LeNet a few steps that lower the distance, deterministically, without leaking tensors.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { lbfgsDlg, lbfgsDlgObjective } from "../../lib/attack/lbfgs_dlg";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { loadMnist, NUM_CLASSES, PIXELS } from "../../lib/data/mnist";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { victimGradients } from "../../lib/threat/victim";
import { useBackend } from "../helpers";

before(useBackend);
const data = loadMnist("train");
const victim = { x: data.images.slice(0, PIXELS), y: Int32Array.from([data.labels[0]]), size: 1, id: 0 };

test("L-BFGS DLG objective: gradient = central finite differences along random directions (Linear)", () => {
  const model = linearModel();
  const params = model.init(new Rng(3));
  const observed = victimGradients(model, params, victim as never, "ce");
  const f = lbfgsDlgObjective(model, params, observed, 1);
  const rng = new Rng(4);
  // near the victim (image + noise, label logits favouring its class) the loss is small, so float32
  // rounding of the summed distance stays far below the differences measured
  const x = Float64Array.from({ length: PIXELS + NUM_CLASSES }, (_, i) =>
    i < PIXELS ? victim.x[i] + 0.05 * rng.normal() : 4 * Number(i - PIXELS === victim.y[0]) + 0.1 * rng.normal());
  const { loss, grad } = f(x);
  assert.ok(loss < 50, `loss ${loss}`);
  for (let k = 0; k < 3; k++) {
    const v = Float64Array.from({ length: x.length }, () => rng.normal());
    const h = 1e-2;
    const plus = f(x.map((xi, i) => xi + h * v[i])).loss;
    const minus = f(x.map((xi, i) => xi - h * v[i])).loss;
    const fd = (plus - minus) / (2 * h);
    const an = grad.reduce((s, g, i) => s + g * v[i], 0);
    assert.ok(Math.abs(fd - an) <= 1e-2 * Math.max(1, Math.abs(an)), `direction ${k}: finite differences ${fd}, gradient ${an}`);
  }
  tf.dispose([...params, ...observed]);
});

test("L-BFGS DLG on LeNet: 3 steps lower the distance, the same with the same seed, no tensor leak", () => {
  const model = lenetModel();
  const params = model.init(new Rng(1));
  const observed = victimGradients(model, params, victim as never, "ce");
  const before = tf.memory().numTensors;
  const a = lbfgsDlg(model, params, observed, 1, { steps: 3, rng: new Rng(2) });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const b = lbfgsDlg(model, params, observed, 1, { steps: 3, rng: new Rng(2) });
  assert.deepEqual(a.x, b.x);
  assert.ok(a.distances[2] < a.distances[0], `distance ${a.distances[0]} → ${a.distances[2]}`);
  assert.ok(Math.abs(a.y.reduce((s, v) => s + v, 0) - 1) < 1e-5, "the label is a distribution");
  tf.dispose([...params, ...observed]);
});

test("L-BFGS DLG restarts: a stalled step (∂D under tolerance at once, D > 1e-3) starts afresh from the same stream, within the step budget; the best start is kept", () => {
  const model = lenetModel();
  const params = model.init(new Rng(1));
  const observed = victimGradients(model, params, victim as never, "ce");
  // a tolerance no gradient meets: every step stalls at its first evaluation
  const stall = { toleranceGrad: 1e30 };
  const none = lbfgsDlg(model, params, observed, 1, { steps: 4, rng: new Rng(2), lbfgs: stall });
  assert.deepEqual([none.starts, none.evals], [1, 4], "without restarts: one start, one evaluation a step");
  const two = lbfgsDlg(model, params, observed, 1, { steps: 4, rng: new Rng(2), lbfgs: stall, restarts: 2 });
  assert.deepEqual([two.starts, two.evals], [3, 4], "two restarts used up in the four steps' budget");
  // each start's only point is its draw (the first the same as without restarts), so the kept one is the least of them
  assert.ok(two.bestDistance <= none.bestDistance, `best of three starts ${two.bestDistance} ≤ the first start's ${none.bestDistance}`);
  assert.equal(Math.min(...two.distances), two.bestDistance, "the best point kept is the least distance met");
  tf.dispose([...params, ...observed]);
});
