/**
 * A model is a pure function of its parameters: `forward(params, x)`. Keeping the parameters
 * explicit (not hidden in layers) is what lets DLG differentiate the parameter gradient with
 * respect to the input, and lets the optimizers and the attack share one description.
 */
import type { tf } from "../tf";
import type { Rng } from "../rng";

export type ModelKind = "linear" | "lenet";

export interface Model {
  readonly kind: ModelKind;
  /** Parameter names in their fixed order (the order of `init`, `forward` and every gradient list). */
  readonly paramNames: readonly string[];
  readonly paramShapes: readonly (readonly number[])[];
  /** Fresh initial parameters drawn from rng. */
  init(rng: Rng): tf.Tensor[];
  /** x: [B, 784] images in [-1, 1]; returns logits [B, 10]. */
  forward(params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
