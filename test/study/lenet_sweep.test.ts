/**
 * The sweep on LeNet at tiny sizes: keys naming the model (Linear keys unchanged), the analytic
 * attack refused on LeNet, a tiny grid (none, DGC 0.9, top-k 0.9 × lbfgs, adaptive by L-BFGS, ig;
 * 2 iterations, 1 epoch on 128 images) with each defense's bytes under federated/bytes.ts's account,
 * resume, no tensor leak; and the bytes recount of old records (re-made uploads, refused when they differ).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSummary } from "../../lib/study/summary";
import { expandGrid, jobConfig, type CommonSettings } from "../../lib/study/grid";
import { GridError, jobKey, parseKey } from "../../lib/study/keys";
import { keptCount, type DefenseSpec } from "../../lib/threat/channel/defenses";
import { makeModel } from "../../lib/models/registry";
import { recordPath, type JobRecord } from "../../lib/study/record";
import { recountFolder } from "../../lib/study/recount";
import { runStudy } from "../../lib/study/runner";
import { sweepTasks } from "../../lib/study/job";
import { tf } from "../../lib/core/tf";
import { uploadBytes } from "../../lib/optim/wire";
import { useBackend } from "../helpers";

before(useBackend);

const SCRIPT = resolve(__dirname, "../../scripts/sweep.js");
const TINY: CommonSettings = { iterations: 2, epochs: 1, backend: "wasm", trainSubset: 128 };
const cli = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });
const read = (out: string, key: string) => JSON.parse(readFileSync(recordPath(out, key), "utf8")) as JobRecord;
const DEFENSES: DefenseSpec[] = [{ name: "none", strength: null }, { name: "dgc", strength: 0.9 }, { name: "topk", strength: 0.9 }];

test("--model lenet: keys start with lenet- and parse back; Linear keys and configs unchanged; analytic refused (exit 2, one line)", () => {
  const r = cli(["--list", "--model", "lenet", "--defense", "none", "--defense", "dgc:0.9", "--defense", "topk:0.5", "--seeds", "1", "--attack", "lbfgs,adaptive"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "lenet-s0-lbfgs-dense-seed1", "lenet-s0-adaptive-dense-seed1", "lenet-s0.9-lbfgs-seed-seed1", "lenet-s0.9-adaptive-seed-seed1", "lenet-topk0.5-lbfgs-seed1", "lenet-topk0.5-adaptive-seed1",
  ]);
  for (const k of ["lenet-s0.9-ig-seed-seed2", "lenet-topk0.5-lbfgs-seed1", "lenet-int8-adaptive-seed3"]) {
    const p = parseKey(k);
    assert.equal(p.model, "lenet");
    assert.equal(jobKey(p), k);
    assert.equal(jobConfig(p, TINY).model, "lenet");
  }
  const linear = jobConfig(parseKey("topk0.5-adaptive-seed1"), TINY);
  assert.equal(linear.model, "linear");
  assert.equal("optimizer" in linear.attackParams, false, "Linear's adaptive attacker stays Adam");
  assert.deepEqual(cli(["--list", "--defense", "topk:0.5", "--seeds", "1", "--attack", "dlg"]).stdout, "topk0.5-dlg-seed1\n");
  const adaptive = jobConfig(parseKey("lenet-s0.9-adaptive-seed-seed1"), { ...TINY, iterations: null }).attackParams;
  assert.deepEqual([adaptive.kind, adaptive.iterations, "optimizer" in adaptive && adaptive.optimizer], ["adaptive", 20, "lbfgs"]);
  for (const bad of ["lenet-s0-analytic-dense-seed1", "lenet-lenet-s0-dlg-dense-seed1", "lenet-", "lenet-topk0.5-analytic-seed1"]) assert.throws(() => parseKey(bad), GridError, bad);
  const refused = cli(["--list", "--model", "lenet", "--attack", "analytic", "--defense", "none", "--seeds", "1"]);
  assert.equal(refused.status, 2);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^sweep: error: .*analytic attack needs a first layer that is Linear with a bias; LeNet's is a convolution\n$/);
  assert.equal(cli(["--list", "--model", "resnet"]).status, 2);
});

test("a tiny LeNet grid runs every attack under 3 defenses: bytes by federated/bytes.ts, resume skips, the summary names the model", async () => {
  const out = mkdtempSync(join(tmpdir(), "dgc-lenet-"));
  const jobs = expandGrid({ sparsities: [], seeds: [1], attacks: ["lbfgs", "adaptive", "ig"], variants: ["seed"], defenses: DEFENSES, model: "lenet" }, TINY);
  assert.equal(jobs.length, 9);
  const first = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(first.failed, []);
  const shapes = makeModel("lenet").paramShapes.map((s) => s.reduce((a, b) => a * b, 1));
  const n = shapes.reduce((a, b) => a + b, 0);
  for (const j of jobs) {
    const r = read(out, j.key);
    assert.equal(r.config.model, "lenet");
    assert.equal(r.training!.steps, 2, "128 images at batch 64");
    assert.equal(r.training!.totalValues, n);
    assert.ok(r.training!.testAccuracy >= 0 && r.training!.testAccuracy <= 1);
  }
  const bytes = (key: string) => read(out, key).training!.bytesPerStep;
  assert.equal(bytes("lenet-s0-lbfgs-dense-seed1"), 4 * n);
  // top-k: keptCount per tensor every step, each tensor the cheapest of dense, indices, bitmap
  assert.equal(bytes("lenet-topk0.9-lbfgs-seed1"), uploadBytes(shapes.map((m) => keptCount(m, 0.9)), shapes, true));
  assert.ok(bytes("lenet-topk0.9-lbfgs-seed1")! < 8 * shapes.reduce((a, m) => a + keptCount(m, 0.9), 0), "cheaper than 8 B a value");
  assert.ok(bytes("lenet-s0.9-lbfgs-seed-seed1")! < 4 * n);
  const again = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.equal(again.skipped.length, jobs.length);
  // no tensor leaks: the top-k jobs of all three attacks (and their training) once more, elsewhere
  const tensors = tf.memory().numTensors;
  const rerun = await runStudy(sweepTasks(jobs.filter((j) => j.key.startsWith("lenet-topk"))), { out: mkdtempSync(join(tmpdir(), "dgc-lenet-")), jobs: 1 });
  assert.equal(rerun.done.length, 3);
  assert.equal(tf.memory().numTensors, tensors, "tensors leaked");
  const s = buildSummary(out);
  assert.equal(s.rows.length, 9);
  assert.deepEqual(s.settings, ["lenet, 2 it, 1 ep, subset 128, wasm"]);
});

test("--recount-bytes: an old 8-B-a-value count becomes federated/bytes.ts's; a record whose uploads differ is refused and left alone", async () => {
  const out = mkdtempSync(join(tmpdir(), "dgc-recount-"));
  const common: CommonSettings = { iterations: 2, epochs: 1, backend: "wasm", trainSubset: 192 };
  const jobs = expandGrid({ sparsities: [], seeds: [1, 2], attacks: ["ig"], variants: ["seed"], defenses: [DEFENSES[1], DEFENSES[2]] }, common);
  await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  const fresh = Object.fromEntries(jobs.map((j) => [j.key, read(out, j.key)]));
  // as the sweep counted before: 8 B per sent value
  for (const j of jobs) {
    const r = read(out, j.key);
    r.training!.bytesPerStep = 8 * r.training!.valuesPerStep!;
    r.attack!.sentBytes = 8 * r.attack!.sentValues;
    if (j.key === "topk0.9-ig-seed2") r.training!.testAccuracy = 0.5; // not what training gives: refused
    writeFileSync(recordPath(out, j.key), JSON.stringify(r));
  }
  const report = await recountFolder(out);
  assert.deepEqual(report.refused, ["topk0.9-ig-seed2"]);
  assert.equal(report.recounted.length, 3);
  for (const key of report.recounted) {
    const r = read(out, key);
    assert.equal(r.training!.bytesPerStep, fresh[key].training!.bytesPerStep, key);
    assert.equal(r.training!.compressionRatio, fresh[key].training!.compressionRatio, key);
    assert.equal(r.attack!.sentBytes, fresh[key].attack!.sentBytes, key);
    assert.deepEqual([r.attack!.psnr, r.training!.testAccuracy], [fresh[key].attack!.psnr, fresh[key].training!.testAccuracy], key);
    assert.ok(r.bytesRecounted, key);
  }
  assert.equal(read(out, "topk0.9-ig-seed2").training!.bytesPerStep, 8 * fresh["topk0.9-ig-seed2"].training!.valuesPerStep!, "left as it was");
  const r = cli(["--recount-bytes", "--out", join(out, "nope")]);
  assert.equal(r.status, 2);
});
