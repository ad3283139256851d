/**
 * DGCMomentum keeps u and v in JS arrays (lib/optim/dgc.ts). This runs it beside the tensor-op
 * formulation it replaced (kept here as the reference) on random gradients for many steps, with
 * every option, and asks for the same numbers bit for bit: what is sent, u, v and the parameters.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { clipByNorm } from "../../lib/optim/clip";
import { DGCMomentum, topkCount, type DGCOptions } from "../../lib/optim/dgc";
import { kthLargestAbs, sampledThresholdAbs } from "../../lib/optim/topk";
import { Momentum } from "../../lib/optim/momentum";
import { Rng } from "../../lib/core/rng";
import { tf, variableFrom } from "../../lib/core/tf";
import { useBackend } from "../helpers";

before(useBackend);

/** The tensor-op DGC step as it was written before (one tensor at a time, tf ops throughout). */
class ReferenceDGC {
  u: tf.Variable[] | undefined;
  v: tf.Variable[] | undefined;
  inner: Momentum;
  constructor(readonly opts: DGCOptions) {
    this.inner = new Momentum(opts.lr, opts.momentum ?? 0.9);
  }
  compress(grads: tf.Tensor[]): { sent: tf.Tensor[]; counts: number[] } {
    this.u ??= grads.map((g) => variableFrom(tf.zerosLike(g)));
    this.v ??= grads.map((g) => variableFrom(tf.zerosLike(g)));
    const [u, v, m] = [this.u, this.v, this.opts.momentum ?? 0.9];
    const counts: number[] = [];
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
        const k = topkCount(g.size, this.opts.sparsity);
        const threshold = this.opts.sampleRatio !== undefined ? sampledThresholdAbs(ui, k, this.opts.sampleRatio, this.opts.rng!) : kthLargestAbs(ui, k);
        const mask = tf.greater(tf.abs(ui), tf.scalar(threshold));
        const keep = tf.logicalNot(mask);
        u[i].assign(tf.where(keep, ui, tf.zerosLike(ui)));
        v[i].assign(this.opts.momentumFactorMasking ? tf.where(keep, vi, tf.zerosLike(vi)) : vi);
        counts.push(tf.sum(tf.cast(mask, "int32")).dataSync()[0]);
        return tf.where(mask, ui, tf.zerosLike(ui));
      }),
    );
    return { sent, counts };
  }
  dispose() {
    tf.dispose([...(this.u ?? []), ...(this.v ?? [])]);
    this.inner.dispose();
  }
}

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

test("JS-array DGC equals the tensor-op DGC bit for bit over 25 steps (plain, Nesterov, masking, clipping, sampled threshold)", () => {
  const variants: Partial<DGCOptions>[] = [{}, { nesterov: true }, { momentumFactorMasking: true }, { clipNorm: 0.5 }, { sampleRatio: 0.1 }, { momentum: 0.7, sparsity: 0.99 }];
  const before = tf.memory().numTensors;
  for (const variant of variants) {
    const opts = (seed: number): DGCOptions => ({ sparsity: 0.8, lr: 0.01, ...variant, rng: new Rng(seed) });
    const ours = new DGCMomentum(opts(7));
    const ref = new ReferenceDGC(opts(7));
    const shapes = [[784, 10], [10], [5, 5, 1, 12]];
    const rng = new Rng(3);
    const p1 = shapes.map((s) => variableFrom(tf.tensor(rng.uniformArray(s.reduce((a, b) => a * b), -1, 1), s)));
    const p2 = p1.map((p) => variableFrom(tf.clone(p)));
    for (let step = 0; step < 25; step++) {
      tf.tidy(() => {
        const grads = shapes.map((s) => tf.tensor(rng.normalArray(s.reduce((a, b) => a * b)).map((x) => x * (step + 1)), s));
        const a = ours.compress(grads);
        const b = ref.compress(grads);
        const what = `${JSON.stringify(variant)} step ${step}`;
        assert.deepEqual(a.stats.sent, b.counts, `${what}: counts`);
        a.sent.forEach((t, i) => assert.deepEqual(bits(t), bits(b.sent[i]), `${what}: sent ${i}`));
        ours.state!.u.forEach((t, i) => assert.deepEqual(bits(t), bits(ref.u![i]), `${what}: u ${i}`));
        ours.state!.v.forEach((t, i) => assert.deepEqual(bits(t), bits(ref.v![i]), `${what}: v ${i}`));
        ours.apply(p1, a.sent);
        ref.inner.apply(p2, b.sent);
        p1.forEach((p, i) => assert.deepEqual(bits(p), bits(p2[i]), `${what}: param ${i}`));
      });
    }
    ours.dispose();
    ref.dispose();
    tf.dispose([...p1, ...p2]);
  }
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
});
