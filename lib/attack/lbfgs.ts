/**
 * L-BFGS as torch.optim.LBFGS does it (the optimizer of the DLG and iDLG papers' code), on a flat
 * float64 vector x. One `step(f)` is one torch `.step(closure)`:
 *
 *   evaluate f at x; stop if max|g| ≤ toleranceGrad;
 *   up to maxIter times: direction d = −H·g by the two-loop recursion over the last historySize
 *     pairs (s = t·d, y = Δg, kept only when yᵀs > 1e-10; H₀ = yᵀs / yᵀy), the first ever d = −g;
 *     step length t = min(1, 1/‖g‖₁)·lr on the very first iteration, lr after; stop if gᵀd > −toleranceChange;
 *     x += t·d (or t from a strong-Wolfe line search: cubic interpolation, c1 = 1e-4, c2 = 0.9);
 *     re-evaluate (not on the last iteration without line search);
 *     stop on maxIter, maxEval evaluations, max|g| ≤ toleranceGrad, max|t·d| ≤ toleranceChange or
 *     |Δloss| < toleranceChange.
 *
 * Where torch lets NaN/Inf through (pytorch/pytorch#5953: a step can blow up and stay there), this one
 * returns to the best finite point evaluated so far, forgets its history and ends the step; a caller
 * that finds `best` still null after its steps never saw a finite point (a divergence).
 * The vector algebra is in JS doubles: the vectors are small (an image and a label) and the cost is in f.
 */
import { tf } from "../core/tf";

export interface LBFGSOptions {
  lr: number;
  /** Iterations per step. */
  maxIter: number;
  /** Function evaluations per step. */
  maxEval: number;
  toleranceGrad: number;
  toleranceChange: number;
  historySize: number;
  lineSearch: "none" | "strong_wolfe";
}

/** torch.optim.LBFGS's defaults (max_eval = max_iter · 5 / 4). */
export const TORCH_LBFGS_DEFAULTS: Readonly<LBFGSOptions> = {
  lr: 1,
  maxIter: 20,
  maxEval: 25,
  toleranceGrad: 1e-7,
  toleranceChange: 1e-9,
  historySize: 100,
  lineSearch: "none",
};

/** f(x) → the loss and ∂loss/∂x at x. */
export type Objective = (x: Float64Array) => { loss: number; grad: Float64Array };

interface Evaluation {
  loss: number;
  grad: Float64Array;
  finite: boolean;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const sumAbs = (a: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
};
/** x + t·d */
const axpy = (x: Float64Array, t: number, d: Float64Array) => {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + t * d[i];
  return out;
};

/** Minimizer of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to bounds (default [x1, x2]). */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

interface LineSearchResult {
  loss: number;
  grad: Float64Array;
  t: number;
  evals: number;
}

/** torch's _strong_wolfe: bracket, then zoom by cubic interpolation. `phi(t)` evaluates f at x + t·d. */
function strongWolfe(phi: (t: number) => Evaluation, d: Float64Array, t: number, f: number, g: Float64Array, gtd: number, maxLs: number, toleranceChange = 1e-9): LineSearchResult | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const dNorm = maxAbs(d);
  let e = phi(t);
  if (!e.finite) return null;
  let evals = 1;
  let gtdNew = dot(e.grad, d);
  let [tPrev, fPrev, gPrev, gtdPrev] = [0, f, g, gtd];
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bf: number[] = [];
  let bg: Float64Array[] = [];
  let bgtd: number[] = [];
  while (lsIter < maxLs) {
    if (e.loss > f + c1 * t * gtd || (lsIter > 1 && e.loss >= fPrev)) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, e.loss], [gPrev, e.grad], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bf, bg] = [[t], [e.loss], [e.grad]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, e.loss], [gPrev, e.grad], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, e.loss, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [tmp, e.loss, e.grad, gtdNew];
    e = phi(t);
    if (!e.finite) return null;
    evals++;
    gtdNew = dot(e.grad, d);
    lsIter++;
  }
  if (lsIter === maxLs) [bracket, bf, bg] = [[0, t], [f, e.loss], [g, e.grad]];

  let insufProgress = false;
  let [low, high] = bf[0] <= bf[bf.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1]);
    const bMax = Math.max(...bracket);
    const bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    e = phi(t);
    if (!e.finite) return null;
    evals++;
    gtdNew = dot(e.grad, d);
    lsIter++;
    if (e.loss > f + c1 * t * gtd || e.loss >= bf[low]) {
      [bracket[high], bf[high], bg[high], bgtd[high]] = [t, e.loss, e.grad, gtdNew];
      [low, high] = bf[0] <= bf[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        [bracket[high], bf[high], bg[high], bgtd[high]] = [bracket[low], bf[low], bg[low], bgtd[low]];
      }
      [bracket[low], bf[low], bg[low], bgtd[low]] = [t, e.loss, e.grad, gtdNew];
    }
  }
  return { loss: bf[low], grad: bg[low], t: bracket[low], evals };
}

export class LBFGS {
  readonly opts: LBFGSOptions;
  private xs: Float64Array;
  private bestPoint: { x: Float64Array; loss: number } | null = null;
  // torch's per-optimizer state, carried from step to step
  private nIter = 0;
  private evals = 0;
  private d: Float64Array | null = null;
  private t = 0;
  private oldDirs: Float64Array[] = [];
  private oldStps: Float64Array[] = [];
  private ro: number[] = [];
  private hDiag = 1;
  private prevGrad: Float64Array | null = null;

  constructor(x0: Float64Array, opts: Partial<LBFGSOptions> = {}) {
    const maxIter = opts.maxIter ?? TORCH_LBFGS_DEFAULTS.maxIter;
    this.opts = { ...TORCH_LBFGS_DEFAULTS, maxEval: Math.floor((maxIter * 5) / 4), ...opts };
    this.xs = Float64Array.from(x0);
  }

  /** The current iterate (a copy is kept internally; do not modify). */
  get x(): Float64Array {
    return this.xs;
  }

  /** The finite evaluation with the lowest loss so far, or null if none was finite. */
  get best(): { x: Float64Array; loss: number } | null {
    return this.bestPoint;
  }

  /** Evaluations over all steps (torch's state["func_evals"]). */
  get funcEvals(): number {
    return this.evals;
  }

  /** Forgets the curvature history; the next iteration is a fresh start (d = −g). */
  reset(): void {
    this.nIter = 0;
    this.d = null;
    this.prevGrad = null;
    this.oldDirs = [];
    this.oldStps = [];
    this.ro = [];
    this.hDiag = 1;
  }

  private evaluate(f: Objective, x: Float64Array): Evaluation {
    const { loss, grad } = f(x);
    let finite = Number.isFinite(loss);
    for (let i = 0; finite && i < grad.length; i++) finite = Number.isFinite(grad[i]);
    if (finite && (this.bestPoint === null || loss < this.bestPoint.loss)) this.bestPoint = { x: Float64Array.from(x), loss };
    return { loss, grad, finite };
  }

  /** Back to the best finite point, history cleared: what a non-finite evaluation leaves. */
  private recover(loss: number, evals: number) {
    if (this.bestPoint) this.xs = Float64Array.from(this.bestPoint.x);
    this.reset();
    return { loss, evals, nonFinite: true };
  }

  /** One torch `.step(closure)`. Returns the loss at the step's start (torch's orig_loss) and the evaluations it made. */
  step(f: Objective): { loss: number; evals: number; nonFinite: boolean } {
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearch } = this.opts;
    let e = this.evaluate(f, this.xs);
    this.evals++;
    let current = 1;
    const origLoss = e.loss;
    if (!e.finite) return this.recover(origLoss, current);
    let { loss, grad } = e;
    if (maxAbs(grad) <= toleranceGrad) return { loss: origLoss, evals: current, nonFinite: false };

    let n = 0;
    while (n < maxIter) {
      n++;
      this.nIter++;
      let d: Float64Array;
      if (this.nIter === 1) {
        d = grad.map((v) => -v);
        this.oldDirs = [];
        this.oldStps = [];
        this.ro = [];
        this.hDiag = 1;
      } else {
        const y = grad.map((v, i) => v - this.prevGrad![i]);
        const s = this.d!.map((v) => v * this.t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (this.oldDirs.length === historySize) {
            this.oldDirs.shift();
            this.oldStps.shift();
            this.ro.shift();
          }
          this.oldDirs.push(y);
          this.oldStps.push(s);
          this.ro.push(1 / ys);
          this.hDiag = ys / dot(y, y);
        }
        const k = this.oldDirs.length;
        const al = new Float64Array(k);
        const q = grad.map((v) => -v);
        for (let i = k - 1; i >= 0; i--) {
          al[i] = dot(this.oldStps[i], q) * this.ro[i];
          const yi = this.oldDirs[i];
          for (let j = 0; j < q.length; j++) q[j] -= al[i] * yi[j];
        }
        d = q.map((v) => v * this.hDiag);
        for (let i = 0; i < k; i++) {
          const be = dot(this.oldDirs[i], d) * this.ro[i];
          const si = this.oldStps[i];
          for (let j = 0; j < d.length; j++) d[j] += (al[i] - be) * si[j];
        }
      }
      this.d = d;
      this.prevGrad = Float64Array.from(grad);
      const prevLoss = loss;
      this.t = this.nIter === 1 ? Math.min(1, 1 / sumAbs(grad)) * lr : lr;
      const gtd = dot(grad, d);
      if (gtd > -toleranceChange) break;

      let lsEvals = 0;
      let optCond = false;
      if (lineSearch === "strong_wolfe") {
        const x0 = this.xs;
        const ls = strongWolfe((t) => this.evaluate(f, axpy(x0, t, d)), d, this.t, loss, grad, gtd, maxEval - current);
        if (ls === null) return this.recover(origLoss, current + 1);
        ({ loss, grad, t: this.t, evals: lsEvals } = ls);
        this.xs = axpy(x0, this.t, d);
        optCond = maxAbs(grad) <= toleranceGrad;
      } else {
        this.xs = axpy(this.xs, this.t, d);
        if (n !== maxIter) {
          e = this.evaluate(f, this.xs);
          if (!e.finite) {
            this.evals++;
            return this.recover(origLoss, current + 1);
          }
          ({ loss, grad } = e);
          optCond = maxAbs(grad) <= toleranceGrad;
          lsEvals = 1;
        }
      }
      current += lsEvals;
      this.evals += lsEvals;

      if (n === maxIter || current >= maxEval || optCond) break;
      if (maxAbs(d) * Math.abs(this.t) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }
    return { loss: origLoss, evals: current, nonFinite: false };
  }
}

/**
 * An Objective over a list of tensors of the given shapes, packed flat: the tensors are built from
 * x (as float32), `loss` is value-and-differentiated with respect to all of them, and the results come
 * back as doubles. Nothing is left allocated.
 */
export function tfObjective(shapes: readonly (readonly number[])[], loss: (xs: tf.Tensor[]) => tf.Scalar): Objective {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const valueAndGrads = tf.valueAndGrads((...xs: tf.Tensor[]) => loss(xs));
  return (x) => {
    const out = tf.tidy(() => {
      let offset = 0;
      const xs = shapes.map((s, i) => {
        const t = tf.tensor(Float32Array.from(x.subarray(offset, offset + sizes[i])), s as number[]);
        offset += sizes[i];
        return t;
      });
      const { value, grads } = valueAndGrads(xs);
      return [value, ...grads];
    });
    const [value, ...grads] = out;
    const grad = new Float64Array(x.length);
    let offset = 0;
    grads.forEach((g) => {
      grad.set(g.dataSync(), offset);
      offset += g.size;
    });
    const l = value.dataSync()[0];
    tf.dispose(out);
    return { loss: l, grad };
  };
}
