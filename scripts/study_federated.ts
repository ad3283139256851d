#!/usr/bin/env node
/**
 * The federated study (docs/federated.md), resumable and shardable:
 *   npm run study:federated -- [--out dir] [--sparsity 0,0.8,...] [--defense NAME[:v1,v2,…]]… [--rounds 0,1,10,50]
 *        [--attacks dlg,ig,adaptive,analytic,history] [--seeds 5] [--iterations 500]
 *        [--history_iterations 300] [--history_rounds 10] [--train_rounds 50] [--no_train]
 *        [--model lenet [--lbfgs_steps 20]]   LeNet: keys lenet-…, adaptive and history by L-BFGS (0: Adam), no analytic
 *        [--jobs N] [--shard i/n] [--task key]   the one study runner's (cli/study.ts): N processes, tasks i, i + n, …, one task
 *   --defense (repeatable, lib/optim/defenses.ts) adds points after the sparsities; with --defense and no
 *   --sparsity, the study has only the defenses given (none and dgc:s are sparsities 0 and s).
 *   npm run study:federated -- --summary --out dir [--export file.json]   the Markdown tables (and every record)
 * Exit: 0 all done, 1 a task failed (the others still ran), 2 bad input, 75 --only's task held by another process.
 */
import { mkdirSync } from "node:fs";
import writeFileAtomic from "write-file-atomic";
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";
import { FL_ATTACKS, type FLAttack } from "../lib/trial/fl_config";
import { initBackend } from "../lib/core/backend";
import { loadMnist, meanImage } from "../lib/data/mnist";
import { MODELS } from "../lib/models/registry";
import { STUDY_DEFAULTS, studyProblem, studyTasks, type StudySettings } from "../lib/study/federated";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { laterRoundsMarkdown, studyJson, studyMarkdown } from "../lib/study/federated_summary";

const PROG = "study_federated";

/** --defense, repeatable: each adds its points (a DefenseError refuses the flag: one line, exit 2). */
const defenses = (s: string, prev: DefenseSpec[] = []): DefenseSpec[] => [...prev, ...parseDefenseArg(s)];

async function main(): Promise<number> {
  const d = STUDY_DEFAULTS;
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-federated"),
    sparsity: { kind: "floats", min: 0, max: 1, maxOpen: true, help: `DGC sparsities (default ${d.sparsities.join(",")}; none with --defense)` },
    defense: { kind: "custom", parse: defenses, help: "NAME[:v1,v2,…], repeatable: defense points after the sparsities" },
    rounds: { kind: "ints", min: 0, default: d.rounds.join(","), help: "attacked rounds" },
    attacks: { kind: "choices", choices: FL_ATTACKS, default: d.attacks.join(","), help: "attacks" },
    seeds: { kind: "seeds", default: d.seeds.join(","), help: "seeds: n (1..n), a-b or a list" },
    iterations: { kind: "int", min: 1, default: d.iterations, help: "attack iterations" },
    history_iterations: { kind: "int", min: 1, default: d.historyIterations, help: "the history attack's iterations" },
    history_rounds: { kind: "int", min: 0, default: d.historyRounds, help: "rounds the history attack watches" },
    train_rounds: { kind: "int", min: 1, default: d.trainRounds, help: "training rounds" },
    clients: { kind: "int", min: 1, default: d.clients, help: "clients" },
    model: { kind: "choice", choices: MODELS, default: d.model, help: "linear (the seed's) or lenet (keys lenet-…; adaptive and history by L-BFGS)" },
    lbfgs_steps: { kind: "int", min: 0, default: d.lbfgsSteps!, help: "L-BFGS steps of the attacks that run by L-BFGS on LeNet (0: Adam with --iterations / --history_iterations)" },
    no_train: { kind: "switch", help: "no training tasks" },
    export: { kind: "outFile", help: "with --summary: every record as one JSON array" },
  }, process.argv.slice(2), "The federated study (docs/federated.md), resumable and shardable");
  checkStudyOut(PROG, o);
  if (o.summary) {
    console.log(studyMarkdown(o.out));
    console.log(`The frontier by attacked round (docs/defenses.md, "Later rounds"):\n\n${laterRoundsMarkdown(o.out)}\n`);
    if (o.export) await writeFileAtomic(o.export, studyJson(o.out));
    return 0;
  }
  const st: StudySettings = {
    sparsities: o.sparsity ?? (o.defense ? [] : d.sparsities), defenses: o.defense ?? [], rounds: o.rounds, attacks: o.attacks as FLAttack[], seeds: o.seeds,
    iterations: o.iterations, historyIterations: o.history_iterations, historyRounds: o.history_rounds,
    trainRounds: o.train_rounds, clients: o.clients, model: o.model as StudySettings["model"], lbfgsSteps: o.lbfgs_steps,
  };
  const problem = studyProblem(st);
  if (problem) usageExit(PROG, problem);
  mkdirSync(o.out, { recursive: true });
  await initBackend("auto");
  const data = { train: loadMnist("train"), test: loadMnist("test") };
  const mean = meanImage(data.train);
  await runStudyCli(studyTasks(st, data, mean, !o.no_train), { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard });
  return Number(process.exitCode ?? 0);
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`${PROG}: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
