#!/usr/bin/env node
/**
 * Every study's tables from its records alone (lib/study/tables.ts):
 *   npm run study:summary -- --out dir [--study sweep|federated|fedavg|train|attack|lenet|anchor|batches|cifar|cifar-train]
 * The folder is any study's --out (the anchor's --records); with several studies' records, each one's
 * tables in turn. Exit 2 for a folder that cannot be read or holds no study's record.
 */
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { requireDir, ResultDirError } from "../lib/io/results";
import { STUDIES, studiesIn, studyTables, type StudyName } from "../lib/study/tables";

const PROG = "study_summary";

function main(): void {
  const o = parseFlagsOrExit(PROG, {
    out: { kind: "string", nonEmpty: true, required: true, help: "a study's folder of records" },
    study: { kind: "choice", choices: STUDIES, help: "only this study's tables (default: every study found)" },
  }, process.argv.slice(2), "Every study's tables from its records");
  try {
    requireDir(o.out, "--out");
  } catch (e) {
    if (e instanceof ResultDirError) usageExit(PROG, e.message);
    throw e;
  }
  const found = studiesIn(o.out);
  const which = o.study ? found.filter((s) => s === o.study) : found;
  if (!which.length) usageExit(PROG, `${o.out} holds no record${o.study ? ` of the ${o.study} study` : " of any study"} (studies: ${STUDIES.join(", ")})`);
  for (const s of which as StudyName[]) console.log(`## ${s}\n\n${studyTables(o.out, s)}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`${PROG}: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
