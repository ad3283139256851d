/**
 * ∂x of a strided convolution as ONE stride-1 convolution and a depth-to-space shuffle (the
 * "sub-pixel" form of a transposed convolution), instead of a Conv2DBackpropInput kernel (slow on
 * TensorFlow's CPU and on wasm) or a JS scatter. With y[i] = Σ_a xp[s·i + a]·W[a] (xp: x padded by
 * p), ∂x[u] = Σ_{s·i + a = u + p} ∂z[i]·W[a]. Writing u = s·q + r (phase r ∈ [0, s)) and t = i − q,
 *   ∂x[s·q + r] = Σ_t ∂z[q + t] · W[r + p − s·t],   t ∈ [t_min, t_max],
 *   t_min = ⌈(p − k + 1)/s⌉,  t_max = ⌊(s − 1 + p)/s⌋,
 * a stride-1 convolution of ∂z (padded by −t_min before and t_max after) with a T × T filter,
 * T = t_max − t_min + 1, whose s² phases (rows r, columns r′) are output channels
 * (r·s + r′)·C + c — the order TensorFlow's and tfjs's DepthToSpace (NHWC) read them in to put
 * phase (r, r′) of pixel (q, q′) at (s·q + r, s·q′ + r′). Taps with W's index outside [0, k) are 0.
 * It covers ∂x whole when the input is exactly s times the output (H = s·H_out, as with LeNet's
 * "same" padding); otherwise `subpixelPlan` says no and the caller keeps its other route.
 */
import { tf } from "../core/tf";

export interface SubpixelPlan {
  /** Spatial size of the sub-pixel filter, and the padding of ∂z before/after (both dimensions). */
  T: number;
  before: number;
  after: number;
  tMin: number;
}

/** The plan for a k × k, stride s, padding p convolution of an H × W input into H_out × W_out, or null where it does not apply. */
export function subpixelPlan(k: number, stride: number, pad: number, H: number, W: number, outH: number, outW: number): SubpixelPlan | null {
  if (stride < 2 || H !== stride * outH || W !== stride * outW) return null;
  const tMin = Math.ceil((pad - k + 1) / stride);
  const tMax = Math.floor((stride - 1 + pad) / stride);
  if (tMin > 0) return null; // p ≥ k: rows of x the forward pass skips; not LeNet's case
  return { T: tMax - tMin + 1, before: -tMin, after: tMax, tMin };
}

/** The [T, T, O, s²·C] sub-pixel filter of a [k, k, C, O] filter (float32, from JS arrays: a few thousand taps). */
export function subpixelFilter(w: tf.Tensor, stride: number, pad: number, plan: SubpixelPlan): tf.Tensor4D {
  const [k, , C, O] = w.shape as [number, number, number, number];
  const src = w.dataSync() as Float32Array;
  const { T, tMin } = plan;
  const D = stride * stride * C;
  const out = new Float32Array(T * T * O * D);
  for (let ti = 0; ti < T; ti++)
    for (let tj = 0; tj < T; tj++)
      for (let r = 0; r < stride; r++) {
        const a = r + pad - stride * (ti + tMin);
        if (a < 0 || a >= k) continue;
        for (let rr = 0; rr < stride; rr++) {
          const b = rr + pad - stride * (tj + tMin);
          if (b < 0 || b >= k) continue;
          for (let c = 0; c < C; c++)
            for (let o = 0; o < O; o++) out[((ti * T + tj) * O + o) * D + (r * stride + rr) * C + c] = src[((a * k + b) * C + c) * O + o];
        }
      }
  return tf.tensor4d(out, [T, T, O, D]);
}

/** ∂x [B, s·H_out, s·W_out, C] of a strided convolution from ∂z [B, H_out, W_out, O], with tfjs ops (every backend). */
export function subpixelInputGrad(dz: tf.Tensor4D, w: tf.Tensor, stride: number, pad: number, plan: SubpixelPlan): tf.Tensor4D {
  const { before, after } = plan;
  const shuffled = tf.conv2d(dz, subpixelFilter(w, stride, pad, plan), 1, [[0, 0], [before, after], [before, after], [0, 0]]);
  return tf.depthToSpace(shuffled, stride, "NHWC");
}
