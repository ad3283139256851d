/**
 * A 2-D convolution built from pieces that work on every backend and at every order of
 * differentiation:  pad → im2col → matMul with the [k·k·C, O] filter → + bias.
 * Why not tf.conv2d: its filter gradient (Conv2DBackpropFilter) has no gradient of its own, so
 * DLG on a conv net cannot take the second derivative, and the wasm backend has no
 * Conv2DBackpropFilter kernel at all. im2col and its adjoint col2im (a scatter-add) are each
 * other's gradient (tf.customGrad), so any order of derivative stays inside these two ops and
 * matMul. Both are pure data movement done in JS typed arrays: tfjs's own GatherV2 kernel costs
 * ~40 ns per element on wasm, 20× a JS copy, and was 75 % of a LeNet training step.
 */
import { tf, unaryCustomGrad } from "../tf";

interface Im2colPlan {
  outH: number;
  outW: number;
  /** For each column entry (outH·outW·k·k·C of them), the flat index of the padded pixel it reads. */
  index: Int32Array;
  nIn: number;
  nCol: number;
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
  let n = 0;
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++)
          for (let c = 0; c < C; c++, n++) index[n] = ((i * stride + a) * Wp + (j * stride + b)) * C + c;

  const plan = { outH, outW, nIn, nCol, index } as Im2colPlan;
  // [B, nIn] → [B, nCol]
  const gatherCols = (x: tf.Tensor) => {
    const B = x.shape[0];
    const src = x.dataSync() as Float32Array;
    const out = new Float32Array(B * nCol);
    for (let b = 0, o = 0; b < B; b++) {
      const base = b * nIn;
      for (let j = 0; j < nCol; j++, o++) out[o] = src[base + index[j]];
    }
    return tf.tensor2d(out, [B, nCol]);
  };
  // [B, nCol] → [B, nIn]: the adjoint, adding every column entry back onto its pixel
  const scatterCols = (cols: tf.Tensor) => {
    const B = cols.shape[0];
    const src = cols.dataSync() as Float32Array;
    const out = new Float32Array(B * nIn);
    for (let b = 0, o = 0; b < B; b++) {
      const base = b * nIn;
      for (let j = 0; j < nCol; j++, o++) out[base + index[j]] += src[o];
    }
    return tf.tensor2d(out, [B, nIn]);
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
