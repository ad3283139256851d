/**
 * Deep Gradient Compression as PaddleSleeve's DGCMomentum does it (SPEC.md), per parameter tensor
 * with local state u (accumulated, not-yet-sent update) and v (momentum), both starting at 0:
 *
 *   v = v + g;  u = u + v;  v = m · v              (Nesterov: v = m·(v + g); u = u + v + g)
 *   k = n − floor(sparsity · n);  threshold = k-th largest |u|
 *   mask = |u| > threshold                         (strict: with distinct values k − 1 pass)
 *   send u · mask;  keep u · ¬mask locally         (v is not masked)
 *
 * and the sent tensor then goes through an ordinary Momentum step (momentum applied twice, as
 * in the original). The DGC paper's refinements are options, all off by default:
 * momentum-factor masking (v = v · ¬mask), local gradient clipping, an exponential sparsity
 * warm-up, and sampled threshold estimation.
 */
import { tf, variableFrom } from "../tf";
import { Momentum } from "./momentum";
import { kthLargestAbs, sampledThresholdAbs } from "./topk";
import type { Compressed, Optimizer, SentStats } from "./optimizer";
import { clipByNorm } from "./clip";
import type { Rng } from "../rng";

export interface DGCOptions {
  /** Fraction of entries *not* sent, in [0, 1). */
  sparsity: number;
  /** Learning rate of the Momentum step applied to what is sent. */
  lr: number;
  /** m, the momentum of the local accumulation (and of the Momentum step); 0.9. */
  momentum?: number;
  nesterov?: boolean;
  /** Paper: also zero the momentum v where an entry was sent, so stale momentum is not re-sent. */
  momentumFactorMasking?: boolean;
  /** Paper: clip each gradient tensor to this L2 norm before accumulating. */
  clipNorm?: number;
  /** Paper: raise sparsity exponentially from 0.75 to `sparsity` over this many epochs. */
  warmupEpochs?: number;
  /** Paper: estimate the threshold from a sample of this fraction of entries (needs rng). */
  sampleRatio?: number;
  rng?: Rng;
}

/** Sparsity at `epoch` under the paper's warm-up: the density falls geometrically from 0.25. */
export function warmupSparsity(epoch: number, warmupEpochs: number, sparsity: number): number {
  if (warmupEpochs <= 0 || epoch >= warmupEpochs || sparsity <= 0.75) return sparsity;
  const density = 0.25 * Math.pow((1 - sparsity) / 0.25, epoch / warmupEpochs);
  return 1 - density;
}

/** Number of entries DGC keeps above the threshold: k = n − floor(s · n). */
export function topkCount(n: number, sparsity: number): number {
  return n - Math.floor(sparsity * n);
}

export class DGCMomentum implements Optimizer {
  readonly name: string = "DGCMomentum";
  private u: tf.Variable[] | undefined;
  private v: tf.Variable[] | undefined;
  private readonly inner: Momentum;
  private readonly m: number;
  private epoch = 0;

  constructor(readonly opts: DGCOptions) {
    if (!(opts.sparsity >= 0 && opts.sparsity < 1)) throw new RangeError(`sparsity must be in [0, 1), got ${opts.sparsity}`);
    if (opts.sampleRatio !== undefined && !opts.rng) throw new Error("sampled threshold estimation needs an rng");
    this.m = opts.momentum ?? 0.9;
    this.inner = new Momentum(opts.lr, this.m);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** The sparsity in force now (after warm-up). */
  get sparsity(): number {
    return warmupSparsity(this.epoch, this.opts.warmupEpochs ?? 0, this.opts.sparsity);
  }

  compress(grads: readonly tf.Tensor[]): Compressed {
    this.u ??= grads.map((g) => variableFrom(tf.zerosLike(g)));
    this.v ??= grads.map((g) => variableFrom(tf.zerosLike(g)));
    const { u, v, m } = this;
    const s = this.sparsity;
    const stats: SentStats = { sent: [], total: [] };
    const counts: tf.Tensor[] = [];
    const sent = grads.map((g0, i) =>
      tf.tidy(() => {
        const g = this.opts.clipNorm !== undefined ? clipByNorm(g0, this.opts.clipNorm) : g0;
        let ui: tf.Tensor;
        let vi: tf.Tensor;
        if (this.opts.nesterov) {
          vi = tf.mul(tf.add(v[i], g), m);
          ui = tf.add(tf.add(u[i], vi), g);
        } else {
          const vg = tf.add(v[i], g);
          ui = tf.add(u[i], vg);
          vi = tf.mul(vg, m);
        }
        const k = topkCount(g.size, s);
        const threshold =
          this.opts.sampleRatio !== undefined
            ? sampledThresholdAbs(ui, k, this.opts.sampleRatio, this.opts.rng!)
            : kthLargestAbs(ui, k);
        const mask = tf.greater(tf.abs(ui), tf.scalar(threshold));
        const keep = tf.logicalNot(mask);
        const out = tf.where(mask, ui, tf.zerosLike(ui));
        u[i].assign(tf.where(keep, ui, tf.zerosLike(ui)));
        v[i].assign(this.opts.momentumFactorMasking ? tf.where(keep, vi, tf.zerosLike(vi)) : vi);
        counts.push(tf.keep(tf.sum(tf.cast(mask, "int32"))));
        stats.total.push(g.size);
        return out;
      }),
    );
    for (const c of counts) stats.sent.push(c.dataSync()[0]);
    tf.dispose(counts);
    return { sent, stats };
  }

  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void {
    this.inner.apply(params, sent);
  }

  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
    const { sent, stats } = this.compress(grads);
    this.apply(params, sent);
    tf.dispose(sent);
    return stats;
  }

  /** Local state (for tests and plots): u, the residual not yet sent, and v, the momentum. */
  get state(): { u: readonly tf.Variable[]; v: readonly tf.Variable[]; velocity: readonly tf.Variable[] } | undefined {
    return this.u && this.v ? { u: this.u, v: this.v, velocity: this.inner.state ?? [] } : undefined;
  }

  dispose(): void {
    if (this.u) tf.dispose(this.u);
    if (this.v) tf.dispose(this.v);
    this.u = this.v = undefined;
    this.inner.dispose();
  }
}
