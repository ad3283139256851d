#!/usr/bin/env node
/**
 * The DLG paper's defense experiment (lib/study/anchor.ts) on the one study runner:
 *   npm run study:anchor -- [--seeds 5] [--steps 30] [--out docs/defense-anchor.json] [--defense NAME[:v1,…] …]
 *        [--attack adaptive] [--records study-anchor] [--jobs N] [--shard i/n] [--task key] [--summary]
 * (--defense, repeatable, replaces the paper's list, e.g. to put DGC on the same footing; --attack adaptive
 * runs the defense-aware attacker instead, --steps being its Adam iterations.) One record per defense
 * and seed in --records; writes the JSON atomically and prints the Markdown table (--summary: from the
 * records alone).
 */
import writeFileAtomic from "write-file-atomic";
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, runnerFlags } from "../cli/study";
import { taskRecords } from "../lib/study/record";
import { anchorMarkdown, anchorResult, defenseTasks, POINTS, type AnchorRun } from "../lib/study/anchor";
import { parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";

const PROG = "study_anchor";

/** --defense, repeatable: each adds its points (a DefenseError refuses the flag: one line, exit 2). */
const defenses = (s: string, previous: DefenseSpec[] = []): DefenseSpec[] => [...previous, ...parseDefenseArg(s)];

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
  checkStudyOut(PROG, { out: o.records, summary: o.summary }, "--records");
  const attack = o.attack as "lbfgs" | "adaptive";
  const points = (o.defense ?? POINTS).map((d) => ({ d, tasks: defenseTasks(d, o.seeds, attack, o.steps) }));
  if (!o.summary) await runStudyCli(points.flatMap((p) => p.tasks), { prog: PROG, out: o.records, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const result = anchorResult(points.map(({ d, tasks }) => ({ d, recs: taskRecords<AnchorRun>(o.records, tasks) })), { attack: o.attack, steps: o.steps, seeds: o.seeds });
  await writeFileAtomic(o.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(anchorMarkdown(JSON.parse(JSON.stringify(result))));  // as written: ∞ is null
}

main().catch((e) => {
  process.stderr.write(`${PROG}: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
