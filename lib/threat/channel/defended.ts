/**
 * A defense composed with the seed's Momentum step, the way DGC is: compress(grads) transforms the
 * gradient into what the client sends (defenses.ts), apply(params, sent) is the ordinary Momentum
 * update on what was sent — so the server's model moves exactly as the received upload says.
 */
import { tf } from "../../core/tf";
import { Momentum } from "../../optim/momentum";
import { makeTransform, type DefenseSpec, type UploadTransform } from "./defenses";
import { compressAndApply, type Compressed, type Optimizer, type SentStats } from "../../optim/optimizer";
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
