/**
 * LeNet's hand-written backward pass on wasm (lib/models/lenet_wasm.ts) against the route it
 * replaces in training (conv2dFirstOrder's custom gradients through tfjs's tape): bit for bit above
 * the first strided layer's ∂x, within float rounding below it (the sub-pixel ∂x sums the same
 * products in another order); against a central difference of the loss along random directions;
 * on MNIST's LeNet, on LeNet-CIFAR's 3 × 32 × 32 input, and on a 27 × 27 input where the sub-pixel
 * form does not apply (wasm's Conv2DBackpropInput then); and it leaves no tensors behind.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/core/backend";
import { gatherBatch } from "../../lib/data/batcher";
import { loadMnist } from "../../lib/data/mnist";
import { lenetFor, lenetModel } from "../../lib/models/lenet";
import { convNetCrossEntropyWasm } from "../../lib/models/lenet_wasm";
import { lossAndGrads } from "../../lib/optim/train";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { assertClose, useBackend, values } from "../helpers";
import type { Batch } from "../../lib/data/batcher";
import type { Model } from "../../lib/models/model";

const LAYERS = [2, 2, 1].map((stride) => ({ stride, pad: 2, sigmoid: true }));

let home = "wasm";
before(async () => {
  home = await useBackend();
  await initBackend("wasm");
});
after(async () => {
  await initBackend(home as "wasm");
});

/** The model's training gradient through the tape and conv2dFirstOrder (the route before lenet_wasm.ts). */
const tapeRoute = (m: Model): Model => ({ ...m, backprop: undefined });

function randomBatch(shape: readonly [number, number, number], n: number, seed: number): Batch {
  const rng = new Rng(seed);
  const x = Float32Array.from(rng.uniformArray(n * shape[0] * shape[1] * shape[2], -1, 1));
  return { x, y: Int32Array.from({ length: n }, (_, i) => (3 * i + seed) % 10), size: n, id: 0 } as Batch;
}

/** Largest |a − b| relative to the largest |b| of a tensor. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [d, m] = [0, 0];
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

test("LeNet on wasm: the hand backward pass equals the tape's, bit for bit above layer 2's ∂x, within float rounding below (MNIST batch of 64)", (t) => {
  const model = lenetModel();
  const params = model.init(new Rng(1));
  const batch = gatherBatch(loadMnist("train"), Int32Array.from({ length: 64 }, (_, i) => i));
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const ours = lossAndGrads(model, params, batch);
    const tape = lossAndGrads(tapeRoute(model), params, batch);
    assert.equal(ours.loss, tape.loss, "loss");
    assert.equal(ours.correct, tape.correct, "correct");
    model.paramNames.forEach((name, i) => {
      const [a, b] = [values(ours.grads[i]), values(tape.grads[i])];
      if (i >= 2) assert.deepEqual(a, b, `${name}: bit for bit`);
      else {
        const r = relDiff(a, b);
        t.diagnostic(`${name}: largest difference ${r.toExponential(2)} of the largest entry`);
        assert.ok(r > 0 || a.every((v, j) => v === b[j]), "a difference, if any, is reported");
        assert.ok(r < 1e-5, `${name}: ${r} is float rounding`);
      }
    });
  });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  tf.dispose(params);
});

test("the hand backward pass on wasm: 3 × 32 × 32 (LeNet-CIFAR) and 27 × 27 (no sub-pixel form) inputs equal the tape's within float rounding", () => {
  for (const shape of [[3, 32, 32], [1, 27, 27]] as const) {
    const model = lenetFor("lenet", shape, 10);
    const params = model.init(new Rng(4));
    const batch = randomBatch(shape, 8, 5);
    tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [batch.size, shape[0] * shape[1] * shape[2]]);
      const ours = convNetCrossEntropyWasm(params, x, batch.y, LAYERS, shape);
      const tape = lossAndGrads(tapeRoute(model), params, batch);
      assertClose([ours.loss], [tape.loss], 1e-6, `${shape} loss`);
      assert.equal(ours.correct, tape.correct, `${shape} correct`);
      model.paramNames.forEach((name, i) => assert.ok(relDiff(values(ours.grads[i]), values(tape.grads[i])) < 1e-5, `${shape} ${name}`));
    });
    tf.dispose(params);
  }
});

test("the hand backward pass on wasm agrees with a central difference of the loss along random directions of every layer's weights", () => {
  const model = lenetModel();
  const params = model.init(new Rng(7));
  const batch = randomBatch([1, 28, 28], 16, 3);
  const rng = new Rng(11);
  tf.tidy(() => {
    const { grads } = lossAndGrads(model, params, batch);
    const lossAt = (ps: tf.Tensor[]) => lossAndGrads(tapeRoute(model), ps, batch, true, false).loss; // the any-order path: an independent loss
    for (const i of [0, 1, 2, 4, 6]) {
      const v = tf.tensor(rng.normalArray(params[i].size), params[i].shape);
      const eps = 1e-2;
      const at = (sign: number) => lossAt(params.map((p, j) => (j === i ? tf.add(p, tf.mul(v, sign * eps)) : p)));
      const fd = (at(1) - at(-1)) / (2 * eps);
      const analytic = tf.sum(tf.mul(grads[i], v)).dataSync()[0];
      assert.ok(Math.abs(fd - analytic) <= 2e-3 * Math.max(1e-2, Math.abs(analytic)), `${model.paramNames[i]}: difference ${fd}, gradient ${analytic}`);
    }
  });
  tf.dispose(params);
});

test("the hand backward pass on wasm, layers where neither the trimmed ∂W input nor the sub-pixel ∂x applies (stride 2, no padding), agrees with central differences", () => {
  const layers = [{ stride: 1, pad: 2, sigmoid: true }, { stride: 2, pad: 0, sigmoid: true }]; // 28 → 28 → 12
  const rng = new Rng(13);
  const shapes = [[5, 5, 1, 12], [12], [5, 5, 12, 12], [12], [12 * 12 * 12, 10], [10]];
  const params = shapes.map((sh) => tf.tensor(rng.uniformArray(sh.reduce((a, b) => a * b, 1), -0.5, 0.5), sh));
  const batch = randomBatch([1, 28, 28], 8, 2);
  tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [batch.size, 784]);
    const run = (ps: tf.Tensor[]) => convNetCrossEntropyWasm(ps, x, batch.y, layers, [1, 28, 28]);
    const { grads } = run(params);
    for (const i of [0, 1, 2, 3]) {
      const v = tf.tensor(rng.normalArray(params[i].size), params[i].shape);
      const eps = 1e-2;
      const at = (sign: number) => run(params.map((p, j) => (j === i ? tf.add(p, tf.mul(v, sign * eps)) : p))).loss;
      const fd = (at(1) - at(-1)) / (2 * eps);
      const analytic = tf.sum(tf.mul(grads[i], v)).dataSync()[0];
      assert.ok(Math.abs(fd - analytic) <= 2e-3 * Math.max(1e-2, Math.abs(analytic)), `parameter ${i}: difference ${fd}, gradient ${analytic}`);
    }
  });
  tf.dispose(params);
});

test("the hand backward pass refuses another backend", async () => {
  await initBackend("cpu");
  try {
    const model = lenetModel();
    const params = model.init(new Rng(1));
    const x = tf.zeros([1, 784]) as tf.Tensor2D;
    assert.throws(() => convNetCrossEntropyWasm(params, x, Int32Array.of(0), LAYERS, [1, 28, 28]), /needs the wasm backend, not cpu/);
    tf.dispose([...params, x]);
  } finally {
    await initBackend("wasm");
  }
});
