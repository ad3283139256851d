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
import { parseFlagsOrExit } from "../cli/flags";
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

async function main(): Promise<void> {
  const o = parseFlagsOrExit("study_anchor", {
    seeds: { kind: "int", min: 1, max: 100_000, default: 5, help: "seeds 1..n (victim images)" },
    steps: { kind: "int", min: 1, default: 30, help: "L-BFGS steps per attack (the paper: 300); Adam iterations with --attack adaptive" },
    attack: { kind: "choice", choices: ["lbfgs", "adaptive"], default: "lbfgs", help: "lbfgs: the paper's DLG; adaptive: the defense-aware attacker (lib/attack/aware.ts)" },
    out: { kind: "outFile", default: "docs/defense-anchor.json", help: "JSON results" },
    defense: { kind: "custom", parse: defenses, help: "defenses to run instead of the paper's, NAME[:v1,v2,...], repeatable" },
  }, process.argv.slice(2), "The DLG paper's defense experiment (JSON to --out, Markdown on stdout)");
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
  process.stderr.write(`study_anchor: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
