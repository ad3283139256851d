/**
 * Paddle's Momentum (no Nesterov, no weight decay):
 *   velocity = μ · velocity + grad;   param −= lr · velocity.
 * It sends the raw gradient, dense.
 *
 * The velocity lives in JS arrays and the update is one pass per tensor, each operation rounded to
 * float32 as the tfjs ops round it (Math.fround of a double product or sum is the IEEE single
 * result), so the parameters are the tensor formulation's bit for bit (test/optim/optim.test.ts). Why:
 * four tfjs ops and two assignments per tensor cost more than the arithmetic — on tfjs-node, LeNet's
 * eight tensors took 0.2 ms of a 3 ms training step this way against 0.05 ms in JS.
 */
import { tf, variableFrom } from "../core/tf";
import type { Compressed, Optimizer, SentStats } from "./optimizer";

export class Momentum implements Optimizer {
  readonly name: string = "Momentum";
  private velocity: Float32Array[] | undefined;
  private shapes: number[][] = [];
  /** tfjs copies of the velocity for `state`, refreshed when read. */
  private stateVars: tf.Variable[] | undefined;

  constructor(readonly lr: number, readonly momentum = 0.9) {}

  compress(grads: readonly tf.Tensor[]): Compressed {
    const sent = grads.map((g) => tf.clone(g));
    return { sent, stats: { sent: grads.map((g) => g.size), total: grads.map((g) => g.size) } };
  }

  apply(params: readonly tf.Variable[], sent: readonly tf.Tensor[]): void {
    this.shapes = params.map((p) => p.shape);
    this.velocity ??= params.map((p) => new Float32Array(p.size));
    const f = Math.fround;
    const [m, lr] = [f(this.momentum), f(this.lr)]; // what tf.mul(x, scalar) multiplies by
    params.forEach((p, i) => {
      const g = sent[i].dataSync() as Float32Array;
      const w = p.dataSync() as Float32Array;
      const v = this.velocity![i];
      const next = new Float32Array(w.length);
      for (let j = 0; j < v.length; j++) {
        const vj = f(f(v[j] * m) + g[j]);
        v[j] = vj;
        next[j] = w[j] - f(vj * lr);
      }
      const t = tf.tensor(next, p.shape);
      p.assign(t);
      t.dispose();
    });
  }

  step(params: readonly tf.Variable[], grads: readonly tf.Tensor[]): SentStats {
    this.apply(params, grads); // what compress would send is the gradient itself: no copy
    return { sent: grads.map((g) => g.size), total: grads.map((g) => g.size) };
  }

  /** Current velocity (for tests and plots; a copy refreshed at every read); undefined before the first step. */
  get state(): readonly tf.Variable[] | undefined {
    if (!this.velocity) return undefined;
    this.stateVars = this.velocity.map((a, i) => {
      const t = tf.tensor(a, this.shapes[i]);
      if (!this.stateVars) return variableFrom(t);
      this.stateVars[i].assign(t);
      t.dispose();
      return this.stateVars[i];
    });
    return this.stateVars;
  }

  dispose(): void {
    if (this.stateVars) tf.dispose(this.stateVars);
    this.velocity = this.stateVars = undefined;
  }
}
