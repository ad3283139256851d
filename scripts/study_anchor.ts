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
 * Writes the JSON atomically and prints the Markdown table.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import writeFileAtomic from "write-file-atomic";
import { anchorMarkdown } from "../lib/study/anchor";
import { attackMetrics } from "../lib/metrics/attack";
import { awareAttack } from "../lib/attack/aware";
import { DefenseError, parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";
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

function defenses(s: string, previous: DefenseSpec[] = []): DefenseSpec[] {
  try {
    return [...previous, ...parseDefenseArg(s)];
  } catch (e) {
    throw e instanceof DefenseError ? new InvalidArgumentError(e.message) : e;
  }
}

const int = (s: string) => {
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new InvalidArgumentError(`'${s}' is not an integer >= 1`);
  return Number(s);
};

async function main(): Promise<void> {
  const cmd = new Command("study:anchor")
    .option("--seeds <n>", "seeds 1..n (victim images)", int, 5)
    .option("--steps <n>", "L-BFGS steps per attack (the paper: 300); Adam iterations with --attack adaptive", int, 30)
    .addOption(new Option("--attack <name>", "lbfgs: the paper's DLG; adaptive: the defense-aware attacker (lib/attack/aware.ts)").choices(["lbfgs", "adaptive"]).default("lbfgs"))
    .option("--out <file>", "JSON results", "docs/defense-anchor.json")
    .addOption(new Option("--defense <name[:v1,v2,...]>", "defenses to run instead of the paper's, repeatable").argParser(defenses))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  try {
    cmd.parse();
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return;
      process.stderr.write(`study:anchor: error: ${e.message.replace(/^error: /, "")}\n`);
      process.exit(2);
    }
    throw e;
  }
  const o = cmd.opts<{ seeds: number; steps: number; out: string; attack: "lbfgs" | "adaptive"; defense?: DefenseSpec[] }>();
  const train = loadMnist("train");
  const mean = meanImage(train);
  const rows = [];
  let backend = "";
  const t0 = performance.now();
  for (const d of o.defense ?? POINTS) {
    const runs = [];
    for (let seed = 1; seed <= o.seeds; seed++) {
      backend = await initBackend("wasm");
      // the DLG paper's defense experiment: LeNet, a cross-entropy victim at lr 0.01 behind the defense
      const threat: ThreatModel = {
        data: train, model: "lenet", seed,
        victim: { images: { kind: "first-batch", size: 1 }, loss: "ce" },
        channel: { defense: d, lr: 0.01 }, server: { mean },
      };
      const spec = o.attack === "adaptive" ? inversionSpec("adaptive", { ...awareAttack(d), iterations: o.steps }) : paperDlgSpec(o.steps);
      const r = runTrial(threat, spec);
      const m = attackMetrics(r.reconstruction, r.target.x, { batch: 1, height: 28, width: 28 }, r.dummyY, r.target.y);
      if (Number.isNaN(m.psnr)) throw new Error(`PSNR is NaN for ${defenseLabel({ sparsity: 0, defense: d })}, seed ${seed}`);
      runs.push({ seed, psnr: Number.isFinite(m.psnr) ? m.psnr : null, baseline: r.baselinePsnr, recovered: isRecovered(m.psnr, r.baselinePsnr), labelAcc: m.labelAcc, seconds: r.seconds });
    }
    const label = defenseLabel({ sparsity: 0, defense: d });
    const psnrs = runs.map((r) => r.psnr ?? Infinity);
    rows.push({ defense: label, runs, psnr: median(psnrs), recovered: runs.filter((r) => r.recovered).length, n: runs.length, labelAcc: runs.filter((r) => r.labelAcc === 1).length });
    console.error(`${label}: median PSNR ${median(psnrs)!.toFixed(1)} dB, recovered ${rows.at(-1)!.recovered}/${runs.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const result = { generatedAt: new Date().toISOString(), backend, model: "lenet", attack: o.attack, steps: o.steps, seeds: o.seeds, recoveryMarginDb: RECOVERY_MARGIN_DB, seconds: (performance.now() - t0) / 1000, rows };
  await writeFileAtomic(o.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(anchorMarkdown(JSON.parse(JSON.stringify(result))));  // as written: ∞ is null
}

main().catch((e) => {
  process.stderr.write(`study:anchor: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
