/**
 * The notebooks as users meet them: executed headless through the report pipeline (reduced sizes:
 * attack_epoch 300, train_epoch 1), exported HTML opened in headless Chromium, and one notebook
 * run cell by cell in JupyterLab. Needs `npm run setup:jupyter` and `npm run setup:browser`
 * (`npm run setup` runs both); without them these tests are skipped, saying why.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { chromium, type Browser } from "playwright-core";
import { report } from "../scripts/report";

const ROOT = resolve(__dirname, "../..");
const JUPYTER = join(ROOT, ".venv", "bin", "jupyter");
const KERNEL = join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json");
const CHROMIUM = "/usr/bin/chromium";
const noJupyter = existsSync(JUPYTER) && existsSync(KERNEL) ? false : "needs .venv with Jupyter and the tslab kernel (npm run setup:jupyter)";
const noBrowser = noJupyter || (existsSync(CHROMIUM) ? false : "needs Debian's chromium (npm run setup:browser)");
const REPORT = join(ROOT, "dist", "scripts", "report.js");
const out = mkdtempSync(join(tmpdir(), "reports-"));

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[]; name?: string };
type Nb = { cells: { cell_type: string; outputs?: Output[]; metadata: { tags?: string[] } }[] };
const outputs = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as Nb).cells.flatMap((c) => c.outputs ?? []);
const textOf = (o: Output) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? ""));

// name, reduced parameters, a line its log must hold, how many images at least
const NOTEBOOKS: [string, Record<string, string>, RegExp, number][] = [
  ["example1_dlg_vs_dgc", { attack_epoch: "300" }, /Attack Iteration 200: data_mse_loss = /, 3],
  ["example2_dlg_vs_momentum", { attack_epoch: "300" }, /Attack Iteration 200: data_mse_loss = /, 3],
  ["example3_momentum_training", { train_epoch: "1" }, /epoch 0, batch id 900, training loss /, 1],
  ["example4_dgc_training", { train_epoch: "1" }, /epoch 0, batch id 900, training loss /, 1],
  ["study_privacy_utility", { gallery_iterations: "50" }, /^/, 1],
  ["dlg_paper_lenet", { attack_epoch: "15", return_epoch: "5", baseline_epoch: "30" }, /^/, 4],
];

for (const [name, params, logLine, images] of NOTEBOOKS) {
  test(`${name} executes headless with no errors, and holds its plot, images and closing table`, { skip: noJupyter }, () => {
    const r = report(join(ROOT, "notebooks", `${name}.ipynb`), params, out);
    const outs = outputs(r.ipynb);
    assert.equal(outs.filter((o) => o.output_type === "error").length, 0);
    assert.ok(!outs.some((o) => o.name === "stderr" && /Error/.test(textOf(o))), "an error on stderr");
    const plot = outs.find((o) => o.data?.["application/vnd.plotly.v1+json"]);
    assert.ok(plot, "no plotly output");
    assert.equal(typeof plot.data!["application/vnd.plotly.v1+json"], "object", "the plotly output must be a JSON object");
    assert.match(String(plot.data!["text/html"]), /Plotly\.newPlot/);
    assert.ok(outs.filter((o) => o.data?.["image/png"]).length >= images, "images");
    const tables = outs.map((o) => String(o.data?.["text/html"] ?? o.data?.["text/markdown"] ?? "")).filter((t) => /<table>|\|---/.test(t));
    assert.ok(tables.some((t) => /seed/.test(t)), "a table setting ours beside the seed's");
    assert.match(outs.map(textOf).join(""), logLine);
  });
}

test("re-running with --param attack_lr=0.1 changes the executed result", { skip: noJupyter }, () => {
  const line = (file: string) => outputs(file).map(textOf).join("").match(/Attack Iteration 200: .*/)![0];
  const base = line(join(out, "example1_dlg_vs_dgc.ipynb"));
  const other = mkdtempSync(join(tmpdir(), "reports-lr-"));
  const r = spawnSync(process.execPath, [REPORT, join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb"), "--param", "attack_epoch=300", "--param", "attack_lr=0.1", "--out", other], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const changed = line(join(other, "example1_dlg_vs_dgc.ipynb"));
  assert.notEqual(changed, base);
  const injected = (JSON.parse(readFileSync(join(other, "example1_dlg_vs_dgc.ipynb"), "utf8")) as Nb).cells.find((c) => c.metadata.tags?.includes("injected-parameters"));
  assert.ok(injected, "no injected-parameters cell");
});

test("a failing cell fails the report with exit 1, naming the cell; unknown parameters exit 2", { skip: noJupyter }, () => {
  const fail = spawnSync(process.execPath, [REPORT, join(ROOT, "test", "fixtures", "failing.ipynb"), "--out", mkdtempSync(join(tmpdir(), "rep-fail-"))], { encoding: "utf8" });
  assert.equal(fail.status, 1, fail.stdout + fail.stderr);
  assert.match(fail.stderr, /cell 2 \('throw new Error\("boom at n = " \+ n\);'\) failed: .*boom at n = 3/);
  const unknown = spawnSync(process.execPath, [REPORT, join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb"), "--param", "attack_epochs=3"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown parameter 'attack_epochs' \(this notebook's parameters: use_dgc, train_lr, .*attack_epoch/);
  const badType = spawnSync(process.execPath, [REPORT, join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb"), "--param", "attack_epoch=many"], { encoding: "utf8" });
  assert.equal(badType.status, 2);
  assert.match(badType.stderr, /attack_epoch=many: expected a number/);
});

let browser: Browser | undefined;
const launch = async () =>
  (browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  }));
let lab: ChildProcess | undefined;
after(async () => {
  await browser?.close();
  lab?.kill("SIGTERM");
});

test("the exported HTML report renders its Plotly plot offline, and its screenshot is not blank", { skip: noBrowser }, async () => {
  const page = await (await launch()).newPage({ viewport: { width: 1200, height: 1000 } });
  await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort())); // offline
  await page.goto(`file://${join(out, "example2_dlg_vs_momentum.html")}`);
  await page.waitForSelector(".js-plotly-plot .main-svg", { state: "attached", timeout: 20000 });
  assert.ok((await page.locator(".js-plotly-plot .scatterlayer .trace").count()) >= 3, "plot traces");
  mkdirSync(join(ROOT, "reports", "screenshots"), { recursive: true });
  const shot = join(ROOT, "reports", "screenshots", "example2_report.png");
  await page.screenshot({ path: shot, fullPage: true });
  const { channels } = await sharp(shot).stats();
  assert.ok(channels[0].stdev > 20, `screenshot looks blank (stdev ${channels[0].stdev})`);
  await page.close();
});

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

test("JupyterLab: open a notebook, run all its cells, see the log, a rendered Plotly plot and the image grid", { skip: noBrowser, timeout: 240000 }, async () => {
  // a scratch copy beside a link to dist/, so the notebook's "../dist/lib" import resolves and the
  // repository's notebook is not touched by JupyterLab's autosave
  const dir = mkdtempSync(join(tmpdir(), "lab-"));
  mkdirSync(join(dir, "notebooks"));
  cpSync(join(ROOT, "notebooks", "example2_dlg_vs_momentum.ipynb"), join(dir, "notebooks", "example2.ipynb"));
  symlinkSync(join(ROOT, "dist"), join(dir, "dist"));
  const port = await freePort();
  const token = `t${Date.now()}`;
  lab = spawn(JUPYTER, ["lab", "--allow-root", "--no-browser", `--ServerApp.token=${token}`, "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`, `--notebook-dir=${join(dir, "notebooks")}`], {
    env: { ...process.env, JUPYTER_PATH: join(ROOT, ".venv", "share", "jupyter") },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 60; i++) {
    const ok = await fetch(`${base}/api/status?token=${token}`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const page = await (await launch()).newPage({ viewport: { width: 1400, height: 8000 } }); // tall: JupyterLab renders lazily
  await page.goto(`${base}/lab/workspaces/w${Date.now()}/tree/example2.ipynb?reset&token=${token}`);
  await page.waitForSelector(".jp-NotebookPanel .jp-Cell", { timeout: 60000 });
  // the kernel (tslab compiles on start) must be up before "Run All": ask the server, not the page
  for (let i = 0; i < 120; i++) {
    const sessions = (await fetch(`${base}/api/sessions?token=${token}`).then((r) => r.json(), () => [])) as { kernel?: { execution_state?: string } }[];
    if (sessions.some((x) => x.kernel?.execution_state === "idle")) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 60000 });
  await page.click('.lm-MenuBar-itemLabel:text("Run")');
  await page.click('.lm-Menu-itemLabel:text("Run All Cells")');
  mkdirSync(join(ROOT, "reports", "screenshots"), { recursive: true });
  await page
    .waitForSelector('.jp-OutputArea-output:has-text("Attack cost time in seconds")', { timeout: 120000 })
    .catch(async (e: Error) => {
      await page.screenshot({ path: join(ROOT, "reports", "screenshots", "jupyterlab_failure.png"), clip: { x: 0, y: 0, width: 1400, height: 2500 } });
      throw e;
    });
  const log = await page.locator(".jp-OutputArea-output", { hasText: "Attack cost time" }).first().textContent();
  assert.match(log ?? "", /Attack Iteration 1900: data_mse_loss = /);
  await page.waitForSelector(".jp-Notebook .js-plotly-plot .main-svg", { state: "attached", timeout: 60000 });
  await page.waitForSelector('.jp-OutputArea-output:has-text("ours (iteration 1900)")', { timeout: 60000 });
  assert.ok((await page.locator(".jp-OutputArea-output img").count()) >= 3, "images (victim, heat maps, grid)");
  const plot = page.locator(".js-plotly-plot").first();
  await plot.scrollIntoViewIfNeeded();
  const box = (await plot.boundingBox())!;
  mkdirSync(join(ROOT, "reports", "screenshots"), { recursive: true });
  const shot = join(ROOT, "reports", "screenshots", "jupyterlab_example2.png");
  await page.screenshot({ path: shot, clip: { x: 0, y: Math.max(0, box.y - 120), width: 1400, height: 900 } });
  const { channels } = await sharp(shot).stats();
  assert.ok(channels[0].stdev > 20, "JupyterLab screenshot looks blank");
  await page.close();
});
