/**
 * One job of the sweep: a trial (trial/run.ts) on a fixed victim image (seed k → the same image
 * whatever the sparsity) — the attacked step of an untrained model under the job's optimizer, the
 * attack as the registry's spec (`jobAttackSpec`) — and the trivial mean-image baseline; then `epochs` of training with the same optimizer, its test accuracy and
 * how many bytes each step sends.
 */
import { tf } from "../core/tf";
import { initBackend } from "../core/backend";
import { DEFAULTS, makeConfig } from "../trial/demo_config";
import { inversionSpec, paperDlgSpec, type AttackSpec } from "../attack/methods";
import { IMAGE_SIZE, loadMnist, meanImage, PIXELS, type MnistSplit } from "../data/mnist";
import { makeRunOptimizer, runTraining, seedThreat, setupRun, type RunContext } from "../trial/demo";
import type { DGCRefinements } from "../optim/dgc";
import { runTrial } from "../trial/run";
import type { ThreatModel } from "../threat/model";
import { meanStart } from "../attack/invert";
import { attackMetrics } from "../metrics/attack";
import { mse, psnr, ssim } from "../metrics/image";
import { jobResultProblem, type AttackOutcome, type BaselineOutcome, type JobRecord, type TrainingOutcome } from "./record";
import type { StudyTask, TaskOutcome } from "./task";
import { defenseLabel } from "../threat/channel/registry";
import { statsBytes } from "../optim/wire";
import { UploadCounter } from "../optim/optimizer";
import type { JobConfig } from "./grid";

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
  const r = runTrial(jobThreat(cfg, ctx, data, dgc), jobAttackSpec(cfg), {});
  const target = r.target;
  // the seed's DLG is read at its last snapshot, as dgc_demo prints it; the others at their result
  const m = a.kind === "dlg" ? r.final! : attackMetrics(r.reconstruction, target.x, { batch: target.size, height: IMAGE_SIZE, width: IMAGE_SIZE }, r.dummyY, target.y);
  return {
    attack: {
      guess: r.guess, label: target.y[0],
      mse: finite(m.mse), psnr: finite(m.psnr), ssim: finite(m.ssim), labelAcc: m.labelAcc,
      sentValues: sum(r.sent.sent), totalValues: sum(r.sent.total), sentBytes: statsBytes(r.sent), seconds: r.seconds,
    },
    baseline: baselineOf(target),
    target: target.x,
    reconstruction: a.kind === "dlg" ? (r.snapshots[r.snapshots.length - 1]?.x ?? new Float32Array(target.x.length)) : r.reconstruction,
  };
}

/** A job's threat model: the demo's for its seed and flags (DGC or a defense of the registry), the victim's loss the attack's, the sweep's mean image known. */
function jobThreat(cfg: JobConfig, ctx: RunContext, data: SweepData, dgc: DGCRefinements): ThreatModel {
  const threat = seedThreat(ctx, data.train, dgc, cfg.attackParams.kind === "dlg" ? undefined : data.mean);
  threat.victim.loss = cfg.attackParams.victimLoss;
  return threat;
}

/** The sweep's attack as the registry's spec: method × optimizer × recipe; one snapshot, at the last iteration. */
export function jobAttackSpec(cfg: JobConfig): AttackSpec {
  const a = cfg.attackParams;
  const base = { windowSize: 200, labelInit: DEFAULTS.label_init, labelRule: DEFAULTS.label_rule, victimLoss: a.victimLoss };
  switch (a.kind) {
    case "dlg":
      return { ...base, method: "dlg", optimizer: "gd", iterations: a.iterations, lr: a.lr, returnEvery: Math.max(1, a.iterations - 1), labelInit: a.labelInit, labelRule: a.labelRule };
    case "lbfgs":
      // the sweep's "lbfgs" axis is the registry's dlg × lbfgs from the DLG paper's start
      return paperDlgSpec(a.iterations);
    case "analytic":
      return { ...base, method: "analytic", optimizer: "none", iterations: 0, lr: DEFAULTS.attack_lr, returnEvery: 1, analytic: { fill: "prior", dense: !a.sparse } };
    default:
      return inversionSpec(a.kind, a, a.optimizer ?? "adam");
  }
}



/**
 * Trains under the job's optimizer (the defense's, or the seed's Momentum / DGC) and counts every
 * upload's bytes by federated/bytes.ts `statsBytes`.
 */
export function runJobTraining(cfg: JobConfig, ctx: RunContext, data: SweepData): TrainingOutcome {
  const dgc = dgcRefinements(cfg, ctx);
  let counter: UploadCounter | undefined;
  // the registry's channel for the job's defense (jobContext sets it), its draws from the "defense" stream
  const make = () => (counter = new UploadCounter(makeRunOptimizer(ctx, ctx.cfg.train_lr, dgc)));
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

/** The result fields of a sweep job's record: the attack, the mean-image baseline, the training. */
export type JobResult = Required<Pick<JobRecord, "attack" | "baseline" | "training">>;

/** Runs one job; throws if anything fails. */
export async function runJob(cfg: JobConfig, data: SweepData): Promise<TaskOutcome<JobResult>> {
  const ctx = await jobContext(cfg);
  const { attack, baseline } = runJobAttack(cfg, ctx, data);
  // `auto` picks per workload (backend.ts): LeNet attacks on wasm, its training on tfjs-node when it loads
  const trainBackend = cfg.backend === "auto" && cfg.training.epochs > 0 ? await initBackend("auto", { model: cfg.model, task: "train" }) : ctx.backend;
  const training = { ...runJobTraining(cfg, ctx, data), ...(trainBackend !== ctx.backend ? { backend: trainBackend } : {}) };
  return { backend: ctx.backend, result: { attack, baseline, training } };
}

let shared: { subset: number | null; data: SweepData } | undefined;
/** The sweep's data, loaded once per process (per training subset). */
function sweepData(subset: number | null): SweepData {
  if (shared?.subset !== subset) shared = { subset, data: loadSweepData(subset) };
  return shared.data;
}

const fmt = (x: number | null | undefined, d: number) => (x === null || x === undefined ? "–" : x.toFixed(d));

/** A sweep job as a task of the one study runner; its record is a `JobRecord`. */
export function sweepTask(cfg: JobConfig): StudyTask<JobResult> {
  return {
    key: cfg.key,
    config: cfg,
    run: () => runJob(cfg, sweepData(cfg.training.subset)),
    resultProblem: jobResultProblem,
    describe: (rec) => {
      const r = rec as JobRecord;
      return `PSNR ${fmt(r.attack!.psnr, 2)} dB (mean image ${fmt(r.baseline!.psnr, 2)}), SSIM ${fmt(r.attack!.ssim, 3)}, label ${r.attack!.labelAcc}, test acc ${fmt(r.training!.testAccuracy, 4)}`;
    },
  };
}

/** The sweep's jobs as tasks. */
export const sweepTasks = (cfgs: readonly JobConfig[]): StudyTask<JobResult>[] => cfgs.map(sweepTask);
