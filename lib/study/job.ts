/**
 * One job of the sweep: on a fixed victim image (seed k → the same image whatever the sparsity),
 * the attacked step of an untrained model under the job's optimizer, the attack, the trivial
 * mean-image baseline; then `epochs` of training with the same optimizer, its test accuracy and
 * how many bytes each step sends.
 */
import { tf } from "../core/tf";
import { initBackend } from "../core/backend";
import { DEFAULTS, makeConfig } from "../trial/demo_config";
import { analyticLinear } from "../attack/analytic";
import { initialLabels } from "../attack/dlg";
import { lbfgsDlg } from "../attack/lbfgs_dlg";
import { runAttackMethod } from "../attack/methods";
import { IMAGE_SIZE, NUM_CLASSES, loadMnist, meanImage, PIXELS, type MnistSplit } from "../data/mnist";
import { makeRunOptimizer, runAttack, runTraining, setupRun, victimStep, type DGCRefinements, type RunContext } from "../trial/demo";
import { meanStart, runInversionAttack } from "../attack/invert";
import { attackMetrics } from "../metrics/attack";
import { mse, psnr, ssim } from "../metrics/image";
import { currentVersions, RECORD_SCHEMA, type AttackOutcome, type BaselineOutcome, type JobRecord, type TrainingOutcome } from "./record";
import { defenseLabel, makeChannel } from "../threat/channel/registry";
import { statsBytes } from "../optim/wire";
import { UploadCounter } from "../optim/optimizer";
import type { Optimizer } from "../optim/optimizer";
import type { InversionParams, JobConfig } from "./grid";

/** The data every job of a process shares (loaded once). */
export interface SweepData {
  train: MnistSplit;
  test: MnistSplit;
  /** Per-pixel mean of `train`: the adaptive attacker's prior and the trivial baseline. */
  mean: Float32Array;
}

/** The first `n` images of a split (views, no copy). */
export function subsetSplit(data: MnistSplit, n: number | null): MnistSplit {
  if (n === null || n >= data.n) return data;
  return { split: data.split, n, images: data.images.subarray(0, n * PIXELS), labels: data.labels.subarray(0, n) };
}

export function loadSweepData(subset: number | null): SweepData {
  const train = subsetSplit(loadMnist("train"), subset);
  return { train, test: loadMnist("test"), mean: meanImage(train) };
}

/** SPEC's conventions; a non-finite value (PSNR of an exact match) is stored as null. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Sets up the demo's run context for a job: its seed, backend, optimizer, attack settings. */
export async function jobContext(cfg: JobConfig): Promise<RunContext> {
  const a = cfg.attackParams;
  return setupRun(
    makeConfig({
      seed: cfg.seed,
      backend: cfg.backend,
      model: cfg.model,
      use_dgc: cfg.training.optimizer === "DGCMomentum",
      sparsity: cfg.sparsity,
      // a defense point: the registry's defense in front of Momentum, its draws from the "defense" stream
      defense: cfg.defense ? defenseLabel(cfg.defense) : null,
      train_lr: cfg.training.lr,
      train_epoch: cfg.training.epochs,
      train_batch_size: cfg.training.batchSize,
      dlg_attack: true,
      attack_epoch: a.iterations,
      attack_lr: a.kind === "analytic" || a.kind === "lbfgs" ? DEFAULTS.attack_lr : a.lr,
      // one snapshot at the last iteration: metrics are "at the end"
      return_epoch: Math.max(1, a.iterations - 1),
      ...(a.kind === "dlg" ? { label_init: a.labelInit, label_rule: a.labelRule } : {}),
    }),
  );
}

export function dgcRefinements(cfg: JobConfig, ctx: RunContext): DGCRefinements {
  return cfg.training.optimizer === "DGCMomentum" ? { ...cfg.training.dgc, rng: ctx.rng.fork("sample") } : {};
}

/**
 * The client's optimizer for a defense point (Momentum behind the defense, noise from the run's
 * "defense" stream: the attacked step is the first training step, so it draws the same noise);
 * undefined for the seed's optimizers.
 */
export function defenseOptimizer(cfg: JobConfig, ctx: RunContext): (() => Optimizer) | undefined {
  const defense = cfg.defense;
  return defense && (() => makeChannel(defense, cfg.training.lr, ctx.rng.fork("defense")));
}

export interface AttackJobResult {
  attack: AttackOutcome;
  baseline: BaselineOutcome;
  /** The victim images and the attack's final reconstruction, [B × 784] each. */
  target: Float32Array;
  reconstruction: Float32Array;
}

/** The attack half of a job (also used alone, e.g. for a gallery of reconstructions). */
export function runJobAttack(cfg: JobConfig, ctx: RunContext, data: SweepData): AttackJobResult {
  const a = cfg.attackParams;
  const dgc = dgcRefinements(cfg, ctx);
  const baselineOf = (target: { x: Float32Array; size: number }): BaselineOutcome => {
    const guess = meanStart(data.mean, target.size);
    const dims = { batch: target.size, height: IMAGE_SIZE, width: IMAGE_SIZE };
    return { mse: finite(mse(guess, target.x)), psnr: finite(psnr(guess, target.x)), ssim: finite(ssim(guess, target.x, dims)) };
  };
  const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
  const defense = defenseOptimizer(cfg, ctx);
  if (a.kind === "dlg") {
    const run = runAttack(ctx, data.train, {}, dgc);
    const last = run.records[run.records.length - 1];
    return {
      attack: {
        guess: run.guess, label: run.target.y[0],
        mse: finite(last.mse), psnr: finite(last.psnr), ssim: finite(last.ssim), labelAcc: last.labelAcc,
        sentValues: sum(run.sent.sent), totalValues: sum(run.sent.total), sentBytes: statsBytes(run.sent), seconds: run.seconds,
      },
      baseline: baselineOf(run.target),
      target: run.target.x,
      reconstruction: run.snapshots[run.snapshots.length - 1]?.x ?? new Float32Array(run.target.x.length),
    };
  }
  const victim = victimStep(ctx, data.train, a.victimLoss, dgc, defense);
  try {
    const { target } = victim;
    const r =
      a.kind === "analytic" ? analytic(victim.observed, data.mean, a.sparse)
      : a.kind === "lbfgs" ? withGuess(lbfgsDlg(ctx.model, victim.params, victim.observed, target.size, { steps: a.iterations, rng: ctx.rng.fork("dummy") }))
      : a.optimizer === "lbfgs" ? inversionByLbfgs(a, ctx, victim.params, victim.observed, target.size, data.mean)
      : runInversionAttack(a, ctx.model, victim.params, victim.observed, target.size, { rng: ctx.rng.fork("dummy"), mean: data.mean });
    const m = attackMetrics(r.x, target.x, { batch: target.size, height: IMAGE_SIZE, width: IMAGE_SIZE }, r.y, target.y);
    return {
      attack: {
        guess: r.guess, label: target.y[0],
        mse: finite(m.mse), psnr: finite(m.psnr), ssim: finite(m.ssim), labelAcc: m.labelAcc,
        sentValues: sum(victim.sent.sent), totalValues: sum(victim.sent.total), sentBytes: statsBytes(victim.sent), seconds: r.seconds,
      },
      baseline: baselineOf(target),
      target: target.x,
      reconstruction: r.x,
    };
  } finally {
    victim.dispose();
  }
}

/**
 * An inversion attack (ig, adaptive) run by the attack registry's L-BFGS: the method's recipe with
 * the job's distance, mask, TV weight and clipping (the defense-aware choices of attack/aware.ts).
 */
function inversionByLbfgs(a: InversionParams, ctx: RunContext, params: readonly tf.Tensor[], observed: readonly tf.Tensor[], batch: number, mean: Float32Array) {
  const r = runAttackMethod(
    {
      method: a.kind, optimizer: "lbfgs", iterations: a.iterations, lr: a.lr, returnEvery: a.iterations, windowSize: 1,
      victimLoss: a.victimLoss, labelInit: DEFAULTS.label_init, labelRule: DEFAULTS.label_rule,
      recipe: { distance: a.distance, masked: a.masked, tvWeight: a.tvWeight, clipNorm: a.clipNorm, start: a.start, labelRule: a.labelRule },
    },
    { model: ctx.model, params, observed, batch, rng: ctx.rng.fork("dummy"), mean },
  );
  return { x: r.x, y: r.y, guess: r.guess, seconds: r.seconds };
}

/** L-BFGS DLG's label is optimized with the image: its guess is the recovered distribution's argmax. */
function withGuess<T extends { y: Float32Array }>(r: T): T & { guess: number } {
  return { ...r, guess: r.y.indexOf(Math.max(...r.y.subarray(0, NUM_CLASSES))) };
}

/** The analytic attack on the observed Linear gradient, the mean image where no pixel is recovered. */
function analytic(observed: readonly tf.Tensor[], mean: Float32Array, sparse: boolean): { x: Float32Array; y: Float32Array; guess: number; seconds: number } {
  const t0 = performance.now();
  if (observed.length !== 2) throw new Error("the analytic attack needs the Linear model's weight and bias gradients");
  const r = analyticLinear(observed[0].dataSync(), observed[1].dataSync(), mean, !sparse);
  const guess = r.classUsed ?? 0;
  return { x: r.x, y: initialLabels("guess", 1, guess), guess, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Trains under the job's optimizer (the defense's, or the seed's Momentum / DGC) and counts every
 * upload's bytes by federated/bytes.ts `statsBytes`.
 */
export function runJobTraining(cfg: JobConfig, ctx: RunContext, data: SweepData): TrainingOutcome {
  const defense = defenseOptimizer(cfg, ctx);
  const dgc = dgcRefinements(cfg, ctx);
  let counter: UploadCounter | undefined;
  const make = () => (counter = new UploadCounter(defense ? defense() : makeRunOptimizer(ctx, ctx.cfg.train_lr, dgc)));
  const run = runTraining(ctx, data, {}, dgc, make);
  tf.dispose(run.params);
  const totalValues = ctx.model.paramShapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
  const steps = run.history.length;
  const valuesPerStep = steps ? run.history.reduce((s, r) => s + r.sent, 0) / steps : null;
  const bytesPerStep = steps && counter ? counter.bytes / counter.uploads : null;
  const denseBytesPerStep = totalValues * 4;
  return {
    steps,
    testAccuracy: run.testAccuracy!,
    valuesPerStep,
    totalValues,
    bytesPerStep,
    denseBytesPerStep,
    compressionRatio: bytesPerStep ? denseBytesPerStep / bytesPerStep : null,
    seconds: run.seconds,
  };
}

/** Runs one job and returns its (done) record; throws if anything fails. */
export async function runJob(cfg: JobConfig, data: SweepData): Promise<JobRecord> {
  const startedAt = new Date();
  const ctx = await jobContext(cfg);
  const { attack, baseline } = runJobAttack(cfg, ctx, data);
  // `auto` picks per workload (backend.ts): LeNet attacks on wasm, its training on tfjs-node when it loads
  const trainBackend = cfg.backend === "auto" && cfg.training.epochs > 0 ? await initBackend("auto", { model: cfg.model, task: "train" }) : ctx.backend;
  const training = { ...runJobTraining(cfg, ctx, data), ...(trainBackend !== ctx.backend ? { backend: trainBackend } : {}) };
  const finishedAt = new Date();
  return {
    schema: RECORD_SCHEMA,
    key: cfg.key,
    status: "done",
    config: cfg,
    versions: currentVersions(),
    backend: ctx.backend,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    attack,
    baseline,
    training,
  };
}

