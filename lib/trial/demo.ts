/**
 * The demo as functions, shared by the `dgc_demo` CLI and the notebooks: set up a run from a
 * DemoConfig (backend, seed, data, model, optimizer), then train (Examples 3, 4) or attack
 * (Examples 1, 2).
 */
import { tf, variableFrom } from "../core/tf";
import { initBackend } from "../core/backend";
import { IMAGE_SIZE, loadMnist, type MnistSplit } from "../data/mnist";
import { makeModel } from "../models/registry";
import { type Model } from "../models/model";
import { makeOptimizer } from "../threat/channel/defended";
import { type DGCOptions } from "../optim/dgc";
import { type Optimizer } from "../optim/optimizer";
import { freshSeed, Rng } from "../core/rng";
import { train, type BatchRecord, type TrainResult } from "../optim/train";
import { INT_FIELDS, type DemoConfig } from "./demo_config";
import { pyFloat, pyNamespace, type PyValue } from "../io/pyfmt";
import { epochBatches, type Batch } from "../data/batcher";
import { type DLGSnapshot } from "../attack/dlg";
import { attackGuess, runAttackMethod, type AttackOutput, type AttackSpec } from "../attack/methods";
import { meanImage } from "../data/mnist";
import { observedGradients, victimGradients } from "../threat/victim";
import { batchLabels, labelRows, type BatchLabels, type PublicPrior } from "../attack/label_counts";
import type { VictimLoss } from "../models/losses";
import { attackMetrics } from "../metrics/attack";
import { signAware, ssim8, type SignAwareReading } from "../metrics/readings";
import { sumStats, type SentStats } from "../optim/optimizer";

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
  const backend = await initBackend(cfg.backend, { model: cfg.model, task: cfg.dlg_attack ? "attack" : "train" });
  const seed = cfg.seed ?? freshSeed();
  return { cfg, backend, seed, rng: new Rng(seed), model: makeModel(cfg.model) };
}

/** Fresh model parameters as variables, from the run's "init" stream. */
export function initParams(ctx: RunContext): tf.Variable[] {
  return tf.tidy(() => ctx.model.init(ctx.rng.fork("init"))).map((t) => variableFrom(t, true));
}

/** DGC refinements beyond the seed's (see `dgcVariantOptions`); none by default. */
export type DGCRefinements = Omit<DGCOptions, "lr" | "sparsity">;

export function makeRunOptimizer(cfg: DemoConfig, lr: number, dgc: DGCRefinements = {}): Optimizer {
  return makeOptimizer(cfg.use_dgc, lr, { ...dgc, sparsity: cfg.sparsity });
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
  makeOpt: OptimizerFactory = () => makeRunOptimizer(ctx.cfg, ctx.cfg.train_lr, dgc),
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

export interface AttackRecord {
  iteration: number;
  mse: number;
  psnr: number;
  ssim: number;
  labelAcc: number;
  /** DLG's gradient-matching distance at this iteration. */
  distance: number;
  /** Beside the seed's (not on its log line): SSIM of the 8-bit PNG images, and the sign-aware reading. */
  ssim8: number;
  signAware: SignAwareReading;
  /** The last iteration, recorded although return_epoch does not land on it (not a line of the seed's log). */
  offSchedule?: true;
}

export interface AttackRun {
  target: Batch;
  /** The label the attacker inferred from the observed gradient. */
  guess: number;
  /** What the victim sent, per parameter tensor. */
  sent: SentStats;
  /** The victim's full gradient and what the attacker observed, per parameter tensor. */
  fullGradients: Float32Array[];
  observedGradients: Float32Array[];
  snapshots: DLGSnapshot[];
  records: AttackRecord[];
  distances: Float64Array;
  seconds: number;
  /** The labels the attack ends with, and (analytic) the pixels it recovered exactly. */
  labels: number[];
  analytic?: AttackOutput["analytic"];
  /** B > 1 with a public prior: the label counts inferred from the bias gradient (label_counts.ts). */
  inferred?: BatchLabels;
}

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
export function victimStep(
  ctx: RunContext, data: MnistSplit, loss: VictimLoss = "sse", dgc: DGCRefinements = {},
  makeOpt: OptimizerFactory = () => makeRunOptimizer(ctx.cfg, ctx.cfg.train_lr, dgc),
  /** The batch to attack; default: the seed's victim (`victimBatch`). */
  victim?: Batch,
): VictimStep {
  const target = victim ?? victimBatch(ctx, data);
  const params = initParams(ctx);
  const optimizer = makeOpt();
  try {
    const grads = victimGradients(ctx.model, params, target, loss);
    const { observed, stats } = observedGradients(optimizer, grads);
    return { target, params, grads, observed, sent: stats, dispose: () => tf.dispose([...grads, ...observed, ...params]) };
  } finally {
    optimizer.dispose();
  }
}

/**
 * Examples 1 and 2: the victim computes its loss (`--victim_loss`, the seed's Σ(pred − onehot)² by
 * default) on its first batch with the untrained model and hands its optimizer's output to the
 * network; the attacker infers the label and runs the chosen attack on what it observed. `mean`
 * (the training set's mean image) is computed when the method uses it (adaptive's start,
 * analytic's fill for pixels it cannot recover). For a batch (B > 1) with `batchPrior` (labelled
 * public data), each sample gets its own label from the inferred label counts — the fixed label of
 * idlg/ig/adaptive and DLG's start under `--label_init guess` (the seed's all-ones start stays).
 * `victim` replaces the seed's victim batch: that batch is the one attacked and scored.
 */
export function runAttack(
  ctx: RunContext,
  data: MnistSplit,
  hooks: {
    onStart?: (info: { guess: number; sent: number; total: number }) => void;
    /** Every iteration; at a snapshot also its metrics and the snapshot itself (for live images). */
    onIteration?: (it: number, distance: number, record?: AttackRecord, snapshot?: DLGSnapshot) => void;
  } = {},
  dgc: DGCRefinements = {},
  mean?: Float32Array,
  batchPrior?: PublicPrior,
  makeOpt?: OptimizerFactory,
  victimBatchOverride?: Batch,
): AttackRun {
  const { cfg, model } = ctx;
  const victim = victimStep(ctx, data, cfg.victim_loss, dgc, makeOpt, victimBatchOverride);
  const { target, params, grads, observed, sent: stats } = victim;
  try {
    const B = target.size;
    const prior = mean ?? (cfg.attack_method === "adaptive" || cfg.attack_method === "analytic" ? meanImage(data) : undefined);
    const spec = attackSpec(cfg);
    hooks.onStart?.({ guess: attackGuess(spec, observed), ...sumStats(stats) });
    const inferred = B > 1 && batchPrior ? batchLabels(model, params, observed, B, cfg.victim_loss, batchPrior) : undefined;
    const labels = inferred && !(cfg.attack_method === "dlg" && cfg.label_init === "ones") ? labelRows(inferred.labels) : undefined;
    const records: AttackRecord[] = [];
    const result = runAttackMethod(
      spec,
      { model, params, observed, batch: B, rng: ctx.rng.fork("dummy"), mean: prior, labels },
      (it, d, snap) => {
        let rec: AttackRecord | undefined;
        if (snap) {
          const shape = { batch: B, height: IMAGE_SIZE, width: IMAGE_SIZE };
          rec = {
            iteration: it, distance: d, ...attackMetrics(snap.x, target.x, shape, snap.y, target.y),
            ssim8: ssim8(snap.x, target.x, shape), signAware: signAware(snap.x, target.x, shape),
            ...(snap.offSchedule ? { offSchedule: true as const } : {}),
          };
          records.push(rec);
        }
        hooks.onIteration?.(it, d, rec, snap);
      },
    );
    return {
      target, guess: result.guess, sent: stats,
      fullGradients: grads.map((g) => g.dataSync().slice() as Float32Array),
      observedGradients: observed.map((g) => g.dataSync().slice() as Float32Array),
      snapshots: result.snapshots, records, distances: result.distances, seconds: result.seconds,
      labels: result.labels, analytic: result.analytic, inferred,
    };
  } finally {
    victim.dispose();
  }
}
