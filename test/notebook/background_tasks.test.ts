/**
 * The notebooks' long cells run in the background worker (lib/notebook/tasks.ts): each live
 * function gives the numbers the same call gives in the cell's own thread, and an interrupt
 * (SIGINT, as Jupyter sends it) stops the worker within a second with one line.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadMnist, meanImage } from "../../lib/data/mnist";
import { makeConfig } from "../../lib/trial/demo_config";
import { runAttack, setupRun } from "../../lib/trial/demo";
import { runBatchAttack } from "../../lib/trial/batch";
import { publicData } from "../../lib/attack/label_counts";
import { runFL, setupFL } from "../../lib/trial/fl_run";
import { studyConfig } from "../../lib/study/federated";
import { liveAttacks, liveBatchAttack, liveDefenseGallery, liveFederated } from "../../lib/notebook/tasks";
import { InterruptedError, stopBackground } from "../../lib/notebook/background";
import { parseDefenseArg } from "../../lib/threat/channel/defenses";
import { useBackend } from "../helpers";

before(useBackend);
after(stopBackground);

const train = loadMnist("train");
const testSet = loadMnist("test");

test("liveAttacks: the same runs as runAttack in the cell, by name", async () => {
  const cfgs = {
    "DLG, gd": makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 2, attack_epoch: 30, return_epoch: 10 }),
    analytic: makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 2, attack_method: "analytic" }),
  };
  const live = await liveAttacks(cfgs);
  assert.deepEqual(Object.keys(live), Object.keys(cfgs));
  for (const [name, cfg] of Object.entries(cfgs)) {
    const here = runAttack(await setupRun(cfg), train);
    assert.deepEqual(live[name].records.map((r) => [r.iteration, r.psnr]), here.records.map((r) => [r.iteration, r.psnr]), name);
    assert.deepEqual(live[name].target.x, here.target.x, name);
  }
});

test("liveBatchAttack: the same reconstruction as runBatchAttack", async () => {
  const cfg = makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 1, attack_batch_size: 2, attack_epoch: 20 });
  const live = await liveBatchAttack(cfg, "ig", 20);
  const here = runBatchAttack(await setupRun(cfg), train, { labelled: publicData(testSet), mean: meanImage(train) }, { attack: "ig", iterations: 20 });
  assert.deepEqual(live.x, here.x);
  assert.equal(live.matched.psnr, here.matched.psnr);
});

test("liveFederated: the same rounds and history attack as runFL", async () => {
  const cfg = studyConfig(0.9, 1, { clients: 2, rounds: 3, dlg_attack: true, attack_round: 1, attack_method: "history", history_rounds: 1, attack_epoch: 10 });
  const live = await liveFederated(cfg, { stopAtLeak: false, test: false });
  const here = runFL(await setupFL(cfg), { train }, meanImage(train), { stopAtLeak: false });
  assert.deepEqual(live.fed.rounds.map((r) => r.upBytes), here.fed.rounds.map((r) => r.upBytes));
  assert.deepEqual(live.attack!.history.map((h) => h.psnr), here.attack!.history.map((h) => h.psnr));
});

test("liveDefenseGallery: a column per defense, named, with its PSNR", async () => {
  const g = await liveDefenseGallery({ seed: 1, attack: "adaptive", iterations: 5, defenses: ["none", "dgc:0.9"].flatMap(parseDefenseArg) });
  assert.equal(g.images.length, 3);
  assert.equal(g.columns[0], "victim");
  assert.match(g.notes[1], /dB$/);
});

test("an interrupt (SIGINT) stops a long background task within a second, with one line", async () => {
  const cfg = makeConfig({ dlg_attack: true, use_dgc: false, train_lr: 0.01, seed: 1, attack_epoch: 1_000_000 });
  const running = liveAttacks({ long: cfg });
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = performance.now();
  process.emit("SIGINT", "SIGINT");
  await assert.rejects(running, (e: Error) => {
    assert.ok(e instanceof InterruptedError);
    assert.match(e.message, /^interrupted at long, \d+ of 1000000 iterations in all; the background computation was stopped, the kernel is ready$/);
    assert.equal(e.stack!.split("\n").length, 1);
    return true;
  });
  assert.ok(performance.now() - t0 < 1000, `${(performance.now() - t0).toFixed(0)} ms`);
});
