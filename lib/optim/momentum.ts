/**
 * Paddle's Momentum (no Nesterov, no weight decay):
 *   velocity = μ · velocity + grad;   param −= lr · velocity.
 * It sends the raw gradient, dense.
 */
import { tf, variableFrom } from "../tf";
import type { Compressed, Optimizer, SentStats } from "./optimizer";

export class Momentum implements Optimizer {
  readonly name: string = "Momentum";
  private velocity: tf.Variable[] | undefined;

  constructor(readonly lr: number, readonly momentum = 0.9) {}

  compress(grads: readonly tf.Tensor[]): Compressed {
    const sent = grads.map((g) => tf.clone(g));
    return { sent, stats: { sent: grads.map((g) => g.size), total: grads.map((g) => g.size) } };
  }

  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void {
    this.velocity ??= params.map((p) => variableFrom(tf.zerosLike(p)));
    const velocity = this.velocity;
    tf.tidy(() => {
      params.forEach((p, i) => {
        const v = tf.add(tf.mul(velocity[i], this.momentum), sent[i]);
        velocity[i].assign(v);
        p.assign(tf.sub(p, tf.mul(v, this.lr)));
      });
    });
  }

  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
    const { sent, stats } = this.compress(grads);
    this.apply(params, sent);
    tf.dispose(sent);
    return stats;
  }

  /** Current velocity (for tests and plots); undefined before the first step. */
  get state(): readonly tf.Variable[] | undefined {
    return this.velocity;
  }

  dispose(): void {
    if (this.velocity) tf.dispose(this.velocity);
    this.velocity = undefined;
  }
}
