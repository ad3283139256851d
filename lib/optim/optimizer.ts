/**
 * What every optimizer here does in one step, split in two so an attacker (or a bandwidth
 * account) can see what crosses the network:
 *   compress(grads) → the tensors a federated client would send;
 *   apply(params, sent) → the parameter update on what was sent.
 */
import type { tf } from "../core/tf";
import { statsBytes, type SentStats } from "./wire";

export type { SentStats };

export interface Compressed {
  sent: tf.Tensor[];
  stats: SentStats;
}

export interface Optimizer {
  readonly name: string;
  compress(grads: readonly tf.Tensor[]): Compressed;
  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void;
  /** compress + apply; returns what was sent. The caller keeps ownership of `grads`. */
  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats;
  /** Optional schedule hook (DGC's sparsity warm-up). */
  setEpoch?(epoch: number): void;
  dispose(): void;
}

export function sumStats(s: SentStats): { sent: number; total: number } {
  return { sent: s.sent.reduce((a, b) => a + b, 0), total: s.total.reduce((a, b) => a + b, 0) };
}

/**
 * An optimizer that counts what it uploads: steps taken and their bytes (federated/bytes.ts `statsBytes`), for a
 * bytes-per-step account of a whole training run. Everything else is the inner optimizer's.
 */
export class UploadCounter implements Optimizer {
  uploads = 0;
  bytes = 0;
  readonly setEpoch?: (epoch: number) => void;
  constructor(readonly inner: Optimizer) {
    if (inner.setEpoch) this.setEpoch = (epoch) => inner.setEpoch!(epoch);
  }
  get name(): string {
    return this.inner.name;
  }
  private count(stats: SentStats): SentStats {
    this.uploads++;
    this.bytes += statsBytes(stats);
    return stats;
  }
  compress(grads: readonly tf.Tensor[]): Compressed {
    const c = this.inner.compress(grads);
    this.count(c.stats);
    return c;
  }
  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void {
    this.inner.apply(params, sent);
  }
  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
    return this.count(this.inner.step(params, grads));
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** One step as every optimizer here takes it: compress, apply what was sent, free it; returns what was sent. */
export function compressAndApply(opt: Pick<Optimizer, "compress" | "apply">, params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
  const { sent, stats } = opt.compress(grads);
  opt.apply(params, sent);
  for (const t of sent) t.dispose();
  return stats;
}
