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
import type { AttackName, SweepModel } from "../study/grid";
import type { DefenseGallery } from "../study/frontier";
import type { DefenseSpec } from "../threat/channel/defenses";
import type { BatchAttackName, BatchAttackRun } from "../trial/batch";
import type { FLRun } from "../trial/fl_run";
import type { FLConfig } from "../trial/fl_config";
import { runInBackground } from "./background";
import { plural } from "./story";
import { progressBar, liveImage } from "../viz/progress";
import { showFolded, showTable } from "../viz/display";
import { formatOfSize, splitImages } from "../viz/png";
import { tileGridPng } from "../viz/tiles";

/**
 * How tiles draw images of `pixels` values each: MNIST's grey 28 × 28, or CIFAR-10's colour 3 × 32 × 32
 * (png.ts formatOfSize), so every live image below shows photographs in colour.
 */
const tiles = formatOfSize;

/** The first image of a flat array of MNIST images (784 values each) or, when that does not divide it, CIFAR-10's (3072). */
const first = (x: Float32Array) => x.subarray(0, x.length % 784 === 0 ? 784 : 3072);

/**
 * Runs `job` after the previous image update, so images show in order; after `stop()` (the task
 * failed or was interrupted) no queued update draws any more.
 */
function serial() {
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = (job: () => Promise<unknown>) => {
    chain = chain.then(() => (stopped ? undefined : job())).catch(() => undefined);
  };
  return { run, flush: () => chain, stop: () => void (stopped = true) };
}

/** Awaits a background task; if it fails (an interrupt), queued image updates are dropped first. */
async function settle<R>(task: Promise<R>, images: ReturnType<typeof serial>): Promise<R> {
  try {
    return await task;
  } catch (e) {
    images.stop();
    throw e;
  }
}

/**
 * Runs the config's attack on `target` in the background: a progress bar (iterations, rate, ETA,
 * distance), the seed's log lines, and target beside the current reconstruction, updated at every
 * snapshot. `target` is the batch attacked and scored (its gradient is what the victim sends), so
 * the image shown, the image attacked and the image the PSNR is measured against are one array.
 */
export async function liveAttack(cfg: DemoConfig, target: Batch): Promise<AttackRun> {
  const bar = progressBar(`${METHOD_NAMES[cfg.attack_method]} attack on ${cfg.model}`, cfg.attack_epoch, "iteration");
  const image = liveImage();
  const images = serial();
  const targets = splitImages(target.x, target.size);
  let done = 0;
  const lines: string[] = [];
  const run = await settle(runInBackground<{ cfg: DemoConfig; target: Batch }, AttackRun>("attackTask", { cfg, target }, (p) => {
    if (p.start) {
      const s = p.start as { guess: number; sent: number; total: number };
      console.log(`label guess ${s.guess}; the victim sent ${s.sent} of ${s.total} gradient entries`);
    }
    if (p.log) lines.push(p.log as string);
    if (typeof p.done === "number") {
      done = p.done;
      bar.update(done, `gradient distance ${(p.distance as number).toExponential(3)}`);
    }
    if (p.image) {
      const x = p.image as Float32Array;
      const r = p.record as AttackRecord;
      images.run(async () => {
        const rows = splitImages(x, target.size).map((img, i) => [{ pixels: targets[i], label: "target" }, { pixels: img, label: `iteration ${r.iteration}: ${r.psnr.toFixed(1)} dB` }]);
        image.update(await tileGridPng(rows, { scale: 6, ...tiles(target.x.length / target.size) }), `target (left) and the reconstruction after iteration ${r.iteration} (right): PSNR ${r.psnr.toFixed(2)} dB`);
      });
    }
  }, () => `interrupted at iteration ${done} of ${cfg.attack_epoch}`), images);
  await images.flush();
  image.clear();
  bar.finish(`done in ${run.seconds.toFixed(1)} s`, cfg.attack_epoch);
  showAttackLog(run.records, lines, cfg.return_epoch);
  return run;
}

/**
 * The attack's snapshots as a compact table (iteration, PSNR, SSIM, MSE, labels_acc; the final
 * iteration marked), with the seed-format log lines folded under it, one click away.
 */
export function showAttackLog(records: readonly AttackRecord[], lines: readonly string[], returnEvery: number): void {
  if (!records.length) return;
  showTable([
    ["iteration", "PSNR (dB)", "SSIM", "MSE", "labels_acc"],
    ...records.map((r) => [r.offSchedule ? `${r.iteration} (final)` : String(r.iteration), r.psnr.toFixed(2), r.ssim.toFixed(3), r.mse.toPrecision(3), r.labelAcc.toFixed(2)]),
  ]);
  const seedLines = lines.filter((l) => l.startsWith("Attack Iteration")).length;
  showFolded(`the full log lines (${plural(seedLines, "line")} in the seed's format, one every ${plural(returnEvery, "iteration")}${lines.length > seedLines ? ", and the final iteration's" : ""}): click to open`, lines);
}

/**
 * Runs the config's training in the background: a progress bar over all batches, then the seed's
 * log lines folded (one click opens them).
 */
export async function liveTraining(cfg: DemoConfig): Promise<TrainResult> {
  let bar: ReturnType<typeof progressBar> | undefined;
  let done = 0;
  const lines: string[] = [];
  const run = await runInBackground<{ cfg: DemoConfig }, TrainResult>("trainingTask", { cfg }, (p) => {
    if (p.log) lines.push(p.log as string);
    if (typeof p.done === "number") {
      bar ??= progressBar(`training ${cfg.model} with ${cfg.use_dgc ? "DGCMomentum" : "Momentum"}`, p.total as number, "batch", 250, "batches");
      done = p.done;
      bar.update(done, p.note as string);
    }
  }, () => `interrupted at batch ${done} of ${plural(cfg.train_epoch, "epoch")}`);
  bar?.finish(`done in ${run.seconds.toFixed(1)} s`);
  if (lines.length) showFolded(`the training's log lines in the seed's format (${plural(lines.length, "line")}, every 100 batches): click to open`, lines);
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
  const g = await settle(runInBackground<typeof opts, { target: Float32Array; cells: GalleryCell[][] }>("galleryTask", opts, (p) => {
    const cell = p.cell as GalleryCell;
    cells[opts.attacks.indexOf(cell.attack)].push(cell);
    done = p.done as number;
    bar.update(done, `last: ${cell.attack} at sparsity ${cell.sparsity}, PSNR ${cell.psnr === null ? "∞" : cell.psnr.toFixed(1)} dB`);
    const snapshot = { target: p.target as Float32Array, cells: cells.map((r) => [...r]) };
    images.run(async () => image.update(await galleryPng(snapshot), `so far: ${done} of ${total} attacks`));
  }, () => `interrupted after ${done} of ${total} attacks`), images);
  await images.flush();
  image.clear();
  bar.finish("done");
  return g;
}

/** The gallery as one labelled PNG: the victim, then a row per attack, each tile "sparsity: PSNR". */
export function galleryPng(g: { target: Float32Array; cells: GalleryCell[][] }, scale = 4): Promise<Buffer> {
  const rows = g.cells.filter((r) => r.length);
  return tileGridPng(
    [[{ pixels: first(g.target), label: "" }], ...rows.map((r) => r.map((c) => ({ pixels: first(c.reconstruction), label: `${c.psnr === null ? "∞" : c.psnr.toFixed(1)} dB` })))],
    { scale, ...tiles(first(g.target).length), rowLabels: ["the victim", ...rows.map((r) => r[0].attack)], columnLabels: (g.cells[0] ?? []).map((c) => `sparsity ${c.sparsity}`) },
  );
}

const METHOD_NAMES: Record<DemoConfig["attack_method"], string> = { dlg: "DLG", idlg: "iDLG", ig: "Inverting Gradients", adaptive: "adaptive (DGC-aware)", analytic: "analytic" };

/**
 * Several attacks, one after the other, in the background (a notebook's loop over configs): one
 * bar over all their iterations (rate, ETA, which attack), and the current attack's target beside
 * its reconstruction at every snapshot. Returns the runs by name, as `runAttack` would.
 */
export async function liveAttacks(runs: Record<string, DemoConfig>, title = "attacks"): Promise<Record<string, AttackRun>> {
  const list = Object.entries(runs).map(([name, cfg]) => ({ name, cfg }));
  const total = list.reduce((s, r) => s + (r.cfg.attack_method === "analytic" ? 1 : r.cfg.attack_epoch), 0);
  const bar = progressBar(`${title}: ${plural(list.length, "run")}`, total, "iteration");
  const image = liveImage();
  const images = serial();
  let done = 0;
  let current = list[0]?.name ?? "";
  const t0 = performance.now();
  const out = await settle(runInBackground<{ runs: typeof list }, Record<string, AttackRun>>("attackRunsTask", { runs: list }, (p) => {
    done = p.done as number;
    current = p.name as string;
    const r = p.record as AttackRecord | undefined;
    bar.update(done, `${current}${r ? `: iteration ${r.iteration}, PSNR ${r.psnr.toFixed(1)} dB` : ""}`);
    if (r && p.image) {
      const [x, target, name] = [p.image as Float32Array, p.target as Float32Array, current];
      images.run(async () => image.update(await tileGridPng([[{ pixels: first(target), label: "target" }, { pixels: first(x), label: `${r.psnr.toFixed(1)} dB` }]], { scale: 5, ...tiles(first(target).length) }), `${name}: target (left) and the reconstruction after iteration ${r.iteration} (right)`));
    }
  }, () => `interrupted at ${current}, ${done} of ${total} iterations in all`), images);
  await images.flush();
  image.clear();
  bar.finish(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`, total);
  return out;
}

/** The frontier notebook's gallery in the background: a bar over the defenses and the row filling in. */
export async function liveDefenseGallery(opts: { seed: number; defenses: DefenseSpec[]; attack: AttackName; iterations: number; model?: SweepModel }): Promise<DefenseGallery> {
  const total = opts.defenses.length;
  const bar = progressBar(`gallery: the ${opts.attack} attacker against ${plural(total, "defense")}, ${opts.iterations} ${opts.model === "lenet" ? "L-BFGS steps" : "iterations"} each`, total, "defense");
  const image = liveImage();
  const images = serial();
  const cells: { label: string; psnr: number | null; x: Float32Array }[] = [];
  let done = 0;
  const g = await settle(runInBackground<typeof opts, DefenseGallery>("defenseGalleryTask", opts, (p) => {
    const cell = p.cell as (typeof cells)[number];
    cells.push(cell);
    done = p.done as number;
    bar.update(done, `last: ${cell.label}, PSNR ${cell.psnr === null ? "∞" : cell.psnr.toFixed(1)} dB`);
    const row = [{ pixels: p.target as Float32Array, label: "victim" }, ...cells.map((c) => ({ pixels: c.x, label: `${c.label}: ${c.psnr === null ? "∞" : c.psnr.toFixed(1)} dB` }))];
    images.run(async () => image.update(await tileGridPng([row], { scale: 3, ...tiles((p.target as Float32Array).length) }), `so far: ${done} of ${plural(total, "defense")}`));
  }, () => `interrupted after ${done} of ${plural(total, "defense")}`), images);
  await images.flush();
  image.clear();
  bar.finish("done", total);
  return g;
}

/** A batch attack in the background: a bar over its iterations and the batch beside its reconstructions at each snapshot. */
export async function liveBatchAttack(cfg: DemoConfig, attack: BatchAttackName, iterations: number): Promise<BatchAttackRun> {
  const bar = progressBar(`${attack} on a batch of ${cfg.attack_batch_size}`, iterations, "iteration");
  const image = liveImage();
  const images = serial();
  let target: Float32Array | undefined;
  let B = 1;
  let done = 0;
  const run = await settle(runInBackground<{ cfg: DemoConfig; attack: BatchAttackName; iterations: number }, BatchAttackRun>("batchAttackTask", { cfg, attack, iterations }, (p) => {
    if (p.target) [target, B] = [p.target as Float32Array, p.size as number];
    if (typeof p.done === "number") {
      done = p.done;
      bar.update(done, `gradient distance ${(p.distance as number).toExponential(3)}`);
    }
    if (p.image && target) {
      const [x, t, it] = [p.image as Float32Array, target, p.iteration as number];
      images.run(async () => image.update(await tileGridPng([splitImages(t, B).map((pixels) => ({ pixels, label: "" })), splitImages(x, B).map((pixels) => ({ pixels, label: "" }))], { scale: 3, ...tiles(t.length / B), rowLabels: ["victims", `iteration ${it}`] }), `the batch (top) and the reconstructions after iteration ${it} (bottom, in the attack's order)`));
    }
  }, () => `interrupted at iteration ${done} of ${iterations}`), images);
  await images.flush();
  image.clear();
  bar.finish(`done in ${run.seconds.toFixed(1)} s`, iterations);
  return run;
}

/**
 * A federated run in the background: a bar over its rounds (test accuracy), then over the history
 * attacker's steps (PSNR, the current reconstruction). `test: false` skips the test set.
 */
export async function liveFederated(cfg: FLConfig, opts: { stopAtLeak?: boolean; test?: boolean; title?: string } = {}): Promise<FLRun> {
  // the history attacker's steps, or a one-upload attack's iterations
  const steps = cfg.dlg_attack ? (cfg.attack_method === "history" ? cfg.history_rounds + 1 : cfg.attack_epoch) : 0;
  const total = cfg.rounds + steps;
  const bar = progressBar(opts.title ?? `${plural(cfg.clients, "client")}, ${plural(cfg.rounds, "round")}${steps ? ", then the attack" : ""}`, total, "step");
  const image = liveImage();
  const images = serial();
  let done = 0;
  const t0 = performance.now();
  const run = await settle(runInBackground<{ cfg: FLConfig; stopAtLeak?: boolean; test?: boolean }, FLRun>("federatedTask", { cfg, stopAtLeak: opts.stopAtLeak, test: opts.test }, (p) => {
    if (typeof p.round === "number") {
      done = p.round + 1;
      bar.update(done, `round ${p.round}${p.testAccuracy == null ? "" : `, test accuracy ${(p.testAccuracy as number).toFixed(4)}`}`);
    } else if (typeof p.iteration === "number") {
      done = cfg.rounds + (p.iteration as number) + 1;
      bar.update(done, `attack iteration ${p.iteration}: PSNR ${(p.psnr as number).toFixed(1)} dB`);
    } else if (typeof p.step === "number") {
      done = cfg.rounds + (p.step as number) + 1;
      const psnr = p.psnr as number | null;
      bar.update(done, `history step h = ${p.step}: ${psnr === null ? "nothing received yet" : `PSNR ${psnr.toFixed(1)} dB`}`);
      if (p.image) {
        const [x, h] = [p.image as Float32Array, p.step as number];
        images.run(async () => image.update(await tileGridPng([[{ pixels: first(x), label: `h = ${h}` }]], { scale: 4, ...tiles(first(x).length) }), `the history attacker's reconstruction from rounds ${cfg.attack_round}..${cfg.attack_round}+${h}`));
      }
    }
  }, () => `interrupted at step ${done} of ${total} (${cfg.rounds} rounds, then the attack)`), images);
  await images.flush();
  image.clear();
  // the history attacker may stop early (at the first leak); a one-upload attack reports its snapshots (every return_epoch) and is done when the run returns
  const stoppedEarly = cfg.attack_method === "history" && done < total;
  bar.finish(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s${stoppedEarly ? " (the history attacker stopped at the first leak)" : ""}`, stoppedEarly ? undefined : total);
  return run;
}
