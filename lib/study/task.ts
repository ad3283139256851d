/**
 * A study is a list of tasks; the one runner (runner.ts) runs the ones not done yet and keeps one
 * JSON record per task, `<out>/<key>.json`, in one schema (record.ts):
 *
 *   { schema, key, status: "done" | "failed", error?, config, versions, backend,
 *     startedAt, finishedAt, seconds, writer?, …result }
 *
 * A task is pure data plus how to compute it: its key (the record's file name, stable, so any
 * scheduler can ask for it by `--only <key>`), its config (everything the result depends on: a record
 * made under another config is not this task's and runs again), and `run`, which returns the result's
 * fields (spread into the record beside the envelope's, so they must not reuse its names).
 * Every study — the sweep, the federated rounds, FedAvg, the examples' seed studies, LeNet, the anchor,
 * batches — is such a list (study/studies.ts); its tables are read back from the records.
 */

/** The record fields the runner owns; a task's result must not use them. */
export const ENVELOPE_FIELDS = ["schema", "key", "status", "error", "config", "versions", "backend", "startedAt", "finishedAt", "seconds", "writer", "bytesRecounted"] as const;

export interface TaskOutcome<R extends object = object> {
  /** The tfjs backend the task ran on (null where it used none). */
  backend: string | null;
  result: R;
}

export interface StudyTask<R extends object = object> {
  readonly key: string;
  /** JSON: what the result depends on. */
  readonly config: object;
  run(): Promise<TaskOutcome<R>>;
  /** Why a done record's result fields are unusable (a field missing or mistyped), or null. */
  resultProblem?(record: object): string | null;
  /** One line for the log about a done record (default: its seconds). */
  describe?(record: object): string;
}
