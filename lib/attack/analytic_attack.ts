/**
 * The registry's analytic attack (methods.ts) on top of analyticLinear (analytic.ts): the image from
 * one division per pixel, a bound for the pixels whose entry was not sent, and the label read off
 * the reconstruction. One snapshot, "iteration 0"; nothing is optimized.
 */
import { tf } from "../core/tf";
import { pixelsOf } from "../models/model";
import { analyticLinear } from "./analytic";
import { initialLabels, type DLGSnapshot } from "./dlg";
import { l2Distance, transmittedMask } from "./objectives";
import { parameterGradients } from "../models/losses";
import type { AttackInput, AttackOutput, AttackSpec, IterationHook } from "./spec";

/**
 * What the attacker knows about a pixel whose weight-gradient entry did not arrive: DGC sends the
 * entries above a threshold, so |x_i · ∂b[j]| ≤ the smallest magnitude it sent, i.e.
 * |x_i| ≤ τ = min|sent| / |∂b[j]|. The prior (mean image) is clamped into that interval. Without
 * sparsification every entry arrives and the fill is never used.
 */
function boundedFill(dW: Float32Array, db: Float32Array, mean?: Float32Array): Float32Array | undefined {
  const j = analyticLinear(dW, db).classUsed;
  if (j === null || !mean) return mean;
  let smallest = Infinity;
  for (const v of dW) if (v !== 0) smallest = Math.min(smallest, Math.abs(v));
  const tau = smallest / Math.abs(db[j]);
  return Float32Array.from(mean, (m) => Math.max(-tau, Math.min(tau, m)));
}

/**
 * The analytic attack: one division per pixel, no iterations; one snapshot at "iteration 0". The
 * label is then read by trying each class on the reconstruction: the one whose gradient matches
 * what was received best (on the transmitted entries) — exact for any victim loss once the image
 * is, where the iDLG rule printed beforehand holds only for cross-entropy.
 */
export function runAnalytic(spec: AttackSpec, input: AttackInput, guess: number, onIteration?: IterationHook): AttackOutput {
  const t0 = performance.now();
  const [dW, db] = input.observed.map((g) => g.dataSync() as Float32Array);
  const r = analyticLinear(dW, db, boundedFill(dW, db, input.mean));
  const mask = transmittedMask(input.observed);
  const distances = tf.tidy(() => {
    const x = tf.tensor2d(r.x, [1, pixelsOf(input.model)]);
    const gradsOf = parameterGradients(input.model, input.params, spec.victimLoss);
    return Array.from({ length: input.model.classes }, (_, j) => l2Distance(gradsOf(x, tf.tensor2d(initialLabels("guess", 1, j, input.model.classes), [1, input.model.classes])), input.observed, mask).dataSync()[0]);
  });
  tf.dispose(mask.map((m) => m.mask));
  const label = distances.indexOf(Math.min(...distances));
  const y = initialLabels("guess", 1, label, input.model.classes);
  const snap: DLGSnapshot = { iteration: 0, x: r.x, y, distance: distances[label] };
  onIteration?.(0, snap.distance, snap);
  return {
    x: r.x, y, labels: [label], guess, snapshots: [snap], distances: Float64Array.of(snap.distance),
    seconds: (performance.now() - t0) / 1000,
    analytic: { recovered: r.recovered, recoveredCount: r.recoveredCount, classUsed: r.classUsed },
  };
}

/**
 * The sweep's plain analytic attack: analyticLinear with the mean image as the fill for what it
 * cannot recover, the label of the column it divided by (0 when no bias entry arrived). `dense`:
 * nothing was dropped, so a zero entry is a value.
 */
export function runAnalyticPlain(input: AttackInput, dense: boolean, onIteration?: IterationHook): AttackOutput {
  const t0 = performance.now();
  if (input.observed.length !== 2) throw new Error("the analytic attack needs the Linear model's weight and bias gradients");
  const r = analyticLinear(input.observed[0].dataSync(), input.observed[1].dataSync(), input.mean, dense);
  const guess = r.classUsed ?? 0;
  const y = initialLabels("guess", 1, guess, input.model.classes);
  const snap: DLGSnapshot = { iteration: 0, x: r.x, y, distance: NaN };
  onIteration?.(0, snap.distance, snap);
  return {
    x: r.x, y, labels: [guess], guess, snapshots: [snap], distances: Float64Array.of(NaN), seconds: (performance.now() - t0) / 1000,
    analytic: { recovered: r.recovered, recoveredCount: r.recoveredCount, classUsed: r.classUsed },
  };
}
