/**
 * The first-order convolution layer (act(conv(x, W) + b)) as TensorFlow's own ops, called by name
 * through tfjs-node's backend, for the `tensorflow` backend only. Why: tfjs spells a layer and its
 * gradient in a dozen kernels (pads, slices, three ops for σ'), each costing 15–60 µs of overhead
 * through the binding, and TensorFlow's Conv2DBackpropInput takes 2–3.5× a forward convolution here
 * (measured on LeNet's layers, docs/performance.md). With p the padding and k the kernel size:
 *   forward   xp = pad(x, p);  y = act(BiasAdd(Conv2D(xp, W, VALID), b))      (xp kept for ∂W)
 *   backward  dz = SigmoidGrad(y, dy)  (or dy);  ∂b = BiasAddGrad(dz)
 *             ∂W = Conv2DBackpropFilter(xp, dz, VALID)  (on the padded input: TensorFlow's
 *                  explicit-padding filter gradient was 2.6× slower)
 *             ∂x = stride 1:  Conv2D(dz, flip(W)ᵀ, padding k − 1 − p) — the transposed convolution is
 *                  the correlation of dz with the flipped filter, channels swapped, which the
 *                  forward kernel computes in the time of the forward pass;
 *                  stride > 1: the sub-pixel form, DepthToSpace(Conv2D(dz, F, stride 1)) (conv_subpixel.ts;
 *                  where it does not apply, Conv2DBackpropInput with explicit padding).
 * First order only, like conv2dFirstOrder, which it implements; equal to it (test/models/conv_first_order.test.ts).
 */
import { tf } from "../core/tf";
import { subpixelFilter, subpixelPlan } from "./conv_subpixel";

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}
interface NodeBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
}

/** A shape as the int32 tensor TensorFlow's backprop ops take (freed with the gradient's scope). */
const shapeTensor = (shape: readonly number[]) => tf.tensor1d(shape as number[], "int32");

function ops() {
  const be = tf.backend() as unknown as NodeBackend;
  const B = be.binding;
  const T: OpAttr = { name: "T", type: B.TF_ATTR_TYPE, value: B.TF_FLOAT };
  const NHWC: OpAttr = { name: "data_format", type: B.TF_ATTR_STRING, value: "NHWC" };
  /** Conv2D's attributes; pad: p on every side, or [before, after] on both spatial dimensions. */
  const conv = (stride: number, pad: number | [number, number]): OpAttr[] => {
    const [p0, p1] = typeof pad === "number" ? [pad, pad] : pad;
    return [
      T,
      NHWC,
      { name: "strides", type: B.TF_ATTR_INT, value: [1, stride, stride, 1] },
      { name: "use_cudnn_on_gpu", type: B.TF_ATTR_BOOL, value: false },
      { name: "padding", type: B.TF_ATTR_STRING, value: p0 + p1 > 0 ? "EXPLICIT" : "VALID" },
      { name: "explicit_paddings", type: B.TF_ATTR_INT, value: p0 + p1 > 0 ? [0, 0, p0, p1, p0, p1, 0, 0] : [] },
      { name: "dilations", type: B.TF_ATTR_INT, value: [1, 1, 1, 1] },
    ];
  };
  const run = (name: string, attrs: OpAttr[], inputs: tf.Tensor[]) => be.executeSingleOutput(name, attrs, inputs);
  return { B, T, NHWC, conv, run };
}

export interface ConvLayer {
  stride: number;
  pad: number;
  sigmoid: boolean;
}
/** What a layer's backward pass needs from its forward pass. */
export interface ConvSaved {
  xp: tf.Tensor;
  w: tf.Tensor;
  y: tf.Tensor;
  /** The shape of the layer's (unpadded) input. */
  inShape: [number, number, number, number];
}

export function tensorflowOnly(what: string): void {
  if (tf.getBackend() !== "tensorflow") throw new Error(`${what} needs the tensorflow backend, not ${tf.getBackend()}`);
}

/** y = act(BiasAdd(Conv2D(pad(x), W, VALID), b)), and what the backward pass needs. */
export function convForward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, l: ConvLayer): { y: tf.Tensor; saved: ConvSaved } {
  const { T, NHWC, conv, run } = ops();
  const xp = l.pad > 0 ? tf.pad(x, [[0, 0], [l.pad, l.pad], [l.pad, l.pad], [0, 0]]) : x;
  const z = run("BiasAdd", [T, NHWC], [run("Conv2D", conv(l.stride, 0), [xp, w]), b]);
  const y = l.sigmoid ? tf.sigmoid(z) : z;
  return { y, saved: { xp, w, y, inShape: x.shape as ConvSaved["inShape"] } };
}

/** ∂W, ∂b and (unless inputGrad is false: zeros) ∂x of a layer, given ∂y. */
export function convBackward(dy: tf.Tensor, s: ConvSaved, l: ConvLayer, inputGrad = true): { dx: tf.Tensor; dw: tf.Tensor; db: tf.Tensor } {
  const { B, T, NHWC, conv, run } = ops();
  const [k, , C, O] = s.w.shape;
  const dz = l.sigmoid ? run("SigmoidGrad", [T], [s.y, dy]) : dy;
  const dw = run("Conv2DBackpropFilter", conv(l.stride, 0), [s.xp, shapeTensor([k, k, C, O]), dz]);
  const db = run("BiasAddGrad", [T, NHWC], [dz]);
  let dx: tf.Tensor;
  if (!inputGrad) dx = tf.zeros(s.inShape);
  else if (l.stride === 1 && l.pad <= k - 1) {
    const flipped = tf.transpose(tf.reverse(s.w, [0, 1]), [0, 1, 3, 2]); // [k, k, O, C]
    dx = run("Conv2D", conv(1, k - 1 - l.pad), [dz, flipped]);
  } else {
    const [, H, W] = s.inShape;
    const plan = subpixelPlan(k, l.stride, l.pad, H, W, dz.shape[1]!, dz.shape[2]!);
    // strided: one stride-1 Conv2D with the sub-pixel filter and a DepthToSpace (conv_subpixel.ts),
    // half the time of TensorFlow's Conv2DBackpropInput here
    dx = plan
      ? run("DepthToSpace", [T, { name: "block_size", type: B.TF_ATTR_INT, value: l.stride }, NHWC], [
          run("Conv2D", conv(1, [plan.before, plan.after]), [dz, subpixelFilter(s.w, l.stride, l.pad, plan)]),
        ])
      : run("Conv2DBackpropInput", conv(l.stride, l.pad), [shapeTensor(s.inShape), s.w, dz]);
  }
  return { dx, dw, db };
}

export function conv2dTensorflow(
  x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, stride: number, pad: number,
  opts: { activation?: "sigmoid"; inputGrad?: boolean } = {},
): tf.Tensor4D {
  tensorflowOnly("conv2dTensorflow");
  const l: ConvLayer = { stride, pad, sigmoid: opts.activation === "sigmoid" };
  const f = tf.customGrad(((x4: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, save: (ts: tf.Tensor[]) => void) => {
    const { y, saved } = convForward(x4, w, b, l);
    save([saved.xp, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, [xp, ws, ys]: tf.Tensor[]) => {
        const { dx, dw, db } = convBackward(dy, { xp, w: ws, y: ys, inShape: saved.inShape }, l, opts.inputGrad !== false);
        return [dx, dw, db];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, filter, bias) as tf.Tensor4D;
}
