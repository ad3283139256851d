/**
 * notebooks/federated_rounds.ipynb executed headless through the report pipeline, at reduced sizes.
 * Needs `npm run setup:jupyter`; skipped without it, saying why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { report } from "../../scripts/report";

const ROOT = resolve(__dirname, "../../..");
const ready = existsSync(join(ROOT, ".venv", "bin", "jupyter")) && existsSync(join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json"));

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[] };

test("federated_rounds executes headless: its plots, image grids and leak table", { skip: ready ? false : "needs .venv with Jupyter and the tslab kernel (npm run setup:jupyter)" }, async () => {
  const params = { clients: "3", rounds: "4", attack_round: "1", history_rounds: "2", history_iterations: "10", leak_rounds: "0,1" };
  const r = await report(join(ROOT, "notebooks", "federated_rounds.ipynb"), params, mkdtempSync(join(tmpdir(), "fl-nb-")));
  const outs = (JSON.parse(readFileSync(r.ipynb, "utf8")) as { cells: { outputs?: Output[] }[] }).cells.flatMap((c) => c.outputs ?? []);
  assert.equal(outs.filter((o) => o.output_type === "error").length, 0);
  assert.equal(outs.filter((o) => o.data?.["application/vnd.plotly.v1+json"]).length, 2, "accuracy/bytes and history plots");
  assert.ok(outs.filter((o) => o.data?.["image/png"]).length >= 2, "image grids");
  const html = outs.map((o) => String(o.data?.["text/html"] ?? "")).join("");
  assert.match(html, /first leak round/);
  assert.match(html, /test accuracy after 4 rounds/);
});
