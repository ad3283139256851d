/**
 * `npm run scaling`: how attack time grows with the attacked batch size and with the number of
 * victim images attacked one after another (the sweep's unit of work), on the backend `auto`
 * picks for attacks. Median of --repeats runs per point; writes JSON, and a PNG when the .venv has
 * matplotlib (bench/scaling_plot.py). Also federated training time (lib/federated, FedSGD, batch 64 per
 * client, DGC 0.8) against clients × rounds, Linear on `auto`'s training backend and LeNet on its own.
 *   npm run scaling -- [--repeats 3] [--out docs/scaling.json] [--png docs/scaling.png]
 */
import { seedDefense } from "../lib/threat/channel/registry";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseFlagsOrExit } from "../cli/flags";
import { medianOrNaN as median } from "../lib/study/summary";
import writeFileAtomic from "write-file-atomic";
import { dlgAttack, initialLabels } from "../lib/attack/dlg";
import { gatherBatch } from "../lib/data/batcher";
import { initBackend } from "../lib/core/backend";
import { lenetModel } from "../lib/models/lenet";
import { linearModel } from "../lib/models/linear";
import { loadMnist, type MnistSplit } from "../lib/data/mnist";
import { Rng } from "../lib/core/rng";
import { runFederated } from "../lib/threat/federated/simulation";
import { tf, variableFrom } from "../lib/core/tf";
import { victimGradients } from "../lib/threat/victim";
import { type Model } from "../lib/models/model";

const ROOT = resolve(__dirname, "../..");

/** Seconds for one DLG attack of `iterations` on `batch` images (starting at image `first`). */
function attackSeconds(data: MnistSplit, model: Model, batch: number, iterations: number, first: number): number {
  const params = model.init(new Rng(1));
  const target = gatherBatch(data, Int32Array.from({ length: batch }, (_, i) => first + i));
  const observed = victimGradients(model, params, target);
  const r = dlgAttack(model, params, observed, batch, {
    iterations, lr: 0.2, returnEvery: iterations, windowSize: 200, labelStart: initialLabels("ones", batch, 0), rng: new Rng(first + 3),
  });
  tf.dispose([...params, ...observed]);
  return r.seconds;
}

/** Seconds of a whole FedSGD run: `clients` DGC 0.8 clients for `rounds` rounds (the seed's lr 0.001). */
function federatedSeconds(data: MnistSplit, model: Model, clients: number, rounds: number, seed: number): number {
  const params = model.init(new Rng(seed)).map((t) => variableFrom(t, true));
  const opts = { clients, rounds, localSteps: 1, split: "iid" as const, alpha: 1, batchSize: 64, lr: 0.001, defense: seedDefense(true, 0.8) };
  const r = runFederated(model, params, data, opts, new Rng(seed));
  tf.dispose(params);
  return r.seconds;
}

/** Training time against clients × rounds, per model, on the backend `auto` picks for training it. */
async function federatedScaling(data: MnistSplit, repeats: number) {
  const out: Record<string, { backend: string; points: { clients: number; rounds: number; s: number }[] }> = {};
  for (const [name, model, clientsList, roundsList] of [
    ["linear", linearModel(), [1, 2, 5, 10, 20, 50], [10, 50, 100]],
    ["lenet", lenetModel(), [1, 2, 5, 10, 20], [5, 20]],
  ] as const) {
    const backend = await initBackend("auto", { model: name, task: "train" });
    for (const clients of clientsList) federatedSeconds(data, model, clients, 2, 99); // warm-up: JIT, kernels, plans
    const points = [];
    for (const rounds of roundsList)
      for (const clients of clientsList) {
        const s = median(Array.from({ length: repeats }, (_, r) => federatedSeconds(data, model, clients, rounds, r + 1)));
        console.error(`${name} (${backend}): ${clients} clients × ${rounds} rounds: ${s.toFixed(3)} s`);
        points.push({ clients, rounds, s });
      }
    out[name] = { backend, points };
  }
  return out;
}

async function main() {
  const o = parseFlagsOrExit("scaling", {
    repeats: { kind: "int", min: 1, max: 1000, default: 3, help: "runs per point (median)" },
    out: { kind: "outFile", default: "docs/scaling.json", help: "JSON output" },
    png: { kind: "outFile", default: "docs/scaling.png", help: "figure" },
  }, process.argv.slice(2), "How attack and federated training time scale (JSON, and a PNG with the .venv's matplotlib)");
  const repeats = o.repeats;
  const backend = await initBackend("auto", { model: "lenet", task: "attack" });
  const data = loadMnist("train");
  const load0 = loadavg()[0];
  const batches = [1, 2, 4, 8];
  const perIteration: Record<string, { batch: number; ms: number }[]> = {};
  for (const [name, model, its] of [["linear", linearModel(), 400], ["lenet", lenetModel(), 40]] as const) {
    for (const batch of batches) attackSeconds(data, model, batch, its, 0); // warm-up: JIT, im2col plans, kernels
    perIteration[name] = batches.map((batch) => {
      const ms = (median(Array.from({ length: repeats }, (_, r) => attackSeconds(data, model, batch, its, 10 * r))) / its) * 1000;
      console.error(`${name} batch ${batch}: ${ms.toFixed(3)} ms per iteration`);
      return { batch, ms };
    });
  }
  const images = [1, 2, 4, 8];
  const sequential = images.map((n) => {
    const s = median(Array.from({ length: repeats }, (_, r) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += attackSeconds(data, linearModel(), 1, 2000, 100 * r + i);
      return total;
    }));
    console.error(`linear, ${n} images one after another (2000 iterations each): ${s.toFixed(2)} s`);
    return { images: n, s };
  });
  const result = {
    date: new Date().toISOString(), backend, repeats, loadavg: [load0, loadavg()[0]],
    perIteration: { ...perIteration, iterations: { linear: 400, lenet: 40 } }, sequential,
    federated: await federatedScaling(data, repeats),
  };
  writeFileAtomic.sync(resolve(o.out), JSON.stringify(result, null, 2));
  console.log(`wrote ${resolve(o.out)}`);
  const py = join(ROOT, ".venv", "bin", "python");
  if (!existsSync(py)) return console.log("no .venv: no figure (npm run setup:bench)");
  const r = spawnSync(py, [join(ROOT, "bench", "scaling_plot.py"), resolve(o.out), resolve(o.png)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scaling_plot.py: ${(r.stderr || "").trim().split("\n").pop()}`);
  console.log(r.stdout.trim());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
