/**
 * The notebooks as users meet them, every notebooks/*.ipynb found at run time (so new notebooks
 * are covered without touching this file), each with the small parameters it declares in its
 * metadata (`"ci_parameters": {"attack_epoch": "300"}`):
 * - executed headless through the report pipeline (one executor, kernels warmed ahead), with no
 *   error output, at least one Plotly plot (JSON object + HTML form) and one image each;
 * - the report's contract: quotes stripped, every parameter of every notebook checked before any
 *   kernel starts (< 2 s, nothing written), a failing cell written beside exit 1, late errors and
 *   unhandled rejections fail the run, files 0644, SIGTERM stops the kernel and leaves nothing;
 * - in JupyterLab (headless Chromium): "Run All" on every notebook, no error output, plots and
 *   images present, a screenshot of each; and a long cell shows the kernel busy, a progress bar,
 *   and stops on Interrupt with one line while the kernel stays usable.
 * Needs `npm run setup:jupyter` and `npm run setup:browser` (`npm run setup` runs both); without
 * them these tests are skipped, saying why.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import sharp from "sharp";
import { chromium, type Browser, type Page } from "playwright-core";
import { injectParameters, prepare, runReports, type ReportResult } from "../../scripts/report";
import { alive, descendants } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const JUPYTER = join(ROOT, ".venv", "bin", "jupyter");
const KERNEL = join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json");
const CHROMIUM = "/usr/bin/chromium";
const noJupyter = existsSync(JUPYTER) && existsSync(KERNEL) ? false : "needs .venv with Jupyter and the tslab kernel (npm run setup:jupyter)";
const noBrowser = noJupyter || (existsSync(CHROMIUM) ? false : "needs Debian's chromium (npm run setup:browser)");
const REPORT = join(ROOT, "dist", "scripts", "report.js");
const SHOTS = join(ROOT, "reports", "screenshots");
const out = mkdtempSync(join(tmpdir(), "reports-"));
// page functions run in the browser; this project compiles without the DOM library
declare const document: { querySelector(s: string): { getAttribute(a: string): string | null } | null; querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }> };

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[]; name?: string; ename?: string };
type Nb = { cells: { cell_type: string; source: string | string[]; outputs?: Output[]; metadata: { tags?: string[] } }[]; metadata: { ci_parameters?: Record<string, string>; ci_interrupt_parameters?: Record<string, string> } };
const readNb = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Nb;
const outputs = (file: string) => readNb(file).cells.flatMap((c) => c.outputs ?? []);
const textOf = (o: Output) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? ""));
const markdownOf = (file: string) => outputs(file).map((o) => String(o.data?.["text/markdown"] ?? "")).join("\n");

const NOTEBOOKS = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(ROOT, "notebooks", f));
const ciParams = (path: string) => readNb(path).metadata.ci_parameters ?? {};
/** Code cells tagged `long` (they run in the background worker: a bar, and Interrupt stops them), by index among the code cells. */
const longCells = (nb: Nb) => nb.cells.filter((c) => c.cell_type === "code").flatMap((c, i) => (c.metadata.tags?.includes("long") ? [i] : []));
const withCi = (path: string) => ({ path, nb: injectParameters(readNb(path) as never, ciParams(path), path) as unknown as Nb });

let executed: Promise<ReportResult[]> | undefined;
const executeAll = () => (executed ??= runReports(NOTEBOOKS.map(withCi) as never, out));

for (const path of NOTEBOOKS) {
  const name = basename(path, ".ipynb");
  test(`${name} executes headless with its CI parameters: no errors, its plots and images present`, { skip: noJupyter, timeout: 600000 }, async () => {
    const r = (await executeAll()).find((x) => x.notebook === path)!;
    assert.ok(r.ok, r.error ?? "");
    const outs = outputs(r.ipynb);
    assert.equal(outs.filter((o) => o.output_type === "error").length, 0);
    assert.ok(!outs.some((o) => o.name === "stderr" && /Error/.test(textOf(o))), "an error on stderr");
    const source = readNb(path).cells.map((c) => [c.source].flat().join("")).join("\n");
    if (/showPlot\(/.test(source)) {
      const plot = outs.find((o) => o.data?.["application/vnd.plotly.v1+json"]);
      assert.ok(plot, "no plotly output");
      assert.equal(typeof plot.data!["application/vnd.plotly.v1+json"], "object", "the plotly output must be a JSON object");
      assert.match(String(plot.data!["text/html"]), /Plotly\.newPlot/);
    }
    if (/showPng\(/.test(source)) assert.ok(outs.some((o) => o.data?.["image/png"]), "no image");
    assert.ok(outs.some((o) => o.data?.["image/png"] || o.data?.["application/vnd.plotly.v1+json"]), "no figure at all");
    assert.equal(statSync(r.html).mode & 0o777, 0o644 & ~process.umask());
  });
}

test("Example 1 with its own parameters compares with the seed; a changed flag says what changed instead", { skip: noJupyter, timeout: 600000 }, async () => {
  const e1 = (await executeAll()).find((x) => basename(x.notebook) === "example1_dlg_vs_dgc.ipynb")!;
  // the CI run changed attack_epoch, so the seed's numbers must not be shown as a comparison
  assert.match(markdownOf(e1.ipynb), /not the seed's Example 1: it changed `attack_epoch` 300 \(seed: 2000\)/);
  assert.ok(!outputs(e1.ipynb).some((o) => /seed \(iteration 1900\)/.test(String(o.data?.["text/html"] ?? ""))));
});

test("--param sparsity=0.95 shows the 'sent nothing' call-out; model=\"lenet\" (quoted) runs and says the attack did not converge", { skip: noJupyter, timeout: 600000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rep-callouts-"));
  const e1 = join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb");
  const s95 = spawnSync(process.execPath, [REPORT, e1, "--param", "sparsity=0.95", "--param", "attack_epoch=200", "--out", join(dir, "s95")], { encoding: "utf8" });
  assert.equal(s95.status, 0, s95.stderr);
  const md = markdownOf(join(dir, "s95", "example1_dlg_vs_dgc.ipynb"));
  assert.match(md, /The step sent nothing — silence, not protection\.\*\* The client sent 0 of 7850 values/);
  assert.match(md, /did not converge to the victim/);
  const lenet = spawnSync(process.execPath, [REPORT, e1, "--param", 'model="lenet"', "--param", "attack_epoch=100", "--param", "return_epoch=50", "--out", join(dir, "lenet")], { encoding: "utf8" });
  assert.equal(lenet.status, 0, lenet.stderr);
  const mdl = markdownOf(join(dir, "lenet", "example1_dlg_vs_dgc.ipynb"));
  assert.match(mdl, /the DLG paper's LeNet/);
  assert.match(mdl, /did not converge to the victim/);
  // the README's headline, from the notebook's own parameters: the DGC-aware attacker recovers the victim at 0.9
  const adaptive = spawnSync(process.execPath, [REPORT, e1, "--param", "sparsity=0.9", "--param", 'attack_method="adaptive"', "--param", "attack_epoch=200", "--out", join(dir, "adaptive")], { encoding: "utf8" });
  assert.equal(adaptive.status, 0, adaptive.stderr);
  const mda = markdownOf(join(dir, "adaptive", "example1_dlg_vs_dgc.ipynb"));
  assert.match(mda, /the DGC-aware adaptive attack \(Adam, lr 0\.1\)/);
  assert.match(mda, /\*\*Recovered\*\*: final PSNR \d+\.\d+ dB/);
});

test("parameters: one level of quotes stripped; a bad name or value anywhere fails in < 2 s, exit 2, before anything is written", { skip: noJupyter }, () => {
  const e1 = JSON.parse(readFileSync(join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb"), "utf8"));
  for (const v of ['"lenet"', "'lenet'", "lenet"]) {
    const cell = injectParameters(e1, { model: v }).cells.find((c) => c.metadata.tags?.includes("injected-parameters"))!;
    assert.match([cell.source].flat().join(""), /const model: "linear" \| "lenet" = "lenet";/);
  }
  const cases: [string[], RegExp][] = [
    [["notebooks/example1_dlg_vs_dgc.ipynb", "--param", "attack_epochs=3"], /unknown parameter 'attack_epochs' \(this notebook's parameters: use_dgc, train_lr, .*attack_epoch/],
    [["notebooks/example1_dlg_vs_dgc.ipynb", "--param", "attack_epoch=many"], /attack_epoch=many: expected a number/],
    [["notebooks/example1_dlg_vs_dgc.ipynb", "--param", "model=resnet"], /model=resnet: expected "linear" or "lenet"/],
    [["notebooks/example1_dlg_vs_dgc.ipynb", "--param", "sparsity=1.5"], /example1_dlg_vs_dgc\.ipynb: parameter sparsity must be in \[0, 1\), got 1\.5/],
    [["--all", "--param", "train_epoch=-1"], /example3_momentum_training\.ipynb: parameter train_epoch must be an integer >= 0/],
    [["--all", "--param", "no_such=1"], /unknown parameter 'no_such': none of the notebooks declares it/],
  ];
  for (const [args, why] of cases) {
    const dir = join(mkdtempSync(join(tmpdir(), "rep-bad-")), "out");
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [REPORT, ...args, "--out", dir], { encoding: "utf8", cwd: ROOT });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    assert.ok(seconds < 2, `${args.join(" ")} took ${seconds.toFixed(2)} s`);
    assert.ok(!existsSync(dir), "nothing written");
  }
});

test("a failing cell: exit 1 naming the cell, and the executed notebook is written with the error in place (0644)", { skip: noJupyter, timeout: 120000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "rep-fail-"));
  const fail = spawnSync(process.execPath, [REPORT, join(ROOT, "test", "fixtures", "failing.ipynb"), "--out", dir], { encoding: "utf8" });
  assert.equal(fail.status, 1, fail.stdout + fail.stderr);
  assert.match(fail.stderr, /cell 2 \('throw new Error\("boom at n = " \+ n\);'\) failed: .*boom at n = 3; the executed notebook with the error: /);
  const nb = readNb(join(dir, "failing.ipynb"));
  assert.match(JSON.stringify(nb.cells[2].outputs), /boom at n = 3/);
  assert.equal(nb.cells[3].outputs?.length ?? 0, 0, "cells after the failure do not run");
  for (const f of ["failing.ipynb", "failing.html"]) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o644 & ~process.umask());
});

test("an error thrown by a timer, or a rejection nobody handles, after its cell returned fails the run", { skip: noJupyter, timeout: 120000 }, async () => {
  const fixture = join(ROOT, "test", "fixtures", "late_error.ipynb");
  for (const [mode, why] of [["timer", /uncaught exception: Error: late boom from a timer/], ["rejection", /unhandled rejection: Error: late boom from a promise/]] as const) {
    const dir = mkdtempSync(join(tmpdir(), "rep-late-"));
    const [r] = await runReports(prepare([fixture], { mode }), dir);
    assert.equal(r.ok, false, mode);
    assert.match(r.error ?? "", why);
    assert.match(JSON.stringify(readNb(r.ipynb).cells.map((c) => c.outputs ?? [])), /LateError/);
  }
});


test("SIGTERM during a run stops the kernel and leaves no files (exit 143)", { skip: noJupyter, timeout: 120000 }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "rep-term-")), "out");
  const child = spawn(process.execPath, [REPORT, join(ROOT, "notebooks", "example1_dlg_vs_dgc.ipynb"), "--param", "model=lenet", "--out", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  // wait until the kernel (a node process under the executor) is up, then give it a moment to run cells
  let below: number[] = [];
  for (let i = 0; i < 120 && !below.some((p) => /tslab/.test(readFileSync(`/proc/${p}/cmdline`, "utf8"))); i++) {
    await new Promise((r) => setTimeout(r, 250));
    below = descendants(child.pid!).filter(alive);
  }
  await new Promise((r) => setTimeout(r, 4000));
  below = descendants(child.pid!);
  const code = await new Promise<number | null>((res) => {
    child.on("close", (c) => res(c));
    child.kill("SIGTERM");
  });
  assert.equal(code, 143, stderr);
  assert.match(stderr, /stopped by SIGTERM; kernels shut down/);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(below.filter(alive), [], "processes left behind");
  assert.ok(!existsSync(dir), "files left behind");
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

test("every exported HTML report renders its plots offline (screenshots in reports/screenshots)", { skip: noBrowser, timeout: 600000 }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const r of await executeAll()) {
    const page = await (await launch()).newPage({ viewport: { width: 1200, height: 1000 } });
    await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort())); // offline
    await page.goto(`file://${r.html}`);
    const source = readNb(r.notebook).cells.map((c) => [c.source].flat().join("")).join("\n");
    if (/showPlot\(/.test(source)) await page.waitForSelector(".js-plotly-plot .main-svg", { state: "attached", timeout: 20000 });
    else assert.ok((await page.locator("img").count()) >= 1, `${r.html}: no figure`);
    const shot = join(SHOTS, `${basename(r.notebook, ".ipynb")}_report.png`);
    await page.screenshot({ path: shot, fullPage: true });
    const { channels } = await sharp(shot).stats();
    assert.ok(channels[0].stdev > 20, `${shot} looks blank`);
    await page.close();
  }
});

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

/** JupyterLab on a scratch folder holding `files` (name → notebook), beside a link to dist/. */
async function startLab(files: Record<string, unknown>): Promise<{ base: string; token: string }> {
  const dir = mkdtempSync(join(tmpdir(), "lab-"));
  mkdirSync(join(dir, "notebooks"));
  for (const [name, nb] of Object.entries(files)) writeFileSync(join(dir, "notebooks", name), JSON.stringify(nb));
  symlinkSync(join(ROOT, "dist"), join(dir, "dist"));
  symlinkSync(join(ROOT, "docs"), join(dir, "docs")); // the study reads ../docs/sweep-summary.json
  const port = await freePort();
  const token = `t${Date.now()}`;
  lab = spawn(JUPYTER, ["lab", "--allow-root", "--no-browser", `--ServerApp.token=${token}`, "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`,
    `--notebook-dir=${join(dir, "notebooks")}`,
    // as scripts/lab.sh: its configuration (only tslab is offered and starts, and it is the default)
    `--config=${join(ROOT, "scripts", "jupyter_lab_config.py")}`], {
    env: { ...process.env, JUPYTER_PATH: join(ROOT, ".venv", "share", "jupyter") },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (await fetch(`${base}/api/status?token=${token}`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { base, token };
}

/** Opens a notebook in a fresh workspace and waits for its kernel to be idle. */
async function openNotebook(base: string, token: string, name: string): Promise<Page> {
  const page = await (await launch()).newPage({ viewport: { width: 1400, height: 8000 } }); // tall: JupyterLab renders lazily
  await page.goto(`${base}/lab/workspaces/w${Date.now()}/tree/${name}?reset&token=${token}`);
  await page.waitForSelector(".jp-NotebookPanel .jp-Cell", { timeout: 60000 });
  // the kernel (tslab compiles on start) must be up before "Run All": ask the server, not the page
  for (let i = 0; i < 240; i++) {
    const sessions = (await fetch(`${base}/api/sessions?token=${token}`).then((r) => r.json(), () => [])) as { path?: string; kernel?: { execution_state?: string } }[];
    if (sessions.some((x) => x.path?.endsWith(name) && x.kernel?.execution_state === "idle")) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 120000 });
  assert.equal(await page.locator(".jp-Dialog").count(), 0, "a dialog (e.g. Select Kernel) is open");
  return page;
}

async function menu(page: Page, top: string, item: string) {
  await page.click(`.lm-MenuBar-itemLabel:text("${top}")`);
  await page.click(`.lm-Menu-itemLabel:text-is("${item}")`);
}

const runAll: string[] = [];
after(() => {
  if (runAll.length) console.log(`Run All in JupyterLab with the CI parameters (kernel already idle): ${runAll.join("; ")}`);
});

test("JupyterLab: Run All on every notebook — no error output, its plots and images present, the TypeScript kernel only", { skip: noBrowser, timeout: 900000 }, async () => {
  const files = Object.fromEntries(NOTEBOOKS.map((p) => [basename(p), withCi(p).nb]));
  const { base, token } = await startLab(files);
  const specs = (await fetch(`${base}/api/kernelspecs?token=${token}`).then((r) => r.json())) as { default: string; kernelspecs: Record<string, unknown> };
  assert.deepEqual(Object.keys(specs.kernelspecs), ["tslab"]);
  mkdirSync(SHOTS, { recursive: true });
  for (const name of Object.keys(files)) {
    const page = await openNotebook(base, token, name);
    const t0 = performance.now();
    await menu(page, "Run", "Run All Cells");
    const code = (files[name] as Nb).cells.filter((c) => c.cell_type === "code").length;
    try {
      // nothing queued or running ([*]) any more; tslab reports idle between queued cells, so the
      // indicator alone does not say the run is over (see the next test)
      await page.waitForFunction((n) => {
        const prompts = [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")].map((p) => p.textContent ?? "");
        const idle = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
        return prompts.length === n && !prompts.some((t) => t.includes("*")) && idle !== null;
      }, code, { timeout: 300000, polling: 500 });
      const prompts = await page.locator(".jp-CodeCell .jp-InputPrompt").allTextContents();
      assert.ok(prompts.every((t) => /\[\d+\]/.test(t)), `${name}: cells not run: ${prompts.join(" ")}`);
      runAll.push(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      await page.screenshot({ path: join(SHOTS, `jupyterlab_failure_${basename(name, ".ipynb")}.png`), clip: { x: 0, y: 0, width: 1400, height: 3000 } });
      throw e;
    }
    const errors = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allTextContents();
    assert.deepEqual(errors.filter((t) => /Error|Interrupted/.test(t)), [], `${name}: error output`);
    assert.equal(await page.locator(".jp-OutputArea-output .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count(), 0);
    const source = (files[name] as Nb).cells.map((c) => [c.source].flat().join("")).join("\n");
    if (/showPlot\(/.test(source)) await page.waitForSelector(".jp-Notebook .js-plotly-plot .main-svg", { state: "attached", timeout: 60000 });
    if (/showPng\(/.test(source)) assert.ok((await page.locator(".jp-OutputArea-output img").count()) >= 1, `${name}: images`);
    // every long cell ran in the background worker and shows its (finished) bar
    const cells = page.locator(".jp-Notebook .jp-CodeCell");
    for (const i of longCells(files[name] as Nb)) {
      await cells.nth(i).scrollIntoViewIfNeeded();
      assert.equal(await cells.nth(i).locator(".dgc-progress progress").count() >= 1, true, `${name}: long cell ${i} shows no progress bar`);
    }
    // the whole notebook at 1400 px, in viewport-high slices (the panel scrolls inside the page)
    const stem = basename(name, ".ipynb");
    const scroller = ".jp-NotebookPanel .jp-WindowedPanel-outer";
    const height = Number(await page.evaluate(`document.querySelector(${JSON.stringify(scroller)})?.scrollHeight ?? 0`));
    // slices 7600 px apart (the panel shows ~7900 px) until one reaches the end: no blank slice past it
    for (let k = 0, top = 0; k === 0 || top - 7600 + 7900 < height; k++, top += 7600) {
      await page.evaluate(`document.querySelector(${JSON.stringify(scroller)}).scrollTop = ${top}`);
      await page.waitForTimeout(300);
      const shot = join(SHOTS, `jupyterlab_${stem}_${k + 1}.png`);
      await page.screenshot({ path: shot });
      if (k === 0) assert.ok((await sharp(shot).stats()).channels[0].stdev > 20, `${shot} looks blank`);
    }
    await page.close();
  }
});

test("JupyterLab: every long cell of every notebook shows a moving bar and stops on Interrupt within 2 s, with one line; busy while a cell runs alone", { skip: noBrowser, timeout: 900000 }, async () => {
  // each notebook with its ci_interrupt_parameters: its long cells would run for minutes
  const files = Object.fromEntries(NOTEBOOKS.map((p) => [basename(p), injectParameters(readNb(p) as never, readNb(p).metadata.ci_interrupt_parameters ?? {}, p) as unknown as Nb]));
  lab?.kill("SIGTERM");
  const { base, token } = await startLab(files);
  const times: string[] = [];
  for (const [name, nb] of Object.entries(files)) {
    const long = longCells(nb);
    assert.ok(long.length >= 1, `${name}: no cell tagged "long"`);
    const page = await openNotebook(base, token, name);
    const cells = page.locator(".jp-Notebook .jp-CodeCell");
    try {
      for (const [k, i] of long.entries()) {
        const cell = cells.nth(i);
        if (k === 0) await menu(page, "Run", "Run All Cells");
        else {
          await new Promise((r) => setTimeout(r, 1500)); // tslab aborts whatever arrives within 200 ms of a failed cell
          await cell.locator(".jp-InputPrompt").click();
          await menu(page, "Run", "Run Selected Cell and All Below");
        }
        await cell.scrollIntoViewIfNeeded();
        const bar = cell.locator(".dgc-progress");
        await bar.waitFor({ state: "attached", timeout: 180000 });
        assert.match((await cell.locator(".jp-InputPrompt").textContent()) ?? "", /\*/, `${name}: cell ${i} is not running`);
        // the worker is computing: the bar has left 0 (a gallery's bar counts whole attacks: give it 3 s)
        const value = async () => Number(await bar.locator("progress").getAttribute("value"));
        if (/defense|attacks/.test((await bar.textContent()) ?? "")) await page.waitForTimeout(3000);
        else for (let t = 0; t < 240 && (await value()) === 0; t++) await page.waitForTimeout(250);
        if (name.startsWith("example1") && k === 0) {
          // a bar that moves, with rate and ETA
          const v1 = await value();
          for (let t = 0; t < 40 && (await value()) <= v1; t++) await page.waitForTimeout(250);
          assert.ok((await value()) > v1, `${name}: the bar did not move`);
          assert.match((await bar.textContent()) ?? "", /ETA/);
        }
        const t0 = performance.now();
        await menu(page, "Kernel", "Interrupt Kernel");
        const line = cell.locator('.jp-OutputArea-output:has-text("Interrupted: ")');
        await line.first().waitFor({ state: "attached", timeout: 30000 });
        const ms = performance.now() - t0;
        times.push(`${name} cell ${i}: ${ms.toFixed(0)} ms`);
        const text = ((await line.last().textContent()) ?? "").trim();
        assert.match(text, /^\[?Interrupted: [^\n]+; the background computation was stopped, the kernel is ready\]?$/, `${name} cell ${i}: ${text}`);
        assert.ok(!/Interrupted asynchronously/.test((await page.locator(".jp-Notebook").textContent()) ?? ""), `${name}: tslab's own interrupt trace`);
        assert.ok(ms < 2000, `${name} cell ${i}: Interrupt took ${ms.toFixed(0)} ms`);
        await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 30000 });
      }
      if (name.startsWith("example1")) {
        // the same cell alone (Shift+Enter): the kernel is busy while it works (under Run All tslab
        // reports idle between its queued requests), and Interrupt stops it again
        await new Promise((r) => setTimeout(r, 1500));
        const cell = cells.nth(long[0]);
        await cell.locator(".jp-InputPrompt").click();
        await page.keyboard.press("Shift+Enter");
        await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="busy"]', { timeout: 30000 });
        await cell.locator(".dgc-progress").waitFor({ state: "attached", timeout: 60000 });
        await page.waitForTimeout(1500);
        assert.equal(await page.locator('.jp-Notebook-ExecutionIndicator[data-status="busy"]').count(), 1, "busy while the attack runs");
        await menu(page, "Kernel", "Interrupt Kernel");
        await page.waitForSelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', { timeout: 30000 });
        await page.screenshot({ path: join(SHOTS, "jupyterlab_interrupt.png"), clip: { x: 0, y: 0, width: 1400, height: 2500 } });
      }
    } catch (e) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `jupyterlab_interrupt_failure_${basename(name, ".ipynb")}.png`), clip: { x: 0, y: 0, width: 1400, height: 3000 } });
      throw e;
    }
    // free the kernel (and its worker) before the next notebook
    const sessions = (await fetch(`${base}/api/sessions?token=${token}`).then((r) => r.json())) as { id: string; path: string }[];
    for (const x of sessions.filter((x) => x.path.endsWith(name))) await fetch(`${base}/api/sessions/${x.id}?token=${token}`, { method: "DELETE" });
    await page.close();
  }
  console.log(`Interrupt → "Interrupted:" line: ${times.join("; ")}`);
});
