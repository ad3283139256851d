/**
 * The 5-seed study of Examples 3 and 4 (lib/study/examples.ts), as a Markdown table, on the one
 * study runner (records in --out; resumable, --jobs, --shard, --summary):
 *   npm run study:train -- [--seeds 5] [--backend wasm] [--out study-train] [--jobs N] [--summary]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { BACKENDS, type BackendChoice } from "../lib/core/backend";
import { taskRecords } from "../lib/study/record";
import { trainMarkdown, trainTasks, type TrainRow } from "../lib/study/examples";

const PROG = "study_train";

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-train"),
    seeds: { kind: "seeds", default: "5", help: "seeds: n (1..n), a-b or a list" },
    backend: { kind: "choice", choices: BACKENDS, default: "auto", help: "tfjs backend" },
  }, process.argv.slice(2), "The 5-seed study of Examples 3 and 4 (Markdown on stdout)");
  checkStudyOut(PROG, o);
  const tasks = trainTasks(o.seeds, o.backend as BackendChoice);
  if (!o.summary) await runStudyCli(tasks, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (!o.task) console.log(trainMarkdown(taskRecords<TrainRow & { config: { setting: string } }>(o.out, tasks)));
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
