/**
 * `npm run bench`: our workloads (scripts/bench_workloads.ts) on every tfjs backend that loads here,
 * beside the same workloads in PyTorch (bench/reference.py, from the project's .venv). The machine
 * is shared, so runs are interleaved: each repeat runs a workload on every backend and then in
 * PyTorch, one after another, and the ratio reported is the median over repeats of ours / PyTorch
 * from the same repeat (per objective evaluation for L-BFGS). Not a test: CI runs only `--tiny`.
 *   npm run bench -- [--repeats 3] [--backends tensorflow,wasm,cpu] [--only a,b] [--threads n] [--tiny] [--out reports/bench.json]
 * `--threads n` caps PyTorch's and TensorFlow's (tfjs-node) thread pools; wasm is single-threaded.
 * `--grid` also times the full study grid (docs/sweep.md: 240 jobs, `--jobs 2`, about 20 minutes),
 * once, with no PyTorch counterpart; `--grid tiny` runs 2 tiny jobs the same way (the CI smoke).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import writeFileAtomic from "write-file-atomic";
import { autoBackend, initBackend, tryLoadTfjsNode, type BackendChoice } from "../lib/core/backend";
import { loadMnist } from "../lib/data/mnist";
import { FULL, TINY, WORKLOADS, type Measured, type Sizes } from "./bench_workloads";

const ROOT = resolve(__dirname, "../..");
/** Bad input: one line on stderr, exit 2. */
class BadInput extends Error {}

/** bench/reference.py --serve: one workload name in, one JSON line out. */
class PyTorch {
  private lines: AsyncIterableIterator<string>;
  private constructor(private proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }
  static async start(sizes: Sizes, threads: number): Promise<{ torch: PyTorch; info: Record<string, unknown> } | string> {
    const py = join(ROOT, ".venv", "bin", "python");
    if (!existsSync(py)) return "no .venv (run: npm run setup:bench)";
    const proc = spawn(py, [join(ROOT, "bench", "reference.py"), "--serve", "--threads", String(threads), "--sizes", JSON.stringify(sizes)]);
    let err = "";
    proc.stderr.on("data", (d) => (err += d));
    const torch = new PyTorch(proc);
    const first = await torch.lines.next();
    if (first.done) return `reference.py failed: ${err.trim().split("\n").pop()}`;
    return { torch, info: JSON.parse(first.value) };
  }
  async run(name: string): Promise<Measured> {
    this.proc.stdin.write(name + "\n");
    const r = await this.lines.next();
    if (r.done) throw new Error(`reference.py stopped during ${name}`);
    const m = JSON.parse(r.value) as Measured & { error?: string };
    if (m.error) throw new Error(`reference.py: ${m.error}`);
    return m;
  }
  stop(): void {
    this.proc.stdin.end();
  }
}

const GRIDS: Record<string, string[]> = {
  full: ["--sparsity", "0,0.5,0.8,0.9,0.99,0.999", "--seeds", "5", "--attack", "dlg,ig,adaptive", "--jobs", "2"],
  tiny: ["--sparsity", "0.8", "--seeds", "1", "--attack", "dlg", "--iterations", "5", "--epochs", "1", "--train-subset", "256"],
};

/** The sweep of docs/sweep.md, run as it documents (two invocations into one folder); wall seconds. */
function studyGrid(size: string): number {
  const out = mkdtempSync(join(tmpdir(), "grid-"));
  const common = [...GRIDS[size], "--out", out];
  const t0 = performance.now();
  try {
    for (const variant of ["seed", "paper,sampled"]) {
      const r = spawnSync(process.execPath, [join(ROOT, "dist", "scripts", "sweep.js"), ...common, "--variant", variant], { stdio: ["ignore", "ignore", "inherit"] });
      if (r.status !== 0) throw new Error(`the study grid failed (sweep exit ${r.status})`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** What a ratio compares: seconds, or seconds per evaluation when the run counts evaluations. */
const unit = (m: Measured) => (m.evals ? m.s / m.evals : m.s);
const fmt = (s: number) => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

interface Entry {
  what: string;
  auto: string;
  ours: Record<string, { median_s: number; runs: Measured[]; ratio?: number }>;
  pytorch?: { median_s: number; runs: Measured[] };
  /** median over repeats of (ours on `auto`) / PyTorch */
  ratio_auto?: number;
  ratio_best?: number;
}

async function main() {
  const o = new Command()
    .option("--repeats <n>", "interleaved runs per workload (median)", "3")
    .option("--backends <list>", "backends to try", "tensorflow,wasm")
    .option("--only <list>", "workloads to run (default: all)")
    .option("--threads <n>", "PyTorch's and TensorFlow's threads (0: their defaults)", "0")
    .option("--grid [size]", "also time the study grid: full (about 20 minutes) or tiny")
    .option("--tiny", "smoke sizes (CI)")
    .option("--no-pytorch", "skip the PyTorch reference")
    .option("--out <file>", "JSON output", "reports/bench.json")
    .parse()
    .opts();
  const repeats = Number(o.repeats);
  const threads = Number(o.threads);
  if (!Number.isInteger(repeats) || repeats < 1) throw new BadInput(`--repeats must be an integer >= 1, got ${o.repeats}`);
  if (!Number.isInteger(threads) || threads < 0) throw new BadInput(`--threads must be an integer >= 0, got ${o.threads}`);
  for (const b of String(o.backends).split(",")) if (!["tensorflow", "wasm", "cpu"].includes(b)) throw new BadInput(`unknown backend '${b}' (tensorflow, wasm or cpu)`);
  if (threads > 0) process.env.TF_NUM_INTRAOP_THREADS = process.env.TF_NUM_INTEROP_THREADS = String(threads); // read when tfjs-node loads
  const sz = o.tiny ? TINY : FULL;
  const gridSize = o.grid === true ? "full" : o.grid;
  if (gridSize !== undefined && !GRIDS[gridSize]) throw new BadInput(`--grid is full or tiny, got '${gridSize}'`);
  const names: string[] = o.only ? String(o.only).split(",") : Object.keys(WORKLOADS);
  for (const n of names) if (!WORKLOADS[n]) throw new BadInput(`unknown workload '${n}' (choose from ${Object.keys(WORKLOADS).join(", ")})`);
  const backends = String(o.backends).split(",").filter((b) => {
    if (b === "tensorflow" && !tryLoadTfjsNode()) {
      console.error("backend tensorflow: @tensorflow/tfjs-node does not load here; skipped (npm run setup:tfjs-node)");
      return false;
    }
    return true;
  });
  const data = loadMnist("train");
  const started = await PyTorch.start(sz, threads);
  const torch = o.pytorch && typeof started !== "string" ? started.torch : undefined;
  const torchNote = !o.pytorch ? "skipped (--no-pytorch)" : typeof started === "string" ? started : undefined;
  if (!o.pytorch && typeof started !== "string") started.torch.stop();
  const load0 = loadavg();
  const entries: Record<string, Entry> = {};
  for (let r = 0; r < repeats; r++) {
    for (const name of names) {
      const w = WORKLOADS[name];
      const e = (entries[name] ??= { what: w.what, auto: autoBackend(w.workload), ours: {} });
      for (const b of backends) {
        await initBackend(b as BackendChoice);
        const m = w.run(data, sz);
        (e.ours[b] ??= { median_s: 0, runs: [] }).runs.push(m);
        console.error(`repeat ${r + 1}/${repeats} ${name} ${b}: ${fmt(m.s)}${m.evals ? ` (${m.evals} evaluations)` : ""}`);
      }
      if (torch) {
        const m = await torch.run(name);
        (e.pytorch ??= { median_s: 0, runs: [] }).runs.push(m);
        console.error(`repeat ${r + 1}/${repeats} ${name} pytorch: ${fmt(m.s)}${m.evals ? ` (${m.evals} evaluations)` : ""}`);
      }
    }
  }
  torch?.stop();
  const grid = gridSize ? studyGrid(gridSize) : undefined;
  for (const e of Object.values(entries)) {
    for (const v of Object.values(e.ours)) v.median_s = median(v.runs.map((m) => m.s));
    if (e.pytorch) {
      e.pytorch.median_s = median(e.pytorch.runs.map((m) => m.s));
      const ref = e.pytorch.runs;
      for (const v of Object.values(e.ours)) v.ratio = median(v.runs.map((m, i) => unit(m) / unit(ref[i])));
      e.ratio_auto = e.ours[e.auto]?.ratio;
      e.ratio_best = Math.min(...Object.values(e.ours).map((v) => v.ratio!));
    }
  }
  const load1 = loadavg();
  const torchThreads = typeof started === "string" ? undefined : started.info.threads;
  const tfThreads = process.env.TF_NUM_INTRAOP_THREADS;
  const threadsNote = threads
    ? `threads ${threads} (PyTorch and TensorFlow)`
    : `PyTorch ${torchThreads ?? "?"} threads (its default), TensorFlow ${tfThreads ?? "?"} intra-op thread${tfThreads === "1" ? "" : "s"} (ours, lib/backend.ts)`;
  const cell = (v: { median_s: number; runs: Measured[]; ratio?: number }) => {
    const evals = v.runs[0].evals ? `, ${median(v.runs.map((m) => m.evals!))} evals` : "";
    return `${fmt(v.median_s)}${evals}${v.ratio !== undefined ? ` (${v.ratio.toFixed(2)}×)` : ""}`;
  };
  console.log(`\n${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ` +
    `median of ${repeats} interleaved repeats${o.tiny ? " (tiny sizes)" : ""}, ${threadsNote}, load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)}\n`);
  console.log(`| workload | ${backends.join(" | ")} | PyTorch | auto | auto / PyTorch | best / PyTorch |`);
  console.log(`|---|${backends.map(() => "---|").join("")}---|---|---|---|`);
  for (const [name, e] of Object.entries(entries)) {
    const r = (x?: number) => (x === undefined ? "n/a" : `${x.toFixed(2)}×`);
    console.log(`| ${name}: ${e.what} | ${backends.map((b) => cell(e.ours[b])).join(" | ")} | ${e.pytorch ? cell(e.pytorch) : "n/a"} | ${e.auto} | ${r(e.ratio_auto)} | ${r(e.ratio_best)} |`);
  }
  if (grid !== undefined) {
    const what = gridSize === "full" ? "the full sweep (240 jobs, --jobs 2)" : "2 tiny sweep jobs";
    console.log(`| study_grid: ${what}, wall time | ${fmt(grid)} |${" |".repeat(backends.length + 3)}`);
  }
  if (torchNote) console.log(`\nPyTorch: ${torchNote}`);
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic.sync(out, JSON.stringify({
    date: new Date().toISOString(), sizes: sz, repeats, threads, tf_intraop_threads: tfThreads ?? null, cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: [load0, load1],
    pytorch: typeof started === "string" ? started : started.info, workloads: entries, ...(grid !== undefined ? { study_grid: { size: gridSize, s: grid } } : {}),
  }, null, 2));
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof BadInput ? 2 : 1);
});
