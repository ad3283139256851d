/**
 * LeNet's training gradient on the wasm backend, back-propagated by hand instead of through tfjs's
 * tape and conv2dFirstOrder's custom gradients (conv.ts). With h_0 = x and layers l = 1..L:
 *   forward   h_l = σ(conv_l(h_{l−1}) + b_l)   (Conv2D, Add, Sigmoid: conv2dFirstOrder's kernels)
 *             z = flat(h_L)·W_fc + b_fc;  loss, d = ∂loss/∂z and the correct count in JS (cross_entropy.ts)
 *   backward  ∂W_fc = flat(h_L)ᵀ·d,  ∂b_fc = Σ_batch d,  ∂h_L = d·W_fcᵀ;  for l = L..1:
 *             dz_l = ∂h_l·(h_l·(1 − h_l)),  ∂b_l = Σ_{n,i,j} dz_l,
 *             ∂W_l = the dilated forward convolution of h_{l−1} (padded, as [C, H_p, W_p, B]) by dz_l
 *                    (as [H_out, W_out, B, O]), as conv.ts's filterGradByConv — wasm has no
 *                    Conv2DBackpropFilter, and XNNPACK's padded dilated convolution was 5–9× slower
 *                    than pad + VALID here;
 *             ∂h_{l−1}: stride 1, the "same" convolution of dz_l with the flipped filter (as conv.ts);
 *                    stride s > 1, the sub-pixel convolution (conv_subpixel.ts, 1.2 ms for LeNet's
 *                    layer 2) with its depth-to-space as one 4-D transpose (wasm's DepthToSpace
 *                    kernel took 5 ms), instead of conv.ts's matMul and JS col2im scatter (1.1 + 1.5 ms).
 * Why: tfjs's tape and the col2im scatter were 4–5 ms of a 15 ms LeNet step on wasm
 * (docs/performance.md); every op here is an XNNPACK or tfjs kernel, nothing is read back but the logits.
 * Equal to conv2dFirstOrder's gradients bit for bit above the first strided layer's ∂x, within
 * float rounding below it (the sub-pixel form sums the same products in another order):
 * test/models/lenet_wasm.test.ts. First order only.
 */
import { tf } from "../core/tf";
import { chwRowsToNhwc } from "./conv";
import { subpixelFilter, subpixelPlan } from "./conv_subpixel";
import { crossEntropyJS } from "./cross_entropy";
import type { ConvLayer } from "./conv_tensorflow";

type Shape4 = [number, number, number, number];
type Pads = [[number, number], [number, number], [number, number], [number, number]];

/**
 * ∂W [k, k, C, O] (module comment): x [B, H, W, C] transposed to [C, H, W, B] and padded, less the
 * last rows and columns of padding that no output reads (s·(H_out − 1) + k ≤ H + 2p): the
 * convolution's output is then k × k, not k + 1 (LeNet's layers 1 and 2: 25 of 36 outputs computed
 * before), and each kept output is the same sum as before.
 */
function filterGrad(x: tf.Tensor, dz: tf.Tensor, k: number, l: ConvLayer): tf.Tensor {
  const [, H, W] = x.shape;
  const [, oh, ow] = dz.shape;
  const p = l.pad;
  const [cutH, cutW] = [H + 2 * p - (l.stride * (oh! - 1) + k), W + 2 * p - (l.stride * (ow! - 1) + k)];
  const trim = cutH <= p && cutW <= p; // else (more unread rows than padding) pad fully and cut the output
  const xT = tf.pad(tf.transpose(x, [3, 1, 2, 0]), [[0, 0], [p, trim ? p - cutH : p], [p, trim ? p - cutW : p], [0, 0]]) as tf.Tensor4D;
  const dzT = tf.transpose(dz, [1, 2, 0, 3]) as tf.Tensor4D;
  const out = tf.conv2d(xT, dzT, 1, "valid", "NHWC", l.stride);
  const cut = trim ? out : tf.slice(out, [0, 0, 0, 0], [xT.shape[0], k, k, dz.shape[3]!]);
  return tf.transpose(cut, [1, 2, 0, 3]);
}

/** W [k, k, C, O] flipped in space, channels swapped: [k, k, O, C] (tf.transpose(tf.reverse(W, [0, 1]), [0, 1, 3, 2]); wasm's Reverse took 0.12 ms). */
function flippedFilter(w: tf.Tensor): tf.Tensor4D {
  const [k, , C, O] = w.shape as Shape4;
  const src = w.dataSync() as Float32Array;
  const out = new Float32Array(src.length);
  for (let a = 0, to = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      for (let o = 0; o < O; o++)
        for (let c = 0; c < C; c++, to++) out[to] = src[(((k - 1 - a) * k + (k - 1 - b)) * C + c) * O + o];
  return tf.tensor4d(out, [k, k, O, C]);
}

/** ∂x [B, H, W, C] of a layer from dz [B, H_out, W_out, O] (module comment). */
function inputGrad(dz: tf.Tensor4D, w: tf.Tensor, l: ConvLayer, [B, H, W, C]: Shape4): tf.Tensor {
  const k = w.shape[0]!;
  const [, oh, ow] = dz.shape;
  if (l.stride === 1 && 2 * l.pad === k - 1) {
    return tf.conv2d(dz, flippedFilter(w), 1, "same");
  }
  const plan = subpixelPlan(k, l.stride, l.pad, H, W, oh, ow);
  if (!plan) {
    const pad = l.pad;
    const dxp = tf.engine().runKernel("Conv2DBackpropInput", { dy: dz, filter: w }, { strides: l.stride, pad: "valid", dataFormat: "NHWC", inputShape: [B, H + 2 * pad, W + 2 * pad, C] }) as tf.Tensor;
    return tf.slice(dxp, [0, pad, pad, 0], [B, H, W, C]);
  }
  const s = l.stride;
  const pads: Pads = [[0, 0], [plan.before, plan.after], [plan.before, plan.after], [0, 0]];
  const shuffled = tf.conv2d(dz, subpixelFilter(w, s, l.pad, plan), 1, pads); // [B, oh, ow, s·s·C]
  // depth to space as one 4-D transpose: [B·oh, ow, s, s·C] → [B·oh, s, ow, s·C] is [B, s·oh, s·ow, C]
  return tf.reshape(tf.transpose(tf.reshape(shuffled, [B * oh, ow, s, s * C]), [0, 2, 1, 3]), [B, H, W, C]);
}

export function wasmOnly(what: string): void {
  if (tf.getBackend() !== "wasm") throw new Error(`${what} needs the wasm backend, not ${tf.getBackend()}`);
}

/**
 * params: conv_1 weight, bias, …, conv_L weight, bias, fc weight [F, C], fc bias [C]; x: [B, c·h·w]
 * CHW rows of `inputShape` [c, h, w]. Returns the mean cross-entropy, the correct count and the gradients.
 */
export function convNetCrossEntropyWasm(
  params: readonly tf.Tensor[], x: tf.Tensor2D, labels: Int32Array, layers: readonly ConvLayer[], inputShape: readonly [number, number, number],
): { loss: number; correct: number; grads: tf.Tensor[] } {
  wasmOnly("the hand-written LeNet backward pass on wasm");
  const B = x.shape[0];
  const L = layers.length;
  const [wFc, bFc] = params.slice(2 * L);
  const C = wFc.shape[1]!;
  const hs: tf.Tensor4D[] = [chwRowsToNhwc(x, ...inputShape)];
  layers.forEach((l, i) => {
    const z = tf.add(tf.conv2d(hs[i], params[2 * i] as tf.Tensor4D, l.stride, [[0, 0], [l.pad, l.pad], [l.pad, l.pad], [0, 0]]), params[2 * i + 1]);
    hs.push((l.sigmoid ? tf.sigmoid(z) : z) as tf.Tensor4D);
  });
  const flat = tf.reshape(hs[L], [B, -1]) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(flat, wFc as tf.Tensor2D), bFc);
  const { loss, correct, d } = crossEntropyJS(logits.dataSync(), labels, C);
  const grads: tf.Tensor[] = new Array(params.length);
  const dLogits = tf.tensor2d(d, [B, C]);
  // the matMul gradient as core/tf.ts spells it for the tape (explicit transposes): the same kernels
  grads[2 * L] = tf.matMul(tf.transpose(flat), dLogits);
  const dbFc = new Float32Array(C);
  for (let i = 0; i < B; i++) for (let j = 0; j < C; j++) dbFc[j] += d[i * C + j];
  grads[2 * L + 1] = tf.tensor1d(dbFc);
  let dy: tf.Tensor = tf.reshape(tf.matMul(dLogits, tf.transpose(wFc)), hs[L].shape);
  for (let i = L - 1; i >= 0; i--) {
    const l = layers[i];
    const y = hs[i + 1];
    // σ′ from the output, as conv2dFirstOrder's gradient spells it (the same kernels, the same rounding)
    const dz = (l.sigmoid ? tf.mul(dy, tf.mul(y, tf.sub(1, y))) : dy) as tf.Tensor4D;
    grads[2 * i] = filterGrad(hs[i], dz, params[2 * i].shape[0]!, l);
    grads[2 * i + 1] = tf.sum(dz, [0, 1, 2]);
    if (i > 0) dy = inputGrad(dz, params[2 * i], l, hs[i].shape as Shape4);
  }
  return { loss, correct, grads };
}
