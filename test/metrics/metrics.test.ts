import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { attackMetrics } from "../../lib/metrics/attack";
import { labelAccuracy } from "../../lib/metrics/labels";
import { mse, psnr, ssim, type ImageShape } from "../../lib/metrics/image";
import { Rng } from "../../lib/core/rng";

interface FixtureCase {
  name: string;
  shape: ImageShape;
  a: number[];
  b: number[];
  mse: number;
  psnr: number | "Infinity";
  ssim: number;
}
// Made by scripts/fixtures/make_metrics_fixture.py (scipy, explicit 2-D window, checked against skimage).
const FIXTURE: { cases: FixtureCase[] } = JSON.parse(readFileSync(resolve(__dirname, "../../../test/fixtures/metrics.json"), "utf8"));

function closeRel(actual: number, expected: number, msg: string, rel = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-12, `${msg}: got ${actual}, expected ${expected}`);
}

const f32 = (x: number[]) => Float32Array.from(x);
// The fixture's inputs are float32 values, so go through Float32Array to get them exactly as doubles.
const f64 = (x: number[]) => Float64Array.from(Float32Array.from(x));

test("fixture: mse, psnr and ssim match the independent scipy values (Float32Array and Float64Array)", () => {
  assert.ok(FIXTURE.cases.length >= 9);
  for (const c of FIXTURE.cases) {
    for (const conv of [f32, f64]) {
      const a = conv(c.a);
      const b = conv(c.b);
      closeRel(mse(a, b), c.mse, `${c.name} mse`);
      if (c.psnr === "Infinity") assert.equal(psnr(a, b), Infinity, `${c.name} psnr`);
      else closeRel(psnr(a, b), c.psnr, `${c.name} psnr`);
      closeRel(ssim(a, b, c.shape), c.ssim, `${c.name} ssim`);
    }
  }
});

test("attackMetrics bundles the four numbers", () => {
  const c = FIXTURE.cases.find((k) => k.name.startsWith("batch of 3"))!;
  // 3 rows of 6 classes, argmax 1, 0, 4; the last one is wrong.
  const labels = Float32Array.from([0, 3, 1, 0, 0, 0, /**/ 9, 0, 0, 2, 0, 0, /**/ 0, 0, 0, 0, 5, 0]);
  const m = attackMetrics(f32(c.a), f32(c.b), c.shape, labels, Int32Array.from([1, 0, 3]));
  closeRel(m.mse, c.mse, "mse");
  closeRel(m.psnr, c.psnr as number, "psnr");
  closeRel(m.ssim, c.ssim, "ssim");
  assert.equal(m.labelAcc, 2 / 3);
});

function randomImage(rng: Rng, n: number): Float64Array {
  return Float64Array.from(rng.uniformArray(n, -1, 1));
}

test("identical images: mse 0, psnr Infinity, ssim 1", () => {
  const shape = { batch: 2, height: 28, width: 28 };
  const x = randomImage(new Rng(1), 2 * 28 * 28);
  assert.equal(mse(x, x), 0);
  assert.equal(psnr(x, x), Infinity);
  assert.ok(Math.abs(ssim(x, x, shape) - 1) < 1e-12);
});

test("psnr falls and mse rises monotonically as the noise grows", () => {
  const rng = new Rng(2);
  const n = 3 * 28 * 28;
  const x = randomImage(rng, n);
  const noise = rng.normalArray(n);
  let prev = { psnr: Infinity, mse: 0 };
  for (const s of [0.01, 0.03, 0.1, 0.3, 1, 3]) {
    const y = x.map((v, i) => Math.min(1, Math.max(-1, v + s * noise[i])));
    const now = { psnr: psnr(x, y), mse: mse(x, y) };
    assert.ok(now.psnr < prev.psnr && now.mse > prev.mse, `noise ${s}: ${JSON.stringify(now)} after ${JSON.stringify(prev)}`);
    prev = now;
  }
});

test("ssim is symmetric and within [-1, 1], also for negated and constant images", () => {
  const rng = new Rng(3);
  const shape = { batch: 2, height: 28, width: 28 };
  const n = 2 * 28 * 28;
  const x = randomImage(rng, n);
  const pairs: [Float64Array, Float64Array][] = [
    [x, randomImage(rng, n)],
    [x, x.map((v) => -v)],
    [x, x.map((v) => 0.5 * v + 0.1)],
    [new Float64Array(n).fill(1), new Float64Array(n).fill(-1)],
    [new Float64Array(n), x],
  ];
  for (const [a, b] of pairs) {
    const s = ssim(a, b, shape);
    assert.equal(s, ssim(b, a, shape));
    assert.ok(s >= -1 && s <= 1, `ssim ${s}`);
  }
});

test("ssim of two 1×1 images by hand: only the window's centre weight w0 sees the image (zero padding)", () => {
  // μx = w0·c, G*(x²) = w0·c², so σx² = w0(1 − w0)c² and σxy = w0(1 − w0)cd. Reflection padding would
  // give μx = c and σ = 0 instead.
  let g = 0;
  for (let i = -5; i <= 5; i++) g += Math.exp(-(i * i) / 4.5);
  const w0 = 1 / (g * g);
  const [c, d] = [0.8, -0.3];
  const [mx, my, k] = [w0 * c, w0 * d, w0 * (1 - w0)];
  const [C1, C2] = [1e-4, 9e-4];
  const expected = ((2 * mx * my + C1) * (2 * k * c * d + C2)) / ((mx * mx + my * my + C1) * (k * (c * c + d * d) + C2));
  closeRel(ssim(Float64Array.of(c), Float64Array.of(d), { batch: 1, height: 1, width: 1 }), expected, "1×1 ssim", 1e-12);
});

test("psnr by hand on a 2×2 image", () => {
  // Differences 0.5, 0, 0.5, 0 → mse = (0.25 + 0.25) / 4 = 0.125; 1/sqrt(0.125) = 2√2, so
  // psnr = 20·log10(2^1.5) = 30·log10(2) ≈ 9.0309 dB (peak 1, not the range 2).
  const a = Float32Array.of(0.5, -0.5, 1, 0);
  const b = Float32Array.of(0, -0.5, 0.5, 0);
  assert.equal(mse(a, b), 0.125);
  closeRel(psnr(a, b), 30 * Math.log10(2), "psnr", 1e-12);
  closeRel(psnr(a, b), 9.030899869919435, "psnr", 1e-12);
});

test("labelAccuracy: argmax per row, ties to the first index, NaN like numpy", () => {
  const rows = (...r: number[][]) => Float32Array.from(r.flat());
  assert.equal(labelAccuracy(rows([0.1, 0.7, 0.2], [0.5, 0.2, 0.3]), Int32Array.of(1, 0)), 1);
  assert.equal(labelAccuracy(rows([0.1, 0.7, 0.2], [0.5, 0.2, 0.3]), Int32Array.of(1, 2)), 0.5);
  // Ties: numpy's argmax takes the first maximum.
  assert.equal(labelAccuracy(rows([0.4, 0.4, 0.2]), Int32Array.of(0)), 1);
  assert.equal(labelAccuracy(rows([0.4, 0.4, 0.2]), Int32Array.of(1)), 0);
  assert.equal(labelAccuracy(rows([-3, -1, -1, -2]), Int32Array.of(1)), 1);
  // numpy returns the first NaN (a diverged attack must not score a hit by accident).
  assert.equal(labelAccuracy(rows([0.1, NaN, 0.9]), Int32Array.of(1)), 1);
  assert.equal(labelAccuracy(rows([0.1, NaN, 0.9]), Int32Array.of(2)), 0);
  // 10 classes, batch 4: rows pick 3, 0, 9, 9.
  const ten = new Float32Array(40);
  [3, 0, 9, 9].forEach((k, i) => (ten[i * 10 + k] = 1));
  assert.equal(labelAccuracy(ten, Int32Array.of(3, 1, 9, 0)), 0.5);
});

test("shape mismatches throw", () => {
  assert.throws(() => mse(new Float32Array(4), new Float32Array(5)), /length mismatch/);
  assert.throws(() => ssim(new Float32Array(4), new Float32Array(4), { batch: 1, height: 2, width: 3 }), /do not make/);
  assert.throws(() => labelAccuracy(new Float32Array(7), Int32Array.of(0, 1)), /do not make/);
});
