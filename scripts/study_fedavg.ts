#!/usr/bin/env node
/**
 * The FedAvg study (docs/fedavg.md, lib/study/fedavg.ts) on the one study runner:
 *   npm run study:fedavg -- [--out dir] [--steps 1,2,5] [--n 1,4] [--defense none,dgc:0.9]
 *        [--seeds 1,2] [--iterations 10] [--local_lr 0.1] [--local_momentum 0] [--attack adaptive] [--optimizer lbfgs]
 *        [--jobs N] [--shard i/n] [--task key]
 *   npm run study:fedavg -- --summary --out dir      the Markdown table of what is there
 * Exit: 0 all done, 1 a task failed (the others still ran), 2 bad input, 75 --only's task held elsewhere.
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { ATTACK_METHODS, ATTACK_OPTIMIZERS } from "../lib/attack/spec";
import { parseDefenseArg } from "../lib/threat/channel/defenses";
import { fedavgMarkdown, fedavgTasks, type FedAvgPoint } from "../lib/study/fedavg";
import { studyRecords } from "../lib/study/record";
import type { FLConfig } from "../lib/trial/fl_config";

const PROG = "study_fedavg";

/** --defense none,dgc:0.9: each NAME[:v] one defense point (checked by the registry, as fl checks --defense; dgc needs its sparsity), repeats dropped. */
const defenseList = (s: string): string[] => {
  const xs = s.split(",").map((x) => x.trim());
  if (xs.every((x) => x === "")) throw new Error("nothing given");
  for (const x of xs) {
    if (parseDefenseArg(x).length !== 1) throw new Error(`'${x}' is not one defense NAME[:v]`);
  }
  return [...new Set(xs)];
};

async function main(): Promise<void> {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-fedavg"),
    steps: { kind: "ints", min: 1, default: "1,2,5", help: "local steps E" },
    n: { kind: "ints", min: 1, default: "1,4", help: "images per client (the attacked batch; b = n)" },
    defense: { kind: "custom", parse: defenseList, default: ["none", "dgc:0.9"], help: "defenses, NAME[:v],… (default none,dgc:0.9)" },
    seeds: { kind: "ints", min: 0, default: "1,2", help: "seeds, a list" },
    iterations: { kind: "int", min: 1, default: 10, help: "attack iterations" },
    local_lr: { kind: "float", min: 0, minOpen: true, default: 0.1, help: "local learning rate" },
    local_momentum: { kind: "float", min: 0, max: 1, maxOpen: true, default: 0, help: "local momentum" },
    attack: { kind: "choice", choices: ATTACK_METHODS.filter((m) => m !== "analytic"), default: "adaptive", help: "the attack (analytic needs a Linear first layer; this study is LeNet's)" },
    optimizer: { kind: "choice", choices: ATTACK_OPTIMIZERS, default: "lbfgs", help: "the attack's optimizer" },
  }, process.argv.slice(2), "The FedAvg study (docs/fedavg.md), on the one study runner");
  checkStudyOut(PROG, o);
  if (o.summary) {
    console.log(fedavgMarkdown(studyRecords<FedAvgPoint>(o.out, "fedavg")));
    return;
  }
  const tasks = fedavgTasks({
    steps: o.steps, n: o.n, defenses: o.defense, seeds: o.seeds, iterations: o.iterations, localLr: o.local_lr, localMomentum: o.local_momentum,
    attack: o.attack as FLConfig["attack_method"], optimizer: o.optimizer as FLConfig["attack_optimizer"],
  });
  await runStudyCli(tasks, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard });
}

main().catch((e) => {
  process.stderr.write(`${PROG}: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
