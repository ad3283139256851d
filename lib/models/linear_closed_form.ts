/**
 * Closed-form gradients of the Linear model (logits = xW + b), used instead of autodiff because
 * per-op overhead, not arithmetic, is what costs time on a model this small, and because the
 * wasm backend's matMul with a transposed operand (which autodiff's matMul gradient uses) is ~6×
 * slower than a plain one: every matMul below has untransposed operands, with explicit transposes.
 * DLG's gradient goes further and leaves tfjs altogether (JS arrays).
 */
import { tf } from "../core/tf";
import type { ClosedFormGradients } from "./model";
import { crossEntropyJS } from "./cross_entropy";

/**
 * Cross-entropy. The [B, 10] logits come back to JS, where softmax, the loss (log-sum-exp, in
 * float64), the correct count, ∂/∂logits = (softmax − onehot) / B and ∂b = Σ ∂logits are a few
 * hundred flops — cheaper than a dozen tfjs ops; ∂W = xᵀ·∂logits goes back to tfjs.
 */
function crossEntropy(params: readonly tf.Tensor[], x: tf.Tensor2D, labels: Int32Array) {
  const [w, b] = params;
  const B = x.shape[0];
  const C = w.shape[1]!;
  const logits = tf.add(tf.matMul(x, w as tf.Tensor2D), b).dataSync();
  const { loss, correct, d } = crossEntropyJS(logits, labels, C);
  const db = new Float32Array(C); // Σ over the batch, here rather than as a tfjs op
  for (let i = 0; i < B; i++) for (let j = 0; j < C; j++) db[j] += d[i * C + j];
  // ∂W = xᵀ·d with xᵀ as the left factor: XNNPACK (wasm) repacks the *right* factor of every
  // matMul, and a fresh batch on the right costs ~3× this transpose-then-multiply (measured).
  return { loss, correct, grads: [productWithSubnormals(tf.transpose(x) as tf.Tensor2D, d, B, C), tf.tensor1d(db)] };
}

const MIN_NORMAL = 1.1754943508222875e-38; // 2^-126, the smallest normal float32
/** Below this a column of xᵀ·d is recomputed with d's subnormals (2^-90: far above what they can add). */
const SMALL = 2 ** -90;

/**
 * xᵀ·d (xᵀ [P, B], d [B, C]) as the plain matMul computes it, without its cost on subnormals. When
 * training saturates the softmax (DGC's Example 4: logits tens apart), ∂/∂logits = p/B has ~70
 * subnormal float32 entries (|p/B| < 2^-126) in a batch of 640, and x86 computes every product
 * with a subnormal operand in a slow microcode assist that wasm cannot turn off (no FTZ/DAZ):
 * xᵀ·d took 2.5 ms instead of 0.15 ms. So the product runs on d with its subnormals zeroed. They
 * add at most 64 × 2^-126 to an entry, which a float32 sum of magnitude above ~2^-100 rounds
 * away; the columns where the zeroed product has an entry below 2^-90 (a sum that cancelled, or a
 * class every row of the batch gives a tiny probability) are recomputed with the subnormals, so
 * every entry is the plain product's (bitwise: every step of Examples 3 and 4 checked, and
 * test/core/fastpath.test.ts).
 */
function productWithSubnormals(xt: tf.Tensor2D, d: Float32Array, B: number, C: number): tf.Tensor2D {
  let flushed: Float32Array | undefined;
  const hasSubnormal = new Uint8Array(C);
  for (let i = 0; i < d.length; i++) {
    const a = Math.abs(d[i]);
    if (a < MIN_NORMAL && a !== 0) {
      flushed ??= d.slice();
      flushed[i] = 0;
      hasSubnormal[i % C] = 1;
    }
  }
  if (!flushed) return tf.matMul(xt, tf.tensor2d(d, [B, C]));
  const fast = tf.matMul(xt, tf.tensor2d(flushed, [B, C])) as tf.Tensor2D;
  const r = fast.dataSync() as Float32Array;
  const P = xt.shape[0];
  const redo: number[] = [];
  for (let j = 0; j < C; j++) {
    if (!hasSubnormal[j]) continue;
    for (let i = 0; i < P; i++) {
      if (Math.abs(r[i * C + j]) < SMALL) {
        redo.push(j);
        break;
      }
    }
  }
  if (redo.length === 0) return fast;
  // the plain product of those columns, one matMul on d's columns `redo` (each entry's sum over the batch is the same)
  const sub = new Float32Array(B * redo.length);
  for (let k = 0; k < B; k++) for (let c = 0; c < redo.length; c++) sub[k * redo.length + c] = d[k * C + redo[c]];
  const exact = tf.matMul(xt, tf.tensor2d(sub, [B, redo.length])).dataSync();
  const out = r.slice();
  for (let i = 0; i < P; i++) for (let c = 0; c < redo.length; c++) out[i * C + redo[c]] = exact[i * redo.length + c];
  fast.dispose();
  return tf.tensor2d(out, [P, C]);
}

/**
 * DLG on the Linear model. With r = 2(x'W + b − y'), the dummy gradients are x'ᵀr and Σ_batch r,
 * so with E_W = x'ᵀr − g_W, E_b = Σ r − g_b, nW = 7840, nb = 10:
 *   D  = ‖E_W‖²/nW + ‖E_b‖²/nb
 *   A  = (4/nW)·x'E_W + (4/nb)·E_b            (∂D/∂r · ∂r/∂(x'W), per sample)
 *   ∂D/∂x' = (2/nW)·r·E_Wᵀ + A·Wᵀ;   ∂D/∂y' = −A
 * E_W is never formed: with the Gram matrices G = x'x'ᵀ and R = rrᵀ (B × B) and X = x'g_W (B × 10),
 *   ‖E_W‖² = Σ G∘R − 2 Σ r∘X + ‖g_W‖²,   x'E_W = G·r − X,   r·E_Wᵀ = R·x' − r·g_Wᵀ,
 * so an iteration is two passes over W and g_W (stored transposed, 10 rows of 784, so every inner
 * loop is a contiguous dot product or axpy): x'W, X and G in the first; ∂D/∂x' in the second.
 * All in JS arrays (float64 sums, float32 results): the attack loop runs without a tfjs op, whose
 * fixed cost is most of an iteration here. The expansion cancels near D = 0, with an absolute
 * error of about 1e-16·‖g_W‖² — far below the float32 the distance is reported in.
 */
function dlgDistance(params: readonly tf.Tensor[], observed: readonly tf.Tensor[]) {
  const [W, bias, gW, gb] = [...params, ...observed].map((t) => t.dataSync() as Float32Array);
  const C = bias.length;
  const P = W.length / C;
  const nW = W.length;
  const [Wt, gWt] = [W, gW].map((m) => {
    const t = new Float32Array(nW);
    for (let i = 0; i < P; i++) for (let j = 0; j < C; j++) t[j * P + i] = m[i * C + j];
    return t;
  });
  const acc = new Float64Array(P);
  let gW2 = 0;
  for (let q = 0; q < nW; q++) gW2 += gW[q] * gW[q];
  return {
    step(x: Float32Array, y: Float32Array, gx: Float32Array, gy: Float32Array): number {
      const B = x.length / P;
      const r = new Float64Array(B * C);
      const X = new Float64Array(B * C);
      const G = new Float64Array(B * B);
      for (let s = 0; s < B; s++) {
        const xo = s * P;
        for (let j = 0; j < C; j++) {
          const wo = j * P;
          let a = 0;
          let g = 0;
          for (let i = 0; i < P; i++) {
            const xi = x[xo + i];
            a += xi * Wt[wo + i];
            g += xi * gWt[wo + i];
          }
          r[s * C + j] = 2 * (a + bias[j] - y[s * C + j]);
          X[s * C + j] = g;
        }
        for (let t = 0; t <= s; t++) {
          const to = t * P;
          let d = 0;
          for (let i = 0; i < P; i++) d += x[xo + i] * x[to + i];
          G[s * B + t] = G[t * B + s] = d;
        }
      }
      const R = new Float64Array(B * B);
      for (let s = 0; s < B; s++)
        for (let t = 0; t < B; t++) {
          let d = 0;
          for (let j = 0; j < C; j++) d += r[s * C + j] * r[t * C + j];
          R[s * B + t] = d;
        }
      let dW = gW2;
      for (let s = 0; s < B; s++) {
        for (let t = 0; t < B; t++) dW += G[s * B + t] * R[s * B + t];
        for (let j = 0; j < C; j++) dW -= 2 * r[s * C + j] * X[s * C + j];
      }
      let db = 0;
      const eb = new Float64Array(C);
      for (let j = 0; j < C; j++) {
        eb[j] = -gb[j];
        for (let s = 0; s < B; s++) eb[j] += r[s * C + j];
        db += eb[j] * eb[j];
      }
      for (let s = 0; s < B; s++) {
        acc.fill(0);
        for (let t = 0; t < B; t++) {
          const c = (2 / nW) * R[s * B + t];
          const to = t * P;
          for (let i = 0; i < P; i++) acc[i] += c * x[to + i];
        }
        for (let j = 0; j < C; j++) {
          let xE = -X[s * C + j]; // (x'E_W)_sj = Σ_t G_st r_tj − X_sj
          for (let t = 0; t < B; t++) xE += G[s * B + t] * r[t * C + j];
          const A = (4 / nW) * xE + (4 / C) * eb[j];
          gy[s * C + j] = -A;
          const c = -(2 / nW) * r[s * C + j];
          const wo = j * P;
          for (let i = 0; i < P; i++) acc[i] += A * Wt[wo + i] + c * gWt[wo + i];
        }
        for (let i = 0; i < P; i++) gx[s * P + i] = acc[i];
      }
      return dW / nW + db / C;
    },
  };
}

export const linearClosedForm: ClosedFormGradients = { crossEntropy, dlgDistance };
