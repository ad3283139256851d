/**
 * The sub-pixel ∂x of a strided convolution (lib/models/conv_subpixel.ts) against autodiff of the
 * im2col convolution, for kernel sizes, strides and paddings beyond LeNet's, on every backend here;
 * and where it does not apply (input not s times the output) it says so.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { conv2d } from "../../lib/models/conv";
import { initBackend } from "../../lib/core/backend";
import { Rng } from "../../lib/core/rng";
import { subpixelFilter, subpixelInputGrad, subpixelPlan } from "../../lib/models/conv_subpixel";
import { tf } from "../../lib/core/tf";
import { assertClose, backendsHere, useBackend, values } from "../helpers";

let home = "wasm";
before(async () => {
  home = await useBackend();
});
after(async () => {
  await initBackend(home as "wasm");
});

test("sub-pixel ∂x equals autodiff's for k, s, p ∈ {(5,2,2), (3,2,1), (4,2,1), (2,2,0), (3,3,1), (5,3,2)}, every backend here", async (t) => {
  for (const backend of backendsHere(t)) {
    await initBackend(backend as "wasm");
    for (const [k, s, p, H] of [[5, 2, 2, 14], [3, 2, 1, 8], [4, 2, 1, 8], [2, 2, 0, 8], [3, 3, 1, 9], [5, 3, 2, 9]]) {
      tf.tidy(() => {
        const [C, O, Bn] = [3, 4, 2];
        const rng = new Rng(k * 10 + s);
        const x = tf.tensor4d(rng.uniformArray(Bn * H * H * C, -1, 1), [Bn, H, H, C]);
        const w = tf.tensor4d(rng.uniformArray(k * k * C * O, -0.5, 0.5), [k, k, C, O]);
        const b = tf.zeros([O]);
        const out = Math.floor((H + 2 * p - k) / s) + 1;
        const dz = tf.tensor4d(rng.normalArray(Bn * out * out * O), [Bn, out, out, O]);
        const ref = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(conv2d(xx, w, b, s, p), dz)))(x);
        const plan = subpixelPlan(k, s, p, H, H, out, out);
        assert.ok(plan, `k ${k} s ${s} p ${p} H ${H}: a plan`);
        const ours = subpixelInputGrad(dz, w, s, p, plan!);
        assert.deepEqual(ours.shape, x.shape);
        assertClose(values(ours), values(ref), 1e-4, `${backend} k ${k} s ${s} p ${p}`);
      });
    }
  }
  await initBackend(home as "wasm");
});

test("sub-pixel: the plan and filter by hand (LeNet's 5×5, stride 2, padding 2), and where it does not apply", () => {
  const plan = subpixelPlan(5, 2, 2, 14, 14, 7, 7)!;
  assert.deepEqual(plan, { T: 3, before: 1, after: 1, tMin: -1 });
  // one input and one output channel: phase (0, 0) takes W's even taps, reversed; phase (1, 1) the odd ones and a zero row/column
  const w = tf.tensor4d(Float32Array.from({ length: 25 }, (_, i) => i), [5, 5, 1, 1]);
  const f = subpixelFilter(w, 2, 2, plan);
  assert.deepEqual(f.shape, [3, 3, 1, 4]);
  const tap = (ti: number, tj: number, phase: number) => f.dataSync()[(ti * 3 + tj) * 4 + phase];
  // W index a = r + p − s·(t_i + t_min): phase r = 0 reads a = 4, 2, 0 for t_i = 0, 1, 2
  assert.deepEqual([tap(0, 0, 0), tap(1, 1, 0), tap(2, 2, 0)], [4 * 5 + 4, 2 * 5 + 2, 0]);
  // phase (1, 1): a = 5, 3, 1 — the first is outside W, so 0
  assert.deepEqual([tap(0, 0, 3), tap(1, 1, 3), tap(2, 2, 3)], [0, 3 * 5 + 3, 1 * 5 + 1]);
  tf.dispose([w, f]);
  assert.equal(subpixelPlan(5, 2, 2, 13, 13, 7, 7), null, "13 is not 2 × 7");
  assert.equal(subpixelPlan(5, 1, 2, 14, 14, 14, 14), null, "stride 1 has its own route");
  assert.equal(subpixelPlan(3, 2, 3, 8, 8, 6, 6), null, "p ≥ k");
});
