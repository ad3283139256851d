/**
 * The first-order fast path (native convolutions with hand-written gradients, cross-entropy in JS)
 * must give the same numbers as the any-order path it replaces in training: im2col convolutions
 * and lib/losses.ts's cross-entropy, through autodiff. Every gradient route of every backend that
 * loads here is checked (tfjs-node's only where it is installed).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { autoBackend, initBackend, tryLoadTfjsNode } from "../../lib/core/backend";
import { conv2d, conv2dFirstOrder, FIRST_ORDER_ROUTES } from "../../lib/models/conv";
import { crossEntropyJS } from "../../lib/models/cross_entropy";
import { gatherBatch } from "../../lib/data/batcher";
import { lenetModel } from "../../lib/models/lenet";
import { loadMnist } from "../../lib/data/mnist";
import { lossAndGrads } from "../../lib/optim/train";
import { oneHot, softmaxCrossEntropy } from "../../lib/models/losses";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { assertClose, backendsHere, useBackend, values } from "../helpers";

let home = "wasm";
before(async () => {
  home = await useBackend();
});
after(async () => {
  await initBackend(home as "wasm");
});

/** value and first-order gradients of Σ (conv(x) ⊙ r) for random r, wrt x, filter and bias. */
function convGrads(conv: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, r: tf.Tensor) {
  const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(conv(xx, ww, bb), r)) as tf.Scalar)([x, w, b]);
  return [value, ...grads].map(values);
}

test("conv2dFirstOrder equals the im2col conv2d (forward, ∂x, ∂filter, ∂bias) on every route of every backend here", async (t) => {
  for (const backend of backendsHere(t)) {
    await initBackend(backend as "wasm");
    const saved = FIRST_ORDER_ROUTES[backend];
    for (const input of ["native", "im2col", "conv"] as const) {
      for (const filter of ["native", "im2col", "conv"] as const) {
        if (backend === "wasm" && filter === "native") continue; // wasm has no Conv2DBackpropFilter kernel
        const layers = backend === "tensorflow" && input === "native" && filter === "native" ? [undefined, "tensorflow-ops" as const] : [undefined];
        for (const layer of layers) {
        FIRST_ORDER_ROUTES[backend] = { input, filter, layer };
        for (const [H, C, O, stride] of [[28, 1, 3, 2], [14, 3, 2, 2], [7, 3, 4, 1]]) {
          tf.tidy(() => {
            const rng = new Rng(H + C);
            const x = tf.tensor4d(rng.uniformArray(2 * H * H * C, -1, 1), [2, H, H, C]);
            const w = tf.tensor4d(rng.uniformArray(25 * C * O, -0.5, 0.5), [5, 5, C, O]);
            const b = tf.tensor1d(rng.uniformArray(O, -0.5, 0.5));
            const out = Math.floor((H + 4 - 5) / stride) + 1;
            const r = tf.tensor4d(rng.normalArray(2 * out * out * O), [2, out, out, O]);
            for (const activation of [undefined, "sigmoid"] as const) {
              const act = (t: tf.Tensor) => (activation ? tf.sigmoid(t) : t);
              const ref = convGrads((xx, ww, bb) => act(conv2d(xx, ww, bb, stride, 2)), x, w, b, r);
              const ours = convGrads((xx, ww, bb) => conv2dFirstOrder(xx, ww, bb, stride, 2, { activation }), x, w, b, r);
              const what = `${backend} input=${input} filter=${filter}${layer ? ` layer=${layer}` : ""} H=${H} C=${C} stride=${stride} ${activation ?? "linear"}`;
              ["value", "∂x", "∂filter", "∂bias"].forEach((name, i) => assertClose(ours[i], ref[i], 1e-4, `${what} ${name}`));
              const noInput = convGrads((xx, ww, bb) => conv2dFirstOrder(xx, ww, bb, stride, 2, { activation, inputGrad: false }), x, w, b, r);
              assert.ok(noInput[1].every((v) => v === 0), `${what}: inputGrad false gives a zero ∂x`);
              assertClose(noInput[2], ref[2], 1e-4, `${what} ∂filter without ∂x`);
            }
          });
        }
        }
      }
    }
    FIRST_ORDER_ROUTES[backend] = saved;
  }
});

test("crossEntropyJS equals lib/losses.ts's softmax cross-entropy and its gradient", () => {
  tf.tidy(() => {
    const rng = new Rng(9);
    const logits = tf.tensor2d(rng.normalArray(6 * 10).map((v) => 4 * v), [6, 10]);
    const labels = Int32Array.of(0, 3, 9, 3, 5, 1);
    const { value, grads } = tf.valueAndGrads((z: tf.Tensor) => tf.mean(softmaxCrossEntropy(z, oneHot(labels, 10))) as tf.Scalar)([logits]);
    const r = crossEntropyJS(logits.dataSync(), labels, 10);
    assertClose([r.loss], values(value), 1e-6, "loss");
    assertClose(r.d, values(grads[0]), 1e-6, "∂logits");
    const argmax = values(tf.argMax(logits, -1));
    assert.equal(r.correct, argmax.filter((a, i) => a === labels[i]).length);
  });
});

test("LeNet training step: the first-order path (native convs, JS cross-entropy; the hand back-propagation of lenet_tensorflow.ts on tensorflow, of lenet_wasm.ts on wasm) equals the any-order path on every backend here, leaving no tensors", async (t) => {
  const data = loadMnist("train");
  const batch = gatherBatch(data, Int32Array.from({ length: 16 }, (_, i) => 3 * i));
  for (const backend of backendsHere(t)) {
    await initBackend(backend as "wasm");
    const model = lenetModel();
    const before = tf.memory().numTensors;
    const params = model.init(new Rng(2));
    tf.tidy(() => {
      const fast = lossAndGrads(model, params, batch, true, true);
      const slow = lossAndGrads(model, params, batch, true, false);
      assertClose([fast.loss], [slow.loss], 1e-5, `${backend} loss`);
      assert.equal(fast.correct, slow.correct, `${backend} correct`);
      fast.grads.forEach((g, i) => assertClose(values(g), values(slow.grads[i]), 1e-4, `${backend} ${model.paramNames[i]}`));
    });
    tf.dispose(params);
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensors left behind`);
  }
});

test("auto picks wasm for Linear and for attacks, and tensorflow for LeNet training exactly when tfjs-node loads", (t) => {
  t.diagnostic(`auto for LeNet training: ${autoBackend({ model: "lenet", task: "train" })}`);
  assert.equal(autoBackend(), "wasm");
  assert.equal(autoBackend({ model: "linear", task: "train" }), "wasm");
  assert.equal(autoBackend({ model: "linear", task: "attack" }), "wasm");
  assert.equal(autoBackend({ model: "lenet", task: "attack" }), "wasm");
  assert.equal(autoBackend({ model: "lenet", task: "train" }), tryLoadTfjsNode() ? "tensorflow" : "wasm");
});
