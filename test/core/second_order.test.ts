/**
 * DLG differentiates a gradient. These tests compare tfjs's gradient of the DLG distance with
 * respect to dummy_x and dummy_y against central finite differences, for Linear and for LeNet
 * (sigmoid), and show that the check catches tfjs's own (output-based) Sigmoid gradient.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { clipByNorm } from "../../lib/optim/clip";
import { conv2d } from "../../lib/models/conv";
import { cosineDistance, l2Distance, totalVariation, transmittedMask } from "../../lib/attack/objectives";
import { dlgObjective } from "../../lib/attack/methods";
import { gradientDistance } from "../../lib/attack/dlg";
import { inversionObjective } from "../../lib/attack/invert";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { oneHot, parameterGradients, softmaxCrossEntropy } from "../../lib/models/losses";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { type Model } from "../../lib/models/model";
import { useBackend, directionalError, type XYObjective } from "../helpers";

before(useBackend);

type F = XYObjective;


/** A DLG set-up at a random point: observed gradients from a random "victim", random dummy data. */
function setup(model: Model, seed: number) {
  const rng = new Rng(seed);
  const params = model.init(rng);
  const victimX = tf.tensor2d(rng.uniformArray(784, -1, 1), [1, 784]);
  const victimY = oneHot(Int32Array.of(3), 10);
  const observed = tf.grads((...ps: tf.Tensor[]) => tf.sum(tf.square(tf.sub(model.forward(ps, victimX), victimY))))(params);
  const x = tf.tensor2d(rng.normalArray(784), [1, 784]).mul(0.5);
  const y = tf.tensor2d(rng.normalArray(10), [1, 10]);
  return { params, observed, x, y, rng };
}

for (const [name, make, tol] of [["Linear", linearModel, 1e-3], ["LeNet", lenetModel, 1e-3]] as const) {
  test(`${name}: ∇ of the DLG distance wrt dummy_x and dummy_y matches finite differences at 3 random points`, () => {
    for (const seed of [1, 2, 3]) {
      tf.tidy(() => {
        const model = make();
        const s = setup(model, seed);
        const err = directionalError(gradientDistance(model, s.params, s.observed), s.x, s.y, s.rng);
        assert.ok(err < tol, `${name} seed ${seed}: relative error ${err}`);
      });
    }
  });
}

test("DLG under the cross-entropy victim loss (dummy label through softmax, as the DLG paper's code) matches finite differences, Linear and LeNet", () => {
  for (const [make, seed] of [[linearModel, 21], [lenetModel, 22]] as const) {
    tf.tidy(() => {
      const model = make();
      const s = setup(model, seed);
      const observed = parameterGradients(model, s.params, "ce")(tf.tensor2d(s.rng.uniformArray(784, -1, 1), [1, 784]), oneHot(Int32Array.of(7), 10));
      // float32 rounding dominates below ε ≈ 0.05 (the error falls as 1/ε), so the step is 0.1
      for (const distance of ["l2", "l2sum"] as const) {
        const err = directionalError(dlgObjective(model, s.params, observed, "ce", distance), s.x, s.y, s.rng, 4, 0.1);
        assert.ok(err < 2e-3, `${model.kind}, ${distance}: relative error ${err}`);
      }
    });
  }
});

test("the check catches a wrong second-order gradient: tfjs's own output-based Sigmoid gradient", () => {
  // Put back tfjs's original Sigmoid gradient (dy · y · (1 − y), from the output y) ...
  tf.unregisterGradient("Sigmoid");
  tf.registerGradient({
    kernelName: "Sigmoid",
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(saved[0], tf.sub(1, saved[0]))) }),
  });
  let err = 0;
  try {
    err = tf.tidy(() => {
      const model = lenetModel();
      const s = setup(model, 1);
      return directionalError(gradientDistance(model, s.params, s.observed), s.x, s.y, s.rng);
    });
  } finally {
    // ... and restore ours (the one lib/tf.ts registers: from the input).
    tf.unregisterGradient("Sigmoid");
    tf.registerGradient({
      kernelName: "Sigmoid",
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({ x: () => { const sg = tf.sigmoid(saved[0]); return tf.mul(dy as tf.Tensor, tf.mul(sg, tf.sub(1, sg))); } }),
    });
  }
  // correct gradients measure ~1e-5 here; tfjs's own Sigmoid gradient ~5e-2
  assert.ok(err > 1e-2, `expected the broken gradient to be caught, relative error only ${err}`);
});

test("cross-entropy (log-sum-exp, exp) has a right second derivative: ∇x of ‖∂CE/∂θ‖² matches finite differences", () => {
  tf.tidy(() => {
    const model = linearModel();
    const rng = new Rng(5);
    const params = model.init(rng);
    const f: F = (x, y) => {
      const g = tf.grads((...ps: tf.Tensor[]) => tf.sum(softmaxCrossEntropy(model.forward(ps, x), tf.softmax(y))))(params);
      return tf.addN(g.map((t) => tf.sum(tf.square(t)))) as tf.Scalar;
    };
    const x = tf.tensor2d(rng.normalArray(784), [1, 784]);
    const y = tf.tensor2d(rng.normalArray(10), [1, 10]);
    // f ≈ 185 here, so float32 rounding needs a larger step than the default
    const err = directionalError(f, x, y, rng, 4, 0.1);
    assert.ok(err < 1e-3, `relative error ${err}`);
  });
});

test("im2col convolution equals tf.conv2d, forward and first-order gradients (cpu backend: wasm has no Conv2DBackpropFilter)", async () => {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  tf.tidy(() => {
    const rng = new Rng(9);
    const x = tf.tensor4d(rng.normalArray(2 * 14 * 14 * 3), [2, 14, 14, 3]);
    const w = tf.tensor4d(rng.normalArray(5 * 5 * 3 * 4), [5, 5, 3, 4]);
    const b = tf.tensor1d(rng.normalArray(4));
    for (const stride of [1, 2] as const) {
      const ref = (xx: tf.Tensor, ww: tf.Tensor) => tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, [[0, 0], [2, 2], [2, 2], [0, 0]]), b);
      const ours = (xx: tf.Tensor, ww: tf.Tensor) => conv2d(xx, ww, b, stride, 2);
      const d = tf.max(tf.abs(tf.sub(ref(x, w), ours(x, w)))).dataSync()[0];
      assert.ok(d < 1e-4, `stride ${stride} forward differs by ${d}`);
      const gRef = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(ref(xx, ww))))([x, w]);
      const gOurs = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(ours(xx, ww))))([x, w]);
      for (let i = 0; i < 2; i++) {
        const e = tf.max(tf.abs(tf.sub(gRef[i], gOurs[i]))).dataSync()[0] / tf.max(tf.abs(gRef[i])).dataSync()[0];
        assert.ok(e < 1e-4, `stride ${stride} gradient ${i} differs by ${e}`);
      }
    }
  });
  await tf.setBackend(previous);
});

/**
 * The objectives of the Inverting-Gradients and adaptive attacks: cosine distance, total variation,
 * the distance on transmitted coordinates only (a DGC-sparsified observation), and the mirrored
 * local clipping — each differentiated with respect to the dummy image through the parameter
 * gradient, under the cross-entropy victim loss they use. Labels are fixed in these attacks; the
 * check's y slot perturbs a free target anyway (softmax(y)) to exercise that path too.
 */
test("IG / adaptive objectives (cosine, TV, masked L2 and cosine, clipped) match finite differences", () => {
  const rng = new Rng(11);
  tf.tidy(() => {
    const model = linearModel();
    const params = model.init(rng);
    const victimX = tf.tensor2d(rng.uniformArray(784, -1, 1), [1, 784]);
    const full = parameterGradients(model, params, "ce")(victimX, oneHot(Int32Array.of(3), 10));
    // a DGC-like observation: the largest 10 % of each tensor, the rest zero
    const sparse = full.map((g) => {
      const k = Math.max(1, Math.floor(g.size / 10));
      const thr = tf.topk(tf.reshape(tf.abs(g), [-1]), k).values.min();
      return tf.where(tf.greaterEqual(tf.abs(g), thr), g, tf.zerosLike(g));
    });
    const mask = transmittedMask(sparse);
    const gradsOf = parameterGradients(model, params, "ce");
    const cases: [string, F][] = [
      ["cosine", (x, y) => cosineDistance(gradsOf(x, tf.softmax(y)), full)],
      ["TV", (x, y) => tf.add(totalVariation(x), tf.mul(tf.sum(tf.square(y)), 1e-3)) as tf.Scalar],
      ["masked L2", (x, y) => l2Distance(gradsOf(x, tf.softmax(y)), sparse, mask)],
      ["masked cosine", (x, y) => cosineDistance(gradsOf(x, tf.softmax(y)), sparse, mask)],
      ["clipped masked L2", (x, y) => l2Distance(gradsOf(x, tf.softmax(y)).map((g) => clipByNorm(g, 0.5)), sparse, mask)],
    ];
    const x = tf.tensor2d(rng.normalArray(784), [1, 784]).mul(0.5);
    const y = tf.tensor2d(rng.normalArray(10), [1, 10]);
    for (const [name, f] of cases) {
      const err = directionalError(f, x, y, rng, 4, 0.01);
      assert.ok(err < 2e-3, `${name}: relative error ${err}`);
    }
    tf.dispose(mask.map((m) => m.mask));
  });
});

test("the full inversion objective (as the attacks build it) matches finite differences in x", () => {
  const rng = new Rng(12);
  tf.tidy(() => {
    const model = linearModel();
    const params = model.init(rng);
    const victimX = tf.tensor2d(rng.uniformArray(784, -1, 1), [1, 784]);
    const labels = oneHot(Int32Array.of(5), 10);
    const observed = parameterGradients(model, params, "ce")(victimX, labels);
    const mask = transmittedMask(observed);
    for (const settings of [
      { victimLoss: "ce", distance: "cosine", tvWeight: 1e-2, clipNorm: null },
      { victimLoss: "ce", distance: "l2", tvWeight: 1e-2, clipNorm: 1 },
      { victimLoss: "sse", distance: "l2", tvWeight: 0, clipNorm: null },
    ] as const) {
      const obj = inversionObjective(model, params, observed, labels, settings, mask);
      const f: F = (x, y) => tf.add(obj(x), tf.mul(tf.sum(y), 0)) as tf.Scalar;
      const x = tf.tensor2d(rng.normalArray(784), [1, 784]).mul(0.5);
      const err = directionalError(f, x, tf.zeros([1, 10]), rng, 4, 0.01);
      assert.ok(err < 2e-3, `${JSON.stringify(settings)}: relative error ${err}`);
    }
    tf.dispose(mask.map((m) => m.mask));
  });
});
