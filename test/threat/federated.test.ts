import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { classCounts, dirichletSplit, gammaSample, iidSplit } from "../../lib/threat/federated/split";
import { lossAndGrads, train } from "../../lib/optim/train";
import { linearModel } from "../../lib/models/linear";
import { loadMnist } from "../../lib/data/mnist";
import { makeChannel, seedDefense } from "../../lib/threat/channel/registry";
import { Rng } from "../../lib/core/rng";
import { runFederated, type FederatedOptions } from "../../lib/threat/federated/simulation";
import { subsetSplit } from "../../lib/study/job";
import { tensorBytes, uploadBytes } from "../../lib/optim/wire";
import { tf, variableFrom } from "../../lib/core/tf";
import { gatherBatch } from "../../lib/data/batcher";
import { attackWatched } from "../../lib/trial/fl_attack";
import { loadStudy } from "../../lib/study/federated_summary";
import { assertClose, useBackend } from "../helpers";

before(useBackend);

const full = loadMnist("train");
const small = subsetSplit(full, 640);
const model = linearModel();
const freshParams = (seed: number) => tf.tidy(() => model.init(new Rng(seed).fork("init"))).map((t) => variableFrom(t, true));
const read = (ps: tf.Tensor[]) => ps.map((p) => Array.from(p.dataSync()));
const base: FederatedOptions = { clients: 2, rounds: 1, localSteps: 1, split: "iid", alpha: 1, batchSize: 64, lr: 0.01, defense: seedDefense(false, 0) };

test("upload bytes: the cheapest of dense, 32-bit indices and a bitmap, per tensor", () => {
  assert.deepEqual(tensorBytes(7840, 78, true), { bytes: 8 * 78, encoding: "indices" });
  // 3000 values: indices 24000, bitmap 12000 + 980, dense 31360
  assert.deepEqual(tensorBytes(7840, 3000, true), { bytes: 12980, encoding: "bitmap" });
  assert.deepEqual(tensorBytes(7840, 7839, true), { bytes: 31360, encoding: "dense" });
  assert.deepEqual(tensorBytes(10, 0, true), { bytes: 0, encoding: "empty" });
  assert.deepEqual(tensorBytes(10, 3, false), { bytes: 40, encoding: "dense" });
  // weight 78 of 7840 by indices; bias 1 of 10 by bitmap (4 + ⌈10/8⌉ = 6 < 8 < 40)
  assert.equal(uploadBytes([78, 1], [7840, 10], true), 624 + 6);
});

test("splits: iid shards partition the set; Dirichlet is seeded, partitions, and skews with small alpha", () => {
  const one = iidSplit(10, 1, new Rng(1));
  assert.deepEqual(Array.from(one[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const three = iidSplit(10, 3, new Rng(1));
  assert.deepEqual(three.map((s) => s.length), [3, 3, 4]);
  assert.deepEqual([...three.flatMap((s) => Array.from(s))].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const labels = full.labels.subarray(0, 5000);
  const maxShare = (alpha: number) => {
    const shards = dirichletSplit(labels, 10, alpha, new Rng(7));
    assert.equal(shards.reduce((n, s) => n + s.length, 0), labels.length);
    assert.equal(new Set(shards.flatMap((s) => Array.from(s))).size, labels.length);
    const counts = classCounts(shards, labels);
    return counts.reduce((a, c) => a + Math.max(...c) / c.reduce((x, y) => x + y, 0), 0) / counts.length;
  };
  assert.deepEqual(dirichletSplit(labels, 10, 0.3, new Rng(7)), dirichletSplit(labels, 10, 0.3, new Rng(7)));
  const skewed = maxShare(0.1);
  const even = maxShare(100);
  assert.ok(skewed > 0.5 && even < 0.2, `largest class share: alpha 0.1 → ${skewed}, alpha 100 → ${even}`);
  // Gamma(a, 1) has mean a
  for (const a of [0.3, 2.5]) {
    const rng = new Rng(3);
    let s = 0;
    for (let i = 0; i < 20000; i++) s += gammaSample(a, rng);
    assert.ok(Math.abs(s / 20000 - a) < 0.03 * Math.max(1, a), `Gamma(${a}) mean ${s / 20000}`);
  }
});

test("two clients, one FedSGD round: the server steps by lr × the mean of the two clients' gradients", () => {
  // each client's whole shard is its batch, so the batch order does not matter
  const data = subsetSplit(full, 20);
  const params = freshParams(1);
  const w0 = params.map((p) => tf.clone(p));
  const rng = new Rng(5);
  const res = runFederated(model, params, data, { ...base, batchSize: 10 }, rng);
  const shards = iidSplit(20, 2, rng.fork("split"));
  const expected = tf.tidy(() => {
    const g = shards.map((s) => lossAndGrads(model, w0, gatherBatch(data, s)).grads);
    return w0.map((w, i) => tf.sub(w, tf.mul(tf.div(tf.add(g[0][i], g[1][i]), 2), 0.01)));
  });
  assertClose(params[0].dataSync(), expected[0].dataSync(), 1e-6, "W");
  assertClose(params[1].dataSync(), expected[1].dataSync(), 1e-6, "b");
  assert.deepEqual(res.rounds[0].upBytes, [31400, 31400]);
  assert.equal(res.rounds[0].downBytes, 31400);
  tf.dispose([...params, ...w0, ...expected]);
});

test("one client, FedSGD: the same model as dgc_demo's training (Momentum and DGC)", () => {
  for (const useDgc of [false, true]) {
    const a = freshParams(2);
    const b = freshParams(2);
    const rng = new Rng(9);
    const lr = useDgc ? 0.001 : 0.01;
    runFederated(model, a, small, { ...base, clients: 1, rounds: 10, defense: seedDefense(useDgc, 0.8), lr }, rng);
    const opt = makeChannel(seedDefense(useDgc, 0.8), lr, new Rng(0));
    train(model, b, opt, small, { epochs: 1, batchSize: 64, rng: rng.fork("shuffle") });
    opt.dispose();
    assertClose(a[0].dataSync(), b[0].dataSync(), 1e-6, `W ${useDgc}`);
    assertClose(a[1].dataSync(), b[1].dataSync(), 1e-6, `b ${useDgc}`);
    tf.dispose([...a, ...b]);
  }
});

test("DGC clients: bytes follow what was sent; same seed, same run; no tensors left behind", () => {
  const run = (seed: number) => {
    const params = freshParams(seed);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const opts: FederatedOptions = {
      ...base, clients: 3, rounds: 6, defense: seedDefense(true, 0.9), lr: 0.001,
      watch: { client: 1, round: 2, batchSize: 1, loss: "ce", historyRounds: 3 },
    };
    const res = runFederated(model, params, small, opts, new Rng(seed), () => counts.push(tf.memory().numTensors));
    assert.equal(tf.memory().numTensors, before, "tensors after the run");
    assert.ok(counts.every((c) => c === counts[0]), `tensors per round ${counts}`);
    const out = { rounds: res.rounds, params: read(params), watched: res.watched! };
    tf.dispose(params);
    return out;
  };
  const a = run(4);
  const w = a.watched;
  assert.equal(w.uploads.length, 4);
  assert.equal(w.target.size, 1);
  for (let h = 0; h < 4; h++) {
    const nz = w.uploads[h].map((u) => u.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0));
    assert.equal(a.rounds[2 + h].upValues[1], nz[0] + nz[1]);
    assert.equal(a.rounds[2 + h].upBytes[1], uploadBytes(nz, [7840, 10], true));
  }
  assert.deepEqual(run(4), a);
  assert.notDeepEqual(run(5).params, a.params);
});

const CLI = (name: string) => resolve(__dirname, `../../cli/${name}.js`);
const runCli = (name: string, args: string[]) => spawnSync(process.execPath, [CLI(name), ...args], { encoding: "utf8" });
const lastAttackLine = (out: string) => out.split("\n").filter((l) => l.startsWith("Attack Iteration")).pop();

test("fl with one client at round 0 is dgc_demo's Example 2: the same last Attack Iteration line", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-eq-"));
  const common = ["--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--seed", "1"];
  const fl = runCli("fl", ["--clients", "1", "--rounds", "1", "--attack_round", "0", ...common, "--result_dir", join(dir, "fl")]);
  const demo = runCli("dgc_demo", [...common, "--result_dir", join(dir, "demo")]);
  assert.equal(fl.status, 0, fl.stderr);
  assert.equal(demo.status, 0, demo.stderr);
  assert.ok(lastAttackLine(demo.stdout)?.startsWith("Attack Iteration 1900: "));
  assert.equal(lastAttackLine(fl.stdout), lastAttackLine(demo.stdout));
});

test("fl --attack_method history: one line per h tried, the first leak, and the images written", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-hist-"));
  const r = runCli("fl", ["--clients", "2", "--rounds", "4", "--sparsity", "0.99", "--seed", "1", "--dlg_attack", "True", "--attack_round", "1",
    "--attack_method", "history", "--history_rounds", "2", "--attack_epoch", "10", "--result_dir", join(dir, "out")]);
  assert.equal(r.status, 0, r.stderr);
  const steps = r.stdout.split("\n").filter((l) => l.startsWith("history: rounds 1.."));
  assert.equal(steps.length, 3, r.stdout);
  assert.match(r.stdout, /attack history on client 0, round 1: .*; first leak: (none by round 3|round [123])$/m);
  // the result-directory rule (lib/results.ts) leaves its manifest beside the images
  assert.deepEqual(readdirSync(join(dir, "out")).sort(), [".results.json", "grid.png", "result_0.png", "target_0.png"]);
});

test("fl: one line per round with test accuracy and bytes; bad values exit 2 with one line", () => {
  const r = runCli("fl", ["--clients", "3", "--rounds", "4", "--use_dgc", "True", "--sparsity", "0.99", "--seed", "1"]);
  assert.equal(r.status, 0, r.stderr);
  const rounds = r.stdout.split("\n").filter((l) => l.startsWith("round "));
  assert.equal(rounds.length, 4);
  for (const l of rounds) assert.match(l, /test acc 0\.\d{4}, up \d+(\.\d)? k?B\/client \(.* of 7850 values\), down 31\.4 kB\/client$/);
  const dir = mkdtempSync(join(tmpdir(), "fl-bad-"));
  for (const bad of [
    ["--clients", "0"], ["--rounds", "0"], ["--local_steps", "0"], ["--split", "zipf"], ["--alpha", "0"],
    ["--victim_client", "3", "--clients", "3"], ["--dlg_attack", "True", "--attack_round", "5", "--rounds", "5"],
    ["--dlg_attack", "True", "--local_steps", "2", "--local_batch", "2"], ["--attack_method", "magic"], ["--train_epoch", "2"], ["--sparsity", "1"],
  ]) {
    const b = runCli("fl", [...bad, "--result_dir", join(dir, "out")]);
    assert.equal(b.status, 2, `${bad.join(" ")}: ${b.stderr}`);
    assert.equal(b.stdout, "");
    assert.equal(b.stderr.trim().split("\n").length, 1, b.stderr);
    assert.match(b.stderr, /^fl: error: /);
  }
});


test("the analytic attack on round 20 under Momentum recovers the victim to float rounding (ce and sse)", () => {
  const mean = new Float32Array(784);
  for (const loss of ["ce", "sse"] as const) {
    const params = freshParams(3);
    const watch = { client: 4, round: 20, batchSize: 1, loss, historyRounds: 0 };
    const res = runFederated(model, params, full, { ...base, clients: 10, rounds: 21, watch }, new Rng(3));
    const w = res.watched!;
    const a = attackWatched(model, w, { method: "analytic", optimizer: "none", victimLoss: loss, iterations: 0, lr: 0, returnEvery: 1, windowSize: 1, labelInit: "ones", labelRule: "gram", rng: new Rng(3), mean });
    let maxErr = 0;
    for (let i = 0; i < 784; i++) maxErr = Math.max(maxErr, Math.abs(a.x[i] - w.target.x[i]));
    assert.ok(maxErr < 1e-5, `${loss}: max pixel error ${maxErr}`);
    if (loss === "ce") assert.equal(a.guess, w.target.y[0]);
    assert.ok(a.recovered && a.firstLeakRound === 20);
    tf.dispose(params);
  }
});

test("history attacker: nothing sent in round 0 under DGC 0.99 (reported, not inverted), later rounds release values", () => {
  const params = freshParams(1);
  const watch = { client: 0, round: 0, batchSize: 1, loss: "ce" as const, historyRounds: 4 };
  const res = runFederated(model, params, small, { ...base, clients: 2, rounds: 5, defense: seedDefense(true, 0.99), lr: 0.001, watch }, new Rng(1));
  tf.dispose(params);
  const w = res.watched!;
  assert.equal(w.sent[0], 0, "one image's gradient has tied magnitudes: the strict mask sends nothing");
  const before = tf.memory().numTensors;
  const a = attackWatched(model, w, { method: "history", optimizer: "adam", victimLoss: "ce", iterations: 20, lr: 0.1, returnEvery: 19, windowSize: 1, labelInit: "ones", labelRule: "gram", rng: new Rng(1), mean: new Float32Array(784), stopAtLeak: false });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(a.history.length, 5);
  assert.deepEqual(a.history[0], { h: 0, received: 0, psnr: null, recovered: false, x: null });
  const received = a.history.map((h) => h.received);
  assert.ok(received[4] > 0 && received.every((r, i) => i === 0 || r >= received[i - 1]), `received ${received}`);
  for (const h of a.history.slice(1)) if (h.received > 0) assert.ok(Number.isFinite(h.psnr!));
});

const PARALLEL = spawnSync("parallel", ["--version"], { encoding: "utf8" }).status === 0;
test("GNU parallel fans the study out over two processes: the same records as one process", { skip: PARALLEL ? false : "needs Debian's parallel (npm run setup:parallel)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-fanout-"));
  const script = resolve(__dirname, "../../scripts/study_federated.js");
  const args = ["--sparsity", "0,0.9", "--rounds", "0,1", "--attacks", "analytic,history", "--seeds", "1", "--history_iterations", "5", "--history_rounds", "1", "--train_rounds", "2", "--clients", "2"];
  const fan = spawnSync("parallel", ["--will-cite", "--halt", "now,fail=1", "-j", "2", process.execPath, script, ...args, "--out", join(dir, "fan"), "--shard", "{}/2", ":::", "0", "1"], { encoding: "utf8" });
  assert.equal(fan.status, 0, fan.stderr);
  assert.equal(fan.stdout.match(/^study_federated: 5 done, 0 failed/gm)?.length, 2, fan.stdout);
  const one = spawnSync(process.execPath, [script, ...args, "--out", join(dir, "one")], { encoding: "utf8" });
  assert.equal(one.status, 0, one.stderr);
  const strip = (recs: object[]) => recs.map((r) => JSON.stringify({ ...r, seconds: 0, attackSeconds: 0, trainSeconds: 0, versions: null, startedAt: null, finishedAt: null, writer: null })).sort();
  const a = loadStudy(join(dir, "fan"));
  const b = loadStudy(join(dir, "one"));
  assert.equal(a.attacks.length, 8);
  assert.equal(a.trains.length, 2);
  assert.deepEqual(strip(a.attacks), strip(b.attacks));
  assert.deepEqual(strip(a.trains), strip(b.trains));
});

test("the study on LeNet: keys lenet-…, adaptive and history by L-BFGS, records marked; analytic refused (exit 2); folders never mix models", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-lenet-"));
  const script = resolve(__dirname, "../../scripts/study_federated.js");
  const args = ["--model", "lenet", "--defense", "dgc:0.9", "--rounds", "1", "--seeds", "1", "--history_rounds", "1", "--train_rounds", "1", "--clients", "2", "--lbfgs_steps", "2", "--iterations", "3"];
  const bad = spawnSync(process.execPath, [script, ...args, "--attacks", "analytic,adaptive", "--out", join(dir, "bad")], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^study_federated: error: the analytic attack needs a Linear first layer.*\n$/);
  assert.ok(!existsSync(join(dir, "bad")), "nothing created");
  const r = spawnSync(process.execPath, [script, ...args, "--attacks", "adaptive,ig,history", "--out", join(dir, "lenet")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const { attacks, trains } = loadStudy(join(dir, "lenet"));
  assert.deepEqual(attacks.map((a) => a.key).sort(), ["lenet-s0.9-r1-adaptive-seed1", "lenet-s0.9-r1-history-seed1", "lenet-s0.9-r1-ig-seed1"]);
  assert.deepEqual(trains.map((t) => [t.key, t.model, t.rounds.length]), [["lenet-train-s0.9-seed1", "lenet", 1]]);
  const by = Object.fromEntries(attacks.map((a) => [a.attack, a]));
  assert.deepEqual([by.adaptive.optimizer, by.adaptive.iterations, by.history.optimizer, by.history.iterations, by.ig.optimizer, by.ig.iterations], ["lbfgs", 2, "lbfgs", 2, "adam", 3]);
  assert.ok(attacks.every((a) => a.model === "lenet"));
  const summary = spawnSync(process.execPath, [script, "--summary", "--out", join(dir, "lenet")], { encoding: "utf8" });
  assert.match(summary.stdout, /^Model: LeNet/);
  assert.match(summary.stdout, /Attack `adaptive` \(victim loss ce, 2 L-BFGS steps\)/);
  writeFileSync(join(dir, "lenet", "s0-r1-dlg-seed1.json"), JSON.stringify({ key: "s0-r1-dlg-seed1", kind: "attack", sparsity: 0, round: 1, attack: "dlg", seed: 1 }));
  assert.throws(() => loadStudy(join(dir, "lenet")), /several models \(lenet, linear\): one study per folder/);
  // --lbfgs_steps 0: the history attacker by Adam, --history_iterations of it
  const adam = spawnSync(process.execPath, [script, ...args, "--lbfgs_steps", "0", "--history_iterations", "4", "--attacks", "history", "--no_train", "--out", join(dir, "adam")], { encoding: "utf8" });
  assert.equal(adam.status, 0, adam.stderr);
  const h = loadStudy(join(dir, "adam")).attacks[0];
  assert.deepEqual([h.key, h.optimizer, h.iterations], ["lenet-s0.9-r1-history-seed1", "adam", 4]);
});

test("FedAvg, one client, 2 local steps: w − Δ is the local model (dense), and w − top-k(Δ) under DGC", () => {
  const data = subsetSplit(full, 128);
  const opts: FederatedOptions = { ...base, clients: 1, localSteps: 2, lr: 0.01 };
  const dense = freshParams(6);
  const w0 = read(dense);
  runFederated(model, dense, data, opts, new Rng(8));
  const local = freshParams(6);
  const opt = makeChannel(seedDefense(false, 0.8), 0.01, new Rng(0));
  train(model, local, opt, data, { epochs: 1, batchSize: 64, rng: new Rng(8).fork("shuffle") });
  opt.dispose();
  assertClose(dense[0].dataSync(), local[0].dataSync(), 1e-6, "W");
  const sparse = freshParams(6);
  runFederated(model, sparse, data, { ...opts, defense: seedDefense(true, 0.9) }, new Rng(8));
  for (let t = 0; t < 2; t++) {
    const delta = w0[t].map((v, i) => v - local[t].dataSync()[i]);
    const k = delta.length - Math.floor(0.9 * delta.length);
    const threshold = delta.map(Math.abs).sort((a, b) => b - a)[k - 1];
    const expected = w0[t].map((v, i) => (Math.abs(delta[i]) > threshold ? v - delta[i] : v));
    assertClose(sparse[t].dataSync(), expected, 1e-6, `tensor ${t}`);
  }
  tf.dispose([...dense, ...local, ...sparse]);
});
