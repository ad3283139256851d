import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { matchReconstructions, multisetLabelAccuracy, sameIndexPsnr } from "../../lib/metrics/match";
import { matchedGridPng, matchedPsnrFigure } from "../../lib/viz/matched";
import { psnr } from "../../lib/metrics/image";
import { Rng } from "../../lib/core/rng";

/** B random 28×28 images in [−1, 1]. */
function images(rng: Rng, batch: number): Float32Array {
  return rng.uniformArray(batch * 784, -1, 1);
}

function permuteRows(x: Float32Array, perm: number[]): Float32Array {
  const out = new Float32Array(x.length);
  perm.forEach((src, dst) => out.set(x.subarray(src * 784, (src + 1) * 784), dst * 784));
  return out;
}

test("matching undoes a hand-made permutation: exact copies score Infinity dB / SSIM 1 each", () => {
  const target = images(new Rng(1), 4);
  const perm = [2, 0, 3, 1]; // recon row d holds target perm[d]
  const m = matchReconstructions(permuteRows(target, perm), target, 4);
  // target t is found at the recon row d with perm[d] = t
  assert.deepEqual(m.pairs.map((p) => [p.target, p.recon]), [[0, 1], [1, 3], [2, 0], [3, 2]]);
  for (const p of m.pairs) {
    assert.equal(p.mse, 0);
    assert.equal(p.psnr, Infinity);
    assert.ok(Math.abs(p.ssim - 1) < 1e-12);
  }
});

test("matching: the optimal assignment, not the greedy one, with known per-pair numbers", () => {
  // Constant images, so every MSE is known: targets a = 0.3, b = 0.0; recons p = 0.2, q = 0.5.
  // a: p .01, q .04; b: p .04, q .25 → greedy (a first) a ↔ p, b ↔ q = .26; optimal a ↔ q, b ↔ p = .08.
  const fill = (vs: number[]) => Float32Array.from({ length: vs.length * 784 }, (_, i) => vs[Math.floor(i / 784)]);
  const m = matchReconstructions(fill([0.2, 0.5]), fill([0.3, 0.0]), 2);
  assert.deepEqual(m.pairs.map((p) => [p.target, p.recon]), [[0, 1], [1, 0]]);
  assert.ok(Math.abs(m.pairs[0].mse - 0.04) < 1e-7 && Math.abs(m.pairs[1].mse - 0.04) < 1e-7);
  assert.ok(Math.abs(m.mse - 0.04) < 1e-7);
  assert.ok(Math.abs(m.psnr - 20 * Math.log10(1 / 0.2)) < 1e-5);
});

test("matching a noisy permuted batch: per-pair PSNR equals the unmatched PSNR of the right pairs", () => {
  const rng = new Rng(7);
  const B = 8;
  const target = images(rng, B);
  const perm = Array.from(rng.permutation(B));
  const recon = permuteRows(target, perm);
  const noise = rng.normalArray(recon.length);
  for (let i = 0; i < recon.length; i++) recon[i] += 0.05 * noise[i];
  const m = matchReconstructions(recon, target, B);
  for (const p of m.pairs) {
    assert.equal(perm[p.recon], p.target);
    assert.equal(p.psnr, psnr(recon.subarray(p.recon * 784, (p.recon + 1) * 784), target.subarray(p.target * 784, (p.target + 1) * 784)));
  }
  // in the given order, the unmatched PSNR is far lower
  assert.ok(m.psnr > psnr(recon, target) + 10);
  assert.throws(() => matchReconstructions(recon.subarray(784), target, B), /expected 8 images/);
});

test("multiset label accuracy ignores order and counts repeats", () => {
  assert.equal(multisetLabelAccuracy([3, 1, 1, 7], [1, 7, 3, 1]), 1);
  assert.equal(multisetLabelAccuracy([1, 1, 1, 7], [1, 7, 3, 1]), 0.75);
  assert.equal(multisetLabelAccuracy([0, 0], [5, 6]), 0);
  assert.throws(() => multisetLabelAccuracy([1], [1, 2]), /1 inferred labels for 2/);
});

test("matched grid: one row per pair, target then reconstruction", async () => {
  const target = images(new Rng(3), 3);
  const recon = permuteRows(target, [1, 2, 0]);
  const m = matchReconstructions(recon, target, 3);
  const png = await matchedGridPng(target, [recon], m.pairs, { scale: 1, gap: 2 });
  const meta = await sharp(png).metadata();
  assert.equal(meta.width, 2 * 28 + 3 * 2);
  assert.equal(meta.height, 3 * 28 + 4 * 2);
  // each row's two cells are identical (exact copies matched)
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const W = meta.width!;
  const c = info.channels;
  for (let r = 0; r < 3; r++) {
    for (let y = 0; y < 28; y++) {
      const top = 2 + r * 30 + y;
      for (let x = 0; x < 28; x++) assert.equal(data[(top * W + 2 + x) * c], data[(top * W + 32 + x) * c]);
    }
  }
});

test("same-index PSNR and the matched-vs-same-index figure", () => {
  const target = images(new Rng(5), 3);
  const recon = permuteRows(target, [1, 2, 0]);
  const same = sameIndexPsnr(recon, target, 3);
  for (let i = 0; i < 3; i++) assert.equal(same[i], psnr(recon.subarray(i * 784, (i + 1) * 784), target.subarray(i * 784, (i + 1) * 784)));
  const m = matchReconstructions(recon, target, 3);
  const fig = matchedPsnrFigure(m.pairs, same, [9, 9, 9]);
  assert.equal(fig.data.length, 3);
  assert.deepEqual(fig.data[0].y, [Infinity, Infinity, Infinity]);
  assert.deepEqual(fig.data[1].y, same);
  assert.deepEqual(fig.data[0].x, ["target 0", "target 1", "target 2"]);
});
