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
import { attackOne, colourReadings } from "../../scripts/cifar_attack";
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
