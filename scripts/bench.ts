/**
 * `npm run bench`: the seed's workloads on every tfjs backend that works here, beside the same
 * workloads in PyTorch (bench/reference.py, run from the project's .venv). Median of --repeats runs;
 * prints a table with ratios (ours / PyTorch) and writes JSON. Not a test: CI runs only `--tiny`.
 *   npm run bench -- [--repeats 3] [--backends tensorflow,wasm,cpu] [--tiny] [--out reports/bench.json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Command } from "commander";
import {
  DGCMomentum, dlgAttack, epochBatches, initBackend, initialLabels, lenetModel, linearModel, loadMnist, lossAndGrads,
  Momentum, observedGradients, Rng, tf, train, tryLoadTfjsNode, variableFrom, victimGradients, gatherBatch,
  type Model, type MnistSplit,
} from "../lib";

const ROOT = resolve(__dirname, "../..");
type Sizes = { n: number; epochs: number; iterations: number; lenetSteps: number; lenetIterations: number };
const FULL: Sizes = { n: 60000, epochs: 2, iterations: 2000, lenetSteps: 20, lenetIterations: 50 };
const TINY: Sizes = { n: 2048, epochs: 1, iterations: 20, lenetSteps: 2, lenetIterations: 2 };

const seconds = (f: () => void) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};

function trainRun(data: MnistSplit, useDgc: boolean, lr: number, sz: Sizes): number {
  const model = linearModel();
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  const opt = useDgc ? new DGCMomentum({ sparsity: 0.8, lr }) : new Momentum(lr);
  const s = seconds(() => train(model, params, opt, { ...data, n: sz.n }, { epochs: sz.epochs, batchSize: 64, rng: new Rng(2) }));
  opt.dispose();
  tf.dispose(params);
  return s;
}

function attackRun(data: MnistSplit, model: Model, useDgc: boolean, iterations: number): number {
  const params = model.init(new Rng(1));
  const target = epochBatches(data, 1, new Rng(2)).next().value!;
  const grads = victimGradients(model, params, target);
  const opt = useDgc ? new DGCMomentum({ sparsity: 0.8, lr: 0.001 }) : new Momentum(0.01);
  const { observed } = observedGradients(opt, grads);
  const s = seconds(() =>
    dlgAttack(model, params, observed, 1, { iterations, lr: 0.2, returnEvery: 100, windowSize: 200, labelStart: initialLabels("ones", 1, 0), rng: new Rng(3) }),
  );
  opt.dispose();
  tf.dispose([...params, ...grads, ...observed]);
  return s;
}

function lenetTrainStep(data: MnistSplit, steps: number): number {
  const model = lenetModel();
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  const opt = new Momentum(0.01);
  const batch = gatherBatch(data, Int32Array.from({ length: 64 }, (_, i) => i));
  const step = () => tf.tidy(() => {
    opt.step(params, lossAndGrads(model, params, batch).grads);
  });
  for (let i = 0; i < 3; i++) step(); // warm-up
  const s = seconds(() => {
    for (let i = 0; i < steps; i++) step();
  });
  opt.dispose();
  tf.dispose(params);
  return s / steps;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface Result { median_s: number; runs: number[] }

function pytorch(repeats: number, tiny: boolean): Record<string, Result> | string {
  const py = join(ROOT, ".venv", "bin", "python");
  if (!existsSync(py)) return "no .venv (run: npm run setup:bench)";
  const r = spawnSync(py, [join(ROOT, "bench", "reference.py"), "--repeats", String(repeats), ...(tiny ? ["--tiny"] : [])], { encoding: "utf8" });
  if (r.status !== 0) return `reference.py failed: ${(r.stderr || "").trim().split("\n").pop()}`;
  return JSON.parse(r.stdout) as Record<string, Result>;
}

async function main() {
  const o = new Command()
    .option("--repeats <n>", "runs per workload (median)", "3")
    .option("--backends <list>", "backends to try", "tensorflow,wasm,cpu")
    .option("--tiny", "smoke sizes (CI)")
    .option("--no-pytorch", "skip the PyTorch reference")
    .option("--out <file>", "JSON output", "reports/bench.json")
    .parse()
    .opts();
  const repeats = Number(o.repeats);
  const sz = o.tiny ? TINY : FULL;
  const data = loadMnist("train");
  const workloads: Record<string, () => number> = {
    ex3_train: () => trainRun(data, false, 0.01, sz),
    ex4_train: () => trainRun(data, true, 0.001, sz),
    ex2_attack: () => attackRun(data, linearModel(), false, sz.iterations),
    ex1_attack: () => attackRun(data, linearModel(), true, sz.iterations),
    lenet_train_step: () => lenetTrainStep(data, sz.lenetSteps),
    lenet_dlg_iteration: () => attackRun(data, lenetModel(), false, sz.lenetIterations) / sz.lenetIterations,
  };
  const ours: Record<string, Record<string, Result>> = {};
  for (const name of String(o.backends).split(",")) {
    if (name === "tensorflow" && !tryLoadTfjsNode()) {
      console.error("backend tensorflow: @tensorflow/tfjs-node does not load here; skipped (see environment.md)");
      continue;
    }
    const backend = await initBackend(name as "wasm");
    ours[backend] = {};
    for (const [w, f] of Object.entries(workloads)) {
      const runs = Array.from({ length: repeats }, f);
      ours[backend][w] = { median_s: median(runs), runs };
      console.error(`${backend} ${w}: ${median(runs).toFixed(4)} s`);
    }
  }
  const torch = o.pytorch ? pytorch(repeats, !!o.tiny) : "skipped (--no-pytorch)";
  const backends = Object.keys(ours);
  const fmt = (s: number) => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, median of ${repeats}${o.tiny ? " (tiny sizes)" : ""}\n`);
  console.log(`| workload | ${backends.join(" | ")} | PyTorch | best / PyTorch |`);
  console.log(`|---|${backends.map(() => "---|").join("")}---|---|`);
  for (const w of Object.keys(workloads)) {
    const ref = typeof torch === "string" ? undefined : torch[w]?.median_s;
    const best = Math.min(...backends.map((b) => ours[b][w].median_s));
    const cells = backends.map((b) => `${fmt(ours[b][w].median_s)}${ref ? ` (${(ours[b][w].median_s / ref).toFixed(2)}×)` : ""}`);
    console.log(`| ${w} | ${cells.join(" | ")} | ${ref ? fmt(ref) : "n/a"} | ${ref ? (best / ref).toFixed(2) : "n/a"} |`);
  }
  if (typeof torch === "string") console.log(`\nPyTorch: ${torch}`);
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), sizes: sz, repeats, cpu: cpus()[0]?.model, node: process.version, ours, pytorch: torch }, null, 2));
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
