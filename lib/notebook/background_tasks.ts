/**
 * The notebooks' long computations as tasks for the background worker (see background.ts): the
 * same library calls the CLI makes, from a plain DemoConfig, reporting progress as plain data.
 * It loads no drawing code (sharp): images are drawn on the cell's side (tasks.ts), so the worker
 * starts lighter.
 */
import type { DemoConfig } from "../trial/demo_config";
import { attackFinalLine, attackLogLine, loadData, runAttack, runTraining, setupRun, victimBatch, type AttackRun } from "../trial/demo";
import type { TrainResult } from "../optim/train";
import { tf } from "../core/tf";
import type { MnistSplit } from "../data/mnist";
import type { Batch } from "../data/batcher";
import { loadSweepData, type SweepData } from "../study/job";
import { reconstructionGallery, type GalleryCell } from "../study/figures";
import type { AttackName, SweepModel } from "../study/grid";
import { defenseGallery, type DefenseGallery } from "../study/frontier";
import type { DefenseSpec } from "../threat/channel/defenses";
import { runBatchAttack, type BatchAttackName, type BatchAttackRun } from "../trial/batch";
import { publicData } from "../attack/label_counts";
import { splitMean } from "../data/dataset";
import { runFL, setupFL, type FLRun } from "../trial/fl_run";
import { demoView, type FLConfig } from "../trial/fl_config";
import type { TaskProgress } from "./background";

const dataCache = new Map<string, { train: MnistSplit; test: MnistSplit }>();
function cachedData(cfg: DemoConfig) {
  // MNIST and CIFAR-10 may both be loaded in one worker: the data set is part of the key
  const key = `${cfg.dataset}:${cfg.data_dir ?? ""}`;
  if (!dataCache.has(key)) dataCache.set(key, loadData(cfg));
  return dataCache.get(key)!;
}

/** Reports at most every `ms` milliseconds (the last call always passes). */
function throttle(ms: number) {
  let last = -Infinity;
  return (force = false) => {
    const now = performance.now();
    if (!force && now - last < ms) return false;
    last = now;
    return true;
  };
}

/** Examples 1 and 2 in the worker: `runAttack` on the given victim batch (default: the config's). */
export async function attackTask(args: { cfg: DemoConfig; target?: Batch }, progress: (p: TaskProgress) => void): Promise<AttackRun> {
  const { cfg } = args;
  const ctx = await setupRun(cfg);
  const due = throttle(100);
  return runAttack(ctx, cachedData(cfg).train, {
    onStart: (start) => progress({ start }),
    onIteration: (it, distance, record, snapshot) => {
      const last = it === cfg.attack_epoch - 1;
      if (record) progress({ done: it + 1, distance, record, log: record.offSchedule ? attackFinalLine(record, cfg.return_epoch) : attackLogLine(record), image: snapshot?.x });
      else if (due(last)) progress({ done: it + 1, distance });
    },
  }, {}, undefined, undefined, args.target);
}

/** Examples 3 and 4 in the worker: `runTraining`, without the trained parameters. */
export async function trainingTask(args: { cfg: DemoConfig }, progress: (p: TaskProgress) => void): Promise<TrainResult> {
  const { cfg } = args;
  const ctx = await setupRun(cfg);
  const due = throttle(150);
  const run = runTraining(ctx, cachedData(cfg), {
    log: (line) => progress({ log: line }),
    onBatch: (r, perEpoch) => {
      const done = r.epoch * perEpoch + r.batch + 1;
      if (due(done === perEpoch * cfg.train_epoch)) progress({ done, total: perEpoch * cfg.train_epoch, note: `epoch ${r.epoch}, loss ${r.loss.toFixed(3)}, running accuracy ${r.acc.toFixed(4)}` });
    },
  });
  tf.dispose(run.params);
  return { history: run.history, testAccuracy: run.testAccuracy, seconds: run.seconds };
}

let sweepData: SweepData | undefined;

/** The study's gallery in the worker: one victim, every sparsity × attack. */
export async function galleryTask(
  args: { seed: number; sparsities: number[]; attacks: AttackName[]; iterations: number },
  progress: (p: TaskProgress) => void,
): Promise<{ target: Float32Array; cells: GalleryCell[][] }> {
  sweepData ??= loadSweepData(null);
  return reconstructionGallery(sweepData, { ...args, onCell: (cell, target, done) => progress({ cell, target, done }) });
}


const attackIterations = (cfg: DemoConfig) => (cfg.attack_method === "analytic" ? 1 : cfg.attack_epoch);

/**
 * A notebook's loop over attacks in the worker: `runAttack` for each named config in turn (each on
 * its config's victim), progress over all their iterations, the target and the current image at
 * every snapshot.
 */
export async function attackRunsTask(args: { runs: { name: string; cfg: DemoConfig }[] }, progress: (p: TaskProgress) => void): Promise<Record<string, AttackRun>> {
  const total = args.runs.reduce((s, r) => s + attackIterations(r.cfg), 0);
  const out: Record<string, AttackRun> = {};
  let before = 0;
  for (const { name, cfg } of args.runs) {
    const ctx = await setupRun(cfg);
    const data = cachedData(cfg).train;
    const target = victimBatch(ctx, data);
    const due = throttle(100);
    const n = attackIterations(cfg);
    out[name] = runAttack(ctx, data, {
      onIteration: (it, distance, record, snapshot) => {
        if (record || due(it === n - 1)) {
          progress({ done: before + Math.min(n, it + 1), total, name, distance, ...(record && snapshot ? { record, image: snapshot.x, target: target.x } : {}) });
        }
      },
    }, {}, undefined, undefined, target);
    before += n;
    progress({ done: before, total, name });
  }
  return out;
}

/** The frontier notebook's gallery in the worker: one victim under each defense (study/frontier.ts). */
export async function defenseGalleryTask(
  args: { seed: number; defenses: DefenseSpec[]; attack: AttackName; iterations: number; model?: SweepModel },
  progress: (p: TaskProgress) => void,
): Promise<DefenseGallery> {
  sweepData ??= loadSweepData(null);
  return defenseGallery(sweepData, { ...args, onCell: (cell, target, done) => progress({ cell, target, done }) });
}

/** A batch attack in the worker (trial/batch.ts): the victim's first batch of B, its label counts, one attack. */
export async function batchAttackTask(
  args: { cfg: DemoConfig; attack: BatchAttackName; iterations: number },
  progress: (p: TaskProgress) => void,
): Promise<BatchAttackRun> {
  const { cfg } = args;
  const ctx = await setupRun(cfg);
  const data = cachedData(cfg);
  const prior = { labelled: publicData(data.test), mean: splitMean(data.train) };
  const target = victimBatch(ctx, data.train);
  const due = throttle(100);
  progress({ target: target.x, size: target.size });
  return runBatchAttack(ctx, data.train, prior, {
    attack: args.attack, iterations: args.iterations,
    onIteration: (it, distance, snapshot) => {
      if (snapshot || due(it === args.iterations - 1)) progress({ done: it + 1, distance, ...(snapshot ? { image: snapshot.x, iteration: it } : {}) });
    },
  });
}

/**
 * A federated run in the worker (trial/fl_run.ts): the rounds (progress per round, with the test
 * accuracy), then the attack on the watched client (progress per history step, with its image).
 */
export async function federatedTask(args: { cfg: FLConfig; stopAtLeak?: boolean; test?: boolean }, progress: (p: TaskProgress) => void): Promise<FLRun> {
  const { cfg } = args;
  const ctx = await setupFL(cfg);
  const data = cachedData(demoView(cfg));
  // per data set (MNIST's 784 values, CIFAR-10's 3072): the same float64 sums as meanImage
  const key = `${cfg.dataset}:${cfg.data_dir ?? ""}`;
  if (!meanCache.has(key)) meanCache.set(key, splitMean(data.train));
  const mean = meanCache.get(key)!;
  return runFL(ctx, { train: data.train, ...(args.test === false ? {} : { test: data.test }) }, mean, {
    stopAtLeak: args.stopAtLeak,
    onRound: (r) => progress({ round: r.round, testAccuracy: r.testAccuracy }),
    onHistoryStep: (s) => progress({ step: s.h, psnr: s.psnr, image: s.x }),
    // a one-upload attack's snapshots (every --return_epoch iterations; a FedAvg delta's too)
    onRecord: (r) => progress({ iteration: r.iteration, psnr: r.psnr }),
  });
}
const meanCache = new Map<string, Float32Array>();
