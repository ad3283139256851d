/**
 * The multi-seed study of Examples 1 and 2 (lib/study/examples.ts): each seed is a different victim
 * image; PSNR, SSIM and label accuracy where the seed prints its last line (iteration 1900), for both
 * dummy-label starts, optionally on LeNet — on the one study runner (records in --out; resumable):
 *   npm run study:attack -- [--seeds 10] [--label_init ones,guess] [--lenet_seeds 3] [--out study-attack] [--jobs N] [--summary]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { taskRecords } from "../lib/study/record";
import { attackMarkdown, attackTasks, LABEL_INITS, type AttackRow } from "../lib/study/examples";
import type { LabelInit } from "../lib/trial/demo_config";

const PROG = "study_attack";

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-attack"),
    seeds: { kind: "seeds", default: "10", help: "seeds: n (1..n), a-b or a list" },
    label_init: { kind: "choices", choices: LABEL_INITS, default: "ones,guess", help: "dummy-label starts" },
    lenet_seeds: { kind: "int", min: 0, max: 100_000, default: 3, help: "seeds 1..n for LeNet (0: skip)" },
  }, process.argv.slice(2), "The multi-seed study of Examples 1 and 2 (Markdown on stdout)");
  checkStudyOut(PROG, o);
  const tasks = attackTasks(o.label_init as LabelInit[], o.seeds, o.lenet_seeds);
  if (!o.summary) await runStudyCli(tasks, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (!o.task) console.log(attackMarkdown(taskRecords<AttackRow & { config: { setting: string } }>(o.out, tasks)));
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
