/**
 * The demo as functions, shared by the `dgc_demo` CLI and the notebooks: set up a run from a
 * DemoConfig (backend, seed, data, model, optimizer), then train (Examples 3, 4) or attack
 * (Examples 1, 2).
 */
import { tf } from "./tf";
import { initBackend } from "./backend";
import { loadMnist, type MnistSplit } from "./data/mnist";
import { makeModel, type Model } from "./models";
import { makeOptimizer, type Optimizer } from "./optim";
import { freshSeed, Rng } from "./rng";
import { train, type BatchRecord, type TrainResult } from "./train";
import { INT_FIELDS, type DemoConfig } from "./config";
import { pyNamespace, type PyValue } from "./pyfmt";

export interface RunContext {
  cfg: DemoConfig;
  backend: string;
  seed: number;
  rng: Rng;
  model: Model;
}

/** The first line the original prints: its arguments, as argparse's Namespace. */
export function argumentsLine(cfg: DemoConfig): string {
  const fields: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(cfg)) {
    fields[k] = typeof v === "number" && INT_FIELDS.has(k as keyof DemoConfig) ? { int: v } : (v as PyValue);
  }
  return pyNamespace(fields);
}

/** Picks the backend and the seed; every random draw of the run comes from `rng`'s forks. */
export async function setupRun(cfg: DemoConfig): Promise<RunContext> {
  const backend = await initBackend(cfg.backend, cfg.model);
  const seed = cfg.seed ?? freshSeed();
  return { cfg, backend, seed, rng: new Rng(seed), model: makeModel(cfg.model) };
}

/** Fresh model parameters as variables, from the run's "init" stream. */
export function initParams(ctx: RunContext): tf.Variable[] {
  return tf.tidy(() => ctx.model.init(ctx.rng.fork("init"))).map((t) => {
    const v = tf.variable(t, true);
    t.dispose();
    return v;
  });
}

export function makeRunOptimizer(cfg: DemoConfig, lr: number): Optimizer {
  return makeOptimizer(cfg.use_dgc, lr, { sparsity: cfg.sparsity });
}

export interface TrainingRun extends TrainResult {
  params: tf.Variable[];
}

/** Examples 3 and 4: train on the 60k training set, then measure test accuracy. */
export function runTraining(
  ctx: RunContext,
  data: { train: MnistSplit; test?: MnistSplit },
  hooks: { log?: (line: string) => void; onBatch?: (r: BatchRecord, perEpoch: number) => void } = {},
): TrainingRun {
  const { cfg } = ctx;
  const params = initParams(ctx);
  const optimizer = makeRunOptimizer(cfg, cfg.train_lr);
  try {
    const result = train(ctx.model, params, optimizer, data.train, {
      epochs: cfg.train_epoch,
      batchSize: cfg.train_batch_size,
      rng: ctx.rng.fork("shuffle"),
      log: hooks.log,
      onBatch: hooks.onBatch,
      test: data.test,
    });
    return { ...result, params };
  } finally {
    optimizer.dispose();
  }
}

export function loadData(cfg: DemoConfig): { train: MnistSplit; test: MnistSplit } {
  const opts = { dataDir: cfg.data_dir ?? undefined };
  return { train: loadMnist("train", opts), test: loadMnist("test", opts) };
}
