/**
 * The FedAvg victim's local training, as data: what one client does with its n images in one round
 * before it uploads (Geiping et al. 2020 §5; Dimitrov et al. 2022).
 *
 *   E local steps of SGD with learning rate η and momentum μ (μ = 0: plain SGD; the local velocity
 *   starts at 0 every round), each on a batch of b of the client's n images; the batches walk
 *   through epochs over the n images, each epoch in a fresh order (a permutation drawn from the
 *   client's stream; the last batch of an epoch is short when b does not divide n, as Paddle's
 *   DataLoader with drop_last=False). The upload is the model delta Δ = θ_0 − θ_E, sent through the
 *   run's defense (DGC keeps its residual across rounds, as for any upload).
 *
 * Δ's sign is the gradient's (θ_0 − θ_E = η Σ_s c_s g_s with c_s = (1 − μ^{E−s}) / (1 − μ)), so
 * every rule that reads a gradient's signs (iDLG's label) reads Δ the same way.
 *
 * This module is the victim's side (first-order fast paths, the project's Momentum arithmetic);
 * the attacker's differentiable simulation of the same steps is lib/attack/fedavg.ts, and
 * test/attack/fedavg.test.ts checks that the two agree to float rounding.
 */
import { tf, variableFrom } from "../../core/tf";
import { ConfigError } from "../../core/errors";
import { NUM_CLASSES } from "../../data/mnist";
import type { Batch } from "../../data/batcher";
import { lossAndGrads } from "../../optim/train";
import { Momentum } from "../../optim/momentum";
import { pixelsOf, type Model } from "../../models/model";
import type { VictimLoss } from "../../models/losses";
import type { Rng } from "../../core/rng";
import { victimGradients } from "../victim";

/** What the client does locally in one round. */
export interface LocalTraining {
  /** E: local SGD steps (1: FedSGD's one step, but the upload is still the delta η·g). */
  steps: number;
  /** b: images per local step (the last batch of an epoch may be short). */
  batch: number;
  /** η */
  lr: number;
  /** μ: the local optimizer's momentum (0: plain SGD). */
  momentum: number;
}

/** The most local steps a run accepts (each is unrolled by the attacker). */
export const MAX_LOCAL_STEPS = 1000;

/** One line for bad values: E ≥ 1, 1 ≤ b ≤ n, η > 0, 0 ≤ μ < 1. */
export function checkLocalTraining(t: LocalTraining, n: number): void {
  const int = (x: number) => Number.isInteger(x);
  if (!int(t.steps) || t.steps < 1 || t.steps > MAX_LOCAL_STEPS) throw new ConfigError(`--local_steps must be an integer in [1, ${MAX_LOCAL_STEPS}], got ${t.steps}`);
  if (!int(t.batch) || t.batch < 1) throw new ConfigError(`--local_batch must be an integer ≥ 1, got ${t.batch}`);
  if (t.batch > n) throw new ConfigError(`--local_batch ${t.batch} is more than the client's ${n} images (--attack_batch_size)`);
  if (!Number.isFinite(t.lr) || t.lr <= 0) throw new ConfigError(`--local_lr must be a finite number > 0, got ${t.lr}`);
  if (!Number.isFinite(t.momentum) || t.momentum < 0 || t.momentum >= 1) throw new ConfigError(`--local_momentum must be in [0, 1), got ${t.momentum}`);
}

/**
 * Which of the n images each of the E steps uses: epochs over 0..n−1 in batches of b, each epoch
 * in the order `order` draws (a fresh permutation per epoch), or in index order when `order` is null
 * (what an attacker who does not know the data order assumes).
 */
export function localSchedule(n: number, b: number, steps: number, order: Rng | null): Int32Array[] {
  const out: Int32Array[] = [];
  while (out.length < steps) {
    const perm = order ? order.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    for (let s = 0; s < n && out.length < steps; s += b) out.push(Int32Array.from(perm.subarray(s, Math.min(s + b, n))));
  }
  return out;
}

/** Complete passes over the n images that E steps of b make (fractional when E·b is not a multiple of n). */
export function localEpochs(n: number, b: number, steps: number): number {
  const perEpoch = Math.ceil(n / b);
  return steps / perEpoch;
}

/** c_s: how much step s's gradient weighs in Δ/η (momentum carries it into the later steps). */
export function stepWeights(steps: number, momentum: number): Float64Array {
  const c = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    let w = 0;
    for (let k = 0, m = 1; k < steps - s; k++, m *= momentum) w += m;
    c[s] = w;
  }
  return c;
}

/** The images of one step as a Batch (indices into the client's n images). */
export function stepBatch(x: Float32Array, y: Int32Array, idx: Int32Array, id = 0): Batch {
  const PIXELS = x.length / y.length;
  const bx = new Float32Array(idx.length * PIXELS);
  const by = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    bx.set(x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    by[k] = y[i];
  });
  return { id, index: Int32Array.from(idx), x: bx, y: by, size: idx.length };
}

export interface LocalUpdate {
  /** Δ = θ_0 − θ_E per parameter tensor (the caller owns it). */
  delta: tf.Tensor[];
  /** Mean of the steps' losses before each update (cross-entropy; NaN under "sse"). */
  loss: number;
}

/**
 * The victim's E local steps on its n images x [n × 784] with labels y, following `schedule`
 * (localSchedule), from `params` (not changed). `loss`: "ce" mean cross-entropy (training's),
 * "sse" the seed's Σ(logits − onehot)².
 */
export function localUpdate(model: Model, params: readonly tf.Tensor[], x: Float32Array, y: Int32Array, schedule: readonly Int32Array[], t: Pick<LocalTraining, "lr" | "momentum">, loss: VictimLoss = "ce"): LocalUpdate {
  if (y.length * pixelsOf(model) !== x.length) throw new RangeError(`localUpdate: ${x.length} pixels for ${y.length} labels`);
  const local = params.map((p) => variableFrom(tf.clone(p), true));
  const opt = new Momentum(t.lr, t.momentum);
  let lossSum = 0;
  try {
    schedule.forEach((idx, s) => {
      const batch = stepBatch(x, y, idx, s);
      tf.tidy(() => {
        if (loss === "ce") {
          const r = lossAndGrads(model, local, batch);
          lossSum += r.loss;
          opt.step(local, r.grads);
        } else {
          lossSum = NaN;
          opt.step(local, victimGradients(model, local, batch, "sse"));
        }
      });
    });
    const delta = tf.tidy(() => params.map((p, i) => tf.sub(p, local[i])));
    return { delta, loss: lossSum / schedule.length };
  } finally {
    opt.dispose();
    tf.dispose(local);
  }
}

/** One-hot rows [n × classes] of labels (MNIST: 10), as the attacker's simulation takes them. */
export function labelTensor(y: Int32Array, classes = NUM_CLASSES): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(y, "int32"), classes).toFloat() as tf.Tensor2D);
}
