/**
 * A defense composed with the seed's Momentum step, the way DGC is: compress(grads) transforms the
 * gradient into what the client sends (defenses.ts), apply(params, sent) is the ordinary Momentum
 * update on what was sent — so the server's model moves exactly as the received upload says.
 */
import { tf } from "../../core/tf";
import { Momentum } from "../../optim/momentum";
import { DGCMomentum, type DGCOptions } from "../../optim/dgc";
import { makeTransform, type DefenseSpec, type UploadTransform } from "./defenses";
import { compressAndApply, type Compressed, type Optimizer, type SentStats } from "../../optim/optimizer";
import type { DGCSettings } from "../../optim/variants";
import type { Rng } from "../../core/rng";

export class DefendedMomentum implements Optimizer {
  readonly name: string;
  private readonly transform: UploadTransform;
  private readonly inner: Momentum;

  constructor(readonly defense: DefenseSpec, lr: number, rng: Rng, momentum = 0.9) {
    this.name = `Momentum+${defense.name}`;
    this.transform = makeTransform(defense, rng);
    this.inner = new Momentum(lr, momentum);
  }

  compress(grads: readonly tf.Tensor[]): Compressed {
    const up = this.transform.encode(grads.map((g) => g.dataSync() as Float32Array));
    const sent = up.values.map((v, i) => tf.tensor(v, grads[i].shape));
    return { sent, stats: { sent: up.sent, total: grads.map((g) => g.size), bytes: up.bytes } };
  }

  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void {
    this.inner.apply(params, sent);
  }

  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
    return compressAndApply(this, params, grads);
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/**
 * The optimizer of a client under a defense: the seed's Momentum for `none`, its DGCMomentum
 * (with a variant's refinements) for `dgc`, Momentum behind the transform for the others.
 */
export function makeDefenseOptimizer(defense: DefenseSpec, lr: number, rng: Rng, dgc: DGCSettings = {}): Optimizer {
  if (defense.name === "none") return new Momentum(lr, dgc.momentum ?? 0.9);
  if (defense.name === "dgc") return new DGCMomentum({ ...dgc, sparsity: defense.strength!, lr, rng });
  return new DefendedMomentum(defense, lr, rng);
}

/** The seed's choice: DGCMomentum when use_dgc, else Momentum; momentum 0.9 either way. */
export function makeOptimizer(useDgc: boolean, lr: number, dgc: Omit<DGCOptions, "lr"> = { sparsity: 0.8 }): Optimizer {
  return useDgc ? new DGCMomentum({ ...dgc, lr }) : new Momentum(lr, dgc.momentum ?? 0.9);
}
