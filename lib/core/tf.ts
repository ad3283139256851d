/**
 * The one place that imports TensorFlow.js. Everything else imports `tf` from here, so the
 * gradient fixes below are always registered before any gradient is taken.
 *
 * Why the fixes: tfjs registers the gradients of Sigmoid, Exp and Tanh in terms of the op's
 * *output*. First-order results are right, but a gradient of such a gradient (DLG differentiates
 * the parameter gradient with respect to the dummy input) comes out silently wrong. We re-register
 * them in terms of the op's *input*, which tfjs then differentiates correctly. The finite-difference
 * tests in test/core/second_order.test.ts fail if any of these is removed.
 */
import * as tf from "@tensorflow/tfjs";

type Saved = tf.Tensor[];

function reregister(kernelName: string, grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): void {
  tf.unregisterGradient(kernelName);
  tf.registerGradient({
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: Saved) => {
      const [x] = saved;
      return { x: () => grad(dy as tf.Tensor, x) };
    },
  });
}

let fixed = false;
/** Idempotent: re-registers the output-based gradients from the input. */
export function fixSecondOrderGradients(): void {
  if (fixed) return;
  fixed = true;
  reregister("Sigmoid", (dy, x) => {
    const s = tf.sigmoid(x);
    return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
  });
  reregister("Exp", (dy, x) => tf.mul(dy, tf.exp(x)));
  reregister("Tanh", (dy, x) => {
    const t = tf.tanh(x);
    return tf.mul(dy, tf.sub(1, tf.mul(t, t)));
  });
}

fixSecondOrderGradients();

/** Swaps the last two axes. */
function transposeLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return tf.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/** x·y with either factor transposed, spelt as an explicit transpose and a plain matMul. */
function mm(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  return tf.matMul(tx ? transposeLast2(x) : x, ty ? transposeLast2(y) : y);
}

let matMulGradReplaced = false;
/**
 * The matMul gradient with explicit transposes. tfjs's own multiplies with transposeA/transposeB
 * set, which the wasm backend runs ~6× slower than a transpose plus a plain matMul (measured on
 * LeNet's training step). Same formulas, so same numbers up to float rounding; idempotent.
 */
export function useExplicitTransposeMatMulGradient(): void {
  if (matMulGradReplaced) return;
  matMulGradReplaced = true;
  tf.unregisterGradient("BatchMatMul");
  tf.registerGradient({
    kernelName: "BatchMatMul",
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: Saved, attrs?: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor;
      const [a, b] = saved;
      const ta = Boolean(attrs?.transposeA);
      const tb = Boolean(attrs?.transposeB);
      if (!ta && !tb) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
      if (!ta && tb) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
      if (ta && !tb) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
    },
  });
}

useExplicitTransposeMatMulGradient();

/** A variable holding `init`'s value; `init` is disposed (tf.variable keeps a separate handle). */
export function variableFrom(init: tf.Tensor, trainable = false): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/**
 * A one-input op with a hand-written gradient, typed plainly. tfjs records the ops of `grad` on
 * the tape too, so the gradient can itself be differentiated (DLG needs that).
 */
export function unaryCustomGrad(value: (x: tf.Tensor) => tf.Tensor, grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  const f = tf.customGrad(((x: tf.Tensor) => ({ value: value(x), gradFunc: (dy: tf.Tensor) => grad(dy, x) })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x: tf.Tensor) => f(x);
}

export { tf };
