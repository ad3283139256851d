/**
 * The sweep at tiny sizes (20 attack iterations, ≤ 1 epoch on 640 images): records, fixed victims,
 * resume, corrupt and partial records, failures, and the command line (--list, --only, --jobs with a
 * SIGKILL mid-run, --summary).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSummary } from "../../lib/study/summary";
import { expandGrid, jobConfig, type CommonSettings } from "../../lib/study/grid";
import { GridError, jobKey, parseKey } from "../../lib/study/keys";
import { inspectRecord, recordPath, type JobRecord } from "../../lib/study/record";
import { runStudy } from "../../lib/study/runner";
import { sweepTask, sweepTasks } from "../../lib/study/job";
import { tf } from "../../lib/core/tf";
import { useBackend } from "../helpers";

before(useBackend);

const SCRIPT = resolve(__dirname, "../../scripts/sweep.js");
const TINY: CommonSettings = { iterations: 20, epochs: 1, backend: "wasm", trainSubset: 640 };
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `dgc-sweep-${name}-`));
const read = (out: string, key: string) => JSON.parse(readFileSync(recordPath(out, key), "utf8")) as JobRecord;

test("keys: stable, human-readable, parsed back; sparsity 0 is the dense baseline once per attack and seed", () => {
  const jobs = expandGrid({ sparsities: [0, 0.9], seeds: [1, 2], attacks: ["dlg"], variants: ["seed", "paper"] }, TINY);
  assert.deepEqual(jobs.map((j) => j.key), [
    "s0-dlg-dense-seed1", "s0-dlg-dense-seed2", "s0.9-dlg-seed-seed1", "s0.9-dlg-seed-seed2", "s0.9-dlg-paper-seed1", "s0.9-dlg-paper-seed2",
  ]);
  for (const j of jobs) assert.equal(jobKey(parseKey(j.key)), j.key);
  assert.deepEqual(jobConfig(parseKey("s0.9-dlg-paper-seed2"), TINY), jobs[5]);
  assert.equal(jobs[0].training.optimizer, "Momentum");
  assert.equal(jobs[0].training.lr, 0.01);
  assert.equal(jobs[2].training.lr, 0.001);
  for (const bad of ["s0.9-dlg-dense-seed1", "s0-dlg-seed-seed1", "s1.5-dlg-seed-seed1", "s0.9-xyz-seed-seed1", "s0.90-dlg-seed-seed1", "nonsense"]) {
    assert.throws(() => parseKey(bad), GridError, bad);
  }
});

test("two jobs: full records on the same victim image; resume skips them; corrupt, partial and stale records are redone; no tensor leak", async () => {
  const out = tmp("resume");
  const jobs = expandGrid({ sparsities: [0, 0.9], seeds: [1], attacks: ["adaptive"], variants: ["seed"] }, TINY);
  const first = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(first.done, ["s0-adaptive-dense-seed1", "s0.9-adaptive-seed-seed1"]);
  const [dense, sparse] = jobs.map((j) => read(out, j.key));
  for (const r of [dense, sparse]) {
    assert.equal(r.status, "done");
    assert.equal(r.backend, "wasm");
    assert.equal(r.versions.tfjs, tf.version.tfjs);
    assert.equal(r.training!.steps, 10);
  }
  // seed 1 → the same victim whatever the sparsity
  assert.equal(dense.attack!.label, sparse.attack!.label);
  assert.equal(dense.baseline!.psnr, sparse.baseline!.psnr);
  // bandwidth: dense sends every value at 4 bytes; DGC 0.9 sends ≤ 10 % (values + a bitmap)
  assert.equal(dense.attack!.sentValues, 7850);
  assert.equal(dense.training!.bytesPerStep, 7850 * 4);
  assert.equal(dense.training!.compressionRatio, 1);
  assert.ok(sparse.attack!.sentValues <= 785, `${sparse.attack!.sentValues}`);
  assert.ok(sparse.training!.compressionRatio! >= 4.9, `${sparse.training!.compressionRatio}`);

  const tensors = tf.memory().numTensors;
  const again = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(again.skipped, jobs.map((j) => j.key));
  assert.equal(again.done.length, 0);

  // a partial file (cut mid-way) and one missing a field are detected and redone
  const p0 = recordPath(out, jobs[0].key);
  const p1 = recordPath(out, jobs[1].key);
  writeFileSync(p0, readFileSync(p0, "utf8").slice(0, 200));
  const broken = read(out, jobs[1].key) as unknown as { attack: Record<string, unknown> };
  delete broken.attack.psnr;
  writeFileSync(p1, JSON.stringify(broken));
  assert.equal(inspectRecord(out, sweepTask(jobs[0])).state, "invalid");
  assert.match((inspectRecord(out, sweepTask(jobs[1])) as { problem: string }).problem, /attack\.psnr/);
  const redo = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(redo.redone.map((r) => r.key), jobs.map((j) => j.key));
  assert.deepEqual(redo.done, jobs.map((j) => j.key));
  assert.deepEqual({ ...read(out, jobs[1].key).attack, seconds: 0 }, { ...sparse.attack, seconds: 0 }, "same result when redone");
  assert.equal(tf.memory().numTensors, tensors, "jobs left tensors behind");

  // a record made with another config is stale
  const longer = expandGrid({ sparsities: [0.9], seeds: [1], attacks: ["adaptive"], variants: ["seed"] }, { ...TINY, iterations: 21 });
  assert.match((inspectRecord(out, sweepTask(longer[0])) as { problem: string }).problem, /config differs/);
  // temporary files of an interrupted atomic write are not records
  writeFileSync(join(out, `${jobs[0].key}.json.1234567`), "{");
  const summary = buildSummary(out);
  assert.equal(summary.rows.length, 2);
  assert.deepEqual(summary.invalid, []);
});

test("a failing job is recorded as failed and the others still run; a re-run retries it", async () => {
  const out = tmp("fail");
  const jobs = expandGrid({ sparsities: [0.5, 0.8], seeds: [2], attacks: ["dlg"], variants: ["seed"] }, { ...TINY, epochs: 0 });
  const r = await runStudy(sweepTasks(jobs), { out, jobs: 1, failKeys: new Set([jobs[0].key]) });
  assert.deepEqual(r.failed, [jobs[0].key]);
  assert.deepEqual(r.done, [jobs[1].key]);
  const failed = read(out, jobs[0].key);
  assert.equal(failed.status, "failed");
  assert.match(failed.error!, /injected failure/);
  assert.deepEqual(failed.config, jobs[0]);
  const retry = await runStudy(sweepTasks(jobs), { out, jobs: 1 });
  assert.deepEqual(retry.done, [jobs[0].key]);
  assert.deepEqual(retry.skipped, [jobs[1].key]);
  const s = buildSummary(out);
  assert.equal(s.failed.length, 0);
  assert.equal(s.rows.find((row) => row.sparsity === 0.5)!.testAccuracy, null, "no training, no test accuracy in the summary");
});

const cli = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });
const GRID = ["--sparsity", "0,0.5,0.8,0.9", "--seeds", "1", "--attack", "dlg", "--iterations", "300", "--epochs", "0"];

test("CLI: --list prints the keys; --jobs 2 killed mid-run (SIGKILL, whole tree) resumes without redoing finished jobs", async () => {
  const keys = cli(["--list", ...GRID]).stdout.trim().split("\n");
  assert.deepEqual(keys, ["s0-dlg-dense-seed1", "s0.5-dlg-seed-seed1", "s0.8-dlg-seed-seed1", "s0.9-dlg-seed-seed1"]);
  const out = tmp("kill");
  const child = spawn(process.execPath, [SCRIPT, ...GRID, "--jobs", "2", "--out", out], { detached: true, stdio: "ignore" });
  const records = () => readdirSync(out).filter((f) => f.endsWith(".json"));
  const t0 = Date.now();
  while (!existsSync(out) || records().length === 0) {
    assert.ok(Date.now() - t0 < 30000, "no record after 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(-child.pid!, "SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const finished = records();
  assert.ok(finished.length >= 1 && finished.length < keys.length, `finished before the kill: ${finished}`);
  const before = new Map(finished.map((f) => [f, statSync(join(out, f)).mtimeMs]));
  const rerun = cli([...GRID, "--jobs", "2", "--out", out]);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, new RegExp(`${finished.length} of 4 jobs already done`));
  for (const [f, mtime] of before) assert.equal(statSync(join(out, f)).mtimeMs, mtime, `${f} was redone`);
  for (const k of keys) assert.equal(read(out, k).status, "done", k);

  // --only runs one job on its own (here already done, so it is skipped); --summary writes summary.json
  const mtime = statSync(recordPath(out, keys[1])).mtimeMs;
  const only = cli(["--only", keys[1], ...GRID.slice(6), "--out", out]);
  assert.equal(only.status, 0, only.stderr);
  assert.match(only.stdout, /1 of 1 jobs already done/);
  assert.equal(statSync(recordPath(out, keys[1])).mtimeMs, mtime);
  const sum = cli(["--summary", "--out", out]);
  assert.equal(sum.status, 0, sum.stderr);
  assert.match(sum.stdout, /^\| sparsity \| attack \| variant \|/);
  assert.equal(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).rows.length, 4);
});

test("CLI: a job failing in a child process is recorded, the other finishes, exit status 1; bad input exits 2", () => {
  const out = tmp("clifail");
  const args = ["--sparsity", "0.5,0.8", "--seeds", "1", "--attack", "dlg", "--iterations", "20", "--epochs", "0", "--jobs", "2", "--out", out];
  const r = cli([...args, "--fail-key", "s0.8-dlg-seed-seed1"]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /s0\.8-dlg-seed-seed1: failed: injected failure/);
  assert.equal(read(out, "s0.8-dlg-seed-seed1").status, "failed");
  assert.equal(read(out, "s0.5-dlg-seed-seed1").status, "done");
  const bad = cli(["--only", "s0.9-dlg-dense-seed1", "--out", out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^sweep: error: job 's0\.9-dlg-dense-seed1'/);
  assert.equal(cli(["--sparsity", "1.5", "--list"]).status, 2);
});
