/**
 * Every defense in the federated simulation (lib/federated/defense.ts): one round by hand (the server
 * steps by the mean of the defenses' decoded uploads), FedAvg's Δ through the transform, bytes per
 * upload, (ε, δ) for gaussian, determinism under --seed, no tensor leak over rounds, and `fl --defense`.
 */
import { seedDefense } from "../../lib/threat/channel/registry";
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clientStream, runFederated, type FederatedOptions } from "../../lib/threat/federated/simulation";
import { defenseStream } from "../../lib/threat/federated/defense";
import { laterRoundsMarkdown, recordDefense } from "../../lib/study/federated_summary";
import { defenseUploadBytes, makeTransform, parseDefenseArg, type DefenseSpec } from "../../lib/threat/channel/defenses";
import { DGCMomentum } from "../../lib/optim/dgc";
import { gatherBatch } from "../../lib/data/batcher";
import { gaussianGuarantee } from "../../lib/optim/rdp";
import { iidSplit } from "../../lib/threat/federated/split";
import { linearModel } from "../../lib/models/linear";
import { loadMnist } from "../../lib/data/mnist";
import { lossAndGrads } from "../../lib/optim/train";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { studyConfig, studyTasks } from "../../lib/study/federated";
import { subsetSplit } from "../../lib/study/job";
import { tf, variableFrom } from "../../lib/core/tf";
import { type FLAttack } from "../../lib/trial/fl_config";
import { assertClose, useBackend } from "../helpers";

before(useBackend);

const full = loadMnist("train");
const model = linearModel();
const freshParams = (seed: number) => tf.tidy(() => model.init(new Rng(seed).fork("init"))).map((t) => variableFrom(t, true));
const read = (ps: readonly tf.Tensor[]) => ps.map((p) => p.dataSync().slice() as Float32Array);
const base: FederatedOptions = { clients: 2, rounds: 1, localSteps: 1, split: "iid", alpha: 1, batchSize: 10, lr: 0.01, defense: seedDefense(false, 0) };
const EVERY: DefenseSpec[] = ["none", "dgc:0.9", "topk:0.9", "randk:0.9", "gaussian:0.1", "gaussvar:0.0001", "laplace:0.0001", "fp16", "int8", "signsgd"].flatMap(parseDefenseArg);
const label = (d: DefenseSpec) => (d.strength === null ? d.name : `${d.name}:${d.strength}`);

/** Client c's decoded upload of gradient g, made again outside the simulation, and its size. */
function decodedUpload(d: DefenseSpec, grads: tf.Tensor[], rng: Rng, c: number): { values: Float32Array[]; bytes: number } {
  if (d.name === "dgc" || d.name === "none") {
    const opt = d.name === "dgc" ? new DGCMomentum({ sparsity: d.strength!, lr: 0.01 }) : new Momentum(0.01);
    const { sent, stats } = opt.compress(grads);
    const values = read(sent);
    tf.dispose(sent);
    opt.dispose();
    return { values, bytes: defenseUploadBytes(d, stats) };
  }
  const up = makeTransform(d, defenseStream(rng, c)).encode(read(grads));
  return { values: up.values, bytes: defenseUploadBytes(d, { sent: up.sent, total: grads.map((g) => g.size), bytes: up.bytes }) };
}

test("one FedSGD round under each defense: the server steps by lr × the mean of the clients' decoded uploads", () => {
  const data = subsetSplit(full, 20);
  for (const d of EVERY) {
    const params = freshParams(1);
    const w0 = read(params);
    const rng = new Rng(5);
    const res = runFederated(model, params, data, { ...base, defense: d }, rng);
    // each client's whole shard is its batch, in the order its own shuffle stream deals it
    const shards = iidSplit(20, 2, rng.fork("split"));
    const ups = shards.map((s, c) => {
      const order = clientStream(rng, c).permutation(s.length);
      const grads = tf.tidy(() => lossAndGrads(model, params.map((p, i) => tf.tensor(w0[i], p.shape)), gatherBatch(data, Int32Array.from(order, (j) => s[j]), 0)).grads);
      const up = decodedUpload(d, grads, rng, c);
      tf.dispose(grads);
      return up;
    });
    for (let t = 0; t < 2; t++) {
      const expected = w0[t].map((w, i) => w - 0.01 * ((ups[0].values[t][i] + ups[1].values[t][i]) / 2));
      assertClose(params[t].dataSync(), expected, 1e-6, `${label(d)} tensor ${t}`);
    }
    assert.deepEqual(res.rounds[0].upBytes, ups.map((u) => u.bytes), `${label(d)} bytes`);
    tf.dispose(params);
  }
});

test("bytes per upload on Linear: dense, the defenses' own encodings, bytes.ts for sparse positions", () => {
  const data = subsetSplit(full, 64);
  const bytes = (arg: string) => {
    const params = freshParams(2);
    const r = runFederated(model, params, data, { ...base, clients: 1, batchSize: 64, defense: parseDefenseArg(arg)[0] }, new Rng(3));
    tf.dispose(params);
    return r.rounds[0].upBytes[0];
  };
  assert.equal(bytes("none"), 31400);
  assert.equal(bytes("gaussian:1"), 31400);
  assert.equal(bytes("fp16"), 15700);
  assert.equal(bytes("int8"), 7840 + 4 + 10 + 4);
  assert.equal(bytes("signsgd"), 980 + 4 + 2 + 4);
  // randk 0.99: k = 79 of 7840 and 1 of 10, float32 values + one 4-byte seed
  assert.equal(bytes("randk:0.99"), 4 * 80 + 4);
  // topk 0.9: 784 of 7840 by a bitmap (3136 + 980 < 6272 by indices), 1 of 10 by a bitmap (4 + 2)
  assert.equal(bytes("topk:0.9"), 3136 + 980 + 6);
});

test("FedAvg, one client: the server receives the defense's transform of the weight delta Δ", () => {
  const data = subsetSplit(full, 128);
  const opts: FederatedOptions = { ...base, clients: 1, localSteps: 2, batchSize: 64, lr: 0.01 };
  const plain = freshParams(6);
  const w0 = read(plain);
  runFederated(model, plain, data, opts, new Rng(8));
  const delta = read(plain).map((w1, t) => Float32Array.from(w1, (v, i) => w0[t][i] - v));
  tf.dispose(plain);
  for (const d of EVERY.filter((x) => x.name !== "none" && x.name !== "dgc")) {
    const params = freshParams(6);
    runFederated(model, params, data, { ...opts, defense: d }, new Rng(8));
    const sent = makeTransform(d, defenseStream(new Rng(8), 0)).encode(delta).values;
    for (let t = 0; t < 2; t++) assertClose(params[t].dataSync(), w0[t].map((v, i) => v - sent[t][i]), 1e-6, `${label(d)} tensor ${t}`);
    tf.dispose(params);
  }
});

test("each client keeps its own state and stream; same seed, same run; no tensor leak over rounds; (ε, δ) for gaussian", () => {
  const data = subsetSplit(full, 640);
  for (const d of EVERY) {
    const run = (seed: number) => {
      const params = freshParams(seed);
      const before = tf.memory().numTensors;
      const counts: number[] = [];
      const res = runFederated(model, params, data, { ...base, clients: 3, rounds: 4, batchSize: 32, defense: d }, new Rng(seed), () => counts.push(tf.memory().numTensors));
      assert.equal(tf.memory().numTensors, before, `${label(d)}: tensors after the run`);
      assert.ok(counts.every((c) => c === counts[0]), `${label(d)}: tensors per round ${counts}`);
      const out = { params: read(params).map((p) => Array.from(p)), bytes: res.rounds.map((r) => r.upBytes), privacy: res.privacy };
      tf.dispose(params);
      return out;
    };
    const a = run(4);
    assert.deepEqual(run(4), a, `${label(d)}: same seed`);
    assert.notDeepEqual(run(5).params, a.params, `${label(d)}: another seed`);
    if (d.name === "gaussian") {
      const eps = gaussianGuarantee(d.strength!, 4, 1e-5).epsilon;
      assert.deepEqual(a.privacy, [0, 1, 2].map((client) => ({ client, rounds: 4, delta: 1e-5, epsilon: eps })));
    } else assert.deepEqual(a.privacy, []);
  }
  // two clients with the same data but their own streams draw different noise
  const params = freshParams(1);
  const same = { ...base, clients: 2, batchSize: 10, defense: parseDefenseArg("gaussvar:1")[0], watch: { client: 1, round: 0, batchSize: 10, loss: "ce" as const, historyRounds: 0 } };
  const w = runFederated(model, params, subsetSplit(full, 20), same, new Rng(2)).watched!;
  const noise = w.uploads[0][1].map((v, i) => v - w.fullGradient[1][i]);
  const other = makeTransform(same.defense, defenseStream(new Rng(2), 0)).encode([new Float32Array(7840), new Float32Array(10)]).values[1];
  assert.notDeepEqual(Array.from(noise), Array.from(other));
  const own = makeTransform(same.defense, defenseStream(new Rng(2), 1)).encode([new Float32Array(7840), new Float32Array(10)]).values[1];
  assertClose(noise, own, 1e-5, "client 1's noise is its own stream's");
  tf.dispose(params);
});

const FL = resolve(__dirname, "../../cli/fl.js");
const fl = (args: string[]) => spawnSync(process.execPath, [FL, "--clients", "3", "--rounds", "2", "--seed", "3", ...args], { encoding: "utf8" });
const stable = (out: string) => out.split("\n").filter((l) => !l.includes("cost time")).join("\n");

test("fl --defense: deterministic under --seed, --use_dgc/--sparsity are dgc's aliases, conflicts exit 2 with one line", () => {
  const a = fl(["--defense", "randk:0.9", "--train_lr", "0.01"]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /round 1, .* up 3\.1 kB\/client/);
  assert.equal(stable(fl(["--defense", "randk:0.9", "--train_lr", "0.01"]).stdout), stable(a.stdout));
  const g = fl(["--defense", "gaussian:1", "--train_lr", "0.01"]);
  assert.match(g.stdout, /gaussian: \(ε, δ = 0\.00001\) per client over its 2 rounds: ε = 7\.07/);
  const alias = fl(["--use_dgc", "True", "--sparsity", "0.9"]).stdout;
  const named = fl(["--defense", "dgc:0.9"]).stdout;
  const rounds = (out: string) => out.split("\n").filter((l) => l.startsWith("round ") || l.startsWith("test accuracy"));
  assert.deepEqual(rounds(named), rounds(alias));
  assert.equal(rounds(named).length, 3);
  for (const bad of [["--defense", "int8", "--use_dgc", "True"], ["--defense", "dgc:0.9", "--sparsity", "0.8"], ["--defense", "topk"], ["--defense", "dgc:0.8,0.9"], ["--defense", "nope"]]) {
    const r = fl(bad);
    assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^fl: error: .*\n$/);
  }
});

test("the study's points: keys name the defense (sparsities keep theirs), history only where state carries over", () => {
  const st = { sparsities: [0, 0.9], defenses: parseDefenseArg("topk:0.9").concat(parseDefenseArg("signsgd")), rounds: [10], attacks: ["dlg", "analytic", "history"] as FLAttack[], seeds: [1], iterations: 1, historyIterations: 1, historyRounds: 1, trainRounds: 1, clients: 2 };
  const keys = studyTasks(st, { train: full, test: full }, new Float32Array(784)).map((t) => t.key);
  assert.deepEqual(keys, [
    "train-s0-seed1", "s0-r10-dlg-seed1", "s0-r10-analytic-seed1", "s0-r10-history-seed1",
    "train-s0.9-seed1", "s0.9-r10-dlg-seed1", "s0.9-r10-analytic-seed1", "s0.9-r10-history-seed1",
    "train-topk0.9-seed1", "topk0.9-r10-dlg-seed1", "topk0.9-r10-analytic-seed1",
    "train-signsgd-seed1", "signsgd-r10-dlg-seed1", "signsgd-r10-analytic-seed1", "signsgd-r10-history-seed1",
  ]);
  const cfg = studyConfig(parseDefenseArg("int8")[0], 1, {});
  assert.deepEqual([cfg.defense, cfg.use_dgc, cfg.train_lr], ["int8", false, 0.01]);
  const dgc = studyConfig(0.9, 1, {});
  assert.deepEqual([dgc.defense, dgc.use_dgc, dgc.sparsity, dgc.train_lr], ["dgc:0.9", true, 0.9, 0.001]);
  assert.equal(recordDefense({ sparsity: 0.99 }), "dgc:0.99");
  assert.equal(recordDefense({ sparsity: null, defense: "randk:0.99" }), "randk:0.99");
});

test("the later-rounds table: the strongest single-round attack (most recovered, then PSNR), history leaks, ε", () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-later-"));
  const rec = (defense: string, round: number, attack: string, seed: number, psnr: number | null, recovered: boolean, firstLeakRound: number | null = recovered ? round : null) =>
    ({ key: `${defense}-r${round}-${attack}-seed${seed}`, kind: "attack", sparsity: null, defense, round, attack, seed, psnr, recovered, diverged: psnr === null ? "x" : null, firstLeakRound });
  const recs = [
    rec("signsgd", 10, "dlg", 1, 14, true), rec("signsgd", 10, "dlg", 2, 3, false),
    rec("signsgd", 10, "analytic", 1, 20, true), rec("signsgd", 10, "analytic", 2, 19, false),
    rec("signsgd", 10, "adaptive", 1, null, false), rec("signsgd", 10, "adaptive", 2, 30, true),
    rec("signsgd", 10, "history", 1, 15, true, 11), rec("signsgd", 10, "history", 2, 2, false, null),
    { key: "train-signsgd-seed1", kind: "train", sparsity: null, defense: "signsgd", seed: 1, rounds: [{}, {}], testAccuracy: 0.7, upBytesPerRound: 990, downBytesPerRound: 31400 },
    { key: "train-gaussian1-seed1", kind: "train", sparsity: null, defense: "gaussian:1", seed: 1, rounds: [{}, {}], testAccuracy: 0.4, upBytesPerRound: 31400, downBytesPerRound: 31400, epsilon: 7.077, delta: 1e-5 },
  ];
  for (const r of recs) writeFileSync(join(dir, `${r.key}.json`), JSON.stringify(r));
  const rows = laterRoundsMarkdown(dir).split("\n");
  // dlg, analytic and adaptive each recover 1 of 2; adaptive's median PSNR (30: its diverged run is left out) is the highest
  assert.equal(rows[2], "| gaussian:1 | 31400 | 0.400 | – | – | ε 7.08, δ 0.00001 |");
  assert.equal(rows[3], "| signsgd | 990 | 0.700 | 30.0 (1/2) adaptive | 1/2 (first leak: round 11, median) |  |");
});
