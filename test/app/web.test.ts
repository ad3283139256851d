/**
 * The browser lab (web/, issue 25) in a real browser: Debian's Chromium through playwright-core,
 * offline (every request that does not go to the local server is aborted and reported). Builds the
 * site into a temporary folder with web/build.mjs, serves it on 127.0.0.1 (web/serve.cjs), and checks:
 * it loads with no request leaving 127.0.0.1 and no console error; a stroke drawn with the mouse
 * becomes the target; Run (from the keyboard) → PSNR lines appear; Stop stops within a second; the
 * seed's Example 2 DLG on WASM reaches the CLI's final PSNR within 0.1 dB; the page reads at 375 px.
 * Screenshots at 1280 and 375 px: reports/screenshots/web-1280.png, web-375.png.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = resolve(__dirname, "../../..");
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "reports", "screenshots");
const noBrowser = existsSync(CHROMIUM) ? false : "needs Debian's chromium (npm run setup:browser)";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { serve } = require(join(ROOT, "web", "serve.cjs")) as { serve: (dir: string, port?: number) => Promise<Server> };

/** The seed's Example 2: dgc_demo --dlg_attack True --use_dgc False --train_lr 0.01 --seed 1 (on wasm). */
const EXAMPLE2 = "?model=linear&defense=none&attack=dlg&iterations=2000&every=100&seed=1&train_lr=0.01&backend=wasm&image=victim";

// page-side code as strings: the project's tsconfig has no DOM types
const IDLE = `document.body.dataset.state === "idle"`;

let dir = "";
let server: Server | undefined;
let base = "";
let browser: Browser | undefined;
const offsite: string[] = [];
const errors: string[] = [];

before(async () => {
  if (noBrowser) return;
  dir = mkdtempSync(join(tmpdir(), "web-test-"));
  const b = spawnSync(process.execPath, [join(ROOT, "web", "build.mjs"), join(dir, "site")], { cwd: ROOT, encoding: "utf8" });
  assert.equal(b.status, 0, `web/build.mjs failed:\n${b.stdout}${b.stderr}`);
  server = await serve(join(dir, "site"));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(query = "", width = 1280): Promise<Page> {
  // routes on the context see the worker's requests (the wasm binary) as well as the page's
  const context = await browser!.newContext({ viewport: { width, height: 900 } });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    // a request still in flight when the page or browser closes rejects: not a failure of the page
    if (url.startsWith(base)) return route.continue().catch(() => undefined);
    offsite.push(url);
    return route.abort().catch(() => undefined);
  });
  const page = await context.newPage();
  page.on("close", () => void context.close().catch(() => undefined));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  // the worker's uncaught errors surface on the page as console errors
  await page.goto(base + query);
  await page.waitForFunction(IDLE, null, { timeout: 30000 });
  return page;
}

const waitIdle = (page: Page, timeout = 120000) => page.waitForFunction(IDLE, null, { timeout });

test("web: loads offline from 127.0.0.1, first paint measured; every control has a label", { skip: noBrowser, timeout: 60000 }, async (t) => {
  const page = await open();
  const fcp = (await page.evaluate(`performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN`)) as number;
  t.diagnostic(`first contentful paint ${fcp.toFixed(0)} ms from the local server`);
  assert.ok(fcp < 2000, `first paint took ${fcp} ms`);
  assert.match((await page.textContent("#status")) ?? "", /Ready/);
  const unlabelled = await page.evaluate(`[...document.querySelectorAll("input, select, button, canvas")]
    .filter((e) => !(e.labels?.length || e.getAttribute("aria-label") || (e.tagName === "BUTTON" && e.textContent.trim())))
    .map((e) => e.id)`);
  assert.deepEqual(unlabelled, []);
  await page.close();
  assert.deepEqual(offsite, [], "requests left 127.0.0.1");
  assert.deepEqual(errors, []);
});

test("web: a mouse stroke becomes the target; Run from the keyboard → PSNR lines; Stop stops within a second", { skip: noBrowser, timeout: 60000 }, async () => {
  const page = await open("?iterations=100000&every=20&backend=wasm");
  await page.click("#clear");
  assert.equal(await page.getAttribute("#target", "data-ink"), "0");
  const box = (await page.locator("#pad").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * (0.5 - 0.01 * i), box.y + box.height * (0.2 + 0.05 * i));
  await page.mouse.up();
  const ink = Number(await page.getAttribute("#target", "data-ink"));
  assert.ok(ink > 20, `the stroke inked ${ink} of the target's pixels`);
  assert.match(page.url(), /image=draw/);
  assert.match(page.url(), /drawing=[A-Za-z0-9_-]{100,}/);
  // Run from the keyboard
  await page.focus("#run");
  await page.keyboard.press("Enter");
  await page.waitForFunction(`document.querySelectorAll("#log li").length >= 3`, null, { timeout: 30000 });
  assert.match((await page.textContent("#log li")) ?? "", /^Attack Iteration 0: data_psnr = -?\d+\.\d+, data_ssim/);
  assert.match((await page.textContent("#r-psnr")) ?? "", /dB$/);
  // Stop: the worker is gone, the page idle, and the iteration count frozen
  const t0 = Date.now();
  await page.click("#stop");
  await waitIdle(page, 1000);
  assert.ok(Date.now() - t0 < 1000, `Stop took ${Date.now() - t0} ms`);
  const it = await page.textContent("#r-it");
  const lines = await page.locator("#log li").count();
  await page.waitForTimeout(700);
  assert.equal(await page.textContent("#r-it"), it);
  assert.equal(await page.locator("#log li").count(), lines);
  assert.match((await page.textContent("#status")) ?? "", /^Stopped at iteration \d+/);
  assert.equal(await page.isEnabled("#run"), true);
  assert.equal(await page.isDisabled("#stop"), true);
  await page.close();
  assert.deepEqual(offsite, [], "requests left 127.0.0.1");
  assert.deepEqual(errors, []);
});

test("web: the seed's Example 2 DLG (WASM) reaches the CLI's final PSNR within 0.1 dB", { skip: noBrowser, timeout: 90000 }, async (t) => {
  const out = join(dir, "att");
  const cli = spawnSync(process.execPath, [join(ROOT, "dist", "cli", "dgc_demo.js"), "--dlg_attack", "True", "--use_dgc", "False", "--train_lr", "0.01", "--seed", "1", "--backend", "wasm", "--result_dir", out], { cwd: ROOT, encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  // the CLI's final reading: its marked "Final iteration N (…)" line when return_epoch does not land on the last iteration
  const lines = [...cli.stdout.matchAll(/(?:Attack Iteration|Final iteration) (\d+)[^:]*: .*data_psnr = ([-\d.e+]+)/g)];
  const [, cliIt, cliPsnr] = lines[lines.length - 1];
  const cliSeconds = Number(/Attack cost time in seconds: ([\d.e+-]+)/.exec(cli.stdout)![1]);
  const page = await open(EXAMPLE2);
  await page.click("#run");
  await waitIdle(page);
  const log = await page.locator("#log li").allTextContents();
  const last = log[log.length - 1];
  assert.match(last, new RegExp(`^Attack Iteration ${cliIt}: `));
  const pagePsnr = Number(await page.getAttribute("#recon", "data-last-snapshot-psnr"));
  const pageSeconds = Number(await page.getAttribute("#recon", "data-seconds"));
  t.diagnostic(`final PSNR at iteration ${cliIt}: CLI ${cliPsnr} dB, page ${pagePsnr} dB; attack time CLI ${cliSeconds.toFixed(2)} s, page ${pageSeconds.toFixed(2)} s (2000 iterations, wasm)`);
  assert.ok(Math.abs(pagePsnr - Number(cliPsnr)) < 0.1, `page ${pagePsnr} dB vs CLI ${cliPsnr} dB`);
  assert.match((await page.textContent("#r-backend")) ?? "", /^wasm$/);
  assert.match((await page.textContent("#verdict")) ?? "", /^Recovered/);
  assert.match((await page.textContent("#sent")) ?? "", /^7,850 of 7,850 gradient values/);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, "web-1280.png"), fullPage: true });
  await page.close();
  assert.deepEqual(offsite, [], "requests left 127.0.0.1");
  assert.deepEqual(errors, []);
});

test("web: reads at 375 px (no sideways scrolling); DGC's silent step says so", { skip: noBrowser, timeout: 60000 }, async () => {
  // DGC at 0.999 keeps 7 of 7,840 weights; the verdict must not call a silent step protection
  const page = await open("?defense=dgc&strength=0.999&iterations=200&every=50&backend=wasm", 375);
  await page.click("#run");
  await waitIdle(page);
  const width = (await page.evaluate("document.documentElement.scrollWidth")) as number;
  assert.ok(width <= 375, `the page is ${width} px wide at 375`);
  const sent = (await page.textContent("#sent")) ?? "";
  assert.match(sent, /^\d+ of 7,850 gradient values/);
  if (sent.startsWith("0 of")) assert.match((await page.textContent("#verdict")) ?? "", /silence, not protection/);
  else assert.match((await page.textContent("#verdict")) ?? "", /^(Recovered|Not recovered)/);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, "web-375.png"), fullPage: true });
  await page.close();
  assert.deepEqual(offsite, [], "requests left 127.0.0.1");
  assert.deepEqual(errors, []);
});
