#!/usr/bin/env node
/**
 * The federated study (docs/federated.md), resumable and shardable:
 *   npm run study:federated -- [--out dir] [--sparsity 0,0.8,...] [--defense NAME[:v1,v2,…]]… [--rounds 0,1,10,50]
 *        [--attacks dlg,ig,adaptive,analytic,history] [--seeds 5] [--iterations 500]
 *        [--history_iterations 300] [--history_rounds 10] [--train_rounds 50] [--no_train]
 *        [--model lenet [--lbfgs_steps 20]]   LeNet: keys lenet-…, adaptive and history by L-BFGS (0: Adam), no analytic
 *        [--shard i/n]          run only tasks i, i + n, i + 2n, … (GNU parallel, Slurm arrays)
 *   --defense (repeatable, lib/optim/defenses.ts) adds points after the sparsities; with --defense and no
 *   --sparsity, the study has only the defenses given (none and dgc:s are sparsities 0 and s).
 *   npm run study:federated -- --summary --out dir [--export file.json]   the Markdown tables (and every record)
 * Exit: 0 all done, 1 a task failed (the others still ran), 2 bad input.
 */
import { mkdirSync } from "node:fs";
import writeFileAtomic from "write-file-atomic";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DefenseError, parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";
import { FL_ATTACKS, type FLAttack } from "../lib/trial/fl_config";
import { initBackend } from "../lib/core/backend";
import { loadMnist, meanImage } from "../lib/data/mnist";
import { MODELS } from "../lib/models/registry";
import { STUDY_DEFAULTS, studyProblem, studyTasks, taskDone, type StudySettings } from "../lib/study/federated";
import { laterRoundsMarkdown, studyJson, studyMarkdown } from "../lib/study/federated_summary";

const nums = (min: number, max: number, int: boolean) => (s: string): number[] =>
  s.split(",").map((x) => {
    const v = Number(x.trim());
    if (x.trim() === "" || !Number.isFinite(v) || v < min || v >= max || (int && !Number.isInteger(v))) throw new InvalidArgumentError(`'${x}' is not ${int ? "an integer" : "a number"} in [${min}, ${max})`);
    return v;
  });
const posInt = (s: string) => nums(1, Infinity, true)(s)[0];
const attacks = (s: string): FLAttack[] =>
  s.split(",").map((x) => {
    if (!(FL_ATTACKS as readonly string[]).includes(x)) throw new InvalidArgumentError(`unknown attack '${x}' (choose from ${FL_ATTACKS.join(", ")})`);
    return x as FLAttack;
  });
const defenses = (s: string, prev: DefenseSpec[] = []): DefenseSpec[] => {
  try {
    return [...prev, ...parseDefenseArg(s)];
  } catch (e) {
    if (e instanceof DefenseError) throw new InvalidArgumentError(e.message);
    throw e;
  }
};
const shard = (s: string) => {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new InvalidArgumentError(`'${s}' is not i/n with 0 <= i < n`);
  return [Number(m[1]), Number(m[2])];
};

async function main(): Promise<number> {
  const d = STUDY_DEFAULTS;
  const cmd = new Command("study_federated")
    .addOption(new Option("--out <dir>").default("study-federated"))
    .addOption(new Option("--sparsity <list>").argParser(nums(0, 1, false)).default(d.sparsities))
    .addOption(new Option("--defense <name[:v1,v2,…]>", "repeatable").argParser(defenses))
    .addOption(new Option("--rounds <list>").argParser(nums(0, Infinity, true)).default(d.rounds))
    .addOption(new Option("--attacks <list>").argParser(attacks).default(d.attacks))
    .addOption(new Option("--seeds <n>").argParser(posInt).default(d.seeds.length))
    .addOption(new Option("--iterations <n>").argParser(posInt).default(d.iterations))
    .addOption(new Option("--history_iterations <n>").argParser(posInt).default(d.historyIterations))
    .addOption(new Option("--history_rounds <n>").argParser(nums(0, Infinity, true)).default([d.historyRounds]))
    .addOption(new Option("--train_rounds <n>").argParser(posInt).default(d.trainRounds))
    .addOption(new Option("--clients <n>").argParser(posInt).default(d.clients))
    .addOption(new Option("--model <name>", "linear (the seed's) or lenet (keys lenet-…; adaptive and history by L-BFGS)").choices(MODELS).default(d.model))
    .addOption(new Option("--lbfgs_steps <n>", "L-BFGS steps of the attacks that run by L-BFGS on LeNet (0: Adam with --iterations / --history_iterations)").argParser((v: string) => nums(0, Infinity, true)(v)[0]).default(d.lbfgsSteps))
    .addOption(new Option("--no_train"))
    .addOption(new Option("--shard <i/n>").argParser(shard))
    .addOption(new Option("--summary"))
    .addOption(new Option("--export <file>", "with --summary: every record as one JSON array"))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  try {
    cmd.parse(process.argv.slice(2), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      process.stderr.write(`study_federated: error: ${e.message.replace(/^error: /, "")}\n`);
      return 2;
    }
    throw e;
  }
  const o = cmd.opts();
  if (o.summary) {
    console.log(studyMarkdown(o.out));
    console.log(`The frontier by attacked round (docs/defenses.md, "Later rounds"):\n\n${laterRoundsMarkdown(o.out)}\n`);
    if (o.export) await writeFileAtomic(o.export, studyJson(o.out));
    return 0;
  }
  const st: StudySettings = {
    sparsities: o.defense && cmd.getOptionValueSource("sparsity") === "default" ? [] : o.sparsity, defenses: o.defense ?? [], rounds: o.rounds, attacks: o.attacks, seeds: Array.from({ length: o.seeds }, (_, i) => i + 1),
    iterations: o.iterations, historyIterations: o.history_iterations, historyRounds: o.history_rounds[0],
    trainRounds: o.train_rounds, clients: o.clients, model: o.model, lbfgsSteps: o.lbfgs_steps,
  };
  const problem = studyProblem(st);
  if (problem) {
    process.stderr.write(`study_federated: error: ${problem}\n`);
    return 2;
  }
  mkdirSync(o.out, { recursive: true });
  await initBackend("auto");
  const data = { train: loadMnist("train"), test: loadMnist("test") };
  const mean = meanImage(data.train);
  let tasks = studyTasks(st, data, mean, !o.no_train);
  if (o.shard) tasks = tasks.filter((_, i) => i % o.shard[1] === o.shard[0]);
  tasks = tasks.filter((t) => !taskDone(o.out, t));
  let failed = 0;
  const t0 = performance.now();
  for (const [i, t] of tasks.entries()) {
    const t1 = performance.now();
    try {
      await t.run(o.out);
      console.log(`[${i + 1}/${tasks.length}] ${t.key} done in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed++;
      console.error(`[${i + 1}/${tasks.length}] ${t.key} failed: ${(e as Error).message}`);
    }
  }
  console.log(`${tasks.length - failed} of ${tasks.length} tasks done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`study_federated: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
