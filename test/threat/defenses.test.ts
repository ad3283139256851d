/**
 * Defenses as transforms of the upload (lib/optim/defenses.ts): each one's output by hand, its byte
 * count, unbiasedness where claimed (many seeded draws), the noise scale, and its composition with
 * the Momentum step.
 */
import {
  test, before } from "node:test"; import assert from "node:assert/strict"; import { checkDefense, DefenseError, Fp16, Gaussian, globalNorm, Int8, Laplace, makeTransform, RandK, roundFloat16, SignSGD, TopK, topkIndices } from "../../lib/threat/channel/defenses";
import { DefendedMomentum } from "../../lib/threat/channel/defended";
import { makeChannel } from "../../lib/threat/channel/registry";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { statsBytes } from "../../lib/optim/wire";
import { awareAttack } from "../../lib/attack/aware";
import { gatherBatch } from "../../lib/data/batcher";
import { inferLabel } from "../../lib/attack/invert";
import { linearModel } from "../../lib/models/linear";
import { loadMnist } from "../../lib/data/mnist";
import { victimGradients } from "../../lib/threat/victim";
import { assertClose, useBackend, values } from "../helpers";

before(useBackend);
const F = (...x: number[]) => Float32Array.from(x);

test("topk: keeps the n − floor(p·n) largest |u| (ties to the lower index), zeroes the rest; bytes as federated/bytes.ts counts them", () => {
  const up = new TopK(0.5).encode([F(1, -4, 3, 0.5), F(2, -2, 2)]);
  assertClose(up.values[0], [0, -4, 3, 0]);
  assertClose(up.values[1], [2, -2, 0]); // n = 3: k = 3 − 1 = 2, the tie of three 2s goes to the first two
  assert.deepEqual(up.sent, [2, 2]);
  // per tensor the cheapest of dense 4n, indices 8k, bitmap 4k + ⌈n/8⌉: 2 values + a 1-byte bitmap each
  assert.equal(up.bytes, (4 * 2 + 1) + (4 * 2 + 1));
  // the Linear model at 90 % pruned: 784 of 7840 by bitmap (3136 + 980), 1 of 10 by bitmap (4 + 2)
  const big = new TopK(0.9).encode([new Float32Array(7840).fill(1), new Float32Array(10).fill(1)]);
  assert.deepEqual([big.sent, big.bytes], [[784, 1], 3136 + 980 + 6]);
  // at 99 % pruned the index list is cheaper: 79 of 7840 → 8·79 (bitmap: 316 + 980)
  assert.equal(new TopK(0.99).encode([new Float32Array(7840).fill(1)]).bytes, 8 * 79);
  assert.deepEqual(Array.from(topkIndices(F(0, 5, -5, 1, 5), 2)), [1, 2]);
  assert.deepEqual(new TopK(0).encode([F(1, 2)]).sent, [2]);
});

test("randk: k entries, scaled by n/k, unbiased over many draws; 4 B a value + a 4-byte seed; seeded", () => {
  const u = F(1, -2, 3, -4, 5, 0.5, 0, 8);
  const rk = new RandK(0.75, new Rng(1));
  const up = rk.encode([u]);
  assert.deepEqual(up.sent, [2]);
  assert.equal(up.bytes, 2 * 4 + 4);
  assert.equal(up.values[0].filter((x) => x !== 0).length <= 2, true);
  for (let i = 0; i < 8; i++) assert.ok(up.values[0][i] === 0 || up.values[0][i] === u[i] * 4);
  const N = 20000;
  const mean = new Float64Array(8);
  for (let d = 0; d < N; d++) rk.encode([u]).values[0].forEach((x, i) => (mean[i] += x / N));
  // each entry: u·4 with probability 1/4, so std of the mean ≤ |u|·√3/√N
  mean.forEach((m, i) => assert.ok(Math.abs(m - u[i]) <= 4 * Math.abs(u[i]) * Math.sqrt(3 / N) + 1e-9, `entry ${i}: ${m} vs ${u[i]}`));
  assert.deepEqual(new RandK(0.5, new Rng(7)).encode([u]).values, new RandK(0.5, new Rng(7)).encode([u]).values);
});

test("gaussian: the whole update clipped to C, then N(0, σ²C²) on every entry; dense float32", () => {
  const u = [F(3, 0), F(4)]; // ‖u‖ = 5 > C = 1: scaled by 1/5
  assertClose(new Gaussian(1e-9, 1, new Rng(1)).encode(u).values.flatMap((v) => Array.from(v)), [0.6, 0, 0.8], 1e-6);
  assertClose(new Gaussian(1e-9, 10, new Rng(1)).encode(u).values.flatMap((v) => Array.from(v)), [3, 0, 4], 1e-6, "within C: unclipped");
  const n = 40000;
  const up = new Gaussian(0.6, 2, new Rng(2)).encode([new Float32Array(n)]);
  assert.equal(up.bytes, 4 * n);
  const x = up.values[0];
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  assert.ok(Math.abs(mean) < 4 * 0.6 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(std / 0.6 - 1) < 0.02, `std ${std}, expected σC = 0.6`);
  assert.equal(globalNorm([F(3), F(4)]), 5);
  // gaussvar (the DLG paper's noise): variance v, no clipping
  const paper = makeTransform({ name: "gaussvar", strength: 0.04 }, new Rng(5)).encode([new Float32Array(n).fill(100)]).values[0];
  const pm = paper.reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(pm - 100) < 4 * 0.2 / Math.sqrt(n), `unclipped mean ${pm}`);
  assert.ok(Math.abs(Math.sqrt(paper.reduce((s, v) => s + (v - pm) ** 2, 0) / n) / 0.2 - 1) < 0.02);
});

test("laplace: variance v (scale √(v/2)), zero mean; dense float32", () => {
  const n = 40000;
  const up = new Laplace(0.01, new Rng(3)).encode([new Float32Array(n).fill(1)]);
  const x = up.values[0];
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  assert.ok(Math.abs(mean - 1) < 4 * 0.1 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance / 0.01 - 1) < 0.05, `variance ${variance}`);
  const meanAbs = x.reduce((s, v) => s + Math.abs(v - 1), 0) / n; // E|X| = b for Laplace(0, b)
  assert.ok(Math.abs(meanAbs / Math.sqrt(0.005) - 1) < 0.03, `E|X| ${meanAbs}`);
  assert.equal(up.bytes, 4 * n);
});

test("fp16: IEEE half rounding (known values, ties to even, subnormals, overflow); 2 B an entry", () => {
  assert.equal(roundFloat16(1), 1);
  assert.equal(roundFloat16(1 / 3), 0.333251953125);
  assert.equal(roundFloat16(0.1), 0.0999755859375);
  assert.equal(roundFloat16(-65504), -65504);
  assert.equal(roundFloat16(65520), Infinity);
  assert.equal(roundFloat16(1 + 2 ** -11), 1, "tie between 1 and 1 + 2^-10 goes to even (1)");
  assert.equal(roundFloat16(1 + 3 * 2 ** -11), 1 + 2 ** -9, "tie goes to even (up)");
  assert.equal(roundFloat16(2 ** -24), 2 ** -24, "smallest subnormal");
  assert.equal(roundFloat16(2 ** -26), 0);
  assert.equal(roundFloat16(3 * 2 ** -25), 2 ** -23, "subnormal tie to even");
  assert.equal(roundFloat16(2048 + 1), 2048);
  const up = new Fp16().encode([F(0.1, -3), F(1)]);
  assert.equal(up.bytes, 2 * 3);
  assertClose(up.values[0], [0.0999755859375, -3], 0);
});

test("int8: values on the grid max|u|/127 · q, unbiased over many draws; 1 B an entry + a float32 scale per tensor", () => {
  const u = F(0.3, -1.27, 0.001, 0.5);
  const q = new Int8(new Rng(4));
  const up = q.encode([u, F(0, 0)]);
  assert.equal(up.bytes, 4 + 4 + 2 + 4);
  const s = 1.27 / 127;
  for (const v of up.values[0]) assert.ok(Math.abs(v / s - Math.round(v / s)) < 1e-4, `${v} not on the grid`);
  assertClose(up.values[1], [0, 0]);
  const N = 20000;
  const mean = new Float64Array(4);
  for (let d = 0; d < N; d++) q.encode([u]).values[0].forEach((x, i) => (mean[i] += x / N));
  // one draw is off by at most s, so the mean's std ≤ s/(2√N)
  mean.forEach((m, i) => assert.ok(Math.abs(m - u[i]) <= 4 * s / (2 * Math.sqrt(N)), `entry ${i}: ${m} vs ${u[i]}`));
  assertClose([up.values[0][1]], [-1.27], 1e-6, "the largest entry is exact");
});

test("signsgd: (‖p‖₁/n)·sign(p) with error feedback p = u + e, two steps by hand; 1 bit an entry + a scale", () => {
  const ef = new SignSGD();
  let up = ef.encode([F(1, -3, 0.5, 0)]);
  // scale = 4.5/4 = 1.125 → [1.125, −1.125, 1.125, 0]; e = [−0.125, −1.875, −0.625, 0]
  assertClose(up.values[0], [1.125, -1.125, 1.125, 0]);
  assertClose(ef.memory![0], [-0.125, -1.875, -0.625, 0]);
  assert.equal(up.bytes, 1 + 4);
  up = ef.encode([F(1, 1, 1, 1)]);
  // p = [0.875, −0.875, 0.375, 1]; scale = 3.125/4 = 0.78125
  assertClose(up.values[0], [0.78125, -0.78125, 0.78125, 0.78125]);
  assertClose(ef.memory![0], [0.09375, -0.09375, -0.40625, 0.21875]);
  assert.equal(new SignSGD().encode([new Float32Array(17)]).bytes, 3 + 4);
});

test("a defense composes with the Momentum step: the update is Momentum's on what was sent; no tensor leak", () => {
  const p1 = tf.variable(tf.tensor1d([0, 0, 0, 0]));
  const p2 = tf.variable(tf.tensor1d([0, 0, 0, 0]));
  const g = tf.tensor1d([1, -4, 3, 0.5]);
  const defended = new DefendedMomentum({ name: "topk", strength: 0.5 }, 0.1, new Rng(1));
  const plain = new Momentum(0.1);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const s = defended.step([p1], [g]);
    assert.equal(s.bytes, 4 * 2 + 1);
    assert.equal(statsBytes(s), 4 * 2 + 1);
    const sent = tf.tensor1d([0, -4, 3, 0]);
    plain.step([p2], [sent]);
    sent.dispose();
  }
  assertClose(values(p1), values(p2));
  const afterFirst = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) defended.step([p1], [g]);
  assert.equal(tf.memory().numTensors, afterFirst, "tensors leaked");
  assert.equal(afterFirst - before, 0, "Momentum keeps its velocities in JS arrays: no tensor is kept");
  defended.dispose();
  plain.dispose();
  tf.dispose([p1, p2, g]);
  // the seed's optimizers (no count of their own): federated/bytes.ts's account, a whole tensor dense
  assert.equal(statsBytes({ sent: [10, 3], total: [10, 20] }), 40 + Math.min(8 * 3, 4 * 3 + 3));
  assert.equal(statsBytes({ sent: [10, 0], total: [10, 20] }), 40, "a silent tensor costs nothing");
  assert.equal(statsBytes({ sent: [1], total: [8] }), 4 + 1);
  assert.equal(statsBytes({ sent: [3], total: [20], bytes: 7 }), 7, "a sender's own count wins");
  assert.equal(makeChannel({ name: "none", strength: null }, 0.01, new Rng(1)).name, "Momentum");
  assert.equal(makeChannel({ name: "dgc", strength: 0.9 }, 0.001, new Rng(1)).name, "DGCMomentum");
});

test("defense specs: a strength where one is needed, in range; none where none is", () => {
  for (const ok of [{ name: "topk", strength: 0 }, { name: "gaussian", strength: 0.01 }, { name: "int8", strength: null }, { name: "dgc", strength: 0.999 }] as const)
    assert.doesNotThrow(() => checkDefense(ok));
  for (const bad of [{ name: "topk", strength: 1 }, { name: "gaussian", strength: 0 }, { name: "laplace", strength: null }, { name: "int8", strength: 8 }, { name: "xyz", strength: null }])
    assert.throws(() => checkDefense(bad as never), DefenseError, JSON.stringify(bad));
});

test("the defense-aware attacker reads signSGD's label off the one negative bias sign (iDLG's rule), where the largest-energy column reads nothing", () => {
  const model = linearModel();
  const params = model.init(new Rng(4));
  const data = loadMnist("train");
  let [ours, largest] = [0, 0];
  for (let i = 0; i < 20; i++) {
    const victim = gatherBatch(data, Int32Array.of(7 * i));
    const grads = victimGradients(model, params, victim, "ce");
    const up = new SignSGD().encode(grads.map((g) => g.dataSync() as Float32Array));
    const observed = up.values.map((v, t) => tf.tensor(v, grads[t].shape));
    if (inferLabel(awareAttack({ name: "signsgd", strength: null }).labelRule, observed) === victim.y[0]) ours++;
    if (inferLabel("largest", observed) === victim.y[0]) largest++;
    tf.dispose([...grads, ...observed]);
  }
  assert.equal(ours, 20, "iDLG's rule on the signs: every label");
  assert.ok(largest < 10, `the largest-energy rule: ${largest} of 20 (every entry has the same magnitude)`);
  tf.dispose(params);
});
