/**
 * The one study runner: runs the tasks of a study (task.ts) that are not done yet, in this process
 * or as N child processes (each `--only <key>`), and makes sure every task ends with a record:
 * `done`, or `failed` with its error — one failure never stops the others. A task counts as done
 * only if its record is valid and was made with the same config, so re-running after a crash, a kill
 * or a corrupted file redoes exactly what is missing. Every study script (the sweep, study_*) runs
 * its grid through `runStudy`; "job" below is one task.
 *
 * Any number of processes may share one `out` (the fan-out docs/sweep.md shows): a job runs
 * only under its lock `<out>/<key>.lock` (lib/lock.ts), and its record is looked at again once the
 * lock is held, so no job ever runs twice at once or again after another process finished it.
 * A lock left by a dead process on this host is taken over (a live process that got the dead one's
 * pid later is told apart by its start time).
 *
 * Nothing one job does stops the others: a job that throws, a record that cannot be written (a
 * full disk, a folder where the record goes), a child that crashes — each ends as `failed` in the
 * report (and in a record where one can be written), and the rest run. Children never outlive
 * the sweep: they are killed when it exits (a signal included), and a child whose parent is gone
 * (killed with SIGKILL) writes no record and stops.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { onExit } from "signal-exit";
import { describeOwner, lockOwnerDead, readLock, tryLock } from "../io/lock";
import { currentVersions, inspectRecord, recordPath, RECORD_SCHEMA, writeRecord, type StudyRecord } from "./record";
import { ENVELOPE_FIELDS, type StudyTask } from "./task";

export interface StudyOptions {
  out: string;
  /** Jobs at once: 1 runs them one after another in this process; N > 1 starts child processes. */
  jobs: number;
  /** The argv (after `node`) that runs one job on its own; required when jobs > 1. */
  childArgs?: (key: string) => string[];
  log?: (line: string) => void;
  /** Test-only: these keys throw instead of running (to exercise failure handling). */
  failKeys?: ReadonlySet<string>;
  /** In a child: the study process that started it; if it is gone, the child writes nothing and exits. */
  parentPid?: number;
  /** The script's name, for the lines a child writes (default "study"). */
  prog?: string;
}

/** The environment variable a parent names itself in for its `--only` children. */
export const PARENT_ENV = "DGC_SWEEP_PARENT";

/** Exit status of a child that found its parent gone (it wrote nothing). */
const ORPHAN_EXIT = 70;

export interface StudyReport {
  /** Jobs that ran and ended done / failed in this call. */
  done: string[];
  failed: string[];
  /** Jobs already done before (skipped). */
  skipped: string[];
  /** Jobs whose previous record was unusable, and why (they ran again). */
  redone: { key: string; problem: string }[];
  /** Jobs another process was running (their lock was held); not run here. */
  busy: string[];
}

/** Exit status of a `--only` child whose job another process holds (EX_TEMPFAIL): not a failure. */
export const BUSY_EXIT = 75;

export function lockPath(out: string, key: string): string {
  return join(out, `${key}.lock`);
}

function envelope(task: StudyTask, startedAt: Date, backend: string | null, error?: string): StudyRecord {
  const finishedAt = new Date();
  return {
    schema: RECORD_SCHEMA,
    key: task.key,
    ...(error === undefined ? { status: "done" as const } : { status: "failed" as const, error }),
    config: task.config,
    versions: currentVersions(),
    backend,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  };
}

/** Runs the task; its record, done (the result beside the envelope). */
async function runTask(task: StudyTask): Promise<StudyRecord> {
  const startedAt = new Date();
  const { backend, result } = await task.run();
  const clash = ENVELOPE_FIELDS.find((f) => f in result);
  if (clash) throw new Error(`task ${task.key}: its result has the record's own field '${clash}'`);
  return { ...envelope(task, startedAt, backend), ...result };
}

function failedRecord(task: StudyTask, error: string, startedAt: Date, backend: string | null = null): StudyRecord {
  return envelope(task, startedAt, backend, error);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** Exits (writing nothing) if this is a child whose parent sweep is gone. */
function exitIfOrphaned(opts: StudyOptions, cleanup: () => void = () => undefined): void {
  if (opts.parentPid !== undefined && process.ppid !== opts.parentPid) {
    cleanup();
    process.stderr.write(`${opts.prog ?? "study"}: the parent ${opts.prog ?? "study"} (pid ${opts.parentPid}) is gone; this job stops and writes nothing\n`);
    process.exit(ORPHAN_EXIT);
  }
}

/** Why a job's record could not be kept at its place, checked before the job runs (a folder there, say). */
function recordPlaceProblem(out: string, key: string): string | null {
  try {
    const st = lstatSync(recordPath(out, key));
    return st.isFile() ? null : `${recordPath(out, key)} is ${st.isDirectory() ? "a folder" : "not a regular file"}, not a record: move it away`;
  } catch {
    return null;
  }
}

function describeRecord(task: StudyTask, r: StudyRecord): string {
  if (r.status === "failed") return `failed: ${r.error}`;
  return `done in ${r.seconds.toFixed(1)} s${task.describe ? `: ${task.describe(r)}` : ""}`;
}

export async function runStudy(configs: readonly StudyTask[], opts: StudyOptions): Promise<StudyReport> {
  mkdirSync(opts.out, { recursive: true });
  const log = opts.log ?? (() => undefined);
  const report: StudyReport = { done: [], failed: [], skipped: [], redone: [], busy: [] };
  const todo: StudyTask[] = [];
  for (const cfg of configs) {
    const st = inspectRecord(opts.out, cfg);
    if (st.state === "done") {
      report.skipped.push(cfg.key);
      continue;
    }
    if (st.state === "invalid") {
      report.redone.push({ key: cfg.key, problem: st.problem });
      log(`${cfg.key}: previous record unusable (${st.problem}); running it again`);
    }
    todo.push(cfg);
  }
  if (report.skipped.length) log(`${report.skipped.length} of ${configs.length} jobs already done; ${todo.length} to run`);
  if (opts.jobs > 1 && todo.length > 1) await runChildren(todo, opts, report, log);
  else await runHere(todo, opts, report, log);
  return report;
}

/**
 * In a child: a thread that ends the process (SIGKILL: it writes nothing more) once the parent
 * sweep is gone. A thread, because a job is synchronous work: a timer in this one would wait for it.
 */
function watchParent(parentPid: number, prog: string): Worker {
  const w = new Worker(
    `const { workerData } = require("node:worker_threads");
     setInterval(() => {
       if (process.ppid !== workerData.pid) {
         process.stderr.write(workerData.prog + ": the parent " + workerData.prog + " (pid " + workerData.pid + ") is gone; this job stops and writes nothing\\n");
         process.kill(process.pid, "SIGKILL");
       }
     }, 250);`,
    { eval: true, workerData: { pid: parentPid, prog }, stdout: false, stderr: false },
  );
  w.unref();
  return w;
}

async function runHere(todo: readonly StudyTask[], opts: StudyOptions, report: StudyReport, log: (l: string) => void): Promise<void> {
  const watch = opts.parentPid !== undefined ? watchParent(opts.parentPid, opts.prog ?? "study") : undefined;
  try {
    for (const [i, cfg] of todo.entries()) {
      try {
        await runOneHere(cfg, `[${i + 1}/${todo.length}] ${cfg.key}`, opts, report, log);
      } catch (e) {
        // the job ran (or not) but nothing could be recorded: a full disk, an unwritable folder
        report.failed.push(cfg.key);
        log(`[${i + 1}/${todo.length}] ${cfg.key}: failed: ${oneLine(e)}`);
      }
    }
  } finally {
    void watch?.terminate();
  }
}

async function runOneHere(cfg: StudyTask, label: string, opts: StudyOptions, report: StudyReport, log: (l: string) => void): Promise<void> {
  const place = recordPlaceProblem(opts.out, cfg.key);
  if (place) throw new Error(place);
  const attempt = tryLock(lockPath(opts.out, cfg.key));
  if ("busy" in attempt) {
    report.busy.push(cfg.key);
    log(`${label}: running elsewhere (${describeOwner(attempt.busy)}); left to it`);
    return;
  }
  try {
    if (inspectRecord(opts.out, cfg).state === "done") {
      report.skipped.push(cfg.key); // another process finished it since we looked
      log(`${label}: done meanwhile by another process`);
      return;
    }
    const startedAt = new Date();
    let record: StudyRecord;
    try {
      if (opts.failKeys?.has(cfg.key)) throw new Error(`injected failure for ${cfg.key} (test-only)`);
      record = await runTask(cfg);
    } catch (e) {
      record = failedRecord(cfg, oneLine(e), startedAt);
    }
    exitIfOrphaned(opts, () => attempt.held.release());
    try {
      await writeRecord(opts.out, record);
    } catch (e) {
      throw new Error(`${record.status === "done" ? "done, but" : `${record.error}; and`} its record cannot be written (${oneLine(e)})`);
    }
    (record.status === "done" ? report.done : report.failed).push(cfg.key);
    log(`${label}: ${describeRecord(cfg, record)}`);
  } finally {
    attempt.held.release();
  }
}

async function runChildren(todo: readonly StudyTask[], opts: StudyOptions, report: StudyReport, log: (l: string) => void): Promise<void> {
  if (!opts.childArgs) throw new Error("running jobs in parallel needs childArgs");
  const childArgs = opts.childArgs;
  const queue = [...todo];
  let finished = 0;
  // no child outlives the sweep: killed on any exit of this process (Ctrl-C, SIGTERM, SIGHUP, a crash)
  const live = new Set<ChildProcess>();
  const unhook = onExit(() => {
    for (const c of live) c.kill("SIGKILL");
  });
  const runOne = (cfg: StudyTask): Promise<void> =>
    new Promise((resolve) => {
      const place = recordPlaceProblem(opts.out, cfg.key);
      if (place) {
        report.failed.push(cfg.key);
        log(`[${++finished}/${todo.length}] ${cfg.key}: failed: ${place}`);
        return resolve();
      }
      // a live lock: another process runs this job, so no child is started for it
      const holder = readLock(lockPath(opts.out, cfg.key));
      if (holder && !lockOwnerDead(holder)) {
        report.busy.push(cfg.key);
        log(`[${++finished}/${todo.length}] ${cfg.key}: running elsewhere (${describeOwner(holder)}); left to it`);
        return resolve();
      }
      const startedAt = new Date();
      const child = spawn(process.execPath, childArgs(cfg.key), { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, [PARENT_ENV]: String(process.pid) } });
      live.add(child);
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      let settled = false;
      const busy = (owner: string) => {
        report.busy.push(cfg.key);
        log(`[${++finished}/${todo.length}] ${cfg.key}: running elsewhere (${owner}); left to it`);
        resolve();
      };
      const settle = async (how: string, code: number | null) => {
        if (settled) return; // "error" and "exit" can both fire
        settled = true;
        live.delete(child);
        try {
          await settleJob(how, code);
        } catch (e) {
          // its record could not be read or written: failed, and the sweep goes on
          report.failed.push(cfg.key);
          const last = stderr.trim().split("\n").pop();
          log(`[${++finished}/${todo.length}] ${cfg.key}: failed: job process ${how}${last ? ` (${last.replace(/^[\w-]+: error: /, "")})` : ""}; its record cannot be written here either (${oneLine(e)})`);
          resolve();
        }
      };
      const settleJob = async (how: string, code: number | null) => {
        if (code === BUSY_EXIT) return busy("another process");
        // the child writes its own record; if it could not (killed, crashed), record why here, under the job's lock
        let st = inspectRecord(opts.out, cfg);
        if (st.state !== "done" && st.state !== "failed") {
          const attempt = tryLock(lockPath(opts.out, cfg.key)); // the dead child's lock is stale now
          if ("busy" in attempt) return busy(describeOwner(attempt.busy));
          try {
            st = inspectRecord(opts.out, cfg);
            if (st.state !== "done" && st.state !== "failed") {
              const last = stderr.trim().split("\n").pop();
              await writeRecord(opts.out, failedRecord(cfg, `job process ${how}${last ? `: ${last}` : ""}`, startedAt));
              st = inspectRecord(opts.out, cfg);
            }
          } finally {
            attempt.held.release();
          }
        }
        const record = (st as { record: StudyRecord }).record;
        if (record.writer && record.writer.pid !== child.pid && record.writer.pid !== process.pid) {
          report.skipped.push(cfg.key); // the child found it finished by another process
          log(`[${++finished}/${todo.length}] ${cfg.key}: done meanwhile by another process`);
          return resolve();
        }
        (record.status === "done" ? report.done : report.failed).push(cfg.key);
        log(`[${++finished}/${todo.length}] ${cfg.key}: ${describeRecord(cfg, record)}`);
        resolve();
      };
      child.on("error", (e) => void settle(`could not start (${e.message})`, null));
      child.on("exit", (code, signal) => void settle(signal ? `was killed by ${signal}` : `exited with code ${code}`, code));
    });
  const worker = async () => {
    for (let cfg = queue.shift(); cfg; cfg = queue.shift()) await runOne(cfg);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.jobs, todo.length) }, worker));
  } finally {
    unhook();
  }
}
