#!/usr/bin/env node
/**
 * The sparsity × attack × DGC-variant × seed sweep (docs/sweep.md):
 *   npm run sweep -- --sparsity 0,0.5,0.8,0.9,0.99,0.999 --seeds 5 [--attack dlg,ig,adaptive]
 *                    [--variant seed,paper,sampled] [--jobs N] [--out dir] [--iterations N] [--epochs N]
 *   npm run sweep -- --defense topk:0.5,0.9 --defense int8 --defense dgc:0.9 ... (repeatable; replaces the
 *                    default sparsities: dgc:s is sparsity s, none is sparsity 0; lib/optim/defenses.ts)
 *   npm run sweep -- --model lenet ...     the same grid on LeNet (keys `lenet-…`; attacks lbfgs, ig, adaptive —
 *                    analytic needs the Linear model and is refused)
 *   npm run sweep -- --list ...            the grid's job keys, one a line (for schedulers)
 *   npm run sweep -- --only <key> ...      one job on its own
 *   npm run sweep -- --summary --out dir   the Markdown table; writes <dir>/summary.json
 *   npm run sweep -- --recount-bytes --out dir   recount the bytes of the sparse uploads' records under the
 *                    current account (lib/sweep/recount.ts: re-makes the uploads, never the attacks)
 *   npm run sweep -- --frontier --out dir  the defense frontier (lib/sweep/frontier.ts); writes <dir>/summary.json too
 *                    [--png file.png]  and draws it: bytes × accuracy × victims recovered (lib/sweep/frontier_map.ts)
 *   npm run sweep -- --frontier --from summary.json [--png …]   the same from a summary written before (docs/defense-summary.json)
 * Exit status: 0 when every job is done (or left to another process holding its lock), 1 when one
 * failed (the others still ran), 2 on bad input, 75 for `--only` when another process holds the job.
 */
import writeFileAtomic from "write-file-atomic";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { oneLine } from "../cli/args";
import { guardStdout, printable } from "../lib/io/stdio";
import { ATTACKS, GridError, parseKey, SWEEP_MODELS, type SweepModel, type AttackName } from "../lib/study/keys";
import { BACKENDS, type BackendChoice } from "../lib/core/backend";
import { runStudyCli } from "../cli/study";
import { sweepTasks } from "../lib/study/job";
import { buildSummary, summaryMarkdown, readSummary, type Summary } from "../lib/study/summary";
import { ensureWritableDir, requireDir, ResultDirError } from "../lib/io/results";
import { DEFAULT_COMMON, expandGrid, jobConfig, type CommonSettings, type JobConfig } from "../lib/study/grid";
import { DGC_VARIANTS, type DGCVariant } from "../lib/optim/variants";
import { frontierMarkdown, frontierPoints } from "../lib/study/frontier";
import { DEFENSES, DefenseError, parseDefenseArg, type DefenseSpec } from "../lib/threat/channel/defenses";
import { recountFolder } from "../lib/study/recount";
import { CHROMIUM, figurePng } from "../lib/viz/figure_png";
import { frontierMapFigure } from "../lib/study/frontier_map";

function list<T extends string>(allowed: readonly T[], what: string) {
  return (s: string): T[] => {
    const xs = s.split(",").map((x) => x.trim()).filter(Boolean);
    for (const x of xs) if (!(allowed as readonly string[]).includes(x)) throw new InvalidArgumentError(`unknown ${what} '${x}' (choose from ${allowed.join(", ")})`);
    if (!xs.length) throw new InvalidArgumentError(`no ${what} given`);
    return [...new Set(xs)] as T[];
  };
}

/** `NAME[:v1,v2,…]`, repeatable: one DefenseSpec per strength, appended to the earlier ones. */
function defenses(s: string, previous: DefenseSpec[] = []): DefenseSpec[] {
  try {
    return [...previous, ...parseDefenseArg(s)];
  } catch (e) {
    if (e instanceof DefenseError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

function sparsities(s: string): number[] {
  const xs = s.split(",").map((x) => x.trim());
  return xs.map((x) => {
    const v = Number(x);
    // plain decimals only: Number() would take 0x0, 0b0, 1e-1 spelled oddly, and "" as 0
    if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x) || !Number.isFinite(v) || v < 0 || v >= 1) throw new InvalidArgumentError(`sparsity '${x}' is not a number in [0, 1)`);
    return v;
  });
}

/** More seeds than this is a typo, not a sweep (each seed is a job per grid point). */
const MAX_SEEDS = 100_000;

/** "5" → 1..5; "2-4" → 2, 3, 4; "1,3,7" → those. Seeds are integers from 0 to 2^53 − 1 (beyond, neighbours collide). */
function seeds(s: string): number[] {
  const int = (x: string) => {
    if (!/^\d+$/.test(x.trim())) throw new InvalidArgumentError(`'${x}' is not a seed (an integer >= 0)`);
    if (!Number.isSafeInteger(Number(x))) throw new InvalidArgumentError(`seed '${x.trim()}' is beyond 2^53 − 1 = ${Number.MAX_SAFE_INTEGER}`);
    return Number(x);
  };
  const tooMany = (n: number) => {
    if (n > MAX_SEEDS) throw new InvalidArgumentError(`'${s}' asks for ${n} seeds; at most ${MAX_SEEDS}`);
  };
  if (s.includes(",")) return [...new Set(s.split(",").map(int))];
  const range = /^(\d+)-(\d+)$/.exec(s.trim());
  if (range) {
    const [a, b] = [int(range[1]), int(range[2])];
    if (b < a) throw new InvalidArgumentError(`empty seed range '${s}'`);
    tooMany(b - a + 1);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const n = int(s);
  if (n < 1) throw new InvalidArgumentError("--seeds N needs N >= 1");
  tooMany(n);
  return Array.from({ length: n }, (_, i) => i + 1);
}

function positiveInt(min: number, max = Number.MAX_SAFE_INTEGER, why = "") {
  return (s: string): number => {
    if (!/^\d+$/.test(s.trim()) || Number(s) < min) throw new InvalidArgumentError(`'${s}' is not an integer >= ${min}`);
    if (!Number.isSafeInteger(Number(s))) throw new InvalidArgumentError(`'${s.trim()}' is beyond 2^53 − 1`);
    if (Number(s) > max) throw new InvalidArgumentError(`'${s.trim()}' is more than ${max}${why}`);
    return Number(s);
  };
}

/** MNIST's training set: a larger subset would be the whole set under another name (and another settings row). */
const TRAIN_IMAGES = 60_000;

function command(): Command {
  return new Command("sweep")
    .description("Sweep DGC sparsity against gradient-inversion attacks; one JSON record per job")
    .addOption(new Option("--sparsity <list>", "DGC sparsities, comma-separated (0: uncompressed Momentum)").argParser(sparsities).default([0, 0.5, 0.8, 0.9, 0.99, 0.999]))
    .addOption(new Option("--seeds <n|a-b|list>", "seeds: N means 1..N; seed k fixes the victim image").argParser(seeds).default([1, 2, 3, 4, 5]))
    .addOption(new Option("--attack <list>", `attacks (${ATTACKS.join(", ")})`).argParser(list(ATTACKS, "attack")).default(["dlg", "ig", "adaptive"]))
    .addOption(new Option("--defense <name[:v1,v2,...]>", `a defense and its strengths, repeatable (${DEFENSES.join(", ")})`).argParser(defenses))
    .addOption(new Option("--model <name>", "the attacked and trained model (LeNet's keys start with lenet-)").choices(SWEEP_MODELS).default("linear"))
    .addOption(new Option("--variant <list>", `DGC variants (${DGC_VARIANTS.join(", ")})`).argParser(list(DGC_VARIANTS, "variant")).default(["seed"]))
    .addOption(new Option("--jobs <n>", "jobs at once, each in its own process").argParser(positiveInt(1)).default(1))
    .addOption(new Option("--out <dir>", "result folder").default("sweep-results"))
    .addOption(new Option("--iterations <n>", "attack iterations, every attack (default: 2000 each)").argParser(positiveInt(1)))
    .addOption(new Option("--epochs <n>", "training epochs per job (0: no training)").argParser(positiveInt(0)).default(DEFAULT_COMMON.epochs))
    .addOption(new Option("--train-subset <n>", "train on the first N training images only (quick runs)").argParser(positiveInt(1, TRAIN_IMAGES, `, the training set's size`)))
    .addOption(new Option("--backend <name>", "tfjs backend").choices(BACKENDS).default(DEFAULT_COMMON.backend))
    .addOption(new Option("--only <key>", "run just this job (e.g. s0.9-dlg-seed-seed3)"))
    .addOption(new Option("--list", "print the grid's job keys, one a line, and exit"))
    .addOption(new Option("--summary", "print the Markdown summary of --out and write <out>/summary.json"))
    .addOption(new Option("--recount-bytes", "recount the bytes of --out's sparse-upload records under the current byte account (no attack runs)"))
    .addOption(new Option("--frontier", "print the defense frontier of --out (a row per defense, ★ = Pareto) and write <out>/summary.json"))
    .addOption(new Option("--from <summary.json>", "with --frontier or --summary: read a summary.json written before instead of --out's records"))
    .addOption(new Option("--png <file>", "with --frontier: also draw it (bytes, test accuracy, victims the strongest attack recovered) as a PNG; needs Chromium (npm run setup:browser)"))
    // test-only: make these jobs throw, to exercise failure handling
    .addOption(new Option("--fail-key <keys>").hideHelp())
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

interface Opts {
  sparsity: number[];
  defense?: DefenseSpec[];
  seeds: number[];
  attack: AttackName[];
  variant: DGCVariant[];
  model: SweepModel;
  jobs: number;
  out: string;
  iterations?: number;
  epochs: number;
  trainSubset?: number;
  backend: BackendChoice;
  only?: string;
  list?: boolean;
  summary?: boolean;
  frontier?: boolean;
  png?: string;
  from?: string;
  recountBytes?: boolean;
  failKey?: string;
}

function usage(msg: string): never {
  process.stderr.write(`sweep: error: ${printable(msg)}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  guardStdout("sweep");
  const cmd = command();
  try {
    cmd.parse(process.argv.slice(2), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return;
      usage(oneLine(e.message));
    }
    throw e;
  }
  const o = cmd.opts<Opts>();
  if (o.recountBytes) {
    try {
      requireDir(o.out, "--out");
    } catch (e) {
      if (e instanceof ResultDirError) usage(e.message);
      throw e;
    }
    const r = await recountFolder(o.out, (line) => console.log(line));
    console.log(`sweep: ${r.recounted.length} records recounted, ${r.refused.length} refused, ${r.busy.length} held by other processes`);
    if (r.refused.length) process.exitCode = 1;
    return;
  }
  if (o.png !== undefined) {
    if (!o.frontier) usage("--png goes with --frontier");
    if (!/\.png$/i.test(o.png)) usage(`--png ${o.png}: the file name must end in .png`);
    const dir = dirname(o.png);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) usage(`--png ${o.png}: no folder ${dir}`);
    if (!existsSync(CHROMIUM)) usage(`--png needs Chromium at ${CHROMIUM} (npm run setup:browser, or set CHROMIUM)`);
  }
  if (o.from !== undefined && !(o.summary || o.frontier)) usage("--from goes with --frontier or --summary");
  if (o.summary || o.frontier) {
    let summary: Summary;
    if (o.from !== undefined) {
      try {
        summary = readSummary(o.from);
        if (!Array.isArray(summary.rows)) throw new Error("it has no rows");
      } catch (e) {
        usage(`--from ${o.from}: not a sweep summary (${oneLine((e as Error).message)})`);
      }
    } else {
      try {
        requireDir(o.out, "--out");
      } catch (e) {
        if (e instanceof ResultDirError) usage(e.message);
        throw e;
      }
      summary = buildSummary(o.out);
      await writeFileAtomic(join(o.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    }
    const points = frontierPoints(summary.rows, o.variant[0]);
    // the (ε, δ) column composes over the training steps the records actually took (older summaries: the study's 1876)
    console.log(o.frontier ? frontierMarkdown(points, summary.trainingSteps || undefined) : summaryMarkdown(summary));
    if (o.png) {
      const model = summary.rows.some((r) => r.settings.startsWith("lenet")) ? "LeNet" : "Linear";
      try {
        await writeFileAtomic(o.png, await figurePng(frontierMapFigure(points, { model })));
        process.stderr.write(`sweep: drew the frontier in ${o.png}\n`);
      } catch (e) {
        process.stderr.write(`sweep: error: --png: ${oneLine((e as Error).message)}\n`);
        process.exitCode = 1;
      }
    }
    return;
  }
  const common: CommonSettings = { iterations: o.iterations ?? null, epochs: o.epochs, backend: o.backend, trainSubset: o.trainSubset ?? null };
  let configs: JobConfig[];
  try {
    configs = o.only
      ? [jobConfig(parseKey(o.only), common)]
      : expandGrid({
          // with --defense, only the sparsities asked for explicitly (dgc:s and none add theirs)
          sparsities: o.defense && cmd.getOptionValueSource("sparsity") === "default" ? [] : o.sparsity,
          seeds: o.seeds, attacks: o.attack, variants: o.variant, defenses: o.defense, model: o.model,
        }, common);
  } catch (e) {
    if (e instanceof GridError) usage(e.message);
    throw e;
  }
  if (o.list) {
    for (const c of configs) console.log(c.key);
    return;
  }
  try {
    ensureWritableDir(o.out, "--out");
  } catch (e) {
    if (e instanceof ResultDirError) usage(e.message);
    throw e;
  }
  const childArgs = (key: string) => [
    process.argv[1], "--only", key, "--out", o.out, "--epochs", String(o.epochs), "--backend", o.backend,
    ...(o.iterations !== undefined ? ["--iterations", String(o.iterations)] : []),
    ...(o.trainSubset !== undefined ? ["--train-subset", String(o.trainSubset)] : []),
    ...(o.failKey !== undefined ? ["--fail-key", o.failKey] : []),
  ];
  await runStudyCli(sweepTasks(configs), {
    prog: "sweep", out: o.out, jobs: o.jobs, only: o.only, childArgs, failKeys: new Set(o.failKey?.split(",") ?? []),
  });
}

main().catch((e) => {
  process.stderr.write(`sweep: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
