/**
 * What every optimizer here does in one step, split in two so an attacker (or a bandwidth
 * account) can see what crosses the network:
 *   compress(grads) → the tensors a federated client would send;
 *   apply(params, sent) → the parameter update on what was sent.
 */
import type { tf } from "../tf";

export interface SentStats {
  /** Entries sent, per parameter tensor. */
  sent: number[];
  /** Entries in each parameter tensor. */
  total: number[];
  /** Exact size of the upload in bytes, when the sender states its encoding (defenses.ts). */
  bytes?: number;
}

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
 * Bytes of one upload: the sender's own count when it states one; otherwise float32 values, dense
 * (4 B an entry) for a tensor sent whole, or a float32 value + an int32 index (8 B) per entry of a
 * sparse one (DGC's encoding, as the sweep counts it).
 */
export function statsBytes(s: SentStats): number {
  return s.bytes ?? s.sent.reduce((b, k, i) => b + (k === s.total[i] ? 4 : 8) * k, 0);
}

/** One step as every optimizer here takes it: compress, apply what was sent, free it; returns what was sent. */
export function compressAndApply(opt: Pick<Optimizer, "compress" | "apply">, params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
  const { sent, stats } = opt.compress(grads);
  opt.apply(params, sent);
  for (const t of sent) t.dispose();
  return stats;
}
