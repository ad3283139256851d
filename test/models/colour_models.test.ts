/**
 * The colour models (lib/models/lenet_cifar.ts, convnet.ts) and the any-order max-pool and ReLU
 * (pool.ts): shapes and initialization; the max-pool equals tf.maxPool forward and at first order;
 * tfjs's own max-pool cannot be differentiated twice (why pool.ts exists); the second-order path
 * DLG and IG take — ∂/∂x and ∂/∂y of Σ_t ‖∂L(net(x), softmax(y))/∂θ_t − g_t‖² — matches central
 * finite differences through ReLU and max-pool (ConvNet) and through the sigmoid LeNet on 3 × 32 × 32;
 * the first-order training path equals the any-order path. On the tests' backend (TEST_BACKEND,
 * default wasm), plus cpu where named.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { conv2d } from "../../lib/models/conv";
import { convNetModel } from "../../lib/models/convnet";
import { lenetCifarModel } from "../../lib/models/lenet_cifar";
import { maxPool2x2, withActivationPatterns, type ActivationPatterns } from "../../lib/models/pool";
import { makeModel } from "../../lib/models/registry";
import { oneHot, parameterGradients } from "../../lib/models/losses";
import { numel, type Model } from "../../lib/models/model";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { assertClose, useBackend, values, directionalError, type XYObjective } from "../helpers";

let backend = "wasm";
before(async () => {
  backend = await useBackend();
});

type F = XYObjective;


/** A DLG/IG set-up: the observed gradient of a random [0, 1] victim image, a random dummy image and label. */
function setup(model: Model, seed: number) {
  const rng = new Rng(seed);
  const params = model.init(rng);
  const n = numel(model.inputShape);
  const victim = tf.tensor2d(rng.uniformArray(n, 0, 1), [1, n]);
  const observed = parameterGradients(model, params, "ce")(victim, oneHot(Int32Array.of(3), model.classes));
  const x = tf.tensor2d(rng.uniformArray(n, 0, 1), [1, n]);
  const y = tf.tensor2d(rng.normalArray(model.classes), [1, model.classes]);
  const gradsOf = parameterGradients(model, params, "ce");
  const f: F = (xx, yy) => tf.addN(gradsOf(xx, tf.softmax(yy)).map((g, i) => tf.sum(tf.square(tf.sub(g, observed[i]))))) as tf.Scalar;
  return { params, observed, x, y, rng, f };
}

test("colour models: 3 × 32 × 32 in, 10 logits out; LeNet-CIFAR 768 → 10 and U(−0.5, 0.5); ConvNet U(±1/√fan_in); registry", () => {
  tf.tidy(() => {
    const lenet = makeModel("lenet-cifar");
    const conv = makeModel("convnet");
    for (const m of [lenet, conv]) {
      assert.deepEqual(m.inputShape, [3, 32, 32]);
      assert.equal(m.classes, 10);
      const ps = m.init(new Rng(1));
      assert.deepEqual(ps.map((p) => p.shape), m.paramShapes.map((s) => [...s]));
      const out = m.forward(ps, tf.zeros([2, 3072]));
      assert.deepEqual(out.shape, [2, 10]);
    }
    assert.deepEqual(lenet.paramShapes[6], [768, 10]);
    assert.deepEqual(conv.paramShapes.map((s) => s.join("x")), ["3x3x3x16", "16", "3x3x16x32", "32", "3x3x32x32", "32", "2048x10", "10"]);
    const lp = lenet.init(new Rng(2));
    for (const p of lp) assert.ok(tf.max(tf.abs(p)).dataSync()[0] <= 0.5);
    const cp = conv.init(new Rng(2));
    const fanIn = [27, 27, 144, 144, 288, 288, 2048, 2048];
    cp.forEach((p, i) => {
      const m = tf.max(tf.abs(p)).dataSync()[0];
      assert.ok(m <= 1 / Math.sqrt(fanIn[i]) && m > 0.8 / Math.sqrt(fanIn[i]), `${conv.paramNames[i]}: max |w| ${m}`);
    });
    assert.deepEqual(makeModel("lenet").inputShape, [1, 28, 28]);
    assert.deepEqual(makeModel("linear").inputShape, [1, 28, 28]);
  });
});

test("maxPool2x2 equals tf.maxPool (2 × 2, stride 2, valid), forward and first-order gradient (cpu backend), odd sizes floored", async () => {
  await tf.setBackend("cpu");
  try {
    tf.tidy(() => {
      const rng = new Rng(3);
      for (const [H, W] of [[8, 8], [7, 5]]) {
        const x = tf.tensor4d(rng.normalArray(2 * H * W * 3), [2, H, W, 3]);
        const r = tf.tensor(rng.normalArray(2 * Math.floor(H / 2) * Math.floor(W / 2) * 3), [2, Math.floor(H / 2), Math.floor(W / 2), 3]);
        const ref = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, "valid");
        assertClose(values(maxPool2x2(x)), values(ref(x)), 0, `forward ${H}x${W}`);
        const gOurs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(maxPool2x2(t), r)))(x);
        const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ref(t), r)))(x);
        assertClose(values(gOurs), values(gRef), 1e-6, `gradient ${H}x${W}`);
      }
    });
  } finally {
    await tf.setBackend(backend);
  }
});

test("why pool.ts: tfjs's own max-pool has no second derivative (MaxPoolGrad has no gradient)", async () => {
  await tf.setBackend("cpu");
  try {
    const x = tf.tensor4d(new Rng(4).normalArray(16), [1, 4, 4, 1]);
    const inner = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.square(tf.maxPool(u as tf.Tensor4D, 2, 2, "valid"))))(t);
    assert.throws(() => tf.grad((t: tf.Tensor) => tf.sum(tf.square(inner(t))))(x), /MaxPoolGrad/);
    // ours: fine
    const ours = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.square(maxPool2x2(u))))(t);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(ours(t))))(x);
    assert.ok(values(g).every(Number.isFinite));
    tf.dispose([x, g]);
  } finally {
    await tf.setBackend(backend);
  }
});

/**
 * ConvNet: differenced with the ReLU masks and pool winners of the base point frozen (pool.ts
 * explains why: the parameter gradient of a ReLU net jumps at every unit that crosses zero, and a
 * float32 step crosses some). The frozen function equals the net at the base point; autodiff of the
 * real net must agree with its differences.
 */
test("ConvNet (ReLU, max-pool): ∇x, ∇y of Σ‖∂CE(net(x), softmax(y))/∂θ − g‖² match finite differences (activation pattern frozen)", () => {
  for (const seed of [1, 2, 3]) {
    tf.tidy(() => {
      const s = setup(convNetModel(), seed);
      const p: ActivationPatterns = { mode: "record", patterns: [], next: 0 };
      const base = withActivationPatterns(p, () => s.f(s.x, s.y)).dataSync()[0];
      assert.equal(p.patterns.length, 5, "three ReLUs and two pools");
      p.mode = "replay";
      const frozen: F = (x, y) => withActivationPatterns(p, () => s.f(x, y));
      assert.ok(Math.abs(frozen(s.x, s.y).dataSync()[0] - base) <= 1e-6 * Math.abs(base));
      assert.ok(Math.abs(s.f(s.x, s.y).dataSync()[0] - base) <= 1e-6 * Math.abs(base));
      // the frozen function is smooth, so a larger step keeps float32 rounding (f ≈ 10, ‖∇x f‖ ≈ 0.1) small
      const err = directionalError(s.f, s.x, s.y, s.rng, 3, 0.1, frozen);
      assert.ok(err < 3e-3, `ConvNet seed ${seed} (${backend}): relative error ${err}`);
    });
  }
});

test("the frozen check has teeth: a max-pool whose gradient cannot be differentiated again (as tfjs's MaxPoolGrad, but silent) is caught; unfrozen differences disagree even when right", () => {
  tf.tidy(() => {
    const m = convNetModel();
    const s = setup(m, 4);
    // ConvNet's forward with a pool whose backward is a constant (the scatter of dy computed in JS, off the tape)
    const constScatterPool = (h: tf.Tensor) => {
      const rec: ActivationPatterns = { mode: "record", patterns: [], next: 0 };
      const value = withActivationPatterns(rec, () => maxPool2x2(h));
      const win = rec.patterns[0] as Int32Array;
      // the right first-order values, but a constant: dy scattered in JS, so nothing after it is on the tape
      const f = tf.customGrad(((t: tf.Tensor) => ({
        value: tf.clone(value),
        gradFunc: (dy: tf.Tensor) => {
          const d = dy.dataSync();
          const out = new Float32Array(t.size);
          for (let o = 0; o < win.length; o++) out[win[o]] += d[o];
          return tf.tensor(out, t.shape);
        },
      })) as unknown as Parameters<typeof tf.customGrad>[0]);
      return f(h) as tf.Tensor;
    };
    const broken: Model = {
      ...m,
      forward: (ps, x) => {
        let h: tf.Tensor = tf.transpose(tf.reshape(x, [x.shape[0], 3, 32, 32]), [0, 2, 3, 1]);
        for (let i = 0; i < 3; i++) {
          h = tf.relu(conv2d(h, ps[2 * i], ps[2 * i + 1], 1, 1));
          if (i < 2) h = constScatterPool(h);
        }
        return tf.add(tf.matMul(tf.reshape(h, [x.shape[0], 2048]) as tf.Tensor2D, ps[6] as tf.Tensor2D), ps[7]);
      },
    };
    const gradsOf = parameterGradients(broken, s.params, "ce");
    const fBroken: F = (xx, yy) => tf.addN(gradsOf(xx, tf.softmax(yy)).map((g, i) => tf.sum(tf.square(tf.sub(g, s.observed[i]))))) as tf.Scalar;
    assert.ok(Math.abs(fBroken(s.x, s.y).dataSync()[0] - s.f(s.x, s.y).dataSync()[0]) < 1e-4, "same function");
    const p: ActivationPatterns = { mode: "record", patterns: [], next: 0 };
    withActivationPatterns(p, () => s.f(s.x, s.y));
    p.mode = "replay";
    const frozen: F = (x, y) => withActivationPatterns(p, () => s.f(x, y));
    const caught = directionalError(fBroken, s.x, s.y, new Rng(40), 3, 0.1, frozen);
    console.log(`broken pool: relative error ${caught}`);
    assert.ok(caught > 1e-2, `the broken pool was not caught: relative error ${caught}`);
    const loose = directionalError(s.f, s.x, s.y, new Rng(40), 3, 1e-2);
    console.log(`unfrozen: relative error ${loose}`);
    assert.ok(loose > 1e-2, `expected unfrozen finite differences to disagree, got ${loose}`);
  });
});

test("LeNet-CIFAR (sigmoid): ∇x, ∇y of Σ‖∂CE(net(x), softmax(y))/∂θ − g‖² match finite differences", () => {
  for (const seed of [1, 2]) {
    tf.tidy(() => {
      const s = setup(lenetCifarModel(), seed);
      const err = directionalError(s.f, s.x, s.y, s.rng, 3, 1e-2);
      assert.ok(err < 2e-3, `LeNet-CIFAR seed ${seed} (${backend}): relative error ${err}`);
    });
  }
});

test("colour models: the first-order training path (native conv forward) equals the any-order path, logits and parameter gradients", () => {
  for (const make of [convNetModel, lenetCifarModel]) {
    tf.tidy(() => {
      const m = make();
      const rng = new Rng(7);
      const ps = m.init(rng);
      const x = tf.tensor2d(rng.uniformArray(3 * 3072, 0, 1), [3, 3072]);
      const y = oneHot(Int32Array.of(1, 5, 9), 10);
      for (const firstOrder of [false, true]) void firstOrder;
      const run = (firstOrder: boolean) => {
        const { value, grads } = tf.valueAndGrads((...p: tf.Tensor[]) => tf.sum(tf.mul(tf.logSoftmax(m.forward(p, x, { firstOrder })), y)) as tf.Scalar)(ps);
        return [value, ...grads].map(values);
      };
      const [a, b] = [run(false), run(true)];
      a.forEach((v, i) => assertClose(b[i], v, 1e-4, `${m.kind} ${i === 0 ? "value" : m.paramNames[i - 1]}`));
    });
  }
});
