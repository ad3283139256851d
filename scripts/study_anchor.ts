#!/usr/bin/env node
/**
 * The DLG paper's defense experiment (Zhu et al. 2019, §5) on MNIST with its LeNet and its attack
 * (L-BFGS over image and label, cross-entropy victim; attack/lbfgs_dlg.ts), round 0 (the untrained
 * model, batch 1): Gaussian and Laplacian noise of variance 1e-4…1e-1 added to the gradient (no
 * clipping), gradient pruning of 1 %–90 % of the smallest entries, half precision and int8. The
 * attacker does not model the defense (as in the paper). Each seed is a different victim image and
 * weight draw; recovered = PSNR ≥ the mean image's + 3 dB.
 *   npm run study:anchor -- [--seeds 5] [--steps 30] [--out docs/defense-anchor.json] [--defense NAME[:v1,…] …]
 * (--defense, repeatable, replaces the paper's list, e.g. to put DGC on the same footing; --attack adaptive
 * runs the defense-aware attacker instead, --steps being its Adam iterations.)
 * Writes the JSON atomically and prints the Markdown table. One task per defense and seed on the one
 * study runner (records in --records; resumable, --jobs, --shard; --summary rewrites the JSON from them).
 */
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { runStudyCli, runnerFlags } from "../cli/study";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import { checkOutputDir, requireDir, ResultDirError } from "../lib/io/results";
import type { StudyTask } from "../lib/study/task";
import type { MnistSplit } from "../lib/data/mnist";
import writeFileAtomic from "write-file-atomic";
import { anchorMarkdown } from "../lib/study/anchor";
import { attackMetrics } from "../lib/metrics/attack";
import { awareAttack } from "../lib/attack/aware";
import { parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";
import { defenseLabel, median } from "../lib/study/summary";
import { inversionSpec, paperDlgSpec } from "../lib/attack/methods";
import { loadMnist, meanImage } from "../lib/data/mnist";
import { isRecovered, RECOVERY_MARGIN_DB } from "../lib/metrics/readings";
import { initBackend } from "../lib/core/backend";
import { runTrial } from "../lib/trial/run";
import type { ThreatModel } from "../lib/threat/model";

const POINTS: DefenseSpec[] = [
  { name: "none", strength: null },
  ...[1e-4, 1e-3, 1e-2, 1e-1].flatMap((v): DefenseSpec[] => [{ name: "gaussvar", strength: v }, { name: "laplace", strength: v }]),
  ...[0.01, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9].map((p): DefenseSpec => ({ name: "topk", strength: p })),
  { name: "fp16", strength: null },
  { name: "int8", strength: null },
];

/** --defense, repeatable: each adds its points (a DefenseError refuses the flag: one line, exit 2). */
const defenses = (s: string, previous: DefenseSpec[] = []): DefenseSpec[] => [...previous, ...parseDefenseArg(s)];

const PROG = "study_anchor";
interface AnchorRun { seed: number; psnr: number | null; baseline: number; recovered: boolean; labelAcc: number; attackSeconds: number }
let data: { train: MnistSplit; mean: Float32Array } | undefined;

function defenseTasks(d: DefenseSpec, seeds: number, attack: "lbfgs" | "adaptive", steps: number): StudyTask<AnchorRun>[] {
  const label = defenseLabel({ sparsity: 0, defense: d });
  return Array.from({ length: seeds }, (_, i) => i + 1).map((seed) => ({
    key: `anchor-${attack}${steps}-${label.replace(":", "")}-seed${seed}`,
    config: { study: "anchor", model: "lenet", defense: label, seed, attack, steps },
    run: async () => {
      if (!data) {
        const train = loadMnist("train");
        data = { train, mean: meanImage(train) };
      }
      const backend = await initBackend("wasm");
      // the DLG paper's defense experiment: LeNet, a cross-entropy victim at lr 0.01 behind the defense
      const threat: ThreatModel = {
        data: data.train, model: "lenet", seed,
        victim: { images: { kind: "first-batch", size: 1 }, loss: "ce" },
        channel: { defense: d, lr: 0.01 }, server: { mean: data.mean },
      };
      const spec = attack === "adaptive" ? inversionSpec("adaptive", { ...awareAttack(d), iterations: steps }) : paperDlgSpec(steps);
      const r = runTrial(threat, spec);
      const m = attackMetrics(r.reconstruction, r.target.x, { batch: 1, height: 28, width: 28 }, r.dummyY, r.target.y);
      if (Number.isNaN(m.psnr)) throw new Error(`PSNR is NaN for ${label}, seed ${seed}`);
      return { backend, result: { seed, psnr: Number.isFinite(m.psnr) ? m.psnr : null, baseline: r.baselinePsnr, recovered: isRecovered(m.psnr, r.baselinePsnr), labelAcc: m.labelAcc, attackSeconds: r.seconds } };
    },
    resultProblem: (r) => fieldsProblem(r, [["psnr", "number|null"], ["baseline", "number"], ["labelAcc", "number"], ["attackSeconds", "number"]]),
    describe: (r) => `PSNR ${(r as AnchorRun).psnr?.toFixed(1) ?? "∞"} dB, recovered ${(r as AnchorRun).recovered}`,
  }));
}

async function main(): Promise<void> {
  const o = parseFlagsOrExit(PROG, {
    seeds: { kind: "int", min: 1, max: 100_000, default: 5, help: "seeds 1..n (victim images)" },
    steps: { kind: "int", min: 1, default: 30, help: "L-BFGS steps per attack (the paper: 300); Adam iterations with --attack adaptive" },
    attack: { kind: "choice", choices: ["lbfgs", "adaptive"], default: "lbfgs", help: "lbfgs: the paper's DLG; adaptive: the defense-aware attacker (lib/attack/aware.ts)" },
    out: { kind: "outFile", default: "docs/defense-anchor.json", help: "JSON results" },
    defense: { kind: "custom", parse: defenses, help: "defenses to run instead of the paper's, NAME[:v1,v2,...], repeatable" },
    records: { kind: "string", nonEmpty: true, default: "study-anchor", help: "the study's folder: one record per defense and seed (with --summary: read from)" },
    ...runnerFlags(),
  }, process.argv.slice(2), "The DLG paper's defense experiment (JSON to --out, Markdown on stdout)");
  try {
    if (o.summary) requireDir(o.records, "--records");
    else checkOutputDir(o.records, "--records");
  } catch (e) {
    if (e instanceof ResultDirError) usageExit(PROG, e.message);
    throw e;
  }
  const attack = o.attack as "lbfgs" | "adaptive";
  const points = (o.defense ?? POINTS).map((d) => ({ d, tasks: defenseTasks(d, o.seeds, attack, o.steps) }));
  if (!o.summary) await runStudyCli(points.flatMap((p) => p.tasks), { prog: PROG, out: o.records, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const rows = [];
  let backend = "";
  let seconds = 0;
  for (const { d, tasks } of points) {
    const recs = taskRecords<AnchorRun>(o.records, tasks);
    if (!recs.length) continue;
    backend = recs.at(-1)!.backend!;
    seconds += recs.reduce((a, r) => a + r.seconds, 0);
    const runs = recs.map((r) => ({ seed: r.seed, psnr: r.psnr, baseline: r.baseline, recovered: r.recovered, labelAcc: r.labelAcc, seconds: r.attackSeconds }));
    const psnrs = runs.map((r) => r.psnr ?? Infinity);
    rows.push({ defense: defenseLabel({ sparsity: 0, defense: d }), runs, psnr: median(psnrs), recovered: runs.filter((r) => r.recovered).length, n: runs.length, labelAcc: runs.filter((r) => r.labelAcc === 1).length });
  }
  const result = { generatedAt: new Date().toISOString(), backend, model: "lenet", attack: o.attack, steps: o.steps, seeds: o.seeds, recoveryMarginDb: RECOVERY_MARGIN_DB, seconds, rows };
  await writeFileAtomic(o.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(anchorMarkdown(JSON.parse(JSON.stringify(result))));  // as written: ∞ is null
}

main().catch((e) => {
  process.stderr.write(`${PROG}: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
