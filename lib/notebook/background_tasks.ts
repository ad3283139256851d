/**
 * The notebooks' long computations as tasks for the background worker (see background.ts): the
 * same library calls the CLI makes, from a plain DemoConfig, reporting progress as plain data.
 * It loads no drawing code (sharp): images are drawn on the cell's side (tasks.ts), so the worker
 * starts lighter.
 */
import type { DemoConfig } from "../trial/demo_config";
import { attackLogLine, loadData, runAttack, runTraining, setupRun, type AttackRun } from "../trial/demo";
import type { TrainResult } from "../optim/train";
import { tf } from "../core/tf";
import type { MnistSplit } from "../data/mnist";
import { loadSweepData, type SweepData } from "../study/job";
import { reconstructionGallery, type GalleryCell } from "../study/figures";
import type { AttackName } from "../study/grid";
import type { TaskProgress } from "./background";

const dataCache = new Map<string, { train: MnistSplit; test: MnistSplit }>();
function cachedData(cfg: DemoConfig) {
  const key = cfg.data_dir ?? "";
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

/** Examples 1 and 2 in the worker: `runAttack` on the config's victim. */
export async function attackTask(args: { cfg: DemoConfig }, progress: (p: TaskProgress) => void): Promise<AttackRun> {
  const { cfg } = args;
  const ctx = await setupRun(cfg);
  const due = throttle(100);
  return runAttack(ctx, cachedData(cfg).train, {
    onStart: (start) => progress({ start }),
    onIteration: (it, distance, record, snapshot) => {
      const last = it === cfg.attack_epoch - 1;
      if (record) progress({ done: it + 1, distance, record, log: attackLogLine(record), image: snapshot?.x });
      else if (due(last)) progress({ done: it + 1, distance });
    },
  });
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

