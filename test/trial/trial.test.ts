/**
 * One trial: runTrial attacks exactly the images its threat model names, the registry's dgc:0.9 is
 * the seed's DGC at 0.9, and bad keywords are one ConfigError line before any work.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { loadMnist, PIXELS, type MnistSplit } from "../../lib/data/mnist";
import { threatModel } from "../../lib/threat/model";
import { seedDefense } from "../../lib/threat/channel/registry";
import { runTrial } from "../../lib/trial/run";
import { attackSpecOf } from "../../lib/trial/attack_image";
import { ConfigError } from "../../lib/core/errors";
import { tf } from "../../lib/core/tf";
import { useBackend } from "../helpers";

let train: MnistSplit;
before(async () => {
  await useBackend();
  train = loadMnist("train");
});

const short = attackSpecOf({ attack: "dlg", iterations: 30, every: 10 });

test("trial: the image named by index is the image attacked, displayed and scored", () => {
  const before = tf.memory().numTensors;
  const r = runTrial(threatModel({ data: train, image: 123, defense: "none", seed: 3 }), short);
  assert.equal(tf.memory().numTensors, before, "runTrial leaks no tensor");
  assert.deepEqual(Array.from(r.target.x), Array.from(train.images.subarray(123 * PIXELS, 124 * PIXELS)));
  assert.equal(r.target.y[0], train.labels[123]);
  // a different seed draws different weights and a different dummy, never a different image
  const other = runTrial(threatModel({ data: train, image: 123, defense: "none", seed: 4 }), short);
  assert.deepEqual(Array.from(other.target.x), Array.from(r.target.x));
  assert.notEqual(other.final!.psnr, r.final!.psnr);
});

test("trial: a user's own image is attacked as given", () => {
  const x = new Float32Array(PIXELS).map((_, i) => ((i * 37) % 200) / 100 - 1);
  const r = runTrial(threatModel({ data: train, image: { x, y: Int32Array.of(7) }, defense: "dgc:0.5", seed: 1 }), short);
  assert.deepEqual(Array.from(r.target.x), Array.from(x));
  assert.equal(r.target.y[0], 7);
});

test("trial: defense dgc:0.9 gives the numbers of the seed's use_dgc True, sparsity 0.9", () => {
  const a = runTrial(threatModel({ data: train, image: 5, defense: "dgc:0.9", seed: 2 }), short);
  const b = runTrial(threatModel({ data: train, image: 5, defense: seedDefense(true, 0.9), seed: 2 }), short);
  assert.deepEqual(a.records.map((r) => r.psnr), b.records.map((r) => r.psnr));
  assert.deepEqual(a.sent, b.sent);
  assert.ok(a.sent.sent.reduce((s, k) => s + k, 0) < 0.11 * 7850, "DGC at 0.9 sends about a tenth");
});

test("trial: bad keywords are one ConfigError line", () => {
  assert.throws(() => threatModel({ data: train, image: 60000 }), (e: Error) => e instanceof ConfigError && /image: index 60000 is not in the data set \(0 to 59999\)/.test(e.message));
  assert.throws(() => threatModel({ data: train, image: { x: new Float32Array(10), y: Int32Array.of(1) } }), ConfigError);
  assert.throws(() => threatModel({ data: train, defense: "dgc:2" }), /strength 2 is not a sparsity/);
  assert.throws(() => attackSpecOf({ attack: "bogus" as never }), ConfigError);
  assert.throws(() => attackSpecOf({ iterations: -1 }), ConfigError);
});
