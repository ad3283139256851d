/**
 * notebooks/fedavg_local_steps.ipynb executed headless through the report pipeline, at its CI sizes:
 * the local-steps figure, the live attack, the table and figure against E, with and without DGC.
 * Needs `npm run setup:jupyter`; skipped without it, saying why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { report } from "../../scripts/report";

const ROOT = resolve(__dirname, "../../..");
const NB = join(ROOT, "notebooks", "fedavg_local_steps.ipynb");
const ready = existsSync(join(ROOT, ".venv", "bin", "jupyter")) && existsSync(join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json"));

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[] };

test("fedavg_local_steps executes headless: local steps drawn, the live attack, PSNR against E with and without DGC", { skip: ready ? false : "needs .venv with Jupyter and the tslab kernel (npm run setup:jupyter)", timeout: 600000 }, async () => {
  const params = (JSON.parse(readFileSync(NB, "utf8")) as { metadata: { ci_parameters: Record<string, string> } }).metadata.ci_parameters;
  const r = await report(NB, params, mkdtempSync(join(tmpdir(), "fedavg-nb-")));
  const outs = (JSON.parse(readFileSync(r.ipynb, "utf8")) as { cells: { outputs?: Output[] }[] }).cells.flatMap((c) => c.outputs ?? []);
  assert.equal(outs.filter((o) => o.output_type === "error").length, 0, JSON.stringify(outs.filter((o) => o.output_type === "error")));
  const plots = outs.filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
  assert.equal(plots.length, 2, "the local-steps figure and PSNR against E");
  assert.ok(outs.filter((o) => o.data?.["image/png"]).length >= 3, "the steps' images, the live reconstruction, the grid against E");
  const md = outs.map((o) => String(o.data?.["text/markdown"] ?? "")).join("\n");
  assert.match(md, /FedAvg attacker knows η = 0\.1, μ = 0, E = 2, b = 1, n = 1, loss ce, θ_0/);
  const html = outs.map((o) => String(o.data?.["text/html"] ?? "")).join("");
  // the table: none and dgc:0.9 at E = 1 and 2
  for (const d of ["none", "dgc:0.9"]) assert.match(html, new RegExp(`${d.replace(".", "\\.")}</td><td[^>]*>1</td>`));
  const fig = plots[1].data!["application/vnd.plotly.v1+json"] as { data: { name: string; x: number[] }[] };
  assert.deepEqual(fig.data.map((s) => s.name), ["none", "dgc:0.9"]);
  assert.deepEqual(fig.data[0].x, [1, 2]);
});
