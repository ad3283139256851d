/**
 * `npm run paired`: whole processes timed against each other on a shared machine. Every round runs
 * each command once (the order reversed every other round, so no side always goes first); after at
 * least `--pairs` rounds, rounds are added until the median of the per-round ratios has settled
 * (scripts/spread.ts) or `--max-pairs` is reached. The first command is the one the ratios are of:
 * first / each other, per round. Prints min/median/max of every side and every ratio, of wall time
 * and of CPU time (user + system of the whole process tree, which other work on the machine moves
 * far less), flags the rounds whose wall ratio is more than 1.5× off the median, records the load
 * average before and after, and writes JSON (after every round).
 *
 *   npm run paired -- --example 4 [--baseline /path/to/another/build] [--torch-threads 1]
 *   npm run paired -- --run "a=node dist/cli/dgc_demo.js …" --run "b=.venv/bin/python …" [--pairs 7]
 *
 * `--example 3|4` runs the seed's Example 3 or 4 (`dgc_demo`, seed 1) as `ours`, the same run of
 * another build of this project as `baseline` when `--baseline DIR` names one (its dist/ built), and
 * the seed's run in PyTorch (bench/seed_demo.py) as `pytorch`. PyTorch runs `--torch-threads`
 * threads (default 1: our wasm is single-threaded, and on a loaded 2-core machine torch's default
 * 2-thread pool spins and can take 10× longer; 0 = torch's default).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import writeFileAtomic from "write-file-atomic";
import { fmtRatio, settled, spread, wildPairs, type Spread } from "./spread";

const ROOT = resolve(__dirname, "../..");
const PROG = "paired";

/** --run name=command, repeatable: each adds one side (a name before the `=`, a command after it). */
const runFlag = (spec: string, previous: [string, string][] = []): [string, string][] => {
  const eq = spec.indexOf("=");
  if (eq < 1 || spec.slice(eq + 1).trim() === "") throw new Error(`--run wants name=command, got '${spec}'`);
  return [...previous, [spec.slice(0, eq), spec.slice(eq + 1)]];
};

const EXAMPLES: Record<string, string> = {
  "3": "--use_dgc False --train_lr 0.01 --seed 1",
  "4": "--use_dgc True --train_lr 0.001 --sparsity 0.8 --seed 1",
};

/** CPU seconds (user + system) of this process's waited-for children so far (Linux: /proc/self/stat). */
function childrenCpu(): number {
  try {
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17) in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

/**
 * One run of a shell command from the project root: wall seconds, and the CPU seconds it used
 * (user + system, every thread; much less sensitive than wall time to other work on the machine).
 * Throws on a non-zero exit.
 */
function timed(cmd: string): { wall: number; cpu: number } {
  const c0 = childrenCpu();
  const t0 = performance.now();
  const r = spawnSync("bash", ["-c", cmd], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`'${cmd}' exited ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`);
  return { wall, cpu: childrenCpu() - c0 };
}

async function main() {
  const o = parseFlagsOrExit(PROG, {
    example: { kind: "choice", choices: Object.keys(EXAMPLES), help: "the seed's Example 3 or 4: ours, --baseline's build, PyTorch" },
    baseline: { kind: "inDir", help: "another build of this project (a checkout with dist/ built) to run the same example in" },
    "torch-threads": { kind: "int", min: 0, default: 1, help: "PyTorch's threads for --example (0: torch's default)" },
    run: { kind: "custom", parse: runFlag, default: [] as [string, string][], help: "name=command, a command to time (repeatable; the first is the numerator of every ratio)" },
    pairs: { kind: "int", min: 1, default: 7, help: "rounds at least" },
    "max-pairs": { kind: "int", min: 1, default: 15, help: "rounds at most (more are run while the ratios have not settled)" },
    "max-seconds": { kind: "float", min: 0, default: 0, help: "add no round after this much wall time once --pairs rounds are done (0: no limit)" },
    warmup: { kind: "toggle", default: true, help: "one untimed round first (file caches; --no-warmup: none)" },
    out: { kind: "outFile", default: "reports/paired.json", help: "JSON output" },
  }, process.argv.slice(2), "Whole processes timed against each other, round after round, the order reversed every other round");
  const runs: [string, string][] = [];
  if (o.example !== undefined) {
    const args = EXAMPLES[o.example];
    runs.push(["ours", `node dist/cli/dgc_demo.js ${args}`]);
    if (o.baseline !== undefined) {
      const dir = resolve(o.baseline);
      if (!existsSync(join(dir, "dist", "cli", "dgc_demo.js"))) usageExit(PROG, `--baseline ${dir} has no dist/cli/dgc_demo.js (build it: npx tsc -p .)`);
      runs.push(["baseline", `cd '${dir}' && node dist/cli/dgc_demo.js ${args}`]);
    }
    const py = join(ROOT, ".venv", "bin", "python");
    if (!existsSync(py)) usageExit(PROG, "no .venv with torch (npm run setup:bench)");
    runs.push(["pytorch", `.venv/bin/python bench/seed_demo.py ${args} --threads ${o["torch-threads"]}`]);
  } else if (o.baseline !== undefined) usageExit(PROG, "--baseline goes with --example");
  runs.push(...o.run);
  if (runs.length < 2) usageExit(PROG, "two commands at least (--example, or --run twice)");
  const [minPairs, maxPairs] = [o.pairs, o["max-pairs"]];
  if (maxPairs < minPairs) usageExit(PROG, `--max-pairs ${maxPairs} is below --pairs ${minPairs}`);

  const load0 = loadavg();
  const t0 = performance.now();
  const maxSeconds = o["max-seconds"];
  if (o.warmup) for (const [, cmd] of runs) timed(cmd);
  const times: number[][] = runs.map(() => []);
  const cpuTimes: number[][] = runs.map(() => []);
  const ratios = () => runs.slice(1).map((_, j) => times[0].map((t, i) => t / times[j + 1][i]));
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  // written after every round, so an interrupted run keeps what it measured
  const report = (load1: number[], done: boolean) => {
    const sides = runs.map(([name, cmd], i) => ({ name, cmd, s: times[i], spread: spread(times[i]), cpu_s: cpuTimes[i], cpu_spread: spread(cpuTimes[i]) }));
    const ratioStats = ratios().map((r, j) => {
      const cpu = cpuTimes[0].map((t, i) => t / cpuTimes[j + 1][i]);
      return { of: `${runs[0][0]} / ${runs[j + 1][0]}`, ratios: r, spread: spread(r), wild: wildPairs(r), settled: settled(r), cpu_ratios: cpu, cpu_spread: spread(cpu) };
    });
    writeFileAtomic.sync(out, JSON.stringify({ date: new Date().toISOString(), done, cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: [load0, load1], rounds: times[0].length, sides, ratios: ratioStats }, null, 2));
    return { sides, ratioStats };
  };
  for (let round = 0; round < maxPairs; round++) {
    const order = runs.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      const t = timed(runs[i][1]);
      times[i].push(t.wall);
      cpuTimes[i].push(t.cpu);
    }
    console.error(`round ${round + 1}: ${runs.map(([n], i) => `${n} ${times[i][round].toFixed(2)} s (CPU ${cpuTimes[i][round].toFixed(2)} s)`).join(", ")} (load ${loadavg()[0].toFixed(1)})`);
    report(loadavg(), false);
    if (round + 1 >= minPairs && ratios().every((r) => settled(r))) break;
    if (round + 1 >= minPairs && maxSeconds > 0 && (performance.now() - t0) / 1000 > maxSeconds) break;
  }
  const load1 = loadavg();
  const { sides, ratioStats } = report(load1, true);
  const n = times[0].length;
  console.log(`\n${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${n} rounds (order reversed every other round${o.warmup ? ", after one untimed round" : ""}), load average ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)}\n`);
  console.log("| side | wall min | median | max | CPU (user + sys) min | median | max | command |");
  console.log("|---|---|---|---|---|---|---|---|");
  const f = (x: Spread) => `${x.min.toFixed(2)} s | ${x.median.toFixed(2)} s | ${x.max.toFixed(2)} s`;
  for (const s of sides) console.log(`| ${s.name} | ${f(s.spread)} | ${f(s.cpu_spread)} | \`${s.cmd}\` |`);
  console.log("\n| ratio, per round | wall: median (min–max) | rounds > 1.5× off the median | CPU: median (min–max) |");
  console.log("|---|---|---|---|");
  for (const r of ratioStats) console.log(`| ${r.of} | ${fmtRatio(r.spread)}${r.settled ? "" : " — not settled"} | ${r.wild.length ? `**${r.wild.map((i) => i + 1).join(", ")}** (${r.wild.map((i) => r.ratios[i].toFixed(2) + "×").join(", ")})` : "none"} | ${fmtRatio(r.cpu_spread)} |`);
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
