/**
 * The seed's model: one Linear(784 → 10) layer. Like Paddle, the weight is stored as [784, 10]
 * (in × out), Xavier-uniform initialized; the bias starts at zero.
 * Parameter order: [weight [784, 10], bias [10]].
 */
import { tf } from "../core/tf";
import { IMAGE_SIZE, NUM_CLASSES, PIXELS } from "../data/mnist";
import type { Model } from "./model";
import type { Rng } from "../core/rng";
import { linearClosedForm } from "./linear_closed_form";

export function xavierUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniformArray(fanIn * fanOut, -limit, limit);
}

export function linearModel(): Model {
  return {
    kind: "linear",
    paramNames: ["weight", "bias"],
    paramShapes: [[PIXELS, NUM_CLASSES], [NUM_CLASSES]],
    inputShape: [1, IMAGE_SIZE, IMAGE_SIZE],
    classes: NUM_CLASSES,
    init(rng: Rng) {
      return [tf.tensor2d(xavierUniform(rng, PIXELS, NUM_CLASSES), [PIXELS, NUM_CLASSES]), tf.zeros([NUM_CLASSES])];
    },
    forward(params, x) {
      const [w, b] = params;
      return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
    },
    closedForm: linearClosedForm,
  };
}
