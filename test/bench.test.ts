/** A one-repeat smoke of `npm run bench` at tiny sizes (the real benchmark is not a test). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

test("bench --tiny runs every workload on wasm, interleaved with PyTorch when the venv has it, times a tiny study grid, and writes JSON", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "bench.json");
  const r = spawnSync(process.execPath, [resolve(__dirname, "../scripts/bench.js"), "--tiny", "--repeats", "1", "--backends", "wasm", "--grid", "tiny", "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, "utf8"));
  const workloads = ["ex3_train", "ex4_train", "ex2_attack", "ex1_attack", "lenet_train_step", "lenet_dlg_iteration", "fl_round_10", "lenet_lbfgs_attack"];
  assert.deepEqual(Object.keys(j.workloads), workloads);
  for (const w of workloads) {
    const e = j.workloads[w];
    assert.ok(e.ours.wasm.median_s > 0, `wasm ${w}`);
    assert.ok(["wasm", "tensorflow"].includes(e.auto), `${w} auto ${e.auto}`);
    if (typeof j.pytorch === "object") {
      assert.ok(e.pytorch.median_s > 0 && e.ratio_best > 0, `pytorch ${w}`);
      // auto may name a backend not measured in this run (tensorflow where tfjs-node loads): n/a
      const auto = e.ours[e.auto] ? `${e.ratio_auto.toFixed(2)}×` : "n/a";
      assert.match(r.stdout, new RegExp(`\\| ${w}: .* \\| ${e.auto} \\| ${auto} \\|`));
    }
  }
  assert.ok(j.workloads.lenet_lbfgs_attack.ours.wasm.runs[0].evals > 0, "L-BFGS counts its evaluations");
  assert.ok(j.study_grid.size === "tiny" && j.study_grid.s > 0, "the study grid's wall time");
  assert.match(r.stdout, /\| study_grid: 2 tiny sweep jobs, wall time \| [0-9.]+ m?s \| \| \| \| \|/);
  assert.match(r.stdout, /\| workload \| wasm \| PyTorch \| auto \| auto \/ PyTorch \| best \/ PyTorch \|/);
});
