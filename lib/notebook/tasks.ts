/**
 * The notebooks' long computations, seen from the cell: `liveAttack`, `liveTraining` and
 * `liveGallery` start a task of background_tasks.ts in the worker and show its progress bar (rate,
 * ETA), its log lines and an image that evolves with the computation, then return the task's
 * result. Same config, same seed, same numbers as running it in the cell.
 */
import type { DemoConfig } from "../trial/demo_config";
import type { AttackRecord, AttackRun } from "../trial/demo";
import type { TrainResult } from "../optim/train";
import type { Batch } from "../data/batcher";
import type { GalleryCell } from "../study/figures";
import type { AttackName } from "../study/grid";
import { runInBackground } from "./background";
import { progressBar, liveImage } from "../viz/progress";
import { splitImages } from "../viz/png";
import { tileGridPng } from "../viz/tiles";

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
