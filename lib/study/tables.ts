/**
 * Every study's tables from the records in a folder, whatever wrote them: the records say which
 * study they belong to (`config.study`; the sweep's, older, have none), so one command
 * (`npm run study:summary -- --out dir`) regenerates the docs' tables from records alone, for a
 * folder holding one study or several.
 */
import { envelopeRecords, studyRecords } from "./record";
import { buildSummary, summaryMarkdown } from "./summary";
import { laterRoundsMarkdown, studyMarkdown } from "./federated_summary";
import { fedavgMarkdown, type FedAvgPoint } from "./fedavg";
import { attackMarkdown, trainMarkdown, type AttackRow, type TrainRow } from "./examples";
import { lenetMarkdown, SETTINGS, type LenetRow } from "./lenet_study";
import { anchorMarkdown, anchorResult, type AnchorRun } from "./anchor";
import { BATCH_ATTACKS, batchesMarkdown, batchRows, DEFENSES, type BatchRow } from "./batches";
import { parseDefense } from "../threat/channel/registry";
import { cifarMarkdown, cifarTrainMarkdown } from "./cifar";

export const STUDIES = ["sweep", "federated", "fedavg", "train", "attack", "lenet", "anchor", "batches", "cifar", "cifar-train"] as const;
export type StudyName = (typeof STUDIES)[number];

/** The studies whose records are in `out`: `config.study`, or the sweep's (a config with attack parameters). */
export function studiesIn(out: string): StudyName[] {
  const found = new Set<StudyName>();
  for (const r of envelopeRecords(out)) {
    const config = r.config as { study?: string; attackParams?: unknown };
    if (config.study && (STUDIES as readonly string[]).includes(config.study)) found.add(config.study as StudyName);
    else if (!config.study && config.attackParams) found.add("sweep");
  }
  return STUDIES.filter((s) => found.has(s));
}

const uniq = <T>(xs: readonly T[]) => [...new Set(xs)];
type Setting = { config: { setting: string } };

/** One study's tables from the records in `out`. */
export function studyTables(out: string, study: StudyName): string {
  switch (study) {
    case "sweep":
      return summaryMarkdown(buildSummary(out));
    case "federated":
      return `${studyMarkdown(out)}\nThe frontier by attacked round:\n\n${laterRoundsMarkdown(out)}\n`;
    case "fedavg":
      return fedavgMarkdown(studyRecords<FedAvgPoint>(out, "fedavg"));
    case "train":
      return trainMarkdown(studyRecords<TrainRow & Setting>(out, "train"));
    case "attack":
      return attackMarkdown(studyRecords<AttackRow & Setting>(out, "attack"));
    case "lenet":
      return lenetMarkdown(SETTINGS, studyRecords<LenetRow>(out, "lenet"));
    case "anchor": {
      const recs = studyRecords<AnchorRun & { config: { defense: string; attack: string; steps: number } }>(out, "anchor");
      const labels = uniq(recs.map((r) => r.config.defense));
      const points = labels.map((l) => ({ d: parseDefense(l), recs: recs.filter((r) => r.config.defense === l).sort((a, b) => a.seed - b.seed) }));
      const c = recs[0]?.config;
      return anchorMarkdown(JSON.parse(JSON.stringify(anchorResult(points, { attack: c?.attack ?? "lbfgs", steps: c?.steps ?? 0, seeds: Math.max(0, ...recs.map((r) => r.seed)) }))));
    }
    case "cifar":
      return cifarMarkdown(studyRecords(out, "cifar"));
    case "cifar-train":
      return cifarTrainMarkdown(studyRecords(out, "cifar-train"));
    case "batches": {
      const recs = studyRecords<BatchRow & { config: { iterations: number } }>(out, "batches");
      const rows = batchRows(recs);
      return batchesMarkdown(rows, {
        model: uniq(rows.map((r) => r.model)).join(", "), iterations: recs[0]?.config.iterations ?? 0, seeds: Math.max(0, ...rows.map((r) => r.seed)),
        backend: recs.at(-1)?.backend ?? "", wallSeconds: recs.reduce((a, r) => a + r.seconds, 0),
        attacks: BATCH_ATTACKS.filter((a) => rows.some((r) => r.attack === a)), defenses: Object.keys(DEFENSES).filter((d) => rows.some((r) => r.defense === d)),
        batches: uniq(rows.map((r) => r.batch)).sort((a, b) => a - b),
      });
    }
  }
}
