/**
 * The optimizers of the attack registry (methods.ts), each behind one interface: a Stepper makes
 * one attack iteration on the flattened dummy data [x' (, y')] and reports the objective before it.
 *   gd:    x ← x − lr_t·∇f           (lr_t: the recipe's step schedule, if any)
 *   adam:  adam.ts, with the same schedule
 *   lbfgs: one torch-style `.step` of lbfgs.ts (lr fixed; no box: clamping between steps would
 *          corrupt its curvature pairs)
 * gd and adam clamp x' to the data's range (default [−1, 1], MNIST's; CIFAR-10 [0, 1]) after each step
 * when the recipe asks ("boxed").
 */
import { tf, variableFrom } from "../core/tf";
import { DivergenceError } from "../core/errors";
import { Adam } from "./adam";
import { LBFGS, tfObjective } from "./lbfgs";
import { scheduledLr } from "./invert";
import type { AttackRecipe, AttackSpec } from "./spec";

export interface Stepper {
  /** One attack iteration; returns the objective before it. */
  step(it: number): number;
  /** The current x' and y' (y': the fixed rows when the label is not optimized). */
  read(): { x: Float32Array; y: Float32Array };
  /** What the attack ends with. */
  final(): { x: Float32Array; y: Float32Array };
  dispose(): void;
}

export function makeStepper(shapes: number[][], starts: Float32Array[], recipe: AttackRecipe, spec: AttackSpec, f: (xs: tf.Tensor[]) => tf.Scalar, range: readonly [number, number] = [-1, 1]): Stepper {
  return spec.optimizer === "lbfgs" ? lbfgsStepper(shapes, starts, spec, recipe, f) : firstOrderStepper(shapes, starts, recipe, spec, f, range);
}
/** gd and adam on tf variables; a non-finite objective is a divergence, as in the seed's DLG. */
function firstOrderStepper(shapes: number[][], starts: Float32Array[], recipe: AttackRecipe, spec: AttackSpec, f: (xs: tf.Tensor[]) => tf.Scalar, range: readonly [number, number]): Stepper {
  const vars = shapes.map((s, i) => variableFrom(tf.tensor(starts[i], s)));
  const adam = spec.optimizer === "adam" ? new Adam(vars) : null;
  const valueAndGrads = tf.valueAndGrads((...xs: tf.Tensor[]) => f(xs));
  const read = () => ({ x: vars[0].dataSync().slice() as Float32Array, y: (vars[1]?.dataSync().slice() as Float32Array) ?? starts[1] });
  return {
    step(it) {
      const d = tf.tidy(() => {
        const { value, grads } = valueAndGrads(vars);
        const lr = scheduledLr({ lr: spec.lr, decay: recipe.decay, iterations: spec.iterations }, it);
        if (adam) adam.step(grads, lr);
        else vars.forEach((v, i) => v.assign(tf.sub(v, tf.mul(grads[i], lr))));
        if (recipe.box) vars[0].assign(tf.clipByValue(vars[0], range[0], range[1]));
        return value.dataSync()[0];
      });
      if (!Number.isFinite(d)) throw new DivergenceError(`${spec.method} diverged: objective is ${d} at iteration ${it}`);
      return d;
    },
    read,
    final: read,
    dispose() {
      adam?.dispose();
      tf.dispose(vars);
    },
  };
}

/**
 * One L-BFGS `.step` per iteration on the flattened [x' (, y')]. A step that meets NaN/Inf falls
 * back to the best finite point (lbfgs.ts); only an attack that never saw one is a divergence.
 */
function lbfgsStepper(shapes: number[][], starts: Float32Array[], spec: AttackSpec, recipe: AttackRecipe, f: (xs: tf.Tensor[]) => tf.Scalar): Stepper {
  const sizes = shapes.map((s) => s[0] * s[1]);
  const x0 = new Float64Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  sizes.forEach((n, i) => {
    x0.set(starts[i].subarray(0, n), off);
    off += n;
  });
  const lbfgs = new LBFGS(x0, { lr: spec.lr, lineSearch: recipe.lineSearch });
  const objective = tfObjective(shapes, f);
  const split = (flat: Float64Array) => ({
    x: Float32Array.from(flat.subarray(0, sizes[0])),
    y: sizes.length > 1 ? Float32Array.from(flat.subarray(sizes[0])) : starts[1],
  });
  return {
    step: () => lbfgs.step(objective).loss,
    read: () => split(lbfgs.x),
    final() {
      if (!lbfgs.best) throw new DivergenceError(`${spec.method} diverged: L-BFGS never reached a finite objective`);
      return split(lbfgs.x);
    },
    dispose: () => undefined,
  };
}

