/**
 * The command-line shell every study script shares around the one runner (lib/study/runner.ts):
 * the flags `--out`, `--jobs`, `--task`, `--shard`, `--summary` (studyFlags, for cli/flags.ts), the
 * `--task <key>` children of `--jobs N` (the same argv, one key each), the log lines, the closing count
 * and the exit status — 0 all done (or left to another process holding the lock), 1 a task failed
 * (the others still ran), 75 for `--task` when another process holds the task; bad input is 2, before
 * any work (the flag parser's). The sweep names its one-job flag `--only` (it predates the others).
 */
import { printable } from "../lib/io/stdio";
import { checkOutputDir, requireDir, ResultDirError } from "../lib/io/results";
import { BUSY_EXIT, PARENT_ENV, runStudy, type StudyReport } from "../lib/study/runner";
import type { StudyTask } from "../lib/study/task";
import { usageExit, type FlagSpec } from "./flags";

/** `i/n`: the shard's index and count. */
export function parseShard(s: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || !Number.isSafeInteger(Number(m[2]))) throw new Error(`'${s}' is not i/n with 0 <= i < n`);
  return [Number(m[1]), Number(m[2])];
}

/** The flags of the runner, for a script's flag spec (`--out`'s default is the script's). */
export function studyFlags(defaultOut: string) {
  return {
    out: { kind: "string", nonEmpty: true, default: defaultOut, help: "the study's folder: one record per task (with --summary: read from)" },
    ...runnerFlags(),
  } satisfies Record<string, FlagSpec>;
}

/** The runner's flags but the records' folder (for a script whose --out was a file before: it names the folder itself). */
export function runnerFlags() {
  return {
    jobs: { kind: "int", min: 1, max: 64, default: 1, help: "tasks at once, each in its own process" },
    task: { kind: "string", nonEmpty: true, help: "run just this task (its key, as the progress lines name it; what --jobs N children run)" },
    shard: { kind: "custom", parse: parseShard, help: "i/n: run only tasks i, i + n, i + 2n, … of the grid (GNU parallel, Slurm arrays)" },
    summary: { kind: "switch", help: "print the tables of the records (runs nothing)" },
  } satisfies Record<string, FlagSpec>;
}

export interface StudyCliOptions {
  prog: string;
  out: string;
  jobs: number;
  only?: string;
  shard?: [number, number];
  /** Test-only: these keys throw (failure handling). */
  failKeys?: ReadonlySet<string>;
  /** The argv of a child that runs one key (default: this process's, with --jobs/--shard/--only replaced). */
  childArgs?: (key: string) => string[];
  /** Where the progress lines go: stdout (default), or stderr where stdout is the study's tables. */
  progress?: "stdout" | "stderr";
}

/** The records' folder checked before any work: one to write (or, with --summary, to read) — else one line, exit 2. */
export function checkStudyOut(prog: string, o: { out: string; summary?: boolean }, flag = "--out"): void {
  try {
    if (o.summary) requireDir(o.out, flag);
    else checkOutputDir(o.out, flag);
  } catch (e) {
    if (e instanceof ResultDirError) usageExit(prog, e.message);
    throw e;
  }
}

/** This process's argv without `--jobs`, `--shard` and `--task` (and their values), then `--task key`. */
export function childArgv(argv: readonly string[], key: string): string[] {
  const drop = new Set(["--jobs", "--shard", "--task"]);
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].split("=")[0];
    if (drop.has(flag)) {
      if (!argv[i].includes("=")) i++;
      continue;
    }
    kept.push(argv[i]);
  }
  return [...kept, "--task", key];
}

/**
 * Runs the study's tasks (those of `--shard`, or the one `--only` names) and sets the exit status;
 * an `--only` that names no task of the grid is bad input (one line, exit 2).
 */
export async function runStudyCli(tasks: readonly StudyTask[], o: StudyCliOptions): Promise<StudyReport> {
  const t0 = performance.now();
  let todo = [...tasks];
  if (o.only) {
    todo = tasks.filter((t) => t.key === o.only);
    if (!todo.length) usageExit(o.prog, `--task: no task '${o.only}' in this grid (its keys: ${tasks.slice(0, 3).map((t) => t.key).join(", ")}${tasks.length > 3 ? ", …" : ""})`);
  }
  const sh = o.shard;
  if (sh) todo = todo.filter((_, i) => i % sh[1] === sh[0]);
  const child = process.env[PARENT_ENV];
  const report = await runStudy(todo, {
    out: o.out,
    jobs: o.jobs,
    prog: o.prog,
    childArgs: o.childArgs ?? ((key) => [process.argv[1], ...childArgv(process.argv.slice(2), key)]),
    failKeys: o.failKeys,
    log: (line) => {
      if (o.progress === "stderr") process.stderr.write(`${line}\n`);
      else console.log(line);
      // a child of --jobs N, whose stdout nobody reads: its failure on stderr too, for the parent to quote
      if (o.only && / failed: /.test(line)) process.stderr.write(`${o.prog}: error: ${printable(line.replace(/^\[\d+\/\d+\] /, ""))}\n`);
    },
    ...(o.only && child ? { parentPid: Number(child) } : {}),
  });
  if (!o.only) {
    const secs = (performance.now() - t0) / 1000;
    const busy = report.busy.length ? `, ${report.busy.length} left to other processes (running there)` : "";
    (o.progress === "stderr" ? console.error : console.log)(`${o.prog}: ${report.done.length} done, ${report.failed.length} failed, ${report.skipped.length} already done${busy}; ${secs.toFixed(1)} s`);
  }
  if (report.failed.length) {
    if (!o.only) process.stderr.write(`${o.prog}: error: ${report.failed.length} of ${todo.length} jobs failed (${report.failed.slice(0, 3).join(", ")}${report.failed.length > 3 ? ", …" : ""}); see their lines above\n`);
    process.exitCode = 1;
  } else if (o.only && report.busy.length) process.exitCode = BUSY_EXIT;
  return report;
}
