/**
 * A 2-D convolution built from differentiable pieces that work on every backend and at every
 * order of differentiation:
 *   pad → im2col (a gather of patch pixels) → matMul with the [k·k·C, O] filter → + bias.
 * Why not tf.conv2d: its filter gradient (Conv2DBackpropFilter) has no gradient of its own, so
 * DLG on a conv net cannot take the second derivative, and the wasm backend has no
 * Conv2DBackpropFilter kernel at all. im2col and its adjoint col2im (a scatter-add, written as
 * a gather plus a sum because wasm lacks UnsortedSegmentSum) are each other's gradient, so
 * any order of derivative stays inside these two ops and matMul.
 */
import { tf, unaryCustomGrad } from "../tf";

interface Im2colPlan {
  outH: number;
  outW: number;
  /** For each column entry (outH·outW·k·k·C of them), the flat index of the padded pixel it reads. */
  index: tf.Tensor1D;
  /** For each padded pixel, the column entries that read it, padded with `nCol` (a zero slot). */
  readers: tf.Tensor1D;
  nIn: number;
  nCol: number;
  maxReaders: number;
  im2col: (x: tf.Tensor) => tf.Tensor;
}

const plans = new Map<string, Im2colPlan>();

function makePlan(H: number, W: number, C: number, k: number, stride: number, pad: number): Im2colPlan {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const outH = Math.floor((Hp - k) / stride) + 1;
  const outW = Math.floor((Wp - k) / stride) + 1;
  const nIn = Hp * Wp * C;
  const nCol = outH * outW * k * k * C;
  const index = new Int32Array(nCol);
  const lists: number[][] = Array.from({ length: nIn }, () => []);
  let n = 0;
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++)
          for (let c = 0; c < C; c++, n++) {
            const src = ((i * stride + a) * Wp + (j * stride + b)) * C + c;
            index[n] = src;
            lists[src].push(n);
          }
  const maxReaders = Math.max(1, ...lists.map((l) => l.length));
  const readers = new Int32Array(nIn * maxReaders).fill(nCol);
  lists.forEach((l, i) => l.forEach((c, j) => (readers[i * maxReaders + j] = c)));

  const plan = {
    outH, outW, nIn, nCol, maxReaders,
    index: tf.keep(tf.tensor1d(index, "int32")),
    readers: tf.keep(tf.tensor1d(readers, "int32")),
  } as Im2colPlan;

  // [B, nIn] → [B, nCol]
  const gatherCols = (x: tf.Tensor) => tf.gather(x, plan.index, 1);
  // [B, nCol] → [B, nIn]: the adjoint, summing every column entry back onto its pixel
  const scatterCols = (cols: tf.Tensor) => {
    const B = cols.shape[0];
    const withZero = tf.concat([cols, tf.zeros([B, 1])], 1);
    return tf.sum(tf.reshape(tf.gather(withZero, plan.readers, 1), [B, nIn, maxReaders]), 2);
  };
  const col2im = unaryCustomGrad(scatterCols, (dy) => plan.im2col(dy));
  plan.im2col = unaryCustomGrad(gatherCols, (dy) => col2im(dy));
  return plan;
}

/**
 * x: [B, H, W, C]; filter: [k, k, C, O]; bias: [O]. Zero padding `pad` on each side.
 * Returns [B, outH, outW, O]; equal to tf.conv2d with explicit padding (tested).
 */
export function conv2d(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, stride: number, pad: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const [k, , , O] = filter.shape;
  const key = [H, W, C, k, stride, pad].join(",");
  let plan = plans.get(key);
  if (!plan) {
    plan = makePlan(H, W, C, k, stride, pad);
    plans.set(key, plan);
  }
  const xp = tf.reshape(tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), [B, plan.nIn]);
  const cols = tf.reshape(plan.im2col(xp), [B * plan.outH * plan.outW, k * k * C]);
  const out = tf.add(tf.matMul(cols as tf.Tensor2D, tf.reshape(filter, [k * k * C, O]) as tf.Tensor2D), bias);
  return tf.reshape(out, [B, plan.outH, plan.outW, O]);
}
