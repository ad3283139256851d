/**
 * The batch study (lib/study/batches.ts): B × defense × attack on one model over seeds, as a Markdown
 * table, on the one study runner (records in --out; resumable):
 *   npm run study:batches -- --model linear --seeds 5 --iterations 1000 [--batches 1,2,4,8]
 *     [--attacks dlg,dlg-all,ig,adaptive] [--defenses momentum,dgc0.8,dgc0.9] [--json out.json]
 *     [--out study-batches] [--jobs N] [--shard i/n] [--task key] [--summary]
 */
import writeFileAtomic from "write-file-atomic";
import { parseFlagsOrExit } from "../cli/flags";
import { checkStudyOut, runStudyCli, studyFlags } from "../cli/study";
import { taskRecords } from "../lib/study/record";
import { BATCH_ATTACKS, batchesMarkdown, batchRows, cellTask, DEFENSES, type BatchRow } from "../lib/study/batches";
import type { BatchAttackName } from "../lib/trial/batch";
import { SPLIT_SIZES } from "../lib/data/mnist";
import type { ModelKind } from "../lib/models/model";

const PROG = "study_batches";

async function main() {
  const o = parseFlagsOrExit(PROG, {
    ...studyFlags("study-batches"),
    model: { kind: "choice", choices: ["linear", "lenet"], default: "linear", help: "linear or lenet" },
    seeds: { kind: "int", min: 1, max: 100_000, default: 5, help: "seeds 1..n" },
    iterations: { kind: "int", min: 2, default: 1000, help: "attack iterations" },
    batches: { kind: "ints", min: 1, max: SPLIT_SIZES.train, default: "1,2,4,8", help: "batch sizes" },
    attacks: { kind: "choices", choices: BATCH_ATTACKS, default: BATCH_ATTACKS.join(","), help: "attacks" },
    defenses: { kind: "choices", choices: Object.keys(DEFENSES), default: Object.keys(DEFENSES).join(","), help: "momentum, dgc0.8, dgc0.9" },
    json: { kind: "outFile", help: "write every run's numbers here (atomically)" },
  }, process.argv.slice(2), "The batch study: B × defense × attack over seeds (Markdown on stdout)");
  const model = o.model as ModelKind;
  const { seeds, iterations, batches } = o;
  const attacks = o.attacks as BatchAttackName[];
  const defenses = o.defenses;

  checkStudyOut(PROG, o);
  const tasks = attacks.flatMap((attack) => defenses.flatMap((defense) => batches.flatMap((batch) => Array.from({ length: seeds }, (_, i) => cellTask(model, attack, defense, batch, i + 1, iterations)))));
  const t0 = performance.now();
  if (!o.summary) await runStudyCli(tasks, { prog: PROG, out: o.out, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const recs = taskRecords<BatchRow>(o.out, tasks);
  const backend = recs.at(-1)?.backend ?? "";
  const rows = batchRows(recs);
  console.log(batchesMarkdown(rows, { model, iterations, seeds, backend, wallSeconds: (performance.now() - t0) / 1000, attacks, defenses, batches }));
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify({ model, iterations, seeds, backend, rows: rows.map(({ attackSeconds, ...r }) => ({ ...r, seconds: attackSeconds })) }, null, 1)}\n`);
}

main().catch((e) => {
  console.error(`${PROG}: error: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
