/**
 * The demo as functions, shared by the `dgc_demo` CLI and the notebooks: set up a run from a
 * DemoConfig (backend, seed, data, model, optimizer), then train (Examples 3, 4) or attack
 * (Examples 1, 2).
 */
import { tf, variableFrom } from "../core/tf";
import { initBackend } from "../core/backend";
import { loadMnist, type MnistSplit } from "../data/mnist";
import { makeModel } from "../models/registry";
import { type Model } from "../models/model";
import { makeChannel } from "../threat/channel/registry";
import type { DGCRefinements } from "../optim/dgc";
import { type Optimizer } from "../optim/optimizer";
import { freshSeed, Rng } from "../core/rng";
import { train, type BatchRecord, type TrainResult } from "../optim/train";
import { clientDefense, INT_FIELDS, modelKindOf, type DemoConfig } from "./demo_config";
import { loadCifar10 } from "../data/cifar10";
import { pyFloat, pyNamespace, type PyValue } from "../io/pyfmt";
import { epochBatches, type Batch } from "../data/batcher";
import { type AttackSpec } from "../attack/methods";
import { observedGradients, victimGradients } from "../threat/victim";
import type { PublicPrior } from "../attack/label_counts";
import type { VictimLoss } from "../models/losses";
import type { SentStats } from "../optim/optimizer";
import type { ThreatModel } from "../threat/model";
import { runTrial, type AttackRecord, type AttackRun, type TrialHooks, type TrialRecord } from "./run";

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
    // ours, printed only when given (so the seed's flags print the seed's line)
    if (k === "defense") {
      if (v !== null) fields[k] = v as string;
      continue;
    }
    if (k === "dataset") {
      if (v !== "mnist") fields[k] = v as string;
      continue;
    }
    fields[k] = typeof v === "number" && INT_FIELDS.has(k as keyof DemoConfig) ? { int: v } : (v as PyValue);
  }
  return pyNamespace(fields);
}

/** Picks the backend and the seed; every random draw of the run comes from `rng`'s forks. */
export async function setupRun(cfg: DemoConfig): Promise<RunContext> {
  const kind = modelKindOf(cfg);
  const backend = await initBackend(cfg.backend, { model: kind, task: cfg.dlg_attack ? "attack" : "train" });
  const seed = cfg.seed ?? freshSeed();
  return { cfg, backend, seed, rng: new Rng(seed), model: makeModel(kind) };
}

/** Fresh model parameters as variables, from the run's "init" stream. */
export function initParams(ctx: RunContext): tf.Variable[] {
  return tf.tidy(() => ctx.model.init(ctx.rng.fork("init"))).map((t) => variableFrom(t, true));
}


/**
 * The client's optimizer for this run: the registry's channel for `clientDefense(cfg)` (the seed's
 * Momentum or DGCMomentum unless `defense` names another), its draws from the run's "defense" stream.
 */
export function makeRunOptimizer(ctx: Pick<RunContext, "cfg" | "rng">, lr: number, dgc: DGCRefinements = {}): Optimizer {
  return makeChannel(clientDefense(ctx.cfg), lr, ctx.rng.fork("defense"), dgc);
}

/** Makes the client's optimizer (default: the seed's choice from the config); the caller disposes nothing. */
export type OptimizerFactory = () => Optimizer;

export interface TrainingRun extends TrainResult {
  params: tf.Variable[];
}

/** Examples 3 and 4: train on the 60k training set, then measure test accuracy. */
export function runTraining(
  ctx: RunContext,
  data: { train: MnistSplit; test?: MnistSplit },
  hooks: { log?: (line: string) => void; onBatch?: (r: BatchRecord, perEpoch: number) => void } = {},
  dgc: DGCRefinements = {},
  makeOpt: OptimizerFactory = () => makeRunOptimizer(ctx, ctx.cfg.train_lr, dgc),
): TrainingRun {
  const { cfg } = ctx;
  const params = initParams(ctx);
  const optimizer = makeOpt();
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
  // CIFAR-10 splits are ImageSplits of 3 × 32 × 32 rows: the same fields as MNIST's, other sizes
  if (cfg.dataset === "cifar10") return { train: loadCifar10("train", opts) as unknown as MnistSplit, test: loadCifar10("test", opts) as unknown as MnistSplit };
  return { train: loadMnist("train", opts), test: loadMnist("test", opts) };
}

/** The victim batch of Examples 1 and 2: the first batch of epoch 0 (shuffled like training). */
export function victimBatch(ctx: RunContext, data: MnistSplit): Batch {
  return firstBatch(ctx, data, ctx.cfg.attack_batch_size);
}

/** The first batch of epoch 0 of this run's shuffle, of the given size (what training sees first). */
export function firstBatch(ctx: RunContext, data: MnistSplit, size: number): Batch {
  return epochBatches(data, size, ctx.rng.fork("shuffle")).next().value as Batch;
}

/**
 * The names an attack run writes into its result folder (dgc_demo: result_<it>_<i>.png, fl:
 * result_<i>.png). Both default to ./att_results, and a folder of these from before manifests
 * counts as an earlier run's (lib/results.ts `ownNames`), for either command.
 */
export const ATTACK_RESULT_FILES = /^(target_\d+|result_\d+(_\d+)?|grid|matched)\.png$/;

export type { AttackRecord, AttackRun };

/** The attack as the demo's flags describe it (the registry's spec). */
export function attackSpec(cfg: DemoConfig): AttackSpec {
  return {
    method: cfg.attack_method,
    optimizer: cfg.attack_optimizer,
    iterations: cfg.attack_epoch,
    lr: cfg.attack_lr,
    returnEvery: cfg.return_epoch,
    windowSize: cfg.window_size,
    victimLoss: cfg.victim_loss,
    labelInit: cfg.label_init,
    labelRule: cfg.label_rule,
  };
}

/** The seed's line for one snapshot. mse and ssim are float32 in the original, so printed as such. */
export function attackLogLine(r: AttackRecord): string {
  return `Attack Iteration ${r.iteration}: ${attackReadings(r)}`;
}

function attackReadings(r: AttackRecord): string {
  return `data_mse_loss = ${pyFloat(Math.fround(r.mse))}, data_psnr = ${pyFloat(r.psnr)}, data_ssim = ${pyFloat(Math.fround(r.ssim))}, labels_acc = ${pyFloat(r.labelAcc)}`;
}

/**
 * The line for the last iteration when return_epoch does not land on it: not one of the seed's
 * lines (the seed stops at the last multiple of return_epoch, e.g. 1900 of 2000), so marked as ours.
 */
export function attackFinalLine(r: AttackRecord, returnEvery: number): string {
  return `Final iteration ${r.iteration} (not in the seed's log, which prints every return_epoch = ${returnEvery}): ${attackReadings(r)}`;
}

/** What the attack ended with: the record of its last iteration (whatever return_epoch). */
export function finalRecord(run: { records: readonly AttackRecord[] }): AttackRecord | undefined {
  return run.records[run.records.length - 1];
}

/** The records the seed would have logged (iteration % return_epoch == 0): the final one aside. */
export function scheduleRecords(records: readonly AttackRecord[]): AttackRecord[] {
  return records.filter((r) => !r.offSchedule);
}

/** The attacked step: the victim's batch, the fresh model, and what its optimizer sent. */
export interface VictimStep {
  target: Batch;
  params: tf.Variable[];
  /** The victim's full gradient, per parameter tensor. */
  grads: tf.Tensor[];
  /** What crossed the network (the attacker's view). */
  observed: tf.Tensor[];
  sent: SentStats;
  dispose(): void;
}

/**
 * The victim's side of Examples 1 and 2: its first batch, the untrained model, the gradient of
 * `loss`, and its optimizer's output for that one step (from zero state). Call `dispose` after.
 */
export function victimStep(ctx: RunContext, data: MnistSplit, loss: VictimLoss = "sse", dgc: DGCRefinements = {}): VictimStep {
  const target = victimBatch(ctx, data);
  const params = initParams(ctx);
  const optimizer = makeRunOptimizer(ctx, ctx.cfg.train_lr, dgc);
  try {
    const grads = victimGradients(ctx.model, params, target, loss);
    const { observed, stats } = observedGradients(optimizer, grads);
    return { target, params, grads, observed, sent: stats, dispose: () => tf.dispose([...grads, ...observed, ...params]) };
  } finally {
    optimizer.dispose();
  }
}

/**
 * Examples 1 and 2 — the seed's threat model as `runTrial` takes it: the victim computes its loss
 * (`--victim_loss`, the seed's Σ(pred − onehot)² by default) on the first batch of the run's shuffle
 * with the untrained model and hands its optimizer's output (`clientDefense`: DGC at `--sparsity`,
 * Momentum, or `--defense`) to the network; the attacker infers the label and runs the chosen attack
 * on what it observed. `mean` overrides the training set's mean image the server knows; `batchPrior`
 * (labelled public data) gives each sample of a batch its own label (trial/run.ts).
 * `victim` replaces the seed's victim batch: that batch is the one attacked and scored.
 */
export function runAttack(
  ctx: RunContext,
  data: MnistSplit,
  hooks: TrialHooks = {},
  dgc: DGCRefinements = {},
  mean?: Float32Array,
  batchPrior?: PublicPrior,
  victim?: Batch,
): TrialRecord {
  return runTrial(seedThreat(ctx, data, dgc, mean, victim), attackSpec(ctx.cfg), hooks, batchPrior);
}

/** The threat model of a demo run: its flags, its seed, its data; the victim its first shuffled batch unless `victim` is given. */
export function seedThreat(ctx: RunContext, data: MnistSplit, dgc: DGCRefinements = {}, mean?: Float32Array, victim?: Batch): ThreatModel {
  const { cfg } = ctx;
  return {
    data, model: modelKindOf(cfg), seed: ctx.seed,
    victim: { images: victim ? { kind: "given", x: victim.x, y: victim.y, index: victim.index } : { kind: "first-batch", size: cfg.attack_batch_size }, loss: cfg.victim_loss },
    channel: { defense: clientDefense(cfg), lr: cfg.train_lr, dgc },
    server: mean ? { mean } : {},
  };
}
