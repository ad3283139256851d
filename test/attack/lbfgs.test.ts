/**
 * L-BFGS (lib/attack/lbfgs.ts): known minima, the same iterates as torch.optim.LBFGS
 * (test/reference/lbfgs.py, float64, both line-search modes), recovery from non-finite values, and
 * the tfjs adapter (values, gradients, no leaks).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LBFGS, TORCH_LBFGS_DEFAULTS, cubicInterpolate, tfObjective, type LBFGSOptions, type Objective } from "../../lib/attack/lbfgs";
import { tf } from "../../lib/core/tf";
import { assertClose, useBackend } from "../helpers";

const PY = resolve(__dirname, "../../../.venv/bin/python");
const SCRIPT = resolve(__dirname, "../../../test/reference/lbfgs.py");
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch"]).status === 0;
const skip = hasTorch ? false : "needs .venv with torch (npm run setup:bench)";

before(useBackend);

function rosenbrock(x: Float64Array): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(x.length);
  let loss = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    loss += 100 * a * a + b * b;
    grad[i] += -400 * a * x[i] - 2 * b;
    grad[i + 1] += 200 * a;
  }
  return { loss, grad };
}

/** A fixed, well-conditioned SPD matrix A = MᵀM + I and a vector b (n = 6). */
const N = 6;
const M = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => Math.sin(1 + i * N + j)));
const A = M.map((_, i) => M.map((__, j) => M.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 1 : 0)));
const bVec = Array.from({ length: N }, (_, i) => Math.cos(i));
const quadratic: Objective = (x) => {
  const Ax = A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
  const loss = 0.5 * Ax.reduce((s, v, i) => s + v * x[i], 0) - bVec.reduce((s, v, i) => s + v * x[i], 0);
  return { loss, grad: Float64Array.from(Ax, (v, i) => v - bVec[i]) };
};
/** A⁻¹b by Gaussian elimination. */
function solve(): number[] {
  const m = A.map((row, i) => [...row, bVec[i]]);
  for (let c = 0; c < N; c++) {
    for (let r = c + 1; r < N; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= N; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(N).fill(0);
  for (let r = N - 1; r >= 0; r--) x[r] = (m[r][N] - m[r].slice(r + 1, N).reduce((s, a, k) => s + a * x[r + 1 + k], 0)) / m[r][r];
  return x;
}

test("cubic interpolation finds the minimum of a cubic, and of a quadratic exactly", () => {
  // f(t) = (t − 0.3)² on [0, 1]: f(0) = 0.09, f'(0) = −0.6, f(1) = 0.49, f'(1) = 1.4
  assert.ok(Math.abs(cubicInterpolate(0, 0.09, -0.6, 1, 0.49, 1.4) - 0.3) < 1e-12);
  // f(t) = t³ − 3t: minimum at t = 1; from (0, 0, −3) and (2, 2, 9)
  assert.ok(Math.abs(cubicInterpolate(0, 0, -3, 2, 2, 9) - 1) < 1e-12);
  // bounds clamp the answer
  assert.equal(cubicInterpolate(0, 0.09, -0.6, 1, 0.49, 1.4, [0.5, 2]), 0.5);
});

test("a quadratic in n = 6 dimensions: A⁻¹b in one step", () => {
  // Exact line searches would give BFGS's finite termination in n iterations; torch's L-BFGS has none,
  // so what is tested is what it does: with unit steps, A⁻¹b to 1e-10 within one .step() (≤ 20
  // iterations); with the strong-Wolfe search, a gradient below 1e-8 (the search stops refining at its
  // fixed 1e-9 change tolerance, as torch's does). One iteration is far from enough.
  const gradMax = (x: Float64Array) => Math.max(...quadratic(x).grad.map(Math.abs));
  const unit = new LBFGS(new Float64Array(N), { toleranceGrad: 1e-12, toleranceChange: 0 });
  unit.step(quadratic);
  assertClose(unit.x, solve(), 1e-10, "x* (unit steps)");
  const wolfe = new LBFGS(new Float64Array(N), { lineSearch: "strong_wolfe", toleranceGrad: 1e-12, toleranceChange: 0 });
  wolfe.step(quadratic);
  assert.ok(gradMax(wolfe.x) < 1e-8, `max|g| = ${gradMax(wolfe.x)} (strong Wolfe)`);
  const one = new LBFGS(new Float64Array(N), { lineSearch: "strong_wolfe", maxIter: 1 });
  one.step(quadratic);
  assert.ok(gradMax(one.x) > 1e-3, "one iteration is not enough (the test can fail)");
});

test("Rosenbrock from (−1.2, 1): converges to (1, 1)", () => {
  for (const lineSearch of ["strong_wolfe", "none"] as const) {
    const opt = new LBFGS(Float64Array.from([-1.2, 1]), { lineSearch, lr: lineSearch === "none" ? 0.5 : 1, maxIter: 200, maxEval: 400, toleranceGrad: 1e-10, toleranceChange: 0 });
    for (let s = 0; s < 10; s++) opt.step(rosenbrock);
    assertClose(opt.x, [1, 1], 1e-8, `x* (${lineSearch})`);
  }
});

function torchRun(spec: object): { iterates: number[][]; losses: number[]; funcEvals: number } {
  const file = join(mkdtempSync(join(tmpdir(), "lbfgs-")), "case.json");
  writeFileSync(file, JSON.stringify(spec));
  const r = spawnSync(PY, [SCRIPT, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const CASES: { name: string; problem: "rosenbrock" | "quadratic"; x0: number[]; steps: number; options: Partial<LBFGSOptions> }[] = [
  { name: "Rosenbrock 2-D, torch defaults (no line search), lr 0.1", problem: "rosenbrock", x0: [-1.2, 1], steps: 8, options: { lr: 0.1 } },
  { name: "Rosenbrock 5-D, strong Wolfe, history 3", problem: "rosenbrock", x0: [-1, 0.5, 1.5, -0.5, 0.8], steps: 6, options: { lineSearch: "strong_wolfe", historySize: 3, maxIter: 10 } },
  { name: "quadratic 6-D, torch defaults", problem: "quadratic", x0: [0.5, -1, 0, 2, 1, -0.5], steps: 3, options: {} },
  { name: "quadratic 6-D, strong Wolfe, max_iter 2", problem: "quadratic", x0: [0.5, -1, 0, 2, 1, -0.5], steps: 5, options: { lineSearch: "strong_wolfe", maxIter: 2 } },
];

for (const c of CASES) {
  test(`same iterates as torch.optim.LBFGS: ${c.name}`, { skip }, () => {
    const options: LBFGSOptions = { ...TORCH_LBFGS_DEFAULTS, ...c.options };
    options.maxEval = c.options.maxEval ?? Math.floor((options.maxIter * 5) / 4);
    const ref = torchRun({ problem: c.problem, x0: c.x0, steps: c.steps, options, A, b: bVec });
    const f = c.problem === "quadratic" ? quadratic : rosenbrock;
    const opt = new LBFGS(Float64Array.from(c.x0), options);
    for (let s = 0; s < c.steps; s++) {
      const { loss } = opt.step(f);
      // float64 on both sides; only the order of summation differs (Rosenbrock amplifies it to ~1e-9)
      assert.ok(Math.abs(loss - ref.losses[s]) <= 1e-7 * Math.max(1, Math.abs(ref.losses[s])), `step ${s} loss: ${loss} vs torch ${ref.losses[s]}`);
      assertClose(opt.x, ref.iterates[s], 1e-7, `step ${s} iterate`);
    }
    assert.equal(opt.funcEvals, ref.funcEvals, "function evaluations");
    // the iterates moved: the comparison is not of a start point with itself
    assert.ok(Math.abs(opt.x[0] - c.x0[0]) > 1e-3);
  });
}

test("a non-finite evaluation returns to the best finite point and clears the history", () => {
  // f is a bowl around 3 that turns NaN for x > 5: with lr 10 the first full step overshoots into it
  const f: Objective = (x) => (x[0] > 5 ? { loss: NaN, grad: Float64Array.of(NaN) } : { loss: (x[0] - 3) ** 2, grad: Float64Array.of(2 * (x[0] - 3)) });
  const opt = new LBFGS(Float64Array.of(0), { lr: 10 });
  let sawNonFinite = false;
  for (let s = 0; s < 5; s++) sawNonFinite = opt.step(f).nonFinite || sawNonFinite;
  assert.ok(sawNonFinite, "the test meets NaN");
  assert.ok(opt.best !== null && Number.isFinite(opt.best.loss));
  assert.ok(opt.x.every(Number.isFinite) && opt.x[0] <= 5, `x stays finite: ${opt.x[0]}`);
  assert.equal(f(opt.x).loss, f(opt.best!.x).loss);
  // never finite: best stays null (the caller's divergence)
  const never = new LBFGS(Float64Array.of(0));
  assert.equal(never.step(() => ({ loss: Infinity, grad: Float64Array.of(0) })).nonFinite, true);
  assert.equal(never.best, null);
});

test("tfObjective: value and gradient of a tensor loss, packed flat; no tensors left behind", () => {
  // loss(a [2], B [2, 2]) = Σ a² + Σ B² + Σ (B·a)  (bounded below, so the L-BFGS loop below stays finite)
  const f = tfObjective([[2], [2, 2]], ([a, B]) =>
    tf.addN([tf.sum(tf.square(a)), tf.sum(tf.square(B)), tf.sum(tf.matMul(B as tf.Tensor2D, tf.reshape(a, [2, 1])))]) as tf.Scalar);
  const x = Float64Array.of(1, 2, 0.5, -1, 3, 4);
  const before = tf.memory().numTensors;
  const { loss, grad } = f(x);
  // B·a = [0.5 − 2, 3 + 8] = [−1.5, 11]; Σ a² = 5; Σ B² = 26.25
  assert.ok(Math.abs(loss - 40.75) < 1e-5);
  // ∂/∂a = 2a + Bᵀ1 = [2 + 3.5, 4 + 3]; ∂/∂B = 1·aᵀ + 2B = [[1 + 1, 2 − 2], [1 + 6, 2 + 8]]
  assertClose(grad, [5.5, 7, 2, 0, 7, 10], 1e-5, "grad");
  const opt = new LBFGS(x, { maxIter: 5 });
  for (let s = 0; s < 20; s++) opt.step(f);
  assert.equal(tf.memory().numTensors, before, "no leaks");
});
