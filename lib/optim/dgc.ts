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
 *
 * u and v live in JS Float32Arrays and the update runs as one pass over each tensor: per-op
 * overhead, not arithmetic, is what a dozen tfjs ops per tensor cost on the seed's small model.
 * Every operation rounds to float32 as the tensor ops did (m is float32), so the numbers are the
 * tensor formulation's (test/optim/dgc_js.test.ts runs both side by side).
 */
import { tf, variableFrom } from "../core/tf";
import { Momentum } from "./momentum";
import { kthLargestAbsOf, sampledThresholdAbsOf } from "./topk";
import type { Compressed, Optimizer, SentStats } from "./optimizer";
import { clipByNorm } from "./clip";
import type { Rng } from "../core/rng";

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

/**
 * DGC's refinements beyond its sparsity and learning rate — the DGC paper's (momentum-factor masking,
 * clipping, warm-up, sampled threshold) that a variant (variants.ts) turns on; the one settings type of
 * DGC, stored in records without its `rng`. DGC's other names: `DGCOptions` (the constructor's),
 * `DGCVariant` (a variant's name), and `dgc:s` in the defense registry.
 */
export type DGCRefinements = Omit<DGCOptions, "lr" | "sparsity">;

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
  private u: Float32Array[] | undefined;
  private v: Float32Array[] | undefined;
  private shapes: number[][] = [];
  /** tfjs copies of u and v for `state`, refreshed when read. */
  private stateVars: { u: tf.Variable[]; v: tf.Variable[] } | undefined;
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
    this.shapes = grads.map((g) => g.shape);
    this.u ??= grads.map((g) => new Float32Array(g.size));
    this.v ??= grads.map((g) => new Float32Array(g.size));
    const { u, v } = this;
    const m = Math.fround(this.m); // what tf.mul(x, m) multiplies by
    const f = Math.fround;
    const s = this.sparsity;
    const stats: SentStats = { sent: [], total: [] };
    const sent = grads.map((g0, i) => {
      const clipped = this.opts.clipNorm !== undefined ? tf.tidy(() => clipByNorm(g0, this.opts.clipNorm!)) : g0;
      const g = clipped.dataSync() as Float32Array;
      if (clipped !== g0) clipped.dispose();
      const [ui, vi] = [u[i], v[i]];
      const n = g.length;
      if (this.opts.nesterov) {
        for (let j = 0; j < n; j++) {
          vi[j] = f(vi[j] + g[j]) * m; // v = m·(v + g)
          ui[j] = f(ui[j] + vi[j]) + g[j]; // u = u + v + g
        }
      } else {
        for (let j = 0; j < n; j++) {
          const vg = f(vi[j] + g[j]);
          ui[j] += vg; // u = u + (v + g)
          vi[j] = vg * m; // v = m·(v + g)
        }
      }
      const k = topkCount(n, s);
      const threshold = this.opts.sampleRatio !== undefined ? sampledThresholdAbsOf(ui, k, this.opts.sampleRatio, this.opts.rng!) : kthLargestAbsOf(ui, k);
      const out = new Float32Array(n);
      let count = 0;
      for (let j = 0; j < n; j++) {
        if (Math.abs(ui[j]) > threshold) {
          out[j] = ui[j];
          ui[j] = 0;
          if (this.opts.momentumFactorMasking) vi[j] = 0;
          count++;
        }
      }
      stats.sent.push(count);
      stats.total.push(n);
      return tf.tensor(out, g0.shape);
    });
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

  /**
   * Local state (for tests and plots): u, the residual not yet sent, and v, the momentum, as
   * variables owned by the optimizer (a copy, refreshed at every read).
   */
  get state(): { u: readonly tf.Variable[]; v: readonly tf.Variable[]; velocity: readonly tf.Variable[] } | undefined {
    if (!this.u || !this.v) return undefined;
    const sync = (arrays: Float32Array[], vars?: tf.Variable[]) =>
      arrays.map((a, i) => {
        const t = tf.tensor(a, this.shapes[i]);
        if (!vars) return variableFrom(t);
        vars[i].assign(t);
        t.dispose();
        return vars[i];
      });
    this.stateVars = { u: sync(this.u, this.stateVars?.u), v: sync(this.v, this.stateVars?.v) };
    return { ...this.stateVars, velocity: this.inner.state ?? [] };
  }

  dispose(): void {
    if (this.stateVars) tf.dispose([...this.stateVars.u, ...this.stateVars.v]);
    this.u = this.v = this.stateVars = undefined;
    this.inner.dispose();
  }
}
