/**
 * Recounting the bytes of records made under an older byte account, without re-running an attack.
 * The bytes of a sparse upload depend on how many entries each tensor sent, which a record keeps
 * only summed over tensors, so the uploads are made again: the attacked step (one gradient, no
 * attack) and, for a job that trained, its training under the same seed and backend. Both are
 * deterministic, so the recount checks that what it re-made is what the record says (values sent,
 * test accuracy) and refuses the record otherwise; then only `attack.sentBytes`,
 * `training.bytesPerStep` and `training.compressionRatio` change.
 */
import { victimStep } from "../trial/demo";
import { statsBytes } from "../optim/wire";
import { tryLock } from "../io/lock";
import { dgcRefinements, jobContext, loadSweepData, runJobTraining, type SweepData } from "./job";
import { currentVersions, writeRecord, type JobRecord } from "./record";
import { lockPath } from "./runner";
import { loadRecords } from "./summary";
import { sparseUpload, type JobConfig } from "./grid";

export class RecountError extends Error {}

/** The record with its bytes recounted by `statsBytes`; throws RecountError if the re-made uploads differ from the record. */
export async function recountBytes(r: JobRecord, data: SweepData): Promise<JobRecord> {
  // only sparse uploads (DGC, top-k, random-k) changed account
  if (r.status !== "done" || !sparseUpload(r.config)) return r;
  if (r.backend === null) throw new RecountError(`${r.key}: the record names no backend`);
  // the backend that made the record, so the same numbers come out
  const cfg: JobConfig = { ...r.config, backend: r.backend as JobConfig["backend"] };
  const ctx = await jobContext(cfg);
  const dgc = dgcRefinements(cfg, ctx);
  const victim = victimStep(ctx, data.train, cfg.attackParams.victimLoss, dgc);
  let sentBytes: number;
  try {
    const sent = victim.sent.sent.reduce((a, b) => a + b, 0);
    if (sent !== r.attack!.sentValues) throw new RecountError(`${r.key}: the attacked step sent ${sent} values, the record says ${r.attack!.sentValues}`);
    sentBytes = statsBytes(victim.sent);
  } finally {
    victim.dispose();
  }
  let training = r.training!;
  if (training.steps > 0) {
    const again = runJobTraining(cfg, await jobContext({ ...cfg, backend: (training.backend ?? r.backend) as JobConfig["backend"] }), data);
    if (again.testAccuracy !== training.testAccuracy || again.valuesPerStep !== training.valuesPerStep) {
      throw new RecountError(`${r.key}: training again gave test accuracy ${again.testAccuracy} and ${again.valuesPerStep} values a step; the record says ${training.testAccuracy} and ${training.valuesPerStep}`);
    }
    training = { ...training, bytesPerStep: again.bytesPerStep, compressionRatio: again.compressionRatio };
  }
  return { ...r, attack: { ...r.attack!, sentBytes }, training, bytesRecounted: { at: new Date().toISOString(), commit: currentVersions().commit } };
}

/**
 * Recounts every record of `out` whose upload is sparse, one at a time under its job's lock (a
 * record another process holds is left alone and reported). Returns the keys recounted and refused.
 */
export async function recountFolder(out: string, log: (line: string) => void = () => undefined): Promise<{ recounted: string[]; refused: string[]; busy: string[] }> {
  const report = { recounted: [] as string[], refused: [] as string[], busy: [] as string[] };
  const data = new Map<number | null, SweepData>();
  const { records } = loadRecords(out);
  const todo = records.filter((r) => r.status === "done" && sparseUpload(r.config));
  for (const [i, r] of todo.entries()) {
    const attempt = tryLock(lockPath(out, r.key));
    if ("busy" in attempt) {
      report.busy.push(r.key);
      continue;
    }
    try {
      const subset = r.config.training.subset;
      if (!data.has(subset)) data.set(subset, loadSweepData(subset));
      const again = await recountBytes(r, data.get(subset)!);
      await writeRecord(out, again);
      report.recounted.push(r.key);
      const t = again.training!;
      log(`[${i + 1}/${todo.length}] ${r.key}: attacked step ${r.attack!.sentBytes ?? "–"} → ${again.attack!.sentBytes} B` +
        (t.steps > 0 ? `, training ${r.training!.bytesPerStep?.toFixed(1)} → ${t.bytesPerStep?.toFixed(1)} B/step` : ""));
    } catch (e) {
      if (!(e instanceof RecountError)) throw e;
      report.refused.push(r.key);
      log(`[${i + 1}/${todo.length}] ${e.message}; left as it was`);
    } finally {
      attempt.held.release();
    }
  }
  return report;
}
