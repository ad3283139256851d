/**
 * The LeNet of the DLG paper (Zhu et al. 2019): three 5×5 convolutions with 12 channels, sigmoid
 * activations (smooth, so DLG has a useful second derivative), strides 2, 2, 1 and padding 2,
 * then Linear(588 → 10). Like the paper's code, every parameter starts Uniform(−0.5, 0.5).
 * Layout is tfjs's NHWC: filters [5, 5, Cin, 12]; the flatten order is (h, w, c).
 * Parameter order: conv1.weight, conv1.bias, conv2.weight, conv2.bias, conv3.weight,
 * conv3.bias, fc.weight [588, 10], fc.bias [10].
 */
import { tf } from "../core/tf";
import { IMAGE_SIZE, NUM_CLASSES } from "../data/mnist";
import { conv2d, conv2dFirstOrder } from "./conv";
import { convNetCrossEntropyTensorflow } from "./lenet_tensorflow";
import { numel, type Model } from "./model";
import type { Rng } from "../core/rng";

const CH = 12;
const K = 5;
const CONVS = [
  { cin: 1, stride: 2 },
  { cin: CH, stride: 2 },
  { cin: CH, stride: 1 },
];
const LAYERS = CONVS.map((c) => ({ stride: c.stride, pad: 2, sigmoid: true }));
const FLAT = 7 * 7 * CH; // 28 → 14 → 7 → 7

export function lenetModel(): Model {
  const shapes: number[][] = [];
  const names: string[] = [];
  CONVS.forEach((c, i) => {
    names.push(`conv${i + 1}.weight`, `conv${i + 1}.bias`);
    shapes.push([K, K, c.cin, CH], [CH]);
  });
  names.push("fc.weight", "fc.bias");
  shapes.push([FLAT, NUM_CLASSES], [NUM_CLASSES]);
  return {
    kind: "lenet",
    paramNames: names,
    paramShapes: shapes,
    inputShape: [1, IMAGE_SIZE, IMAGE_SIZE],
    classes: NUM_CLASSES,
    init(rng: Rng) {
      return shapes.map((s) => tf.tensor(rng.uniformArray(numel(s), -0.5, 0.5), s));
    },
    forward(params, x, opts) {
      const B = x.shape[0];
      let h: tf.Tensor = tf.reshape(x, [B, IMAGE_SIZE, IMAGE_SIZE, 1]);
      CONVS.forEach((c, i) => {
        h = opts?.firstOrder
          ? conv2dFirstOrder(h, params[2 * i], params[2 * i + 1], c.stride, 2, { activation: "sigmoid", inputGrad: i > 0 })
          : tf.sigmoid(conv2d(h, params[2 * i], params[2 * i + 1], c.stride, 2));
      });
      return tf.add(tf.matMul(tf.reshape(h, [B, FLAT]) as tf.Tensor2D, params[6] as tf.Tensor2D), params[7]);
    },
    backprop: { tensorflow: (params, x, labels) => convNetCrossEntropyTensorflow(params, x, labels, LAYERS, IMAGE_SIZE) },
  };
}
