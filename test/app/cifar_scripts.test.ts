/**
 * The first CIFAR-10 runs (scripts/cifar_train.ts, scripts/cifar_attack.ts) on a tiny data set the
 * test writes: training runs and gives finite losses and an accuracy; the L-BFGS DLG attack runs a
 * couple of steps on LeNet-CIFAR; the readings of a perfect reconstruction are perfect.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CIFAR10_FILES, CIFAR10_PIXELS, encodeCifar10, loadCifar10 } from "../../lib/data/cifar10";
import { Rng } from "../../lib/core/rng";
import { tf } from "../../lib/core/tf";
import { makeModel } from "../../lib/models/registry";
import { trainColour } from "../../scripts/cifar_train";
import { attackOne, colourReadings, registryAttack, seedVictim } from "../../scripts/cifar_attack";
import { medianOrNaN as median } from "../../lib/study/summary";
import { ssim8Rgb } from "../../lib/metrics/readings";
import { epochBatches } from "../../lib/data/batcher";
import { useBackend } from "../helpers";

before(useBackend);

function tinyFolder(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "cifar-scripts-"));
  const rng = new Rng(9);
  for (const name of [...CIFAR10_FILES.train, ...CIFAR10_FILES.test]) {
    const pixels = Uint8Array.from({ length: n * CIFAR10_PIXELS }, () => rng.int(256));
    writeFileSync(join(dir, name), encodeCifar10(pixels, Array.from({ length: n }, (_, i) => i % 10)));
  }
  return dir;
}

test("cifar_train: one epoch of the ConvNet (batch 4) on a tiny folder: finite loss, an accuracy in [0, 1], no tensors left but the weights", () => {
  const dir = tinyFolder(4);
  try {
    const train = loadCifar10("train", { dataDir: dir });
    const testSplit = loadCifar10("test", { dataDir: dir });
    const before = tf.memory().numTensors;
    const { params, epochs } = trainColour(makeModel("convnet"), train, testSplit, 1, { epochs: 1, lr: 0.01, batch: 4 });
    assert.equal(epochs.length, 1);
    assert.ok(Number.isFinite(epochs[0].loss) && epochs[0].loss > 0);
    assert.ok(epochs[0].testAcc >= 0 && epochs[0].testAcc <= 1);
    assert.equal(tf.memory().numTensors - before, params.length);
    tf.dispose(params);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("cifar_attack: two L-BFGS DLG steps on LeNet-CIFAR run and return a finite reconstruction; perfect readings of the victim itself", () => {
  const model = makeModel("lenet-cifar");
  const params = model.init(new Rng(1));
  const victim = new Rng(2).uniformArray(CIFAR10_PIXELS, 0, 1);
  const r = attackOne(model, params, victim, 3, new Rng(3), 2);
  assert.equal(r.x.length, CIFAR10_PIXELS);
  assert.ok(r.x.every(Number.isFinite) && Number.isFinite(r.distance));
  assert.ok(r.evals > 2 && r.evals <= 50);
  const mean = new Float32Array(CIFAR10_PIXELS).fill(0.5);
  const same = colourReadings(victim, victim, mean);
  assert.equal(same.psnr, Infinity);
  assert.ok(Math.abs(same.ssim - 1) < 1e-9);
  assert.ok(same.recovered);
  assert.ok(!colourReadings(mean, victim, mean).recovered);
  tf.dispose(params);
});

test("cifar_attack: IG (Adam) on the ConvNet through the registry: x' stays in [0, 1], iDLG's label is the victim's, no tensors left", () => {
  const model = makeModel("convnet");
  const params = model.init(new Rng(1));
  const victim = new Rng(2).uniformArray(CIFAR10_PIXELS, 0, 1);
  const before = tf.memory().numTensors;
  for (const label of [0, 7]) {
    const r = registryAttack("ig", model, params, victim, label, new Rng(3), 3);
    assert.equal(r.x.length, CIFAR10_PIXELS);
    // N(0, 1) start boxed to CIFAR-10's [0, 1] (MNIST's box would leave negatives)
    assert.ok(r.x.every((v) => v >= 0 && v <= 1));
    assert.ok(r.x.some((v) => v === 0) && r.x.some((v) => v === 1));
    assert.equal(r.labelGuess, label);
    assert.equal(r.evals, 3);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(params);
});

test("cifar_attack: the 8-bit colour SSIM is ssim.m per channel, averaged: constant planes by hand", () => {
  const shape = { batch: 1, height: 32, width: 32 };
  const n = 1024;
  const a = new Float32Array(3 * n).fill(0.25);
  const b = Float32Array.from(a);
  assert.equal(ssim8Rgb(a, b, shape), 1);
  // red plane 0.5 → byte 128 (round(127.5)) against 1.0 → 255; constant planes: σ = 0, so SSIM = (2μxμy + C1)/(μx² + μy² + C1)
  a.fill(0.5, 0, n);
  b.fill(1, 0, n);
  const C1 = (0.01 * 255) ** 2;
  const red = (2 * 128 * 255 + C1) / (128 ** 2 + 255 ** 2 + C1);
  assert.ok(Math.abs(ssim8Rgb(a, b, shape) - (red + 2) / 3) < 1e-9, `${ssim8Rgb(a, b, shape)} vs ${(red + 2) / 3}`);
  assert.throws(() => ssim8Rgb(a.subarray(0, 1024), b.subarray(0, 1024), shape), /do not make 1×3×32×32/);
});

test("cifar_attack: median of an even count is the mean of the middle two; a seed's victim is dgc_demo's (its shuffle's first image)", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const dir = tinyFolder(50);
  try {
    const data = loadCifar10("train", { dataDir: dir });
    const victims = [1, 2, 3, 4, 5].map((s) => seedVictim(data, s));
    for (const [i, s] of [1, 2, 3, 4, 5].entries()) assert.equal(victims[i], epochBatches(data, 1, new Rng(s).fork("shuffle")).next().value!.index[0]);
    assert.ok(new Set(victims).size > 1, "different seeds pick different victims");
  } finally {
    rmSync(dir, { recursive: true });
  }
});
