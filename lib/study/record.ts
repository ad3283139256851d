/**
 * One JSON record per task of any study, `<out>/<key>.json` (the envelope: task.ts), written
 * atomically (write-file-atomic: a temporary file renamed into place), so a crash leaves either the
 * old file, the new one, or none — never half of one. On resume every record is checked:
 * unparseable, missing fields (the envelope's, then the task's own), or a config other than the one
 * asked for make the task count as not done, and it runs again. The sweep's records (`JobRecord`)
 * are this envelope with `attack`, `baseline` and `training`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { tf } from "../core/tf";
import type { JobConfig } from "./grid";
import type { StudyTask } from "./task";

export const RECORD_SCHEMA = 1;

export interface Versions {
  "dgc-privacy": string;
  tfjs: string;
  node: string;
  /** The git commit of the code, when it runs from a git checkout. */
  commit: string | null;
}

export interface AttackOutcome {
  /** The attacker's label guess and the victim's true label. */
  guess: number;
  label: number;
  /** Metrics of the attacker's image after its last iteration (SPEC conventions; null: not finite). */
  mse: number | null;
  psnr: number | null;
  ssim: number | null;
  labelAcc: number;
  /** Gradient values the victim sent in the attacked step, and the dense count. */
  sentValues: number;
  totalValues: number;
  /** Size of that upload in bytes under the sender's encoding (federated/bytes.ts `statsBytes`). */
  sentBytes?: number;
  seconds: number;
}

/** The trivial attacker: the training set's mean image, against the same victim. */
export interface BaselineOutcome {
  mse: number | null;
  psnr: number | null;
  ssim: number | null;
}

export interface TrainingOutcome {
  steps: number;
  testAccuracy: number;
  /** Mean gradient values sent per training step (null without training steps). */
  valuesPerStep: number | null;
  totalValues: number;
  /** Mean bytes one upload costs (federated/bytes.ts `statsBytes`: a quantizer's own encoding, else the cheapest of dense / indices / bitmap). */
  bytesPerStep: number | null;
  denseBytesPerStep: number;
  /** denseBytesPerStep / bytesPerStep. */
  compressionRatio: number | null;
  seconds: number;
  /** The backend that trained, where `auto` picked another than the attack's (LeNet: tensorflow). */
  backend?: string;
}

/** The envelope every study's record has (task.ts); a task's result fields sit beside it. */
export interface StudyRecord {
  schema: number;
  key: string;
  status: "done" | "failed";
  /** Why a failed task failed (one line). */
  error?: string;
  config: object;
  versions: Versions;
  /** The tfjs backend that ran (null if the task failed before choosing one, or used none). */
  backend: string | null;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** The process that wrote the record (added by writeRecord): tells a runner which tasks its own children ran. */
  writer?: { host: string; pid: number };
}

/** A sweep job's record. */
export interface JobRecord extends StudyRecord {
  config: JobConfig;
  attack?: AttackOutcome;
  baseline?: BaselineOutcome;
  training?: TrainingOutcome;
  /** Set when the bytes were recounted under the current account (recount.ts), by the code at `commit`. */
  bytesRecounted?: { at: string; commit: string | null };
}

export function recordPath(out: string, key: string): string {
  return join(out, `${key}.json`);
}

let versions: Versions | undefined;
export function currentVersions(): Versions {
  if (!versions) {
    const root = packageRoot();
    let commit: string | null = null;
    try {
      commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
    } catch {
      commit = null;
    }
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    versions = { "dgc-privacy": pkg.version, tfjs: tf.version.tfjs, node: process.version, commit };
  }
  return versions;
}

function packageRoot(): string {
  for (let dir = resolve(__dirname); ; dir = dirname(dir)) {
    const p = join(dir, "package.json");
    if (existsSync(p) && (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name === "dgc-privacy") return dir;
    if (dirname(dir) === dir) throw new Error("cannot find the dgc-privacy package.json");
  }
}

export async function writeRecord(out: string, record: StudyRecord): Promise<void> {
  const signed: StudyRecord = { ...record, writer: { host: hostname(), pid: process.pid } };
  await writeFileAtomic(recordPath(out, record.key), `${JSON.stringify(signed, null, 2)}\n`);
}

/** Same JSON regardless of key order, for comparing configs. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export type FieldType = "number" | "number|null" | "string" | "string|null" | "object";

const COMMON_FIELDS: [string, FieldType][] = [
  ["schema", "number"], ["key", "string"], ["status", "string"], ["config", "object"], ["versions", "object"],
  ["versions.dgc-privacy", "string"], ["versions.tfjs", "string"], ["versions.node", "string"], ["versions.commit", "string|null"],
  ["backend", "string|null"], ["startedAt", "string"], ["finishedAt", "string"], ["seconds", "number"],
];
const DONE_FIELDS: [string, FieldType][] = [
  ["attack.guess", "number"], ["attack.label", "number"], ["attack.mse", "number|null"], ["attack.psnr", "number|null"],
  ["attack.ssim", "number|null"], ["attack.labelAcc", "number"], ["attack.sentValues", "number"], ["attack.totalValues", "number"],
  ["attack.seconds", "number"],
  ["baseline.mse", "number|null"], ["baseline.psnr", "number|null"], ["baseline.ssim", "number|null"],
  ["training.steps", "number"], ["training.testAccuracy", "number"], ["training.valuesPerStep", "number|null"],
  ["training.totalValues", "number"], ["training.bytesPerStep", "number|null"], ["training.denseBytesPerStep", "number"],
  ["training.compressionRatio", "number|null"], ["training.seconds", "number"],
];

function fieldAt(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split(".")) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function hasType(v: unknown, t: FieldType): boolean {
  switch (t) {
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "number|null":
      return v === null || (typeof v === "number" && Number.isFinite(v));
    case "string":
      return typeof v === "string";
    case "string|null":
      return v === null || typeof v === "string";
    case "object":
      return !!v && typeof v === "object" && !Array.isArray(v);
  }
}

/** Why `value` is not a usable record envelope (of any task), or null if it is one. */
export function envelopeProblem(value: unknown): string | null {
  const missing = fieldsProblem(value, COMMON_FIELDS);
  if (missing) return missing;
  const r = value as StudyRecord;
  if (r.schema !== RECORD_SCHEMA) return `schema ${r.schema}, expected ${RECORD_SCHEMA}`;
  if (r.status === "failed") return typeof r.error === "string" ? null : "a failed record without an error message";
  if (r.status !== "done") return `unknown status '${r.status}'`;
  return null;
}

/** `fields` of `value` that are missing or mistyped: the first one, as a problem, or null. */
export function fieldsProblem(value: unknown, fields: readonly [string, FieldType][]): string | null {
  for (const [path, t] of fields) if (!hasType(fieldAt(value, path), t)) return `field '${path}' is missing or not ${t}`;
  return null;
}

/** The sweep's done fields (the attack, the baseline, the training). */
export const jobResultProblem = (value: unknown): string | null => fieldsProblem(value, DONE_FIELDS);

/** Why `value` is not a usable record of a task whose done records `resultProblem` checks, or null. */
function taskRecordProblem(value: unknown, resultProblem?: (record: object) => string | null): string | null {
  const problem = envelopeProblem(value);
  if (problem || (value as StudyRecord).status === "failed") return problem;
  return resultProblem?.(value as object) ?? null;
}

/** Why `value` is not a usable sweep record, or null if it is one. */
export const recordProblem = (value: unknown): string | null => taskRecordProblem(value, jobResultProblem);

export type RecordState<R extends StudyRecord = StudyRecord> =
  | { state: "missing" }
  | { state: "invalid"; problem: string }
  | { state: "done" | "failed"; record: R };
export type JobState = RecordState<JobRecord>;

/** What `<out>/<key>.json` says about the task. */
export function inspectRecord<R extends StudyRecord = StudyRecord>(out: string, task: Pick<StudyTask, "key" | "config" | "resultProblem">): RecordState<R> {
  const cfg = task.config;
  const path = recordPath(out, task.key);
  if (!existsSync(path)) return { state: "missing" };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return { state: "invalid", problem: `not valid JSON (${(e as Error).message.split("\n")[0]})` };
  }
  const problem = taskRecordProblem(value, task.resultProblem);
  if (problem) return { state: "invalid", problem };
  const r = value as R;
  if (r.key !== task.key) return { state: "invalid", problem: `record of task '${r.key}', not '${task.key}'` };
  if (canonicalJson(r.config) !== canonicalJson(cfg)) return { state: "invalid", problem: "its config differs from the one asked for" };
  return { state: r.status, record: r };
}

/**
 * Every file of `out` that holds a record envelope (summaries, partial and other files left out),
 * in file-name order: what a study's tables are read back from.
 */
export function envelopeRecords(out: string): StudyRecord[] {
  const recs: StudyRecord[] = [];
  for (const file of readdirSync(out).filter((f) => f.endsWith(".json")).sort()) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(join(out, file), "utf8"));
    } catch {
      continue;
    }
    if (envelopeProblem(value) === null) recs.push(value as StudyRecord);
  }
  return recs;
}

/** The done records of one study in `out` (its tasks' `config.study`), in file-name order. */
export function studyRecords<R extends object>(out: string, study: string): (StudyRecord & R)[] {
  return envelopeRecords(out).filter((r) => r.status === "done" && (r.config as { study?: string }).study === study) as (StudyRecord & R)[];
}

/** The done records of `tasks` in `out`, in the tasks' order (a task without one is left out). */
export function taskRecords<R extends object>(out: string, tasks: readonly Pick<StudyTask, "key" | "config" | "resultProblem">[]): (StudyRecord & R)[] {
  const recs: (StudyRecord & R)[] = [];
  for (const t of tasks) {
    const st = inspectRecord<StudyRecord & R>(out, t);
    if (st.state === "done") recs.push(st.record);
  }
  return recs;
}
