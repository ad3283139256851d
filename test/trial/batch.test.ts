import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadMnist, meanImage } from "../../lib/data/mnist";
import { makeConfig } from "../../lib/trial/demo_config";
import { publicData } from "../../lib/attack/label_counts";
import { runBatchAttack, type BatchAttackName } from "../../lib/trial/batch";
import { setupRun } from "../../lib/trial/demo";
import { tf } from "../../lib/core/tf";
import { useBackend } from "../helpers";

before(useBackend);

const train = loadMnist("train");
const prior = { labelled: publicData(loadMnist("test"), 500), mean: meanImage(train) };

async function attackBatch(attack: BatchAttackName, iterations: number, use_dgc = false) {
  const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc, train_lr: 0.01, seed: 1, attack_batch_size: 4, backend: "wasm" }));
  return runBatchAttack(ctx, train, prior, { attack, iterations });
}

test("batch of 4, IG against Momentum: counts exact, every image recovered after matching; no tensor leak", async () => {
  const r = await attackBatch("ig", 300);
  assert.deepEqual(Array.from(r.counts), Array.from(r.trueCounts));
  assert.equal(r.labelAcc, 1);
  assert.equal(r.biasSent, 10);
  // the matching is a permutation of 0..3
  assert.deepEqual(r.matched.pairs.map((p) => p.recon).sort(), [0, 1, 2, 3]);
  assert.equal(r.recovered, 4, r.matched.pairs.map((p) => p.psnr.toFixed(1)).join(" "));
  const before = tf.memory().numTensors;
  await attackBatch("ig", 20);
  await attackBatch("dlg-all", 20);
  await attackBatch("dlg", 20);
  await attackBatch("adaptive", 20, true);
  assert.equal(tf.memory().numTensors, before, "batch attacks left tensors behind");
});

test("the seed's round-robin DLG: reconstructions move one sample per window (the others keep their start)", async () => {
  // 5 iterations with a window of 200: only sample 0 moved, so samples 1..3 are still N(0, 1) noise
  const ctx = await setupRun(makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 2, attack_batch_size: 4, backend: "wasm" }));
  const r = runBatchAttack(ctx, train, prior, { attack: "dlg", iterations: 5 });
  const all = runBatchAttack(await setupRun(ctx.cfg), train, prior, { attack: "dlg-all", iterations: 5 });
  // same dummy start (the run's "dummy" fork): round-robin's samples 1..3 equal the start, dlg-all's moved
  const start = ctx.rng.fork("dummy").normalArray(4 * 784);
  assert.deepEqual(Array.from(r.x.subarray(784)), Array.from(start.subarray(784)));
  assert.notDeepEqual(Array.from(all.x.subarray(784)), Array.from(start.subarray(784)));
});

test("CLI: --attack_batch_size 4 --attack_method ig prints the counts and four matched lines, writes matched.png", () => {
  const out = join(mkdtempSync(join(tmpdir(), "dgc-batch-")), "res");
  const r = spawnSync(process.execPath, [
    resolve(__dirname, "../../cli/dgc_demo.js"), "--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--attack_batch_size", "4",
    "--attack_method", "ig", "--victim_loss", "ce", "--attack_epoch", "300", "--seed", "1", "--backend", "wasm", "--result_dir", out,
  ], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(r.stdout, /Label counts inferred from the bias gradient \(10 of 10 entries sent\): \[0, 1, 1, 1, 0, 0, 0, 0, 1, 0\], true \[0, 1, 1, 1, 0, 0, 0, 0, 1, 0\]; multiset accuracy 1\.0/);
  const matched = lines.filter((l) => l.startsWith("Matched sample "));
  assert.deepEqual(matched.map((l) => Number(/^Matched sample (\d)/.exec(l)![1])), [0, 1, 2, 3]);
  // every target gets a different reconstruction
  assert.deepEqual(matched.map((l) => Number(/<- reconstruction (\d)/.exec(l)![1])).sort(), [0, 1, 2, 3]);
  assert.ok(lines.some((l) => l.startsWith("Matched mean over 4: ")));
  assert.ok(existsSync(join(out, "matched.png")) && existsSync(join(out, "grid.png")));
});

test("fl: --attack_batch_size 4 prints four matched lines for the attacked upload", () => {
  const out = join(mkdtempSync(join(tmpdir(), "fl-batch-")), "res");
  const r = spawnSync(process.execPath, [
    resolve(__dirname, "../../cli/fl.js"), "--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--rounds", "1", "--attack_round", "0",
    "--attack_batch_size", "4", "--attack_method", "ig", "--victim_loss", "ce", "--attack_epoch", "100", "--seed", "1", "--backend", "wasm", "--result_dir", out,
  ], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const matched = r.stdout.split("\n").filter((l) => l.startsWith("Matched sample "));
  assert.deepEqual(matched.map((l) => Number(/<- reconstruction (\d)/.exec(l)![1])).sort(), [0, 1, 2, 3]);
  assert.match(r.stdout, /Matched mean over 4: /);
});
