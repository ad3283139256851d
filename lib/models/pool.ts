/**
 * Max-pooling and ReLU whose derivatives are right at every order (DLG and the inverting-gradients
 * attack differentiate the parameter gradient once more, with respect to the input).
 *
 * Max-pool: tfjs's tf.maxPool back-propagates through the MaxPoolGrad kernel, which has no gradient
 * of its own, so a second derivative through it fails (test/models/colour_models.test.ts shows it). Here a
 * 2 × 2, stride-2 max-pool is a gather of the winning entry of each window — the winners found once
 * in JS and then held constant, as the true derivative does almost everywhere — and its adjoint,
 * the scatter of each window's value back onto its winner. The two are each other's tf.customGrad
 * gradient (the pattern of conv.ts's im2col / col2im), so any order of derivative stays inside
 * them. Ties go to the first entry in (row, column) order, as PyTorch's max_pool2d does.
 *
 * ReLU: tfjs's own gradient of Relu is dy · step(x), computed from the *input* (not the output,
 * unlike Sigmoid's, which lib/core/tf.ts has to re-register), and Step's gradient is zero, so its
 * second derivative is right as it stands; `relu` is tf.relu, verified by finite differences in
 * test/models/colour_models.test.ts.
 *
 * Finite differences and ReLU: a ReLU net's parameter gradient jumps wherever a unit crosses zero
 * or a pool's winner changes, and with thousands of units a float32 step crosses some, so central
 * differences of the DLG distance do not converge to its (almost-everywhere) derivative. The tests
 * therefore difference the function with its activation pattern frozen — the ReLU masks and pool
 * winners of the base point, recorded and replayed by `withActivationPatterns` — which equals the
 * network on that linear region, where autodiff's answer must agree with it.
 */
import { tf, unaryCustomGrad } from "../core/tf";

/** ReLU masks (0/1 per entry) and max-pool winners, in the order the forward pass met them. */
export interface ActivationPatterns {
  mode: "record" | "replay";
  patterns: (Float32Array | Int32Array)[];
  /** The next pattern to replay. */
  next: number;
}

let active: ActivationPatterns | null = null;

/**
 * Runs f with every `relu` and `maxPool2x2` recording its pattern ("record") or using the recorded
 * one instead of its own ("replay", from the first again on each call). For tests.
 */
export function withActivationPatterns<T>(p: ActivationPatterns, f: () => T): T {
  const saved = active;
  active = p;
  p.next = 0;
  try {
    return f();
  } finally {
    active = saved;
  }
}

function replayed<T extends Float32Array | Int32Array>(size: number, what: string): T | undefined {
  if (active?.mode !== "replay") return undefined;
  const p = active.patterns[active.next++];
  if (!p || p.length !== size) throw new Error(`withActivationPatterns: no recorded ${what} of ${size} entries at position ${active.next - 1}`);
  return p as T;
}

/** ReLU, any order (tfjs's own: its gradient is formed from the input). */
export function relu(x: tf.Tensor): tf.Tensor {
  if (active === null) return tf.relu(x);
  const mask = replayed<Float32Array>(x.size, "ReLU mask") ?? Float32Array.from(x.dataSync(), (v) => (v > 0 ? 1 : 0));
  if (active.mode === "record") active.patterns.push(mask);
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/** For each output entry of a 2 × 2 max-pool of x [B, H, W, C], the flat index of its window's winner in x. */
function winners(x: tf.Tensor, oh: number, ow: number): Int32Array {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const src = x.dataSync() as Float32Array;
  const win = new Int32Array(B * oh * ow * C);
  const row = W * C;
  for (let b = 0, o = 0; b < B; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const corner = ((b * H + 2 * i) * W + 2 * j) * C;
        for (let c = 0; c < C; c++, o++) {
          // the window's entries in (row, column) order; a later one wins only if strictly larger
          const p0 = corner + c;
          const p1 = p0 + C;
          const p2 = p0 + row;
          const p3 = p2 + C;
          let best = p0;
          if (src[p1] > src[best]) best = p1;
          if (src[p2] > src[best]) best = p2;
          if (src[p3] > src[best]) best = p3;
          win[o] = best;
        }
      }
  return win;
}

/**
 * 2 × 2 max-pool with stride 2 on NHWC x [B, H, W, C] → [B, ⌊H/2⌋, ⌊W/2⌋, C] (a last odd row or
 * column is dropped, as PyTorch's floor mode). Any order of derivative.
 */
export function maxPool2x2(x: tf.Tensor): tf.Tensor4D {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const oh = Math.floor(H / 2);
  const ow = Math.floor(W / 2);
  const nOut = B * oh * ow * C;
  const win = replayed<Int32Array>(nOut, "max-pool winners") ?? winners(x, oh, ow);
  if (active?.mode === "record") active.patterns.push(win);
  const gatherWinners = (t: tf.Tensor) => {
    const v = t.dataSync() as Float32Array;
    const out = new Float32Array(nOut);
    for (let o = 0; o < nOut; o++) out[o] = v[win[o]];
    return tf.tensor4d(out, [B, oh, ow, C]);
  };
  const scatterToWinners = (t: tf.Tensor) => {
    const v = t.dataSync() as Float32Array;
    const out = new Float32Array(B * H * W * C);
    for (let o = 0; o < nOut; o++) out[win[o]] += v[o];
    return tf.tensor4d(out, [B, H, W, C]);
  };
  const pair = {} as { gather: (t: tf.Tensor) => tf.Tensor; scatter: (t: tf.Tensor) => tf.Tensor };
  pair.scatter = unaryCustomGrad(scatterToWinners, (dy) => pair.gather(dy));
  pair.gather = unaryCustomGrad(gatherWinners, (dy) => pair.scatter(dy));
  return pair.gather(x) as tf.Tensor4D;
}
