/** A smoke of `npm run bench` at tiny sizes, two alternating rounds (the real benchmark is not a test; no timing is asserted). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

test("bench --tiny runs every workload on wasm, alternating with PyTorch when the venv has it, reports each side's and each ratio's spread and the load, times a tiny study grid, and writes JSON", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "bench.json");
  const r = spawnSync(process.execPath, [resolve(__dirname, "../../scripts/bench.js"), "--tiny", "--pairs", "2", "--max-pairs", "2", "--backends", "wasm", "--grid", "tiny", "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, "utf8"));
  const workloads = ["ex3_train", "ex4_train", "ex2_attack", "ex1_attack", "lenet_train_step", "lenet_dlg_iteration", "fl_round_10", "lenet_lbfgs_attack", "convnet_train_step", "convnet_ig_iteration", "fedavg_e1", "fedavg_e5", "fedavg_e10"];
  assert.deepEqual(Object.keys(j.workloads), workloads);
  for (const w of workloads) {
    const e = j.workloads[w];
    assert.ok(e.ours.wasm.median_s > 0, `wasm ${w}`);
    assert.equal(e.pairs, 2, `${w}: rounds`);
    assert.equal(e.ours.wasm.runs.length, 2, `${w}: one wasm run a round`);
    const sp = e.ours.wasm.spread;
    assert.ok(sp.min <= sp.median && sp.median <= sp.max && sp.median === e.ours.wasm.median_s, `${w}: wasm min/median/max`);
    assert.ok(e.loadavg.length === 2 && e.loadavg.every((l: number[]) => l.length === 3), `${w}: load average before and after`);
    assert.ok(["wasm", "tensorflow"].includes(e.auto), `${w} auto ${e.auto}`);
    if (typeof j.pytorch === "object") {
      assert.ok(e.pytorch.median_s > 0 && e.ratio_best > 0, `pytorch ${w}`);
      assert.equal(e.pytorch.runs.length, 2, `${w}: one PyTorch run a round`);
      const v = e.ours.wasm;
      assert.equal(v.ratios.length, 2, `${w}: a ratio per round`);
      assert.ok(v.ratio_spread.min <= v.ratio && v.ratio <= v.ratio_spread.max, `${w}: ratio min/median/max`);
      assert.ok(Array.isArray(v.wild) && typeof v.settled === "boolean", `${w}: flagged rounds and whether the ratio settled`);
      // auto may name a backend not measured in this run (tensorflow where tfjs-node loads): n/a
      const auto = e.ours[e.auto] ? `${e.ratio_auto.toFixed(2)}×` : "n/a";
      assert.match(r.stdout, new RegExp(`\\| ${w}: .* \\| ${e.auto} \\| ${auto} \\| (n/a|[0-9.]+–[0-9.]+[^|]*) \\| [0-9.]+× \\| 2 \\| [^|]+ \\| [0-9.]+ → [0-9.]+ \\| [^|]+ \\|`));
      if (["ex3_train", "ex4_train", "lenet_train_step"].includes(w)) {
        // the training workloads: CPU time on both sides, and its ratio per round
        assert.ok(v.runs.every((m: { cpu_s: number }) => m.cpu_s > 0) && e.pytorch.runs.every((m: { cpu_s: number }) => m.cpu_s > 0), `${w}: CPU seconds on both sides`);
        assert.equal(v.cpu_ratios.length, 2, `${w}: a CPU-time ratio per round`);
        assert.ok(v.cpu_ratio_spread.min <= v.cpu_ratio && v.cpu_ratio <= v.cpu_ratio_spread.max && typeof v.cpu_settled === "boolean", `${w}: CPU ratio min/median/max`);
        assert.match(r.stdout, new RegExp(`\\| ${w}: .* \\| wasm [0-9.]+ m?s / [0-9.]+ m?s = [0-9.]+× \\([0-9.]+–[0-9.]+\\)[^|]* \\|`), `${w}: the CPU column`);
      } else assert.equal(v.cpu_ratios, undefined, `${w}: no CPU time measured`);
    }
  }
  assert.ok(j.workloads.lenet_lbfgs_attack.ours.wasm.runs[0].evals > 0, "L-BFGS counts its evaluations");
  assert.ok(j.study_grid.size === "tiny" && j.study_grid.s > 0, "the study grid's wall time");
  assert.match(r.stdout, /\| study_grid: 2 tiny sweep jobs, wall time \| [0-9.]+ m?s \| \| \| \| \|/);
  assert.match(r.stdout, /\| workload \| wasm \| PyTorch \| auto \| auto \/ PyTorch \| auto \/ PyTorch, min–max \| best \/ PyTorch \| rounds \| flagged rounds \| load \|/);
  assert.match(r.stdout, /alternating \(2 rounds\).*load average [0-9.]+ → [0-9.]+/);
  assert.ok(j.loadavg.length === 2 && j.pairs.min === 2 && j.pairs.max === 2, "the run's load average and rounds");
});
