/**
 * scripts/rerun_check.py: a re-run equal to the committed file to the last digit passes (exit 0);
 * a number moved in its last digit, a flipped verdict or a row missing from the committed file
 * fails (exit 1, the field named); timings and versions are not compared; bad input exits 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const script = resolve(__dirname, "../../../scripts/rerun_check.py");
const dir = mkdtempSync(join(tmpdir(), "rerun-check-"));
let n = 0;
function file(x: unknown): string {
  const p = join(dir, `${n++}.json`);
  writeFileSync(p, JSON.stringify(x));
  return p;
}
const check = (a: unknown, b: unknown) => spawnSync("python3", [script, file(a), file(b)], { encoding: "utf8" });

const record = { key: "s0.9-r0-adaptive-seed1", kind: "attack", psnr: 18.398632744788234, recovered: true, history: [], seconds: 7.4, versions: { commit: "a" } };
const rerun = { ...record, seconds: 3.1, versions: { commit: "b" }, attackSeconds: 3, backend: "wasm" };

test("federated records: equal but for timings and versions → exit 0; the envelope's extra fields are listed, not counted", () => {
  const r = check([record, { ...record, key: "other" }], [rerun]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /s0\.9-r0-adaptive-seed1: 5 fields equal, 0 differ; only re-run: \['backend'\]/);
});

test("a PSNR moved in its last digit, or a verdict flipped, fails and names the field", () => {
  const moved = check([record], [{ ...rerun, psnr: 18.398632744788237 }]);
  assert.equal(moved.status, 1);
  assert.match(moved.stdout, /psnr: committed 18\.398632744788234, re-run 18\.398632744788237/);
  const flipped = check([record], [{ ...rerun, recovered: 1 }]);
  assert.equal(flipped.status, 1, "true and 1 are not the same verdict");
  const missing = check([record], [{ ...rerun, key: "s0.9-r0-adaptive-seed2" }]);
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /not in the committed file/);
});

test("summary rows match on the fields both have; anchor rows by defense, their runs included", () => {
  const row = { sparsity: 0.9, attack: "adaptive", variant: "seed", psnr: 14.65950370131603, testAccuracy: 0.8945 };
  const old = { rows: [{ ...row, sparsity: 0.5 }, row] };
  assert.equal(check(old, { rows: [{ ...row, defense: "dgc:0.9", settings: "2000 it, 2 ep" }] }).status, 0);
  const acc = check(old, { rows: [{ ...row, testAccuracy: 0.8833 }] });
  assert.equal(acc.status, 1);
  assert.match(acc.stdout, /testAccuracy: committed 0\.8945, re-run 0\.8833/);
  const anchor = { backend: "wasm", steps: 30, seconds: 100, rows: [{ defense: "none", psnr: 74.1, runs: [{ seed: 1, psnr: 74.1, seconds: 1 }] }] };
  assert.equal(check(anchor, { ...anchor, seconds: 5 }).status, 0);
  const run = check(anchor, { ...anchor, rows: [{ defense: "none", psnr: 74.1, runs: [{ seed: 1, psnr: 74.2, seconds: 1 }] }] });
  assert.equal(run.status, 1);
  assert.match(run.stdout, /runs\[0\]\.psnr/);
});

test("bad input: one line, exit 2", () => {
  const none = spawnSync("python3", [script], { encoding: "utf8" });
  assert.equal(none.status, 2);
  assert.equal(none.stderr.trim().split("\n").length, 1);
  const missing = spawnSync("python3", [script, join(dir, "absent.json"), join(dir, "absent2.json")], { encoding: "utf8" });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^rerun_check: error: .*absent\.json/);
  const unknown = check({ rows: [] }, [record]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /cannot tell how to match/);
});
