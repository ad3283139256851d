/**
 * The DLG paper's LeNet for 3 × 32 × 32 colour images (Zhu et al. 2019, their CIFAR / SVHN / LFW
 * figures; mit-han-lab/dlg's `LeNet`): three 5 × 5 convolutions with 12 channels, strides 2, 2, 1,
 * padding 2, sigmoid activations, then Linear(768 → 10) (32 → 16 → 8 → 8, 8·8·12 = 768); every
 * parameter starts Uniform(−0.5, 0.5), as the paper's code. The MNIST LeNet (lenet.ts) is the same
 * network on 1 × 28 × 28 and stays as it is.
 * Input rows are CHW images ([B, 3072], e.g. CIFAR-10 in [0, 1]), transposed here to tfjs's NHWC;
 * filters [5, 5, Cin, 12]; the flatten order is (h, w, c).
 * Parameter order: conv1.weight, conv1.bias, conv2.weight, conv2.bias, conv3.weight, conv3.bias,
 * fc.weight [768, 10], fc.bias [10].
 */
import { tf } from "../core/tf";
import { conv2d, conv2dFirstOrder } from "./conv";
import { numel, type Model } from "./model";
import type { Rng } from "../core/rng";

const CH = 12;
const K = 5;
const SIDE = 32;
const IN_CH = 3;
const CLASSES = 10;
const CONVS = [
  { cin: IN_CH, stride: 2 },
  { cin: CH, stride: 2 },
  { cin: CH, stride: 1 },
];
const FLAT = 8 * 8 * CH; // 32 → 16 → 8 → 8

/** [B, c·h·w] CHW rows → [B, h, w, c] (tfjs's NHWC); a transpose, so right at every order. */
export function chwRowsToNhwc(x: tf.Tensor, c: number, h: number, w: number): tf.Tensor4D {
  const B = x.shape[0];
  return (c === 1 ? tf.reshape(x, [B, h, w, 1]) : tf.transpose(tf.reshape(x, [B, c, h, w]), [0, 2, 3, 1])) as tf.Tensor4D;
}

export function lenetCifarModel(): Model {
  const shapes: number[][] = [];
  const names: string[] = [];
  CONVS.forEach((c, i) => {
    names.push(`conv${i + 1}.weight`, `conv${i + 1}.bias`);
    shapes.push([K, K, c.cin, CH], [CH]);
  });
  names.push("fc.weight", "fc.bias");
  shapes.push([FLAT, CLASSES], [CLASSES]);
  return {
    kind: "lenet-cifar",
    paramNames: names,
    paramShapes: shapes,
    inputShape: [IN_CH, SIDE, SIDE],
    classes: CLASSES,
    init(rng: Rng) {
      return shapes.map((s) => tf.tensor(rng.uniformArray(numel(s), -0.5, 0.5), s));
    },
    forward(params, x, opts) {
      const B = x.shape[0];
      let h: tf.Tensor = chwRowsToNhwc(x, IN_CH, SIDE, SIDE);
      CONVS.forEach((c, i) => {
        h = opts?.firstOrder
          ? conv2dFirstOrder(h, params[2 * i], params[2 * i + 1], c.stride, 2, { activation: "sigmoid", inputGrad: i > 0 })
          : tf.sigmoid(conv2d(h, params[2 * i], params[2 * i + 1], c.stride, 2));
      });
      return tf.add(tf.matMul(tf.reshape(h, [B, FLAT]) as tf.Tensor2D, params[6] as tf.Tensor2D), params[7]);
    },
  };
}
