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
import { chwRowsToNhwc, conv2d, conv2dFirstOrder } from "./conv";
import { convNetCrossEntropyTensorflow } from "./lenet_tensorflow";
import { convNetCrossEntropyWasm } from "./lenet_wasm";
import { numel, type Model, type ModelKind } from "./model";
import type { Rng } from "../core/rng";

const CH = 12;
const K = 5;
const STRIDES = [2, 2, 1];
const PAD = 2;
const LAYERS = STRIDES.map((stride) => ({ stride, pad: PAD, sigmoid: true }));

/**
 * The network on [c, h, w] inputs (CHW rows) with `classes` outputs: the one definition the MNIST
 * LeNet and LeNet-CIFAR (lenet_cifar.ts) share. No route through TensorFlow's own ops (lenetModel adds it).
 */
export function lenetFor(kind: ModelKind, inputShape: readonly [number, number, number], classes: number): Model {
  const [cin, height, width] = inputShape;
  // each convolution: out = ⌊(n + 2·pad − K) / stride⌋ + 1 (MNIST 28 → 14 → 7 → 7; CIFAR-10 32 → 16 → 8 → 8)
  const out = (n: number) => STRIDES.reduce((m, s) => Math.floor((m + 2 * PAD - K) / s) + 1, n);
  const FLAT = out(height) * out(width) * CH;
  const shapes: number[][] = [];
  const names: string[] = [];
  STRIDES.forEach((_, i) => {
    names.push(`conv${i + 1}.weight`, `conv${i + 1}.bias`);
    shapes.push([K, K, i === 0 ? cin : CH, CH], [CH]);
  });
  names.push("fc.weight", "fc.bias");
  shapes.push([FLAT, classes], [classes]);
  return {
    kind,
    paramNames: names,
    paramShapes: shapes,
    inputShape: [cin, height, width],
    classes,
    init(rng: Rng) {
      return shapes.map((s) => tf.tensor(rng.uniformArray(numel(s), -0.5, 0.5), s));
    },
    forward(params, x, opts) {
      const B = x.shape[0];
      let h: tf.Tensor = chwRowsToNhwc(x, cin, height, width);
      STRIDES.forEach((stride, i) => {
        h = opts?.firstOrder
          ? conv2dFirstOrder(h, params[2 * i], params[2 * i + 1], stride, PAD, { activation: "sigmoid", inputGrad: i > 0 })
          : tf.sigmoid(conv2d(h, params[2 * i], params[2 * i + 1], stride, PAD));
      });
      return tf.add(tf.matMul(tf.reshape(h, [B, FLAT]) as tf.Tensor2D, params[6] as tf.Tensor2D), params[7]);
    },
  };
}

export function lenetModel(): Model {
  return {
    ...lenetFor("lenet", [1, IMAGE_SIZE, IMAGE_SIZE], NUM_CLASSES),
    backprop: {
      tensorflow: (params, x, labels) => convNetCrossEntropyTensorflow(params, x, labels, LAYERS, IMAGE_SIZE),
      wasm: (params, x, labels) => convNetCrossEntropyWasm(params, x, labels, LAYERS, [1, IMAGE_SIZE, IMAGE_SIZE]),
    },
  };
}
