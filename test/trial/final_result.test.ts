/**
 * No silent wrong result (issue 22): what an attack ends with is its last iteration, whatever
 * return_epoch — snapshotted, scored, and used by the call-outs and the seed comparison; and the
 * image `liveAttack` is given is the image it attacks and scores.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadMnist } from "../../lib/data/mnist";
import { gatherBatch } from "../../lib/data/batcher";
import { makeConfig } from "../../lib/trial/demo_config";
import { finalRecord, runAttack, setupRun, victimBatch, type AttackRecord } from "../../lib/trial/demo";
import { attackCallouts, attackSetting, meanImageBaseline, trainingCallouts, trainingSetting } from "../../lib/notebook/story";
import { attackComparison } from "../../lib/notebook/seed_results";
import { liveAttack } from "../../lib/notebook/tasks";
import { stopBackground } from "../../lib/notebook/background";
import { psnr } from "../../lib/metrics/image";
import { useBackend } from "../helpers";

before(useBackend);
after(stopBackground);

const train = loadMnist("train");

test("LeNet, L-BFGS, attack_epoch 3 < return_epoch 100: the final record is iteration 2, scored on the final image, and the call-out reads it", async () => {
  const cfg = makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 1, model: "lenet", attack_optimizer: "lbfgs", attack_lr: 1, attack_epoch: 3, return_epoch: 100 });
  const ctx = await setupRun(cfg);
  const run = runAttack(ctx, train);
  assert.deepEqual(run.records.map((r) => [r.iteration, r.offSchedule ?? false]), [[0, false], [2, true]]);
  assert.deepEqual(run.snapshots.map((s) => s.iteration), [0, 2]);
  const final = finalRecord(run)!;
  assert.equal(final.iteration, 2);
  assert.equal(final.psnr, psnr(run.snapshots[1].x, run.target.x));
  assert.notEqual(final.psnr, run.records[0].psnr, "the final PSNR is not iteration 0's");
  const notes = attackCallouts(cfg, run, meanImageBaseline(train, run.target)).join("\n");
  assert.ok(notes.includes(`${final.psnr.toFixed(2)} dB`), notes);
  assert.ok(!notes.includes(`${run.records[0].psnr.toFixed(2)} dB`), "a call-out quotes iteration 0's PSNR");
});

test("the seed comparison sets iteration 1900 beside the seed's 1900 and shows the final iteration apart", () => {
  const rec = (iteration: number, psnr: number, offSchedule = false): AttackRecord =>
    ({ iteration, psnr, mse: 0.1, ssim: 0.5, labelAcc: 1, distance: 0, ssim8: 0, signAware: {} as never, ...(offSchedule ? { offSchedule: true as const } : {}) });
  const rows = attackComparison("example2", [rec(0, 1), rec(1900, 30), rec(1999, 31, true)]);
  assert.deepEqual(rows[0], ["", "ours (iteration 1900)", "seed (iteration 1900)", "ours, final (iteration 1999)", "the original over seeds"]);
  assert.deepEqual(rows[2].slice(0, 4), ["PSNR (dB)", "30.00", "38.77", "31.00"]);
  // on the schedule's last iteration (return_epoch 1): no extra column
  assert.equal(attackComparison("example2", [rec(1900, 30)])[0].length, 4);
});

test("liveAttack attacks the image it is given: the displayed target, the PSNR's target and the attacked image are one array", async () => {
  const cfg = makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 3, attack_method: "analytic" });
  const chosen = gatherBatch(train, Int32Array.of(123));
  const seedVictim = victimBatch(await setupRun(cfg), train);
  assert.notDeepEqual(Array.from(seedVictim.index), [123], "pick an image that is not the seed's victim");
  const run = await liveAttack(cfg, chosen);
  // the target the run scores and shows is the chosen image …
  assert.deepEqual(Array.from(run.target.index), [123]);
  assert.deepEqual(run.target.x, chosen.x);
  // … the PSNR is measured against it …
  const final = finalRecord(run)!;
  assert.equal(final.psnr, psnr(run.snapshots[run.snapshots.length - 1].x, chosen.x));
  // … and it is the image attacked: the analytic attack on Momentum's full gradient recovers it exactly
  const x = run.snapshots[run.snapshots.length - 1].x;
  let worst = 0;
  for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(x[i] - chosen.x[i]));
  assert.ok(worst <= 1e-5, `max |x − chosen| = ${worst}`);
  assert.equal(run.labels[0], chosen.y[0]);
});

test("call-outs quote the seed only under the seed's flags; plurals are right", () => {
  const history = [{ epoch: 0, batch: 0, loss: 66.15, acc: 0.1, sent: 10, total: 7850, bytes: 80 }];
  const seedCfg = makeConfig({ use_dgc: true, train_lr: 0.001, sparsity: 0.8 });
  assert.match(trainingCallouts(seedCfg, history)[0], /the seed's single run peaked at 12\.5/);
  const other = makeConfig({ use_dgc: true, train_lr: 0.001, sparsity: 0.99, train_epoch: 1 });
  assert.doesNotMatch(trainingCallouts(other, history).join("\n"), /seed/);
  assert.match(trainingSetting(other), /\*\*1 epoch\*\*/);
  assert.match(attackSetting(makeConfig({ dlg_attack: true })), /one batch of 1 image,/);
  assert.match(attackSetting(makeConfig({ dlg_attack: true, attack_batch_size: 4 })), /one batch of 4 images,/);
});
