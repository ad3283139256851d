/**
 * One federated client: its shard of the training set, its own shuffle stream, and its own
 * optimizer state (Momentum, or DGCMomentum with its own u and v). What it uploads is what its
 * optimizer's compress() hands the network: the raw gradient for Momentum, u · mask for DGC.
 *
 *   FedSGD (local_steps = 1): g = ∇L(w_t; batch) at the broadcast model; upload compress(g).
 *   FedAvg (local_steps = E > 1): E steps of Momentum(lr, 0.9) on a local copy w (the local
 *     velocity starts at 0 every round), Δ = w_t − w_E; upload compress(Δ), where compress is
 *     DGCMomentum with momentum 0 (u = u + Δ, send top-k of |u|, keep the rest: error feedback),
 *     or Momentum's identity (dense Δ).
 */
import { tf, variableFrom } from "../../core/tf";
import { gatherBatch, type Batch } from "../../data/batcher";
import type { MnistSplit } from "../../data/mnist";
import { lossAndGrads } from "../../optim/train";
import { victimGradients } from "../victim";
import { Momentum } from "../../optim/momentum";
import type { Compressed, Optimizer } from "../../optim/optimizer";
import type { Model } from "../../models/model";
import type { VictimLoss } from "../../models/losses";
import type { Rng } from "../../core/rng";

export class Client {
  private order: Int32Array | null = null;
  private cursor = 0;

  constructor(
    readonly id: number,
    readonly data: MnistSplit,
    /** Indices into `data` (sorted). */
    readonly shard: Int32Array,
    private readonly rng: Rng,
    readonly optimizer: Optimizer,
  ) {}

  /**
   * The next `size` images of the client's epoch (a fresh permutation of its shard each epoch;
   * the last batch of an epoch is short, as Paddle's DataLoader with drop_last=False).
   */
  nextBatch(size: number, id = 0): Batch {
    if (this.order === null || this.cursor >= this.order.length) {
      this.order = this.rng.permutation(this.shard.length);
      this.cursor = 0;
    }
    const end = Math.min(this.cursor + size, this.order.length);
    const index = new Int32Array(end - this.cursor);
    for (let i = 0; i < index.length; i++) index[i] = this.shard[this.order[this.cursor + i]];
    this.cursor = end;
    return gatherBatch(this.data, index, id);
  }

  /**
   * This round's upload for FedSGD: the gradient at the broadcast model on `batch`, compressed.
   * `loss` "ce" is training's mean cross-entropy; "sse" the seed's attack-mode Σ(logits − onehot)².
   * `keepGrads`: also read the full (uncompressed) gradient back, for a watched client only — a copy of
   * every parameter each round is not free.
   */
  fedsgd(model: Model, params: readonly tf.Tensor[], batch: Batch, loss: VictimLoss = "ce", keepGrads = false): Compressed & { loss: number; grads?: Float32Array[] } {
    let lossValue = NaN;
    let grads: tf.Tensor[];
    if (loss === "ce") {
      const r = tf.tidy(() => {
        const o = lossAndGrads(model, params, batch);
        return { loss: o.loss, grads: o.grads };
      });
      lossValue = r.loss;
      grads = r.grads;
    } else {
      grads = victimGradients(model, params, batch, "sse");
      lossValue = NaN; // not cross-entropy: left out of the round's mean training loss
    }
    try {
      const out = this.optimizer.compress(grads);
      return { ...out, loss: lossValue, ...(keepGrads ? { grads: grads.map((g) => g.dataSync().slice() as Float32Array) } : {}) };
    } finally {
      tf.dispose(grads);
    }
  }

  /** This round's upload for FedAvg: E local Momentum steps, then the compressed weight delta. */
  fedavg(model: Model, params: readonly tf.Tensor[], batches: Batch[], lr: number): Compressed & { loss: number } {
    const local = params.map((p) => variableFrom(tf.clone(p), true));
    const opt = new Momentum(lr, 0.9);
    let lossSum = 0;
    try {
      for (const batch of batches) {
        tf.tidy(() => {
          const { loss, grads } = lossAndGrads(model, local, batch);
          lossSum += loss;
          opt.step(local, grads);
        });
      }
      const delta = tf.tidy(() => params.map((p, i) => tf.sub(p, local[i])));
      try {
        return { ...this.optimizer.compress(delta), loss: lossSum / batches.length };
      } finally {
        tf.dispose(delta);
      }
    } finally {
      opt.dispose();
      tf.dispose(local);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
