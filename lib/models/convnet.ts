/**
 * A small ReLU ConvNet for 3 × 32 × 32 colour images (the setting of Inverting Gradients and
 * breaching, at a width a CPU can attack):
 *   conv 3 → 16, 3 × 3, pad 1, ReLU, 2 × 2 max-pool     32 → 16
 *   conv 16 → 32, 3 × 3, pad 1, ReLU, 2 × 2 max-pool    16 → 8
 *   conv 32 → 32, 3 × 3, pad 1, ReLU                    8 × 8 × 32 = 2048
 *   fc 2048 → 10
 * Standard initialization: PyTorch's default for Conv2d and Linear (kaiming_uniform with a = √5),
 * i.e. weight and bias both Uniform(−1/√fan_in, 1/√fan_in), fan_in = k·k·Cin (2048 for fc).
 * Max-pool and ReLU are pool.ts's, right at every order; convolutions are conv.ts's im2col path for
 * the attacks (any order) and its native-forward path for training (`firstOrder`).
 * Input rows are CHW images ([B, 3072]); NHWC inside; the flatten order is (h, w, c).
 * Parameter order: conv1.weight [3, 3, 3, 16], conv1.bias, conv2.weight [3, 3, 16, 32], conv2.bias,
 * conv3.weight [3, 3, 32, 32], conv3.bias, fc.weight [2048, 10], fc.bias [10].
 */
import { tf } from "../core/tf";
import { chwRowsToNhwc, conv2d, conv2dFirstOrder } from "./conv";
import { maxPool2x2, relu } from "./pool";
import { numel, type Model } from "./model";
import type { Rng } from "../core/rng";

const K = 3;
const SIDE = 32;
const IN_CH = 3;
const CLASSES = 10;
const CONVS = [
  { cin: IN_CH, cout: 16, pool: true },
  { cin: 16, cout: 32, pool: true },
  { cin: 32, cout: 32, pool: false },
];
const FLAT = 8 * 8 * 32;

export function convNetModel(): Model {
  const shapes: number[][] = [];
  const names: string[] = [];
  const fanIn: number[] = [];
  CONVS.forEach((c, i) => {
    names.push(`conv${i + 1}.weight`, `conv${i + 1}.bias`);
    shapes.push([K, K, c.cin, c.cout], [c.cout]);
    fanIn.push(K * K * c.cin, K * K * c.cin);
  });
  names.push("fc.weight", "fc.bias");
  shapes.push([FLAT, CLASSES], [CLASSES]);
  fanIn.push(FLAT, FLAT);
  return {
    kind: "convnet",
    paramNames: names,
    paramShapes: shapes,
    inputShape: [IN_CH, SIDE, SIDE],
    classes: CLASSES,
    init(rng: Rng) {
      return shapes.map((s, i) => {
        const bound = 1 / Math.sqrt(fanIn[i]);
        return tf.tensor(rng.uniformArray(numel(s), -bound, bound), s);
      });
    },
    forward(params, x, opts) {
      const B = x.shape[0];
      let h: tf.Tensor = chwRowsToNhwc(x, IN_CH, SIDE, SIDE);
      CONVS.forEach((c, i) => {
        const z = opts?.firstOrder
          ? conv2dFirstOrder(h, params[2 * i], params[2 * i + 1], 1, 1, { inputGrad: i > 0 })
          : conv2d(h, params[2 * i], params[2 * i + 1], 1, 1);
        h = relu(z);
        if (c.pool) h = maxPool2x2(h);
      });
      return tf.add(tf.matMul(tf.reshape(h, [B, FLAT]) as tf.Tensor2D, params[6] as tf.Tensor2D), params[7]);
    },
  };
}
