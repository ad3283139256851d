/**
 * The DLG paper's LeNet for 3 × 32 × 32 colour images (Zhu et al. 2019, their CIFAR / SVHN / LFW
 * figures; mit-han-lab/dlg's `LeNet`): lenet.ts's network (three 5 × 5 convolutions with 12 channels,
 * strides 2, 2, 1, padding 2, sigmoid, every parameter Uniform(−0.5, 0.5)) on 3 × 32 × 32 inputs, so
 * Linear(768 → 10) (32 → 16 → 8 → 8, 8·8·12 = 768). Input rows are CHW images ([B, 3072], e.g. CIFAR-10
 * in [0, 1]), transposed to tfjs's NHWC; filters [5, 5, Cin, 12]; the flatten order is (h, w, c).
 * Parameter order: conv1.weight, conv1.bias, conv2.weight, conv2.bias, conv3.weight, conv3.bias,
 * fc.weight [768, 10], fc.bias [10].
 */
import { lenetFor } from "./lenet";
import type { Model } from "./model";

export function lenetCifarModel(): Model {
  return lenetFor("lenet-cifar", [3, 32, 32], 10);
}
