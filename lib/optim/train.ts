/**
 * Training as the seed does it (Examples 3 and 4): softmax cross-entropy (mean over the batch),
 * the running accuracy of the epoch so far from the forward pass *before* the update, and the
 * seed's log line every 100 batches. A test-set accuracy after the last epoch is our addition.
 */
import { tf } from "../core/tf";
import { DivergenceError } from "../core/errors";
import { epochBatches, numBatches, type Batch } from "../data/batcher";
import { PIXELS, type MnistSplit } from "../data/mnist";
import { oneHot, softmaxCrossEntropy } from "../models/losses";
import { crossEntropyOp, type CrossEntropyJS } from "../models/cross_entropy";
import { pyFloat } from "../io/pyfmt";
import { statsBytes } from "./wire";
import { pixelsOf, type Model } from "../models/model";
import type { Optimizer, SentStats } from "./optimizer";
import type { Rng } from "../core/rng";


export interface BatchRecord {
  epoch: number;
  batch: number;
  /** Mean cross-entropy of this batch (before the update). */
  loss: number;
  /** Running accuracy of the epoch so far, this batch included. */
  acc: number;
  /** Gradient entries sent this step, and the dense count. */
  sent: number;
  total: number;
  /** Bytes of this step's upload: lib/federated/bytes.ts's account (the project's one). */
  bytes: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Shuffles each epoch. */
  rng: Rng;
  /** Print a seed-format line every `logEvery` batches (100 in the seed). */
  logEvery?: number;
  /** Receives the seed's log lines. */
  log?: (line: string) => void;
  /** Called after every batch (progress bars, live plots). */
  onBatch?: (r: BatchRecord, batchesPerEpoch: number) => void;
  /** Evaluate on this split after the last epoch. */
  test?: MnistSplit;
  /** Use the model's closed-form gradients when it has them (default true; same numbers, faster). */
  closedForm?: boolean;
}

export interface TrainResult {
  history: BatchRecord[];
  testAccuracy?: number;
  seconds: number;
}

/**
 * What one step sent, on average over a run, beside the dense gradient: values, and bytes by the
 * project's one account (lib/federated/bytes.ts: per tensor the cheapest of dense float32, float32
 * values + int32 indices, or values + a bitmap) (rows, header first).
 */
export function communicationRows(history: readonly BatchRecord[], sparse: boolean): string[][] {
  const mean = (f: (r: BatchRecord) => number) => history.reduce((a, r) => a + f(r), 0) / history.length;
  const [sent, bytes] = [mean((r) => r.sent), mean((r) => r.bytes)];
  const dense = history[0].total;
  return [
    ["per step", "values", sparse ? "bytes (per tensor the cheapest of dense, indices or bitmap)" : "bytes (float32 values)"],
    ["dense gradient", String(dense), String(4 * dense)],
    ["what was sent (mean)", sent.toFixed(1), bytes.toFixed(0)],
    ["compression", `${(dense / sent).toFixed(1)}×`, `${((4 * dense) / bytes).toFixed(1)}×`],
  ];
}

/** The seed's line, character for character. */
export function trainLogLine(r: BatchRecord): string {
  return `epoch ${r.epoch}, batch id ${r.batch}, training loss ${pyFloat(r.loss)}, acc ${pyFloat(r.acc)}.`;
}

/** A batch of `size` rows of `pixels` values (MNIST: 784) as a [size, pixels] tensor. */
export function toBatchTensor(x: Float32Array, size: number, pixels = PIXELS): tf.Tensor2D {
  return tf.tensor2d(x, [size, pixels]);
}

export function train(model: Model, params: tf.Variable[], optimizer: Optimizer, data: MnistSplit, opts: TrainOptions): TrainResult {
  const t0 = performance.now();
  const history: BatchRecord[] = [];
  const logEvery = opts.logEvery ?? 100;
  const perEpoch = numBatches(data.n, opts.batchSize);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    optimizer.setEpoch?.(epoch);
    let correct = 0;
    let seen = 0;
    for (const batch of epochBatches(data, opts.batchSize, opts.rng)) {
      let lossValue = NaN;
      let batchCorrect = 0;
      let stats: SentStats | undefined;
      tf.tidy(() => {
        const { loss, correct, grads } = lossAndGrads(model, params, batch, opts.closedForm ?? true);
        lossValue = loss;
        batchCorrect = correct;
        if (Number.isFinite(lossValue)) stats = optimizer.step(params, grads);
      });
      if (!stats) throw new DivergenceError(`training diverged: loss is ${lossValue} at epoch ${epoch}, batch id ${batch.id}`);
      correct += batchCorrect;
      seen += batch.size;
      const r: BatchRecord = {
        epoch, batch: batch.id, loss: lossValue, acc: correct / seen,
        sent: stats.sent.reduce((a, b) => a + b, 0), total: stats.total.reduce((a, b) => a + b, 0), bytes: statsBytes(stats),
      };
      history.push(r);
      if (batch.id % logEvery === 0) opts.log?.(trainLogLine(r));
      opts.onBatch?.(r, perEpoch);
    }
  }
  // the loss is read before each update, so only the weights can show that the last update overflowed
  const last = history[history.length - 1];
  if (last && !allFinite(params)) throw new DivergenceError(`training diverged: non-finite weights after the last step (epoch ${last.epoch}, batch id ${last.batch})`);
  const testAccuracy = opts.test ? accuracy(model, params, opts.test) : undefined;
  return { history, testAccuracy, seconds: (performance.now() - t0) / 1000 };
}

/** Whether every entry of every tensor is finite (one reduction per tensor, read back once). */
export function allFinite(ts: readonly tf.Tensor[]): boolean {
  return tf.tidy(() => ts.every((t) => tf.all(tf.isFinite(t)).dataSync()[0] === 1));
}

/**
 * Mean cross-entropy of a batch, its correct count, and the parameter gradients (closed form or
 * autodiff). `firstOrder` lets the model use its first-order-only ops (LeNet: native convolutions);
 * false forces the any-order path (the same numbers up to float rounding; tests and the bench).
 */
export function lossAndGrads(model: Model, params: readonly tf.Tensor[], batch: Batch, closedForm = true, firstOrder = true): { loss: number; correct: number; grads: tf.Tensor[] } {
  const x = toBatchTensor(batch.x, batch.size, pixelsOf(model));
  if (closedForm && model.closedForm) return model.closedForm.crossEntropy(params, x, batch.y);
  if (firstOrder) {
    const byHand = model.backprop?.[tf.getBackend()];
    if (byHand) return byHand(params, x, batch.y);
    // the loss, its ∂/∂logits and the correct count in JS from the read-back logits (one op)
    let r: CrossEntropyJS | undefined;
    const { grads } = tf.valueAndGrads((...ps: tf.Tensor[]) =>
      crossEntropyOp(model.forward(ps, x, { firstOrder }) as tf.Tensor2D, batch.y, (v) => (r = v)),
    )(params as tf.Tensor[]);
    return { loss: r!.loss, correct: r!.correct, grads };
  }
  const target = oneHot(batch.y, model.classes);
  let nCorrect: tf.Tensor | undefined;
  const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
    const logits = model.forward(ps, x);
    nCorrect = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(batch.y, "int32")), "int32")));
    return tf.mean(softmaxCrossEntropy(logits, target)) as tf.Scalar;
  })(params as tf.Tensor[]);
  const correct = nCorrect!.dataSync()[0];
  nCorrect!.dispose(); // kept through the gradient scope, so not the caller's tidy's to free
  return { loss: value.dataSync()[0], correct, grads };
}

/**
 * Classification accuracy on a whole split, in batches of 1000. Throws DivergenceError if a logit
 * is not finite: weights within float32's range can still overflow x·W, and argmax of ±Inf/NaN
 * would be a made-up accuracy.
 */
export function accuracy(model: Model, params: readonly tf.Tensor[], data: MnistSplit, batchSize = 1000): number {
  let correct = 0;
  for (const batch of epochBatches(data, batchSize, null)) {
    const [right, finite] = tf.tidy(() => {
      const logits = model.forward(params, toBatchTensor(batch.x, batch.size, pixelsOf(model)), { firstOrder: true });
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(batch.y, "int32")), "int32"));
      return tf.stack([hits, tf.cast(tf.all(tf.isFinite(logits)), "int32")]).dataSync();
    });
    if (!finite) throw new DivergenceError(`training diverged: the model's ${data.split} logits are not finite (batch id ${batch.id} of the ${data.split} set)`);
    correct += right;
  }
  return correct / data.n;
}
