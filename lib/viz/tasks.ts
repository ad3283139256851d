/**
 * The notebooks' long computations as background tasks (see background.ts), in two halves:
 * - `attackTask`, `trainingTask`, `galleryTask` run in the worker: the same library calls the CLI
 *   makes, from a plain DemoConfig, reporting progress as plain data;
 * - `liveAttack`, `liveTraining`, `liveGallery` run in the cell: they start the task and show its
 *   progress bar (rate, ETA), its log lines and an image that evolves with the computation, then
 *   return the task's result. Same config, same seed, same numbers as running it in the cell.
 */
import type { DemoConfig } from "../config";
import { loadData, runAttack, runTraining, setupRun, type AttackRecord, type AttackRun } from "../demo";
import { attackLogLine } from "../demo";
import type { TrainResult } from "../train";
import { tf } from "../tf";
import type { MnistSplit } from "../data/mnist";
import type { Batch } from "../data/batcher";
import { loadSweepData, type SweepData } from "../sweep/job";
import { reconstructionGallery, type GalleryCell } from "../sweep/figures";
import type { AttackName } from "../sweep/grid";
import { runInBackground, type TaskProgress } from "./background";
import { progressBar, liveImage } from "./progress";
import { splitImages } from "./png";
import { tileGridPng } from "./tiles";

// ---- worker side --------------------------------------------------------------------------

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

// ---- cell side ----------------------------------------------------------------------------

/** Runs `job` after the previous image update, so images show in order. */
function serial() {
  let chain: Promise<unknown> = Promise.resolve();
  const run = (job: () => Promise<unknown>) => {
    chain = chain.then(job).catch(() => undefined);
  };
  return { run, flush: () => chain };
}

/**
 * Runs the config's attack in the background: a progress bar (iterations, rate, ETA, distance),
 * the seed's log lines, and target beside the current reconstruction, updated at every snapshot.
 */
export async function liveAttack(cfg: DemoConfig, target: Batch): Promise<AttackRun> {
  const bar = progressBar(`DLG attack on ${cfg.model}`, cfg.attack_epoch, "iteration");
  const image = liveImage();
  const images = serial();
  const targets = splitImages(target.x, target.size);
  let done = 0;
  const run = await runInBackground<{ cfg: DemoConfig }, AttackRun>("attackTask", { cfg }, (p) => {
    if (p.start) {
      const s = p.start as { guess: number; sent: number; total: number };
      console.log(`label guess ${s.guess}; the victim sent ${s.sent} of ${s.total} gradient entries`);
    }
    if (p.log) console.log(p.log);
    if (typeof p.done === "number") {
      done = p.done;
      bar.update(done, `gradient distance ${(p.distance as number).toExponential(3)}`);
    }
    if (p.image) {
      const x = p.image as Float32Array;
      const r = p.record as AttackRecord;
      images.run(async () => {
        const rows = splitImages(x, target.size).map((img, i) => [{ pixels: targets[i], label: "target" }, { pixels: img, label: `iteration ${r.iteration}: ${r.psnr.toFixed(1)} dB` }]);
        image.update(await tileGridPng(rows, { scale: 6 }), `target (left) and the reconstruction after iteration ${r.iteration} (right): PSNR ${r.psnr.toFixed(2)} dB`);
      });
    }
  }, () => `interrupted at iteration ${done} of ${cfg.attack_epoch}`);
  await images.flush();
  image.clear();
  bar.finish(`done in ${run.seconds.toFixed(1)} s`, cfg.attack_epoch);
  return run;
}

/** Runs the config's training in the background: a progress bar over all batches and the seed's log lines. */
export async function liveTraining(cfg: DemoConfig): Promise<TrainResult> {
  let bar: ReturnType<typeof progressBar> | undefined;
  let done = 0;
  const run = await runInBackground<{ cfg: DemoConfig }, TrainResult>("trainingTask", { cfg }, (p) => {
    if (p.log) console.log(p.log);
    if (typeof p.done === "number") {
      bar ??= progressBar(`training ${cfg.model} with ${cfg.use_dgc ? "DGCMomentum" : "Momentum"}`, p.total as number, "batch", 250, "batches");
      done = p.done;
      bar.update(done, p.note as string);
    }
  }, () => `interrupted at batch ${done} of ${cfg.train_epoch} epoch(s)`);
  bar?.finish(`done in ${run.seconds.toFixed(1)} s`);
  return run;
}

/** The study's gallery in the background: a bar over the attacks and the gallery filling in. */
export async function liveGallery(opts: { seed: number; sparsities: number[]; attacks: AttackName[]; iterations: number }) {
  const total = opts.sparsities.length * opts.attacks.length;
  const bar = progressBar(`gallery: ${opts.attacks.length} attacks × ${opts.sparsities.length} sparsities, ${opts.iterations} iterations each`, total, "attack");
  const image = liveImage();
  const images = serial();
  const cells: GalleryCell[][] = opts.attacks.map(() => []);
  let done = 0;
  const g = await runInBackground<typeof opts, { target: Float32Array; cells: GalleryCell[][] }>("galleryTask", opts, (p) => {
    const cell = p.cell as GalleryCell;
    cells[opts.attacks.indexOf(cell.attack)].push(cell);
    done = p.done as number;
    bar.update(done, `last: ${cell.attack} at sparsity ${cell.sparsity}, PSNR ${cell.psnr === null ? "∞" : cell.psnr.toFixed(1)} dB`);
    const snapshot = { target: p.target as Float32Array, cells: cells.map((r) => [...r]) };
    images.run(async () => image.update(await galleryPng(snapshot), `so far: ${done} of ${total} attacks`));
  }, () => `interrupted after ${done} of ${total} attacks`);
  await images.flush();
  image.clear();
  bar.finish("done");
  return g;
}

/** The gallery as one labelled PNG: the victim, then a row per attack, each tile "sparsity: PSNR". */
export function galleryPng(g: { target: Float32Array; cells: GalleryCell[][] }, scale = 4): Promise<Buffer> {
  const rows = g.cells.filter((r) => r.length);
  return tileGridPng(
    [[{ pixels: g.target.subarray(0, 784), label: "" }], ...rows.map((r) => r.map((c) => ({ pixels: c.reconstruction.subarray(0, 784), label: `${c.psnr === null ? "∞" : c.psnr.toFixed(1)} dB` })))],
    { scale, rowLabels: ["the victim", ...rows.map((r) => r[0].attack)], columnLabels: (g.cells[0] ?? []).map((c) => `sparsity ${c.sparsity}`) },
  );
}
