import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { DGCMomentum } from "../../lib/optim/dgc";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { loadData, runTraining, setupRun } from "../../lib/trial/demo";
import { makeConfig } from "../../lib/trial/demo_config";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { tf, variableFrom } from "../../lib/core/tf";
import { train, trainLogLine } from "../../lib/optim/train";
import { useBackend } from "../helpers";

before(useBackend);

const data = loadData(makeConfig());

/** Examples 3 and 4 at seed 1 (the 5-seed study is scripts/study_train.ts). Bands: issue #3. */
test("Example 3 (Momentum, lr 0.01) and Example 4 (DGC 0.8, lr 0.001) land in their bands", async () => {
  const accAt = async (overrides: Parameters<typeof makeConfig>[0]) => {
    const ctx = await setupRun(makeConfig({ ...overrides, seed: 1, backend: "wasm" }));
    const lines: string[] = [];
    const run = runTraining(ctx, data, { log: (l) => lines.push(l) });
    const r = run.history.find((h) => h.epoch === 1 && h.batch === 900)!;
    assert.equal(lines.length, 20);
    assert.equal(lines[19], trainLogLine(r));
    tf.dispose(run.params);
    return { acc: r.acc, test: run.testAccuracy!, sentFraction: run.history[5].sent / run.history[5].total };
  };
  const momentum = await accAt({ use_dgc: false, train_lr: 0.01 });
  const dgc = await accAt({ use_dgc: true, train_lr: 0.001, sparsity: 0.8 });
  assert.ok(momentum.acc >= 0.88 && momentum.acc <= 0.93, `Momentum acc ${momentum.acc}`);
  assert.ok(dgc.acc >= 0.8 && dgc.acc <= 0.92, `DGC acc ${dgc.acc}`);
  assert.ok(dgc.acc < momentum.acc, `DGC ${dgc.acc} should be below Momentum ${momentum.acc}`);
  assert.ok(momentum.test > 0.88 && dgc.test > 0.8, `test acc ${momentum.test} ${dgc.test}`);
  assert.equal(momentum.sentFraction, 1);
  // 0.8 sparsity: k - 1 entries of 7840 and 10 pass → about 20 %
  assert.ok(Math.abs(dgc.sentFraction - 0.2) < 0.002, `sent fraction ${dgc.sentFraction}`);
});

test("same --seed gives identical stdout apart from the timing line", () => {
  const run = () => {
    const r = spawnSync(process.execPath, [resolve(__dirname, "../../cli/dgc_demo.js"), "--seed", "3", "--train_epoch", "1"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => !/cost time/.test(l));
  };
  const a = run();
  assert.ok(a.some((l) => l.startsWith("epoch 0, batch id 900, training loss ")));
  assert.deepEqual(run(), a);
});

test("training leaves no tensors behind (Linear and LeNet, Momentum and DGC)", () => {
  const before = tf.memory().numTensors;
  for (const model of [linearModel(), lenetModel()]) {
    for (const opt of [new Momentum(0.01), new DGCMomentum({ sparsity: 0.9, lr: 0.01 })]) {
      const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
      const r = train(model, params, opt, { ...data.train, n: 64 * (model.kind === "lenet" ? 10 : 100) }, { epochs: 2, batchSize: 64, rng: new Rng(2) });
      assert.ok(r.history.every((h) => Number.isFinite(h.loss)));
      opt.dispose();
      tf.dispose(params);
      assert.equal(tf.memory().numTensors, before, `${model.kind} ${opt.name}`);
    }
  }
});
