/** A one-repeat smoke of `npm run bench` at tiny sizes (the real benchmark is not a test). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

test("bench --tiny runs every workload on wasm and cpu, beside PyTorch when the venv has it, and writes JSON", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "bench.json");
  const r = spawnSync(process.execPath, [resolve(__dirname, "../scripts/bench.js"), "--tiny", "--repeats", "1", "--backends", "wasm,cpu", "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, "utf8"));
  const workloads = ["ex3_train", "ex4_train", "ex2_attack", "ex1_attack", "lenet_train_step", "lenet_dlg_iteration"];
  for (const b of ["wasm", "cpu"]) for (const w of workloads) assert.ok(j.ours[b][w].median_s > 0, `${b} ${w}`);
  if (typeof j.pytorch === "object") for (const w of workloads) assert.ok(j.pytorch[w].median_s > 0, `pytorch ${w}`);
  assert.match(r.stdout, /\| workload \| wasm \| cpu \| PyTorch \| best \/ PyTorch \|/);
});
