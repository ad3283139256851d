/**
 * Deep Leakage from Gradients (Zhu et al. 2019), as PrivBox's DLGInversionAttack does it:
 *
 *   dummy_x ~ N(0, 1), dummy_y (optimized too, no softmax);
 *   each iteration: pred = net(dummy_x); L = Σ (pred − dummy_y)²; g' = ∂L/∂θ (kept differentiable);
 *   D = Σ_tensors Σ (g' − g)² / numel;  plain gradient descent on dummy_x and dummy_y.
 *
 * With several samples only one (updater_idx) moves at a time; it advances every `windowSize`
 * iterations; `windowSize` 0 moves every sample at every iteration (the DLG paper's batch attack).
 * A snapshot is taken when iteration % returnEvery == 0, after that iteration's update, and
 * always after the last iteration (marked `offSchedule` when returnEvery does not land on it), so
 * what an attack ends with is always a snapshot: the final result is never an earlier one.
 */
import { tf, variableFrom } from "../core/tf";
import { NUM_CLASSES } from "../data/mnist";
import { l2Distance } from "./objectives";
import { parameterGradients } from "../models/losses";
import { DivergenceError } from "../core/errors";
import { pixelsOf, type Model } from "../models/model";
import type { Rng } from "../core/rng";

export interface DLGOptions {
  iterations: number;
  lr: number;
  returnEvery: number;
  /** Iterations per sample of the seed's round-robin; 0: all samples move at once. */
  windowSize: number;
  /** The dummy label's start, [B × 10] (see `initialLabels`). */
  labelStart: Float32Array;
  /** Draws dummy_x. */
  rng: Rng;
  /** Use the model's closed-form DLG gradient when it has one (default true; same numbers, faster). */
  closedForm?: boolean;
}

export interface DLGSnapshot {
  iteration: number;
  /** [B × 784] */
  x: Float32Array;
  /** [B × 10] */
  y: Float32Array;
  /** The gradient-matching distance D before this iteration's update. */
  distance: number;
  /**
   * true: the last iteration, snapshotted although iteration % returnEvery != 0 (the seed logs
   * only the schedule's snapshots; this one is the attack's final result).
   */
  offSchedule?: true;
}

/** Whether iteration `it` of `iterations` is snapshotted, and whether off the returnEvery schedule. */
export function snapshotAt(it: number, iterations: number, returnEvery: number): { take: boolean; offSchedule: boolean } {
  const onSchedule = it % returnEvery === 0;
  return { take: onSchedule || it === iterations - 1, offSchedule: !onSchedule };
}

export interface DLGResult {
  snapshots: DLGSnapshot[];
  /** D at every iteration (before its update). */
  distances: Float64Array;
  seconds: number;
}

/**
 * The dummy label's start. "ones": every entry 1 — what the seed's 2021 code did by accident
 * (`dummy_y[:][label_idx] = 1.0` indexes the batch axis; with guess 0 it fills sample 0 with ones).
 * "guess": one-hot of the inferred label for every sample (the upstream fix of Dec 2022).
 */
export function initialLabels(how: "ones" | "guess", batch: number, guess: number, classes = NUM_CLASSES): Float32Array {
  const y = new Float32Array(batch * classes);
  if (how === "ones") y.fill(1);
  else for (let b = 0; b < batch; b++) y[b * classes + guess] = 1;
  return y;
}

/** The DLG objective D(dummy_x, dummy_y) for fixed parameters and observed gradients. */
export function gradientDistance(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[]) {
  const gradsOf = parameterGradients(model, params, "sse");
  return (dummyX: tf.Tensor, dummyY: tf.Tensor): tf.Scalar => l2Distance(gradsOf(dummyX, dummyY), observed);
}

/**
 * The dummy data and one iteration of plain gradient descent on it: `advance(updater)` returns D
 * before the update and moves only sample `updater` (null: every sample). Two forms: tensors with
 * autodiff (any model), or JS arrays with the model's closed-form gradient (no tfjs op at all).
 */
interface Dummy {
  advance(updater: number | null): number;
  read(): { x: Float32Array; y: Float32Array };
  dispose(): void;
}

function tensorDummy(model: Model, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number, lr: number, x0: Float32Array, y0: Float32Array): Dummy {
  const dummyX = variableFrom(tf.tensor2d(x0, [batch, pixelsOf(model)]));
  const dummyY = variableFrom(tf.tensor2d(y0, [batch, model.classes]));
  const valueAndGrads = tf.valueAndGrads(gradientDistance(model, params, observed));
  return {
    advance: (updater) =>
      tf.tidy(() => {
        const { value, grads } = valueAndGrads([dummyX, dummyY]);
        let [gx, gy] = grads;
        if (updater !== null) {
          // only sample `updater` moves
          const rows = tf.oneHot(tf.tensor1d([updater], "int32"), batch).reshape([batch, 1]);
          gx = tf.mul(gx, rows);
          gy = tf.mul(gy, rows);
        }
        dummyX.assign(tf.sub(dummyX, tf.mul(gx, lr)));
        dummyY.assign(tf.sub(dummyY, tf.mul(gy, lr)));
        return value.dataSync()[0];
      }),
    read: () => ({ x: dummyX.dataSync().slice() as Float32Array, y: dummyY.dataSync().slice() as Float32Array }),
    dispose: () => tf.dispose([dummyX, dummyY]),
  };
}

function arrayDummy(step: ClosedFormDLG["step"], lr: number, x: Float32Array, y: Float32Array, batch: number): Dummy {
  const pixels = x.length / batch;
  const classes = y.length / batch;
  const [gx, gy] = [new Float32Array(x.length), new Float32Array(y.length)];
  const rate = Math.fround(lr); // x − lr·g rounded as the tensor ops round it
  const move = (a: Float32Array, g: Float32Array, from: number, to: number) => {
    for (let i = from; i < to; i++) a[i] = a[i] - Math.fround(g[i] * rate);
  };
  return {
    advance(updater) {
      const d = step(x, y, gx, gy);
      if (updater === null) {
        move(x, gx, 0, x.length);
        move(y, gy, 0, y.length);
      } else {
        move(x, gx, updater * pixels, (updater + 1) * pixels);
        move(y, gy, updater * classes, (updater + 1) * classes);
      }
      return Math.fround(d);
    },
    read: () => ({ x: x.slice(), y: y.slice() }),
    dispose: () => {},
  };
}

type ClosedFormDLG = ReturnType<NonNullable<Model["closedForm"]>["dlgDistance"]>;

export function dlgAttack(
  model: Model,
  params: readonly tf.Tensor[],
  observed: readonly tf.Tensor[],
  batch: number,
  opts: DLGOptions,
  onIteration?: (it: number, distance: number, snapshot?: DLGSnapshot) => void,
): DLGResult {
  const t0 = performance.now();
  const x0 = Float32Array.from(opts.rng.normalArray(batch * pixelsOf(model)));
  const y0 = Float32Array.from(opts.labelStart);
  const dummy =
    (opts.closedForm ?? true) && model.closedForm
      ? arrayDummy(model.closedForm.dlgDistance(params, observed).step, opts.lr, x0, y0, batch)
      : tensorDummy(model, params, observed, batch, opts.lr, x0, y0);
  const snapshots: DLGSnapshot[] = [];
  const distances = new Float64Array(opts.iterations);
  let updater = 0;
  let count = 0;
  try {
    for (let it = 0; it < opts.iterations; it++) {
      if (opts.windowSize > 0 && count === opts.windowSize) {
        updater = (updater + 1) % batch;
        count = 0;
      }
      const d = dummy.advance(batch > 1 && opts.windowSize > 0 ? updater : null);
      count++;
      distances[it] = d;
      if (!Number.isFinite(d)) throw new DivergenceError(`DLG diverged: gradient distance is ${d} at iteration ${it}`);
      let snap: DLGSnapshot | undefined;
      const at = snapshotAt(it, opts.iterations, opts.returnEvery);
      if (at.take) {
        snap = { iteration: it, ...dummy.read(), distance: d, ...(at.offSchedule ? { offSchedule: true as const } : {}) };
        if (!snap.x.every(Number.isFinite) || !snap.y.every(Number.isFinite)) {
          throw new DivergenceError(`DLG diverged: dummy data is not finite at iteration ${it}`);
        }
        snapshots.push(snap);
      }
      onIteration?.(it, d, snap);
    }
  } finally {
    dummy.dispose();
  }
  return { snapshots, distances, seconds: (performance.now() - t0) / 1000 };
}
