/**
 * A 2-D convolution built from pieces that work on every backend and at every order of
 * differentiation:  im2col (zero padding read in place) → matMul with the [k·k·C, O] filter → + bias.
 * Why not tf.conv2d: its filter gradient (Conv2DBackpropFilter) has no gradient of its own, so
 * DLG on a conv net cannot take the second derivative, and the wasm backend has no
 * Conv2DBackpropFilter kernel at all. im2col and its adjoint col2im (a scatter-add) are each
 * other's gradient (tf.customGrad), so any order of derivative stays inside these two ops and
 * matMul. Both are pure data movement done in JS typed arrays: tfjs's own GatherV2 kernel costs
 * ~40 ns per element on wasm, 20× a JS copy, and was 75 % of a LeNet training step.
 *
 * Where no second derivative is needed (training, the victim's own gradient), `conv2dFirstOrder`
 * runs the backend's native conv2d forward and spells out the first-order gradient with the
 * fastest correct route per backend (see `FIRST_ORDER_ROUTES`); its gradient is not differentiable
 * again, so the attack's second-order path must keep using `conv2d`.
 */
import { tf, unaryCustomGrad } from "../core/tf";
import { conv2dTensorflow } from "./conv_tensorflow";

interface Im2colPlan {
  outH: number;
  outW: number;
  /** For each column entry (outH·outW·k·k·C of them), the flat index of the pixel it reads, or −1 where it reads padding. */
  rawIndex: Int32Array;
  nCol: number;
  /** [B, H, W, C] → [B·outH·outW, k·k·C], zeros where a column reads padding. */
  im2col: (x: tf.Tensor) => tf.Tensor;
  /** The adjoint [B·outH·outW, k·k·C] → [B, H, W, C]: adds every column entry back onto its pixel (padding dropped). */
  col2im: (cols: tf.Tensor) => tf.Tensor;
}

const plans = new Map<string, Im2colPlan>();

function makePlan(H: number, W: number, C: number, k: number, stride: number, pad: number): Im2colPlan {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const outH = Math.floor((Hp - k) / stride) + 1;
  const outW = Math.floor((Wp - k) / stride) + 1;
  const nCol = outH * outW * k * k * C;
  const rawIndex = new Int32Array(nCol);
  let n = 0;
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++)
          for (let c = 0; c < C; c++, n++) {
            const [r, w] = [i * stride + a, j * stride + b];
            const inside = r >= pad && r < H + pad && w >= pad && w < W + pad;
            rawIndex[n] = inside ? ((r - pad) * W + (w - pad)) * C + c : -1;
          }

  const plan = { outH, outW, nCol, rawIndex } as Im2colPlan;
  const nX = H * W * C;
  const kkC = k * k * C;
  // [B, H, W, C] → [B·outH·outW, k·k·C]: the padding is never materialized (rawIndex −1 reads 0)
  const gatherCols = (x: tf.Tensor) => {
    const B = x.shape[0];
    const src = x.dataSync() as Float32Array;
    const out = new Float32Array(B * nCol);
    for (let b = 0, o = 0; b < B; b++) {
      const base = b * nX;
      for (let j = 0; j < nCol; j++, o++) {
        const from = rawIndex[j];
        if (from >= 0) out[o] = src[base + from];
      }
    }
    return tf.tensor2d(out, [B * outH * outW, kkC]);
  };
  // the adjoint, adding every column entry back onto its pixel; entries that read padding drop out
  const scatterCols = (cols: tf.Tensor) => {
    const B = cols.shape[0] / (outH * outW);
    const src = cols.dataSync() as Float32Array;
    const out = new Float32Array(B * nX);
    for (let b = 0, o = 0; b < B; b++) {
      const base = b * nX;
      for (let j = 0; j < nCol; j++, o++) {
        const to = rawIndex[j];
        if (to >= 0) out[base + to] += src[o];
      }
    }
    return tf.tensor4d(out, [B, H, W, C]);
  };
  plan.col2im = unaryCustomGrad(scatterCols, (dy) => plan.im2col(dy));
  plan.im2col = unaryCustomGrad(gatherCols, (dy) => plan.col2im(dy));
  return plan;
}

/**
 * x: [B, H, W, C]; filter: [k, k, C, O]; bias: [O]. Zero padding `pad` on each side.
 * Returns [B, outH, outW, O]; equal to tf.conv2d with explicit padding (tested).
 */
export function conv2d(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, stride: number, pad: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const [k, , , O] = filter.shape;
  const plan = planFor(H, W, C, k, stride, pad);
  const cols = plan.im2col(x);
  const out = tf.add(tf.matMul(cols as tf.Tensor2D, tf.reshape(filter, [k * k * C, O]) as tf.Tensor2D), bias);
  return tf.reshape(out, [B, plan.outH, plan.outW, O]);
}

type Route = "native" | "im2col" | "conv";
/**
 * How each backend computes the two gradient pieces of a first-order convolution, measured on
 * LeNet's step (environment.md): tfjs-node has every native kernel, and with `layer:
 * "tensorflow-ops"` runs the whole layer as TensorFlow's own ops (conv_tensorflow.ts, the fastest);
 * wasm has a fast Conv2D (XNNPACK) but no Conv2DBackpropFilter and a slow Conv2DBackpropInput, so
 * both gradients are forward convolutions where they can be ("conv": ∂filter always, ∂x at stride 1
 * with "same" padding; 30 % off a LeNet step in paired runs) and otherwise a JS gather or scatter
 * of the columns and one matMul ("im2col": strided ∂x — the sub-pixel convolution of
 * conv_subpixel.ts with tfjs's DepthToSpace made a wasm step 20–35 % slower, that kernel taking
 * 5 ms on wasm for LeNet's layer 2; LeNet's training on wasm runs lenet_wasm.ts instead, which shuffles with a
 * Transpose); the cpu backend's native kernels are plain JS loops.
 */
export const FIRST_ORDER_ROUTES: Record<string, { input: Route; filter: Route; layer?: "tensorflow-ops" }> = {
  tensorflow: { input: "native", filter: "native", layer: "tensorflow-ops" },
  wasm: { input: "conv", filter: "conv" },
  cpu: { input: "im2col", filter: "im2col" },
};

/**
 * ∂filter as a forward convolution, for backends with a fast Conv2D but no Conv2DBackpropFilter
 * (wasm: XNNPACK): ∂W[a, b, c, o] = Σ_{n,i,j} xp[n, s·i + a, s·j + b, c] · dz[n, i, j, o] is the
 * VALID convolution of xp (x padded) with channels and batch swapped ([C, Hp, Wp, B]) by the filter dz
 * ([outH, outW, B, O]) dilated by the stride s; its [C, ·, ·, O] output, cut to k × k (a last
 * padded row the forward pass never read drops out), transposed to [k, k, C, O].
 */
function filterGradByConv(x: tf.Tensor, pad: number, dz: tf.Tensor, k: number, stride: number): tf.Tensor {
  const [C, O] = [x.shape[3]!, dz.shape[3]!];
  const out = tf.conv2d(padTransposed(x, pad), tf.transpose(dz, [1, 2, 0, 3]) as tf.Tensor4D, 1, "valid", "NHWC", stride);
  const cut = out.shape[1] === k && out.shape[2] === k ? out : tf.slice(out, [0, 0, 0, 0], [C, k, k, O]);
  return tf.transpose(cut, [1, 2, 0, 3]);
}

/** cols [B·outH·outW, k·k·C] of the unpadded x [B, H, W, C], transposed: [k·k·C, B·outH·outW]. */
function im2colTransposed(x: tf.Tensor, plan: Im2colPlan): tf.Tensor2D {
  const B = x.shape[0];
  const src = x.dataSync() as Float32Array;
  const P = plan.outH * plan.outW;
  const kkC = plan.nCol / P;
  const nX = src.length / B;
  const cols = B * P;
  const out = new Float32Array(kkC * cols); // zeros where the column reads padding
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < kkC; q++) {
      const from = plan.rawIndex[p * kkC + q];
      if (from < 0) continue;
      const at = q * cols + p;
      for (let b = 0; b < B; b++) out[at + b * P] = src[b * nX + from];
    }
  }
  return tf.tensor2d(out, [kkC, cols]);
}

/**
 * The adjoint of im2col onto the unpadded x: dcols [B·outH·outW, k·k·C] → [B, H, W, C] (padding dropped).
 * A column's C channels of one tap are contiguous on both sides, so it adds runs of C; each pixel
 * still receives its terms in the order of the columns (the same sums, bit for bit, as entry by entry).
 */
function col2imUnpadded(dcols: tf.Tensor, plan: Im2colPlan, shape: [number, number, number, number]): tf.Tensor4D {
  const [B, H, W, C] = shape;
  const src = dcols.dataSync() as Float32Array;
  const nX = H * W * C;
  const out = new Float32Array(B * nX);
  const { rawIndex, nCol } = plan;
  for (let b = 0, o = 0; b < B; b++) {
    const base = b * nX;
    for (let j = 0; j < nCol; j += C, o += C) {
      const to = rawIndex[j];
      if (to < 0) continue;
      const at = base + to;
      for (let c = 0; c < C; c++) out[at + c] += src[o + c];
    }
  }
  return tf.tensor4d(out, shape);
}

/**
 * x [B, H, W, C] zero-padded by `pad` and transposed to [C, H + 2·pad, W + 2·pad, B] in one JS pass:
 * what `tf.transpose(tf.pad(x, …), [3, 1, 2, 0])` gives (data movement only, so the same values),
 * without the two kernels (wasm's Pad was 8 % of a LeNet step).
 */
function padTransposed(x: tf.Tensor, pad: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const src = x.dataSync() as Float32Array;
  const [Hp, Wp] = [H + 2 * pad, W + 2 * pad];
  const out = new Float32Array(C * Hp * Wp * B);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const from = ((b * H + i) * W + j) * C;
        const to = ((i + pad) * Wp + (j + pad)) * B + b;
        for (let c = 0; c < C; c++) out[c * Hp * Wp * B + to] = src[from + c];
      }
  return tf.tensor4d(out, [C, Hp, Wp, B]);
}

function planFor(H: number, W: number, C: number, k: number, stride: number, pad: number): Im2colPlan {
  const key = [H, W, C, k, stride, pad].join(",");
  let plan = plans.get(key);
  if (!plan) {
    plan = makePlan(H, W, C, k, stride, pad);
    plans.set(key, plan);
  }
  return plan;
}

/**
 * act(conv(x, filter) + bias) with the backend's native forward and a hand-written first-order
 * gradient: with z the pre-activation and dz = dy · act'(z),
 *   ∂filter = Σ_{b,i,j} cols(x)ᵀ dz,   ∂bias = Σ_{b,i,j} dz,   ∂x = Conv2DBackpropInput(dz, filter).
 * `inputGrad: false` (a network's first layer, whose input is data) skips ∂x and returns zeros.
 * Equal to `conv2d` at first order (test/models/conv_first_order.test.ts); not differentiable twice.
 */
export function conv2dFirstOrder(
  x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, stride: number, pad: number,
  opts: { activation?: "sigmoid"; inputGrad?: boolean } = {},
): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const [k, , , O] = filter.shape;
  const route = FIRST_ORDER_ROUTES[tf.getBackend()] ?? FIRST_ORDER_ROUTES.cpu;
  if (route.layer === "tensorflow-ops") return conv2dTensorflow(x, filter, bias, stride, pad, opts);
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const f = tf.customGrad(((x4: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, save: (ts: tf.Tensor[]) => void) => {
    const z = tf.add(tf.conv2d(x4, w, stride, padding), b);
    const y = opts.activation === "sigmoid" ? tf.sigmoid(z) : z;
    save([x4, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, [xs, ws, ys]: tf.Tensor[]) => {
        const dz = (opts.activation === "sigmoid" ? tf.mul(dy, tf.mul(ys, tf.sub(1, ys))) : dy) as tf.Tensor4D;
        const [, outH, outW] = dz.shape;
        const plan = planFor(H, W, C, k, stride, pad);
        let dw: tf.Tensor;
        if (route.filter === "native") {
          dw = tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.pad(xs, padding), dy: dz }, { strides: stride, pad: "valid", dataFormat: "NHWC", filterShape: [k, k, C, O] });
        } else if (route.filter === "conv") {
          dw = filterGradByConv(xs, pad, dz, k, stride);
        } else {
          dw = tf.reshape(tf.matMul(im2colTransposed(xs, plan), tf.reshape(dz, [B * outH * outW, O]) as tf.Tensor2D), [k, k, C, O]);
        }
        const db = tf.sum(dz, [0, 1, 2]);
        let dx: tf.Tensor;
        if (opts.inputGrad === false) dx = tf.zerosLike(xs);
        else if (route.input === "native") {
          const dxp = tf.engine().runKernel("Conv2DBackpropInput", { dy: dz, filter: ws }, { strides: stride, pad: "valid", dataFormat: "NHWC", inputShape: [B, H + 2 * pad, W + 2 * pad, C] }) as tf.Tensor;
          dx = tf.slice(dxp, [0, pad, pad, 0], [B, H, W, C]);
        } else if (route.input === "conv" && stride === 1 && 2 * pad === k - 1) {
          // stride 1, "same" padding: ∂x is the same-padded convolution of dz with the flipped filter, channels swapped
          dx = tf.conv2d(dz, tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, "same");
        } else {
          const dcols = tf.matMul(tf.reshape(dz, [B * outH * outW, O]) as tf.Tensor2D, tf.transpose(tf.reshape(ws, [k * k * C, O])) as tf.Tensor2D);
          dx = col2imUnpadded(dcols, plan, [B, H, W, C]);
        }
        return [dx, dw, db];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, filter, bias) as tf.Tensor4D;
}

/** [B, c·h·w] CHW rows → [B, h, w, c] (tfjs's NHWC); a transpose, so right at every order. */
export function chwRowsToNhwc(x: tf.Tensor, c: number, h: number, w: number): tf.Tensor4D {
  const B = x.shape[0];
  return (c === 1 ? tf.reshape(x, [B, h, w, 1]) : tf.transpose(tf.reshape(x, [B, c, h, w]), [0, 2, 3, 1])) as tf.Tensor4D;
}
