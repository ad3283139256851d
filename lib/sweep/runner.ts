/**
 * Runs the jobs of a sweep that are not done yet, in this process or as N child processes
 * (each `--only <key>`), and makes sure every job ends with a record: `done`, or `failed` with its
 * error — one failure never stops the others. A job counts as done only if its record is valid and
 * was made with the same config, so re-running after a crash, a kill or a corrupted file redoes
 * exactly what is missing.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { currentVersions, inspectRecord, RECORD_SCHEMA, writeRecord, type JobRecord } from "./record";
import { loadSweepData, runJob, type SweepData } from "./job";
import type { JobConfig } from "./grid";

export interface SweepOptions {
  out: string;
  /** Jobs at once: 1 runs them one after another in this process; N > 1 starts child processes. */
  jobs: number;
  /** The argv (after `node`) that runs one job on its own; required when jobs > 1. */
  childArgs?: (key: string) => string[];
  log?: (line: string) => void;
  /** Test-only: these keys throw instead of running (to exercise failure handling). */
  failKeys?: ReadonlySet<string>;
}

export interface SweepReport {
  /** Jobs that ran and ended done / failed in this call. */
  done: string[];
  failed: string[];
  /** Jobs already done before (skipped). */
  skipped: string[];
  /** Jobs whose previous record was unusable, and why (they ran again). */
  redone: { key: string; problem: string }[];
}

function failedRecord(cfg: JobConfig, error: string, startedAt: Date, backend: string | null = null): JobRecord {
  const finishedAt = new Date();
  return {
    schema: RECORD_SCHEMA,
    key: cfg.key,
    status: "failed",
    error,
    config: cfg,
    versions: currentVersions(),
    backend,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  };
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

export function describeRecord(r: JobRecord): string {
  if (r.status === "failed") return `failed: ${r.error}`;
  const f = (x: number | null | undefined, d: number) => (x === null || x === undefined ? "–" : x.toFixed(d));
  return `done in ${r.seconds.toFixed(1)} s: PSNR ${f(r.attack!.psnr, 2)} dB (mean image ${f(r.baseline!.psnr, 2)}), SSIM ${f(r.attack!.ssim, 3)}, label ${r.attack!.labelAcc}, test acc ${f(r.training!.testAccuracy, 4)}`;
}

export async function runSweep(configs: readonly JobConfig[], opts: SweepOptions): Promise<SweepReport> {
  mkdirSync(opts.out, { recursive: true });
  const log = opts.log ?? (() => undefined);
  const report: SweepReport = { done: [], failed: [], skipped: [], redone: [] };
  const todo: JobConfig[] = [];
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

let shared: { subset: number | null; data: SweepData } | undefined;
function sweepData(subset: number | null): SweepData {
  if (shared?.subset !== subset) shared = { subset, data: loadSweepData(subset) };
  return shared.data;
}

async function runHere(todo: readonly JobConfig[], opts: SweepOptions, report: SweepReport, log: (l: string) => void): Promise<void> {
  for (const [i, cfg] of todo.entries()) {
    const startedAt = new Date();
    let record: JobRecord;
    try {
      if (opts.failKeys?.has(cfg.key)) throw new Error(`injected failure for ${cfg.key} (test-only)`);
      record = await runJob(cfg, sweepData(cfg.training.subset));
    } catch (e) {
      record = failedRecord(cfg, oneLine(e), startedAt);
    }
    await writeRecord(opts.out, record);
    (record.status === "done" ? report.done : report.failed).push(cfg.key);
    log(`[${i + 1}/${todo.length}] ${cfg.key}: ${describeRecord(record)}`);
  }
}

async function runChildren(todo: readonly JobConfig[], opts: SweepOptions, report: SweepReport, log: (l: string) => void): Promise<void> {
  if (!opts.childArgs) throw new Error("running jobs in parallel needs childArgs");
  const childArgs = opts.childArgs;
  const queue = [...todo];
  let finished = 0;
  const runOne = (cfg: JobConfig): Promise<void> =>
    new Promise((resolve) => {
      const startedAt = new Date();
      const child = spawn(process.execPath, childArgs(cfg.key), { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      let settled = false;
      const settle = async (how: string) => {
        if (settled) return; // "error" and "exit" can both fire
        settled = true;
        // the child writes its own record; if it could not (killed, crashed), record why here
        let st = inspectRecord(opts.out, cfg);
        if (st.state !== "done" && st.state !== "failed") {
          const last = stderr.trim().split("\n").pop();
          await writeRecord(opts.out, failedRecord(cfg, `job process ${how}${last ? `: ${last}` : ""}`, startedAt));
          st = inspectRecord(opts.out, cfg);
        }
        const record = (st as { record: JobRecord }).record;
        (record.status === "done" ? report.done : report.failed).push(cfg.key);
        log(`[${++finished}/${todo.length}] ${cfg.key}: ${describeRecord(record)}`);
        resolve();
      };
      child.on("error", (e) => void settle(`could not start (${e.message})`));
      child.on("exit", (code, signal) => void settle(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    });
  const worker = async () => {
    for (let cfg = queue.shift(); cfg; cfg = queue.shift()) await runOne(cfg);
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, todo.length) }, worker));
}
