/** Shared test helpers: backend set-up, closeness checks, and running the CLIs (pipes, /dev/full, a pseudo-terminal). */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { initBackend, tryLoadTfjsNode } from "../lib/core/backend";
import { tf } from "../lib/core/tf";
import type { Rng } from "../lib/core/rng";

/** Tests run on the backend named by TEST_BACKEND (default wasm, the default for Linear). */
export async function useBackend(): Promise<string> {
  return initBackend((process.env.TEST_BACKEND as "wasm" | "cpu" | undefined) ?? "wasm");
}

/**
 * The backends a cross-backend test runs on: wasm and cpu always, tensorflow when tfjs-node loads.
 * A tfjs-node that is installed (`npm run setup` builds it) but does not load fails the test
 * instead of being skipped, so CI cannot silently test wasm twice; one that is not installed
 * (`npm ci` alone, offline) is skipped. Says which ran in the test's output (a TAP diagnostic).
 */
export function backendsHere(t?: TestContext): ("wasm" | "cpu" | "tensorflow")[] {
  const loads = tryLoadTfjsNode();
  let installed = false;
  try {
    require.resolve("@tensorflow/tfjs-node");
    installed = true;
  } catch {
    // not installed: npm dropped the optional package (its download failed) and setup did not build it
  }
  if (installed && !loads) {
    let why = "";
    try {
      require("@tensorflow/tfjs-node");
    } catch (e) {
      why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    }
    assert.fail(`@tensorflow/tfjs-node is installed but does not load (${why}): rebuild it with npm run setup:tfjs-node`);
  }
  const list: ("wasm" | "cpu" | "tensorflow")[] = ["wasm", "cpu", ...(loads ? ["tensorflow" as const] : [])];
  t?.diagnostic(`backends: ${list.join(", ")}${loads ? "" : " (tensorflow: @tensorflow/tfjs-node not installed; npm run setup:tfjs-node)"}`);
  return list;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, msg = ""): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol * Math.max(1, Math.abs(expected[i])), `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
  }
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** The screen a terminal shows after `raw`: \r, \n, ESC[nG, ESC[K / ESC[2K, ESC 7 / ESC 8; other sequences ignored. */
export function screen(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = [0, 0];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\r") col = 0;
    else if (c === "\n") {
      row++;
      lines[row] ??= [];
    } else if (c === "\x1b") {
      if (raw[i + 1] === "7") saved = [row, col];
      else if (raw[i + 1] === "8") [row, col] = saved;
      if (raw[i + 1] !== "[") {
        i++;
        continue;
      }
      const m = /^\[([?\d;]*)([A-Za-z])/.exec(raw.slice(i + 1))!;
      i += m[0].length;
      if (m[2] === "G") col = Number(m[1] || 1) - 1;
      else if (m[2] === "K") lines[row] = m[1] === "2" ? [] : lines[row].slice(0, col);
    } else lines[row][col++] = c;
  }
  return lines.map((l) => Array.from(l, (ch) => ch ?? " ").join("").trimEnd());
}

/** Runs a built CLI (dist/cli/NAME.js) with `args`; stdout piped, or to a file descriptor. */
export function cliRunner(script: string): (args: string[], stdout?: "pipe" | number) => { code: number | null; stdout: string; stderr: string } {
  return (args, stdout = "pipe") => {
    const r = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", stdio: ["ignore", stdout, "pipe"] });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr };
  };
}

/** `cmd` in a pseudo-terminal of 100 × 30 (util-linux `script`): its raw output, or null (skipped) without `script`. */
export function inTerminal(t: TestContext, cmd: string): { status: number | null; stdout: string } | null {
  if (spawnSync("script", ["--version"], { encoding: "utf8" }).status !== 0) {
    t.skip("util-linux 'script' (a pseudo-terminal) is not installed");
    return null;
  }
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: { ...process.env, COLUMNS: "100", LINES: "30" } });
  return { status: r.status, stdout: r.stdout };
}

/**
 * lib/stdio.ts's promise for a CLI: stdout to a full disk (/dev/full) for each of `argsList`, and a
 * reader that goes away (the last args), each end in one stderr line `PROG: error: …` and exit 1.
 */
export async function assertStdoutGuarded(t: TestContext, script: string, prog: string, argsList: string[][]): Promise<void> {
  let full: number;
  try {
    full = openSync("/dev/full", "w");
  } catch {
    return t.skip("no /dev/full on this machine");
  }
  const run = cliRunner(script);
  for (const args of argsList) {
    const r = run(args, full);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, `${prog}: error: cannot write to standard output: ENOSPC: no space left on device\n`);
  }
  closeSync(full);
  const child = spawn(process.execPath, [script, ...argsList[argsList.length - 1]], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy(); // the reader goes away, as `| head -0` would
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((ok) => child.once("close", ok));
  assert.equal(code, 1);
  assert.equal(stderr, `${prog}: error: cannot write to standard output: the reader closed the pipe (EPIPE)\n`);
}

/** A scalar function of a dummy image x and label y, as the attacks' objectives are. */
export type XYObjective = (x: tf.Tensor, y: tf.Tensor) => tf.Scalar;

/**
 * Directional check: for random unit directions r, (f(z + εr) − f(z − εr)) / 2ε ≈ ⟨∇f(z), r⟩.
 * Returns the worst error over `trials` directions for x and for y, relative to ‖∇f‖ (the largest
 * directional derivative), so that directions nearly orthogonal to ∇f do not amplify float32 noise.
 * `differenced` is the function the finite differences evaluate (default f itself; e.g. f with its
 * ReLU and max-pool patterns frozen).
 */
export function directionalError(f: XYObjective, x: tf.Tensor, y: tf.Tensor, rng: Rng, trials = 4, eps = 0.05, differenced: XYObjective = f): number {
  const [gx, gy] = tf.grads(f)([x, y]);
  let worst = 0;
  for (let t = 0; t < trials; t++) {
    for (const which of [0, 1]) {
      const base = which === 0 ? x : y;
      const r = tf.tensor(rng.normalArray(base.size), base.shape);
      const rn = tf.div(r, tf.norm(r));
      const plus = which === 0 ? differenced(tf.add(x, tf.mul(rn, eps)), y) : differenced(x, tf.add(y, tf.mul(rn, eps)));
      const minus = which === 0 ? differenced(tf.sub(x, tf.mul(rn, eps)), y) : differenced(x, tf.sub(y, tf.mul(rn, eps)));
      const fd = (plus.dataSync()[0] - minus.dataSync()[0]) / (2 * eps);
      const g = which === 0 ? gx : gy;
      const an = tf.sum(tf.mul(g, rn)).dataSync()[0];
      worst = Math.max(worst, Math.abs(fd - an) / Math.max(tf.norm(g).dataSync()[0], 1e-6));
    }
  }
  return worst;
}

/** Every process below `pid` (children found through /proc). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

/** Whether `pid` is a live process (a zombie or a dead one is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
