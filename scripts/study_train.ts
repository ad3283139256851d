/**
 * The 5-seed study of Examples 3 and 4 (not a test): running accuracy at epoch 1, batch id 900,
 * test accuracy and wall time of 2 epochs, per seed, with medians, as a Markdown table. One task
 * per example and seed on the one study runner (records in --out; resumable, --jobs, --shard).
 *   npm run study:train -- [--seeds 5] [--backend wasm] [--out study-train] [--jobs N] [--summary]
 */
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { BACKENDS, type BackendChoice } from "../lib/core/backend";
import { medianOrNaN as median } from "../lib/study/summary";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import { loadData, runTraining, setupRun } from "../lib/trial/demo";
import { makeConfig, type DemoConfig } from "../lib/trial/demo_config";
import { tf } from "../lib/core/tf";
import type { StudyTask } from "../lib/study/task";

const PROG = "study_train";
const EXAMPLES: { id: string; name: string; cfg: Partial<DemoConfig>; band: [number, number] }[] = [
  { id: "ex3", name: "Example 3 (Momentum, lr 0.01)", cfg: { use_dgc: false, train_lr: 0.01 }, band: [0.88, 0.93] },
  { id: "ex4", name: "Example 4 (DGC 0.8, lr 0.001)", cfg: { use_dgc: true, train_lr: 0.001, sparsity: 0.8 }, band: [0.8, 0.92] },
];

interface TrainRow { seed: number; acc: number; test: number; trainSeconds: number }

let data: ReturnType<typeof loadData> | undefined;

function tasks(seeds: number[], backend: BackendChoice): StudyTask<TrainRow>[] {
  return EXAMPLES.flatMap((ex) => seeds.map((seed): StudyTask<TrainRow> => ({
    key: `train-${ex.id}-seed${seed}`,
    config: { study: "train", example: ex.id, ...ex.cfg, seed, backend },
    run: async () => {
      data ??= loadData(makeConfig());
      const ctx = await setupRun(makeConfig({ ...ex.cfg, seed, backend }));
      const run = runTraining(ctx, data);
      tf.dispose(run.params);
      const r = run.history.find((h) => h.epoch === 1 && h.batch === 900)!;
      return { backend: ctx.backend, result: { seed, acc: r.acc, test: run.testAccuracy!, trainSeconds: run.seconds } };
    },
    resultProblem: (r) => fieldsProblem(r, [["acc", "number"], ["test", "number"], ["trainSeconds", "number"]]),
    describe: (r) => `acc at epoch 1, batch 900: ${(r as TrainRow).acc.toFixed(4)}`,
  })));
}

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-train"),
    seeds: { kind: "seeds", default: "5", help: "seeds: n (1..n), a-b or a list" },
    backend: { kind: "choice", choices: BACKENDS, default: "auto", help: "tfjs backend" },
  }, process.argv.slice(2), "The 5-seed study of Examples 3 and 4 (Markdown on stdout)");
  checkStudyOut(PROG, o);
  const all = tasks(o.seeds, o.backend as BackendChoice);
  if (!o.summary) await runStudyCli(all, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  for (const ex of EXAMPLES) {
    const recs = taskRecords<TrainRow>(o.out, all.filter((t) => (t.config as { example: string }).example === ex.id));
    if (!recs.length) continue;
    const m = median(recs.map((r) => r.acc));
    console.log(`\n### ${ex.name} — backend ${recs.at(-1)!.backend}\n`);
    console.log("| seed | acc at epoch 1, batch 900 | test acc | seconds (2 epochs + test) |\n|---|---|---|---|");
    for (const r of recs) console.log(`| ${r.seed} | ${r.acc.toFixed(4)} | ${r.test.toFixed(4)} | ${r.trainSeconds.toFixed(2)} |`);
    console.log(`| median | ${m.toFixed(4)} | ${median(recs.map((r) => r.test)).toFixed(4)} | ${median(recs.map((r) => r.trainSeconds)).toFixed(2)} |`);
    console.log(`\nband [${ex.band[0]}, ${ex.band[1]}]: median ${m >= ex.band[0] && m <= ex.band[1] ? "inside" : "OUTSIDE"}`);
  }
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
