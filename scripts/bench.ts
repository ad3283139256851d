/**
 * `npm run bench`: our workloads (scripts/bench_workloads.ts) on every tfjs backend that loads here,
 * beside the same workloads in PyTorch (bench/reference.py, from the project's .venv). The machine
 * is shared, so the two sides alternate: for each workload, round after round, ours (every backend)
 * then PyTorch, the order reversed every other round, at least `--pairs` rounds and then more until
 * the median of the per-round ratios ours / PyTorch has settled (its interquartile range within
 * ±10 % of it, fewer than a quarter of the rounds flagged; scripts/spread.ts) or `--max-pairs` is
 * reached. Reported per workload: min/median/max of each side and of the ratio (per objective
 * evaluation for L-BFGS), the rounds whose ratio is more than 1.5× off the median (flagged, not
 * silently medianed), and the load average before and after. The training workloads also measure
 * each side's CPU time over the same interval (its process, user + system), which other work on a
 * shared machine moves far less than wall time: the CPU-time ratio is reported beside the wall-time
 * one, and a workload stops adding rounds when either has settled. Not a test: CI runs only `--tiny`.
 *   npm run bench -- [--pairs 7] [--max-pairs 15] [--backends tensorflow,wasm,cpu] [--only a,b] [--threads n] [--tiny] [--out reports/bench.json]
 * `--threads n` caps PyTorch's and TensorFlow's (tfjs-node) thread pools; wasm is single-threaded.
 * `--grid` also times the full study grid (docs/sweep.md: 240 jobs, `--jobs 2`, about 20 minutes),
 * once, with no PyTorch counterpart; `--grid tiny` runs 2 tiny jobs the same way (the CI smoke).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseFlagsOrExit } from "../cli/flags";
import writeFileAtomic from "write-file-atomic";
import { autoBackend, initBackend, tryLoadTfjsNode, type BackendChoice } from "../lib/core/backend";
import { loadMnist } from "../lib/data/mnist";
import { FULL, TINY, WORKLOADS, type Measured, type Sizes } from "./bench_workloads";
import { median, settled, spread, wildPairs, type Spread } from "./spread";

const ROOT = resolve(__dirname, "../..");

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

/** What a ratio compares: seconds, or seconds per evaluation when the run counts evaluations. */
const unit = (m: Measured) => (m.evals ? m.s / m.evals : m.s);
const fmt = (s: number) => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

interface Side {
  median_s: number;
  /** min/median/max of the runs (seconds as measured) */
  spread: Spread;
  /** min/median/max of the runs' CPU seconds, where the workload measures them (the training workloads) */
  cpu_spread?: Spread;
  runs: Measured[];
}
interface Ours extends Side {
  /** median over rounds of this backend / PyTorch from the same round */
  ratio?: number;
  ratio_spread?: Spread;
  /** per-round ratios, in round order */
  ratios?: number[];
  /** rounds (0-based) whose ratio is more than 1.5× off the median: flagged, not dropped */
  wild?: number[];
  settled?: boolean;
  /** the same from CPU time (each side's process, the same interval), where both sides measure it */
  cpu_ratio?: number;
  cpu_ratio_spread?: Spread;
  cpu_ratios?: number[];
  cpu_wild?: number[];
  cpu_settled?: boolean;
}
interface Entry {
  what: string;
  auto: string;
  /** rounds run (each: every backend and PyTorch once) */
  pairs: number;
  ours: Record<string, Ours>;
  pytorch?: Side;
  /** median over rounds of (ours on `auto`) / PyTorch */
  ratio_auto?: number;
  ratio_best?: number;
  loadavg: [number[], number[]];
}

async function main() {
  const o = parseFlagsOrExit("bench", {
    pairs: { kind: "int", min: 1, default: 7, help: "rounds per workload at least (ours and PyTorch alternating)" },
    "max-pairs": { kind: "int", min: 1, default: 15, help: "rounds per workload at most (more are run while a ratio has not settled)" },
    repeats: { kind: "int", min: 1, help: "the same as --pairs n --max-pairs n (the old option)" },
    backends: { kind: "choices", choices: ["tensorflow", "wasm", "cpu"], default: "tensorflow,wasm", help: "backends to try" },
    only: { kind: "choices", choices: Object.keys(WORKLOADS), help: "workloads to run (default: all)" },
    threads: { kind: "int", min: 0, default: 0, help: "PyTorch's and TensorFlow's threads (0: their defaults)" },
    grid: { kind: "choice", choices: Object.keys(GRIDS), preset: "full", help: "also time the study grid: full (about 20 minutes; --grid alone) or tiny" },
    tiny: { kind: "switch", help: "smoke sizes (CI)" },
    pytorch: { kind: "toggle", default: true, help: "the PyTorch reference (--no-pytorch: skip it)" },
    out: { kind: "outFile", default: "reports/bench.json", help: "JSON output" },
  }, process.argv.slice(2), "Our workloads on every tfjs backend that loads here, alternating with the same workloads in PyTorch");
  const minPairs = o.repeats ?? o.pairs;
  const maxPairs = o.repeats !== undefined ? minPairs : Math.max(minPairs, o["max-pairs"]);
  const threads = o.threads;
  if (threads > 0) process.env.TF_NUM_INTRAOP_THREADS = process.env.TF_NUM_INTEROP_THREADS = String(threads); // read when tfjs-node loads
  const sz = o.tiny ? TINY : FULL;
  const gridSize = o.grid;
  const names: string[] = o.only ?? Object.keys(WORKLOADS);
  const backends = o.backends.filter((b) => {
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
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  // written after every workload too (done: false), so an interrupted run keeps what it measured
  const write = (load1: number[], grid: number | undefined, done: boolean) =>
    writeFileAtomic.sync(out, JSON.stringify({
      date: new Date().toISOString(), done, sizes: sz, pairs: { min: minPairs, max: maxPairs, wild_factor: 1.5 }, threads, tf_intraop_threads: process.env.TF_NUM_INTRAOP_THREADS ?? null,
      cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: [load0, load1],
      pytorch: typeof started === "string" ? started : started.info, workloads: entries, ...(grid !== undefined ? { study_grid: { size: gridSize, s: grid } } : {}),
    }, null, 2));
  const log = (name: string, round: number, side: string, m: Measured) =>
    console.error(`${name} round ${round + 1} ${side}: ${fmt(m.s)}${m.evals ? ` (${m.evals} evaluations)` : ""}`);
  for (const name of names) {
    const w = WORKLOADS[name];
    const e: Entry = (entries[name] = { what: w.what, auto: autoBackend(w.workload), pairs: 0, ours: {}, loadavg: [loadavg(), []] });
    const runOurs = async (round: number) => {
      for (const b of backends) {
        await initBackend(b as BackendChoice);
        const m = w.run(data, sz);
        (e.ours[b] ??= { median_s: 0, spread: spread([0]), runs: [] }).runs.push(m);
        log(name, round, b, m);
      }
    };
    const runTorch = async (round: number) => {
      if (!torch) return;
      const m = await torch.run(name);
      (e.pytorch ??= { median_s: 0, spread: spread([0]), runs: [] }).runs.push(m);
      log(name, round, "pytorch", m);
    };
    const ratiosOf = (v: Ours) => v.runs.map((m, i) => unit(m) / unit(e.pytorch!.runs[i]));
    const hasCpu = (v: Side) => v.runs.every((m) => m.cpu_s !== undefined);
    const cpuRatiosOf = (v: Ours) => (hasCpu(v) && e.pytorch && hasCpu(e.pytorch) ? v.runs.map((m, i) => m.cpu_s! / e.pytorch!.runs[i].cpu_s!) : undefined);
    // settled when the wall-time ratio has, or the CPU-time ratio where both sides measure it (wall time is what a loaded machine disturbs)
    const settledOf = (v: Ours) => settled(ratiosOf(v)) || settled(cpuRatiosOf(v) ?? []);
    for (let round = 0; round < maxPairs; round++) {
      // A B, then B A: neither side always runs first (after the other's caches, or its heat)
      if (round % 2 === 0) {
        await runOurs(round);
        await runTorch(round);
      } else {
        await runTorch(round);
        await runOurs(round);
      }
      e.pairs = round + 1;
      if (e.pairs >= minPairs && (!torch || Object.values(e.ours).every(settledOf))) break;
    }
    e.loadavg[1] = loadavg();
    for (const v of Object.values(e.ours)) {
      v.spread = spread(v.runs.map((m) => m.s));
      v.median_s = v.spread.median;
      if (e.pytorch) {
        v.ratios = ratiosOf(v);
        v.ratio_spread = spread(v.ratios);
        v.ratio = v.ratio_spread.median;
        v.wild = wildPairs(v.ratios);
        v.settled = settled(v.ratios);
        const cpu = cpuRatiosOf(v);
        if (cpu) {
          v.cpu_spread = spread(v.runs.map((m) => m.cpu_s!));
          v.cpu_ratios = cpu;
          v.cpu_ratio_spread = spread(cpu);
          v.cpu_ratio = v.cpu_ratio_spread.median;
          v.cpu_wild = wildPairs(cpu);
          v.cpu_settled = settled(cpu);
        }
      }
    }
    if (e.pytorch) {
      if (hasCpu(e.pytorch)) e.pytorch.cpu_spread = spread(e.pytorch.runs.map((m) => m.cpu_s!));
      e.pytorch.spread = spread(e.pytorch.runs.map((m) => m.s));
      e.pytorch.median_s = e.pytorch.spread.median;
      e.ratio_auto = e.ours[e.auto]?.ratio;
      e.ratio_best = Math.min(...Object.values(e.ours).map((v) => v.ratio!));
    }
    write(loadavg(), undefined, false);
  }
  torch?.stop();
  const grid = gridSize ? studyGrid(gridSize) : undefined;
  const load1 = loadavg();
  const torchThreads = typeof started === "string" ? undefined : started.info.threads;
  const tfThreads = process.env.TF_NUM_INTRAOP_THREADS;
  const threadsNote = threads
    ? `threads ${threads} (PyTorch and TensorFlow)`
    : `PyTorch ${torchThreads ?? "?"} threads (its default), TensorFlow ${tfThreads ?? "?"} intra-op thread${tfThreads === "1" ? "" : "s"} (ours, lib/backend.ts)`;
  const cell = (v: Side) => {
    const evals = v.runs[0].evals ? `, ${median(v.runs.map((m) => m.evals!))} evals` : "";
    return `${fmt(v.median_s)} (${fmt(v.spread.min)}–${fmt(v.spread.max)})${evals}`;
  };
  const pairsNote = minPairs === maxPairs ? `${minPairs} rounds` : `${minPairs}–${maxPairs} rounds, until the ratio settles`;
  console.log(`\n${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ` +
    `ours and PyTorch alternating (${pairsNote})${o.tiny ? " (tiny sizes)" : ""}, ${threadsNote}, load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)}\n`);
  console.log(`| workload | ${backends.join(" | ")} | PyTorch | auto | auto / PyTorch | auto / PyTorch, min–max | best / PyTorch | rounds | flagged rounds | load | CPU time: ours / PyTorch = ratio (min–max) |`);
  console.log(`|---|${backends.map(() => "---|").join("")}---|---|---|---|---|---|---|---|---|`);
  for (const [name, e] of Object.entries(entries)) {
    const r = (x?: number) => (x === undefined ? "n/a" : `${x.toFixed(2)}×`);
    const a = e.ours[e.auto];
    const range = a?.ratio_spread ? `${a.ratio_spread.min.toFixed(2)}–${a.ratio_spread.max.toFixed(2)}${a.settled ? "" : " (not settled)"}` : "n/a";
    const flagged = Object.entries(e.ours).flatMap(([b, v]) => (v.wild ?? []).map((i) => `${b} #${i + 1} ${v.ratios![i].toFixed(2)}×`));
    // CPU time, for every backend measured (auto may name one this run did not measure)
    const cpuCells = Object.entries(e.ours).flatMap(([b, v]) => (v.cpu_ratio_spread && e.pytorch?.cpu_spread
      ? [`${b} ${fmt(v.cpu_spread!.median)} / ${fmt(e.pytorch.cpu_spread.median)} = ${v.cpu_ratio!.toFixed(2)}× (${v.cpu_ratio_spread.min.toFixed(2)}–${v.cpu_ratio_spread.max.toFixed(2)})${v.cpu_settled ? "" : " (not settled)"}${v.cpu_wild!.length ? `, flagged ${v.cpu_wild!.map((i) => `#${i + 1}`).join(" ")}` : ""}`]
      : []));
    const cpu = cpuCells.length ? cpuCells.join("; ") : "n/a";
    console.log(`| ${name}: ${e.what} | ${backends.map((b) => cell(e.ours[b])).join(" | ")} | ${e.pytorch ? cell(e.pytorch) : "n/a"} | ${e.auto} | ${r(e.ratio_auto)} | ${range} | ${r(e.ratio_best)} | ${e.pairs} | ${flagged.length ? flagged.join(", ") : "none"} | ${e.loadavg[0][0].toFixed(1)} → ${e.loadavg[1][0].toFixed(1)} | ${cpu} |`);
  }
  if (grid !== undefined) {
    const what = gridSize === "full" ? "the full sweep (240 jobs, --jobs 2)" : "2 tiny sweep jobs";
    console.log(`| study_grid: ${what}, wall time | ${fmt(grid)} |${" |".repeat(backends.length + 8)}`);
  }
  if (torchNote) console.log(`\nPyTorch: ${torchNote}`);
  write(load1, grid, true);
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
