/**
 * One LeNet training step (batch 64, cross-entropy, Momentum: the bench's `lenet_train_step`), timed
 * alone in this process: wall and CPU time per step (min and median over --steps after --warmup), and
 * with --kernels the time of every tfjs kernel of one more step (tf.profile), summed by kernel name,
 * then one by one with its input shapes. For finding what a step spends; the comparison with PyTorch
 * is `npm run bench -- --only lenet_train_step`.
 *   node dist/scripts/prof_lenet_step.js [--backend wasm|cpu|tensorflow] [--steps 200] [--warmup 5] [--kernels] [--seed 1]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { initBackend, type BackendChoice } from "../lib/core/backend";
import { tf, variableFrom } from "../lib/core/tf";
import { lenetModel } from "../lib/models/lenet";
import { Momentum } from "../lib/optim/momentum";
import { lossAndGrads } from "../lib/optim/train";
import { Rng } from "../lib/core/rng";
import type { Batch } from "../lib/data/batcher";

async function main() {
  const o = parseFlagsOrExit("prof_lenet_step", {
    backend: { kind: "choice", choices: ["wasm", "cpu", "tensorflow"], default: "wasm", help: "tfjs backend" },
    steps: { kind: "int", min: 1, default: 200, help: "timed steps" },
    warmup: { kind: "int", min: 0, default: 5, help: "untimed steps first" },
    kernels: { kind: "switch", help: "also profile one step kernel by kernel" },
    seed: { kind: "int", min: 0, default: 1, help: "seed of the weights and of the random batch" },
  }, process.argv.slice(2), "Time one LeNet training step (and, with --kernels, its tfjs kernels)");
  console.log(`backend ${await initBackend(o.backend as BackendChoice)}`);
  const model = lenetModel();
  const params = model.init(new Rng(o.seed)).map((t) => variableFrom(t, true));
  const opt = new Momentum(0.01);
  const rng = new Rng(o.seed + 1);
  const batch: Batch = { id: 0, index: new Int32Array(64), x: Float32Array.from(rng.uniformArray(64 * 784, -1, 1)), y: Int32Array.from({ length: 64 }, (_, i) => i % 10), size: 64 };
  const step = () => tf.tidy(() => void opt.step(params, lossAndGrads(model, params, batch).grads));
  for (let i = 0; i < o.warmup; i++) step();
  const [wall, cpu]: number[][] = [[], []];
  for (let i = 0; i < o.steps; i++) {
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    step();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `min ${s[0].toFixed(2)} median ${s[s.length >> 1].toFixed(2)} max ${s[s.length - 1].toFixed(2)}`;
  };
  console.log(`step, ms: wall ${stat(wall)}; CPU ${stat(cpu)} (${o.steps} steps)`);
  if (o.kernels) {
    const p = await tf.profile(() => step());
    const byName = new Map<string, [number, number]>();
    for (const k of p.kernels) {
      const a = byName.get(k.name) ?? [0, 0];
      byName.set(k.name, [a[0] + (k.kernelTimeMs as number), a[1] + 1]);
    }
    console.log("kernel, total ms, calls");
    for (const [name, [ms, n]] of [...byName].sort((a, b) => b[1][0] - a[1][0])) console.log(`${name.padEnd(24)} ${ms.toFixed(3)} ${n}`);
    console.log("kernel, input shapes, ms");
    for (const k of p.kernels) console.log(`${k.name} ${JSON.stringify(k.inputShapes)} ${(k.kernelTimeMs as number).toFixed(3)}`);
  }
  opt.dispose();
  tf.dispose(params);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
