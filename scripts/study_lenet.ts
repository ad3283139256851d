/**
 * The LeNet study (lib/study/lenet_study.ts; Markdown on stdout, every row as JSON to --json), on the
 * one study runner (records in --out; resumable, --jobs, --shard, --task, --summary):
 *   npm run study:lenet -- [--seeds 10] [--iterations 300] [--only momentum|dgc|analytic|sign|extra] [--sparsity 0.8]
 *                          [--json out.json] [--figure out.png] [--out study-lenet] [--jobs N] [--summary]
 */
import writeFileAtomic from "write-file-atomic";
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { taskRecords } from "../lib/study/record";
import { GROUPS, jsonRow, lenetFigure, lenetMarkdown, SETTINGS, settingTasks, type LenetRow } from "../lib/study/lenet_study";

const PROG = "study_lenet";

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-lenet"),
    seeds: { kind: "seeds", default: "10", help: "seeds: n (1..n), a-b or a list" },
    iterations: { kind: "int", min: 1, default: 300, help: "L-BFGS steps" },
    only: { kind: "choice", choices: GROUPS, help: "momentum, dgc, analytic, sign (IG on Linear vs DGC) or extra (DLG with the ce loss vs Momentum); default: all but extra" },
    figure: { kind: "outFile", help: "with --only sign: target, reconstruction and its negative for seeds 1-4 at the last sparsity (PNG)" },
    sparsity: { kind: "float", min: 0, max: 1, maxOpen: true, help: "only the DGC settings of this sparsity" },
    json: { kind: "outFile", help: "write every row here" },
  }, process.argv.slice(2), "The LeNet study (Markdown on stdout)");
  const seeds = o.seeds;
  const settings = SETTINGS.filter((x) => (o.only ? x.group === o.only : x.group !== "extra") && (o.sparsity === undefined || x.cfg.sparsity === o.sparsity));
  if (!settings.length) {
    const have = [...new Set(SETTINGS.filter((x) => (o.only ? x.group === o.only : x.group !== "extra")).map((x) => x.cfg.sparsity).filter((v) => v !== undefined))];
    usageExit(PROG, `no setting${o.only ? ` of --only ${o.only}` : ""} has --sparsity ${o.sparsity} (${have.length ? `choose from ${have.join(", ")}` : "its settings have no sparsity"})`);
  }
  checkStudyOut(PROG, o);
  const all = settings.flatMap((s) => settingTasks(s, seeds, o.iterations));
  if (!o.summary) await runStudyCli(all, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const recs = taskRecords<LenetRow>(o.out, all);
  console.log(lenetMarkdown(settings, recs));
  const png = o.figure ? await lenetFigure(recs) : null;
  if (o.figure && png) await writeFileAtomic(o.figure, png);
  if (o.json) await writeFileAtomic(o.json, JSON.stringify({ iterations: o.iterations, seeds, rows: recs.map(jsonRow) }, null, 1) + "\n");
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
