import { test, before } from "node:test";
import assert from "node:assert/strict";
import { DGCMomentum, topkCount, warmupSparsity } from "../../lib/optim/dgc";
import { initBackend } from "../../lib/core/backend";
import { kthLargestAbs, kthLargestAbsTopk, quickselectDescending } from "../../lib/optim/topk";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { tf, variableFrom } from "../../lib/core/tf";
import { assertClose, backendsHere, useBackend, values } from "../helpers";

before(useBackend);

function vars(...xs: number[][]): tf.Variable[] {
  return xs.map((x) => tf.variable(tf.tensor1d(x)));
}
const T = (x: number[]) => tf.tensor1d(x);

test("Momentum: velocity = 0.9 v + g; param -= lr v (hand-computed)", () => {
  const [p] = vars([1, -1]);
  const opt = new Momentum(0.1, 0.9);
  opt.step([p], [T([2, 0.5])]);
  assertClose(values(p), [0.8, -1.05]);
  opt.step([p], [T([1, -1])]);
  // v = 0.9*[2, .5] + [1, -1] = [2.8, -0.55]
  assertClose(values(p), [0.8 - 0.28, -1.05 + 0.055]);
  opt.dispose();
});

test("Momentum in JS arrays equals the tfjs-op formulation bit for bit over 25 steps, on every backend here, leaving no tensors", async (t) => {
  const home = tf.getBackend();
  for (const backend of backendsHere(t)) {
    await initBackend(backend as "wasm");
    const before = tf.memory().numTensors;
    const rng = new Rng(5);
    const shapes = [[7, 3], [3], [5, 5, 1, 2]];
    const init = shapes.map((s) => rng.normalArray(s.reduce((a, b) => a * b, 1)));
    const ours = init.map((a, i) => variableFrom(tf.tensor(a, shapes[i])));
    const ref = init.map((a, i) => variableFrom(tf.tensor(a, shapes[i])));
    const refV = shapes.map((s) => variableFrom(tf.zeros(s)));
    const opt = new Momentum(0.03, 0.9);
    for (let step = 0; step < 25; step++) {
      const g = shapes.map((s) => tf.tensor(rng.normalArray(s.reduce((a, b) => a * b, 1)).map((v) => v * 10 ** (step % 5 - 2)), s));
      opt.step(ours, g);
      tf.tidy(() =>
        ref.forEach((p, i) => {
          refV[i].assign(tf.add(tf.mul(refV[i], 0.9), g[i]));
          p.assign(tf.sub(p, tf.mul(refV[i], 0.03)));
        }),
      );
      tf.dispose(g);
    }
    ours.forEach((p, i) => assert.deepEqual(values(p), values(ref[i]), `${backend}: parameter ${i}`));
    opt.state!.forEach((v, i) => assert.deepEqual(values(v), values(refV[i]), `${backend}: velocity ${i}`));
    opt.dispose();
    tf.dispose([...ours, ...ref, ...refV]);
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensors left behind`);
  }
  await initBackend(home as "wasm");
});

test("DGCMomentum: two steps by hand (order v+=g; u+=v; v*=m; strict mask; residual in u; second momentum)", () => {
  const [p] = vars([0, 0, 0, 0]);
  const opt = new DGCMomentum({ sparsity: 0.5, lr: 0.1 });
  let s = opt.step([p], [T([1, -2, 3, 0.5])]);
  // k = 4 - 2 = 2, threshold = 2, only |u| = 3 > 2 is sent
  assert.deepEqual(s.sent, [1]);
  assertClose(values(opt.state!.u[0]), [1, -2, 0, 0.5]);
  assertClose(values(opt.state!.v[0]), [0.9, -1.8, 2.7, 0.45]);
  assertClose(values(p), [0, 0, -0.3, 0]);
  s = opt.step([p], [T([1, 1, 1, 1])]);
  // v = [1.9, -0.8, 3.7, 1.45]; u = [2.9, -2.8, 3.7, 1.95]; threshold 2.9 → send 3.7
  assert.deepEqual(s.sent, [1]);
  assertClose(values(opt.state!.u[0]), [2.9, -2.8, 0, 1.95]);
  assertClose(values(opt.state!.v[0]), [1.71, -0.72, 3.33, 1.305]);
  // velocity = 0.9*3 + 3.7 = 6.4 → p = -0.3 - 0.64
  assertClose(values(p), [0, 0, -0.94, 0]);
  opt.dispose();
});

test("DGCMomentum Nesterov: v = m(v+g); u = u + v + g", () => {
  const opt = new DGCMomentum({ sparsity: 0.5, lr: 0.1, nesterov: true });
  const { sent } = opt.compress([T([1, -2, 3, 0.5])]);
  assertClose(values(sent[0]), [0, 0, 5.7, 0]);
  assertClose(values(opt.state!.u[0]), [1.9, -3.8, 0, 0.95]);
  opt.dispose();
});

test("DGCMomentum: ties at the threshold are not sent (strict >)", () => {
  const opt = new DGCMomentum({ sparsity: 0.5, lr: 0.1 });
  const { sent, stats } = opt.compress([T([1, -1, 1, -1])]);
  assert.deepEqual(stats.sent, [0]);
  assertClose(values(sent[0]), [0, 0, 0, 0]);
  assertClose(values(opt.state!.u[0]), [1, -1, 1, -1]);
  opt.dispose();
});

test("DGCMomentum: sparsity 0 sends all but the smallest |u|; close to 1 sends k-1", () => {
  let opt = new DGCMomentum({ sparsity: 0, lr: 0.1 });
  let r = opt.compress([T([0.1, -0.4, 0.3, 0.2])]);
  assertClose(values(r.sent[0]), [0, -0.4, 0.3, 0.2]);
  opt.dispose();
  opt = new DGCMomentum({ sparsity: 0.99, lr: 0.1 });
  const n = 1000;
  const g = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
  r = opt.compress([tf.tensor1d(g)]);
  assert.equal(topkCount(n, 0.99), 10);
  assert.deepEqual(r.stats.sent, [9]);
  const sentIdx = values(r.sent[0]).flatMap((x, i) => (x !== 0 ? [i] : []));
  assert.deepEqual(sentIdx, [991, 992, 993, 994, 995, 996, 997, 998, 999]);
  opt.dispose();
});

test("DGCMomentum: a single-element tensor is never sent; it accumulates in u", () => {
  const opt = new DGCMomentum({ sparsity: 0.8, lr: 0.1 });
  for (let i = 0; i < 3; i++) tf.dispose(opt.compress([T([1])]).sent);
  // u = 1, then 1 + 1.9, then 2.9 + 2.71
  assertClose(values(opt.state!.u[0]), [5.61]);
  opt.dispose();
});

/** Plain float64 reference of the seed's DGC (SPEC.md), to compare multi-step sequences. */
function referenceDgc(grads: number[][], s: number, m: number) {
  const n = grads[0].length;
  const u = new Array(n).fill(0);
  const v = new Array(n).fill(0);
  const sent: number[][] = [];
  for (const g of grads) {
    for (let i = 0; i < n; i++) {
      v[i] += g[i];
      u[i] += v[i];
      v[i] *= m;
    }
    const k = n - Math.floor(s * n);
    const thr = u.map(Math.abs).sort((a, b) => b - a)[k - 1];
    sent.push(u.map((x) => (Math.abs(x) > thr ? x : 0)));
    for (let i = 0; i < n; i++) if (Math.abs(u[i]) > thr) u[i] = 0;
  }
  return { u, sent };
}

test("DGCMomentum: 20 random steps match a float64 reference; sent + residual accounts for everything", () => {
  const rng = new Rng(7);
  const grads = Array.from({ length: 20 }, () => Array.from({ length: 50 }, () => rng.normal()));
  const ref = referenceDgc(grads, 0.8, 0.9);
  const opt = new DGCMomentum({ sparsity: 0.8, lr: 0.1 });
  const totalSent = new Array(50).fill(0);
  grads.forEach((g, t) => {
    const { sent, stats } = opt.compress([T(g)]);
    assertClose(values(sent[0]), ref.sent[t], 1e-4, `step ${t}`);
    assert.equal(stats.sent[0], 9); // k - 1 with distinct values
    values(sent[0]).forEach((x, i) => (totalSent[i] += x));
    tf.dispose(sent);
  });
  assertClose(values(opt.state!.u[0]), ref.u, 1e-4, "u");
  // Everything accumulated into u was either sent or is still in u: Σ sent + u = Σ_t (Σ_{τ≤t} m^{t−τ} g_τ)
  const accumulated = new Array(50).fill(0);
  const v = new Array(50).fill(0);
  for (const g of grads) for (let i = 0; i < 50; i++) { v[i] += g[i]; accumulated[i] += v[i]; v[i] *= 0.9; }
  assertClose(totalSent.map((x, i) => x + values(opt.state!.u[0])[i]), accumulated, 1e-4, "bookkeeping");
  opt.dispose();
});

test("DGC options: momentum-factor masking zeroes v where sent; clipping bounds the norm; warm-up schedule", () => {
  const opt = new DGCMomentum({ sparsity: 0.5, lr: 0.1, momentumFactorMasking: true });
  tf.dispose(opt.compress([T([1, -2, 3, 0.5])]).sent);
  assertClose(values(opt.state!.v[0]), [0.9, -1.8, 0, 0.45]);
  opt.dispose();
  const clip = new DGCMomentum({ sparsity: 0.5, lr: 0.1, clipNorm: 1 });
  // |g| = 5 → g/5 = [0.6, 0.8, 0, 0]; threshold 0.6 → 0.8 is sent, 0.6 stays in u
  const r = clip.compress([T([3, 4, 0, 0])]);
  assertClose(values(r.sent[0]), [0, 0.8, 0, 0]);
  assertClose(values(clip.state!.u[0]), [0.6, 0, 0, 0]);
  tf.dispose(r.sent);
  clip.dispose();
  assert.equal(warmupSparsity(0, 4, 0.999), 0.75);
  assertClose([warmupSparsity(2, 4, 0.999)], [1 - 0.25 * Math.sqrt(0.004)]);
  assert.equal(warmupSparsity(4, 4, 0.999), 0.999);
  assert.equal(warmupSparsity(1, 0, 0.8), 0.8);
});

test("DGC sampled threshold sends about k entries and is reproducible with a seed", () => {
  const g = Float32Array.from({ length: 10000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const counts = [1, 2].map(() => {
    const opt = new DGCMomentum({ sparsity: 0.99, lr: 0.1, sampleRatio: 0.05, rng: new Rng(3) });
    const { sent, stats } = opt.compress([tf.tensor1d(g)]);
    tf.dispose(sent);
    opt.dispose();
    return stats.sent[0];
  });
  assert.equal(counts[0], counts[1]);
  assert.ok(counts[0] > 50 && counts[0] < 200, `sent ${counts[0]}, expected about 100`);
});

test("optimizers keep tf.memory().numTensors flat over many steps", () => {
  const params = vars([1, 2, 3, 4, 5]);
  for (const opt of [new Momentum(0.1), new DGCMomentum({ sparsity: 0.6, lr: 0.1 })]) {
    const g = T([0.1, -0.2, 0.3, 0.4, -0.5]);
    opt.step(params, [g]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) opt.step(params, [g]);
    assert.equal(tf.memory().numTensors, before, opt.name);
    opt.dispose();
    g.dispose();
  }
});

test("the radix-select threshold equals tf.topk's and quickselect's on random, tied, constant, sorted and extreme tensors", () => {
  const rng = new Rng(11);
  const cases: Float32Array[] = [
    rng.normalArray(7840),
    rng.normalArray(7850).map((v, i) => v * 10 ** ((i % 60) - 30)), // every exponent, subnormals included
    Float32Array.of(0, -0, 1e-45, -1e-45, 3.4e38, -Infinity, Infinity, 1, -1, 1.0000001, 0.99999994),
    Float32Array.from({ length: 4096 }, (_, i) => (i % 2 ? -1 : 1) * (1 + (i % 7) * 2 ** -23)), // differ only in the last mantissa bits
    Float32Array.from({ length: 1000 }, (_, i) => Math.round(Math.sin(i) * 3)), // many ties
    new Float32Array(500).fill(-0.25),
    Float32Array.from({ length: 999 }, (_, i) => i - 500), // sorted
    Float32Array.of(4),
  ];
  for (const c of cases) {
    const u = tf.tensor1d(c);
    const ks = c.length <= 16 ? Array.from({ length: c.length }, (_, i) => i + 1) : [1, 2, Math.ceil(c.length / 5), c.length - 1, c.length];
    for (const k of ks) {
      assert.equal(kthLargestAbs(u, k), kthLargestAbsTopk(u, k), `n ${c.length}, k ${k}`);
      assert.equal(kthLargestAbs(u, k), quickselectDescending(c.map(Math.abs), k), `n ${c.length}, k ${k} (quickselect)`);
    }
    u.dispose();
  }
});
