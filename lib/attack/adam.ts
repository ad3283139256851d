/**
 * Adam (Kingma & Ba 2015) for the dummy data of an inversion attack: a few variables, the
 * learning rate given at each step so that a schedule can change it without losing the moments.
 */
import { tf, variableFrom } from "../core/tf";

export class Adam {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(private readonly vars: readonly tf.Variable[], private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.m = vars.map((x) => variableFrom(tf.zerosLike(x)));
    this.v = vars.map((x) => variableFrom(tf.zerosLike(x)));
  }

  /** One step x −= lr · m̂ / (√v̂ + ε), with bias-corrected moments. */
  step(grads: readonly tf.Tensor[], lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(grads[i], 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(grads[i]), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        x.assign(tf.sub(x, tf.mul(tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps)), lr)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
