#!/usr/bin/env node
/**
 * One FedAvg attack iteration on LeNet: the objective (cosine + TV, IG's) and its gradient with
 * respect to the dummy image, through E unrolled local SGD steps (second order through every step),
 * for E = 1, 5, 10; n = b = 1, η = 0.1. Median of `--repeats` after one warm-up.
 *   node dist/scripts/bench_fedavg.js [--backend wasm|cpu|tensorflow] [--repeats 10] [--steps 1,5,10]
 * The same workload runs in `npm run bench` (fedavg_e1/e5/e10, interleaved with PyTorch's); this
 * stand-alone form sweeps any E. PyTorch's twin is scripts/bench_fedavg.py.
 */
import { initBackend } from "../lib/core/backend";
import { tf } from "../lib/core/tf";
import { Rng } from "../lib/core/rng";
import { lenetModel } from "../lib/models/lenet";
import { oneHot } from "../lib/models/losses";
import { cosineDistance, totalVariation } from "../lib/attack/objectives";
import { unrolledDelta } from "../lib/attack/fedavg";
import { localSchedule, localUpdate, MAX_LOCAL_STEPS } from "../lib/threat/federated/local";
import { parseFlagsOrExit } from "../cli/flags";
import { median } from "./spread";

async function main(): Promise<void> {
  const o = parseFlagsOrExit("bench_fedavg", {
    backend: { kind: "choice", choices: ["wasm", "cpu", "tensorflow"], default: "wasm", help: "the tfjs backend" },
    repeats: { kind: "int", min: 1, max: 10_000, default: 10, help: "timed iterations per E (after one warm-up)" },
    steps: { kind: "ints", min: 1, max: MAX_LOCAL_STEPS, default: "1,5,10", help: "local steps E, unrolled" },
  }, process.argv.slice(2), "One FedAvg attack iteration on LeNet, through E unrolled local SGD steps");
  const backend = await initBackend(o.backend as "wasm");
  const repeats = o.repeats;
  const model = lenetModel();
  const rng = new Rng(1);
  const params = model.init(rng);
  const x = rng.uniformArray(784, -1, 1);
  const y = Int32Array.of(3);
  const ys = oneHot(y, 10);
  const z = tf.variable(tf.tensor2d(rng.uniformArray(784, -1, 1), [1, 784]));
  for (const E of o.steps) {
    const training = { steps: E, batch: 1, lr: 0.1, momentum: 0 };
    const upload = localUpdate(model, params, x, y, localSchedule(1, 1, E, null), training, "ce").delta;
    const sim = unrolledDelta(model, params, { training, n: 1, loss: "ce", order: null });
    const f = (v: tf.Tensor) => tf.add(cosineDistance(sim(v, ys), upload), tf.mul(totalVariation(v), 1e-4)) as tf.Scalar;
    const vg = tf.valueAndGrad(f);
    const once = () => tf.tidy(() => {
      const { value, grad } = vg(z);
      grad.dataSync();
      return value.dataSync()[0];
    });
    once();
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const med = median(times); // the two middle values averaged for an even count
    console.log(`fedavg attack iteration, LeNet, E = ${E} unrolled steps, n = b = 1 (${backend}): median ${med.toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}, ${repeats} repeats)`);
    tf.dispose(upload);
  }
}

main().catch((e) => {
  console.error(`bench_fedavg: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
