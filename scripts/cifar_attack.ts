/**
 * A first attack on colour images: the DLG paper's DLG (mit-han-lab/dlg main.py) on CIFAR-10 —
 * the victim's cross-entropy gradient of one [0, 1] image under LeNet-CIFAR (U(−0.5, 0.5), untrained,
 * as the paper) or another colour model (optionally trained: --params FILE from cifar_train
 * --save_params); dummy image and label logits drawn N(0, 1); the summed distance
 * Σ_t ‖∂CE(x', softmax(y'))/∂θ_t − g_t‖² (methods.ts's dlgObjective, "ce", "l2sum") minimized by
 * L-BFGS with torch's defaults (lr 1, 20 iterations and 25 evaluations a step), --steps steps; the
 * best finite point evaluated is the result — the registry's `paperDlgSpec` (lib/attack/lbfgs_dlg.ts),
 * with `--restarts N` fresh N(0, 1) starts after a step that meets a non-finite point or stalls (not
 * the paper's protocol; default 0). Every attack here runs through the trial's one attack path
 * (`attackObservation`, lib/trial/run.ts) on the image's gradient. Seed s draws the weights from
 * Rng(s).fork("init") and the dummy start from Rng(s).fork("dummy:<image>").
 * `--method` picks the attack (default dlg, the above); the others go through the attack registry
 * (lib/attack/methods.ts), on the same victim gradient:
 *   idlg — iDLG (Zhao et al. 2020): the label read off the last layer's gradient, then x' alone from
 *          N(0, 1) by L-BFGS (lr 1, no line search) on the summed distance, --steps steps;
 *   ig   — Inverting Gradients (Geiping et al. 2020): Σ_t (1 − cos) + λ_TV·TV(x') (--tv, default the
 *          registry's 1e-4), Adam lr 0.1 with the ×0.1 drops at 3/8, 5/8, 7/8, x' from N(0, 1) boxed to
 *          [0, 1] after each step, the label by iDLG's rule, --steps iterations; the last iterate.
 * `--victims seed`: each seed's victim is the first image of its run's shuffle (dgc_demo's victim,
 * Rng(s).fork("shuffle")), so seeds 1–10 are 10 victim images, each under its own weight draw (or
 * under --params); `--victims index` (default) attacks --images under every seed.
 * Readings, on [0, 1] images: PSNR with peak 1 (of the raw reconstruction), SSIM as the mean of the
 * three channels' SSIMs (lib/metrics/image.ts: 11 × 11 Gaussian window, C1 = 0.01², C2 = 0.03², i.e.
 * L = 1 for the [0, 1] range), the standard SSIM of the 8-bit colour images (`ssim8`: ssim.m per
 * channel, L = 255, readings.ts), the label read off softmax(y') (ig/idlg: the inferred label), and the
 * project's recovery rule: PSNR ≥ the training mean image's PSNR against the victim + 3 dB.
 *   npm run cifar:attack -- [--method dlg|idlg|ig] [--model lenet-cifar] [--split train] [--images 0,1,2]
 *     [--victims index|seed] [--seeds 1] [--steps 300] [--restarts 0] [--tv 1e-4] [--params FILE]
 *     [--data_dir DIR] [--backend wasm] [--result_dir cifar-attack] [--jobs N] [--shard i/n] [--task key] [--summary]
 * One task per (seed, image) on the one study runner: DIR holds a record and a PNG (victim |
 * reconstruction, colour) per task, resumes, and DIR/attack.json gathers the rows.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { checkStudyOut, runStudyCli, runnerFlags } from "../cli/study";
import { fieldsProblem, taskRecords } from "../lib/study/record";
import { summaryLine } from "../lib/study/cifar";
import type { StudyTask } from "../lib/study/task";
import { join } from "node:path";
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { paperDlgSpec, type AttackSpec } from "../lib/attack/methods";
import { attackObservation } from "../lib/trial/run";
import { BACKENDS, describeBackend, initBackend, type BackendChoice } from "../lib/core/backend";
import { Rng } from "../lib/core/rng";
import { tf } from "../lib/core/tf";
import { CIFAR10_PIXELS, cifar10MeanImage, loadCifar10, type Cifar10Data } from "../lib/data/cifar10";
import { DataError } from "../lib/data/idx";
import { psnr, ssim } from "../lib/metrics/image";
import { isRecovered, ssim8Rgb } from "../lib/metrics/readings";
import { epochBatches } from "../lib/data/batcher";
import { oneHot, parameterGradients } from "../lib/models/losses";
import type { Model, ModelKind } from "../lib/models/model";
import { COLOUR_MODELS, makeModel } from "../lib/models/registry";
import { rgbGridPng } from "../lib/viz/png";

export interface ColourAttackResult {
  image: number; seed: number; label: number; labelGuess: number;
  psnr: number; ssim: number; ssim8: number; meanPsnr: number; recovered: boolean;
  distance: number; evals: number; starts: number; seconds: number; x: Float32Array;
}

/** The readings of a reconstruction x against the victim image v (both [3072], [0, 1], CHW). */
export function colourReadings(x: Float32Array, v: Float32Array, mean: Float32Array): { psnr: number; ssim: number; ssim8: number; meanPsnr: number; recovered: boolean } {
  const p = psnr(x, v);
  const meanPsnr = psnr(mean, v);
  return { psnr: p, ssim: ssim(x, v, { batch: 3, height: 32, width: 32 }), ssim8: ssim8Rgb(x, v, { batch: 1, height: 32, width: 32 }), meanPsnr, recovered: isRecovered(p, meanPsnr) };
}

export type ColourMethod = "dlg" | "idlg" | "ig";

/**
 * One attack on one image's cross-entropy gradient, through the trial's one attack path
 * (`attackObservation`: the registry's method on exactly what was observed, no defense), the dummy start
 * drawn from `rng`. Returns the reconstruction, the label it ends with, D (dlg: at the best point kept;
 * otherwise after the last iteration), the work done (dlg: objective evaluations; otherwise iterations)
 * and the starts.
 */
function colourAttack(spec: AttackSpec, model: Model, params: readonly tf.Tensor[], victim: Float32Array, label: number, rng: Rng) {
  const observed = tf.tidy(() => parameterGradients(model, params, "ce")(tf.tensor2d(victim, [1, CIFAR10_PIXELS]), oneHot(Int32Array.of(label), model.classes)));
  try {
    const target = { id: 0, index: Int32Array.of(0), x: victim, y: Int32Array.of(label), size: 1 };
    const sent = { sent: observed.map((g) => g.size), total: observed.map((g) => g.size) };
    const r = attackObservation({ model, params, target, observed, sent }, spec, { dummy: rng, victimLoss: "ce", mean: new Float32Array(CIFAR10_PIXELS), range: [0, 1], describe: "one CIFAR-10 image's gradient, no defense" }, {}, undefined);
    const distance = r.lbfgs?.bestDistance ?? r.distances[r.distances.length - 1];
    return { x: r.reconstruction, labelGuess: r.labels[0], distance, evals: r.lbfgs?.evals ?? r.distances.length, starts: r.lbfgs?.starts ?? 1, seconds: r.seconds };
  } finally {
    tf.dispose(observed);
  }
}

/** iDLG (L-BFGS) or IG (Adam, boxed to [0, 1]) through the attack registry; `tv` replaces IG's λ_TV. */
export function registryAttack(method: Exclude<ColourMethod, "dlg">, model: Model, params: readonly tf.Tensor[], victim: Float32Array, label: number, rng: Rng, steps: number, tv?: number) {
  const spec: AttackSpec = {
    method, optimizer: method === "idlg" ? "lbfgs" : "adam", iterations: steps, lr: method === "idlg" ? 1 : 0.1, returnEvery: steps, windowSize: 1,
    victimLoss: "ce", labelInit: "guess", labelRule: "idlg", ...(method === "ig" && tv !== undefined ? { recipe: { tvWeight: tv } } : {}),
  };
  return colourAttack(spec, model, params, victim, label, rng);
}

/** dgc_demo's victim for a seed: the first image of the run's shuffle (Rng(seed).fork("shuffle")). */
export function seedVictim(data: Cifar10Data, seed: number): number {
  return (epochBatches(data, 1, new Rng(seed).fork("shuffle")).next().value as { index: Int32Array }).index[0];
}

/** The DLG paper's L-BFGS DLG (the registry's `paperDlgSpec`, lbfgs_dlg.ts) on one image of a colour model, with `restarts`. */
export function attackOne(model: Model, params: readonly tf.Tensor[], victim: Float32Array, label: number, rng: Rng, steps: number, restarts = 0) {
  return colourAttack(paperDlgSpec(steps, restarts), model, params, victim, label, rng);
}

function loadParams(file: string): tf.Tensor[] {
  const saved = JSON.parse(readFileSync(file, "utf8")) as { params: { shape: number[]; values: number[] }[] };
  return saved.params.map((p) => tf.tensor(p.values, p.shape));
}

const PROG = "cifar_attack";

type Row = Omit<ColourAttackResult, "x" | "seconds"> & { attackSeconds: number };

/** The attack of one (seed, image) as a task of the one study runner: its record is the row; the PNG beside it. */
function attackTask(o: { method: ColourMethod; model: ModelKind; split: string; steps: number; restarts: number; tv?: number; params?: string; paramsSha?: string; dir: string },
  seed: number, image: number, ctx: { data: Cifar10Data; mean: Float32Array; backend: string }): StudyTask<Row> {
  return {
    key: `cifar-${o.method}-${o.model}-${o.split}${image}-seed${seed}`,
    config: { study: "cifar", method: o.method, model: o.model, split: o.split, image, seed, steps: o.steps, restarts: o.restarts, tv: o.tv ?? null, params: o.paramsSha ?? null },
    run: async () => {
      const model = makeModel(o.model);
      const params = o.params ? loadParams(o.params) : model.init(new Rng(seed).fork("init"));
      try {
        const victim = ctx.data.images.slice(image * CIFAR10_PIXELS, (image + 1) * CIFAR10_PIXELS);
        const label = ctx.data.labels[image];
        const rng = new Rng(seed).fork(`dummy:${image}`);
        const r = o.method === "dlg" ? attackOne(model, params, victim, label, rng, o.steps, o.restarts) : registryAttack(o.method, model, params, victim, label, rng, o.steps, o.tv);
        const read = colourReadings(r.x, victim, ctx.mean);
        writeFileSync(join(o.dir, `${o.method}-${o.model}-img${image}-seed${seed}.png`), await rgbGridPng([[victim, r.x]], { scale: 4 }));
        return { backend: ctx.backend, result: { image, seed, label, labelGuess: r.labelGuess, ...read, distance: r.distance, evals: r.evals, starts: r.starts, attackSeconds: r.seconds } };
      } finally {
        tf.dispose(params);
      }
    },
    resultProblem: (r) => fieldsProblem(r, [["psnr", "number"], ["ssim8", "number"], ["meanPsnr", "number"], ["labelGuess", "number"], ["evals", "number"]]),
    describe: (r) => `PSNR ${(r as Row).psnr.toFixed(2)} dB, ${(r as Row).recovered ? "recovered" : "not recovered"}`,
  };
}

async function main(): Promise<void> {
  const o = parseFlagsOrExit(PROG, {
    method: { kind: "choice", choices: ["dlg", "idlg", "ig"], default: "dlg", help: "the attack: dlg (the DLG paper's L-BFGS), idlg (iDLG, L-BFGS), ig (Inverting Gradients, Adam)" },
    model: { kind: "choice", choices: COLOUR_MODELS, default: "lenet-cifar", help: "the colour model" },
    split: { kind: "choice", choices: ["train", "test"], default: "train", help: "which CIFAR-10 split the victims come from" },
    images: { kind: "ints", min: 0, default: "0", help: "comma-separated image indices (--victims index)" },
    victims: { kind: "choice", choices: ["index", "seed"], default: "index", help: "index: --images under every seed; seed: each seed's victim is the first image of its shuffle (dgc_demo's)" },
    tv: { kind: "float", min: 0, help: "ig: the TV weight λ_TV (default the registry's, 1e-4)" },
    seeds: { kind: "ints", min: 0, default: "1", help: "comma-separated seeds" },
    steps: { kind: "int", min: 1, default: 300, help: "L-BFGS steps (dlg, idlg) or Adam iterations (ig)" },
    restarts: { kind: "int", min: 0, default: 0, help: "dlg: fresh starts allowed after a step meets a non-finite point or stalls (0: the paper's single run)" },
    params: { kind: "inFile", help: "trained weights (cifar_train --save_params); default: a fresh draw per seed" },
    data_dir: { kind: "inDir", help: "CIFAR-10 binary files (default: $DGC_CIFAR10_DIR, then ../shared/data/cifar-10-subset)" },
    backend: { kind: "choice", choices: BACKENDS, default: "wasm", help: "TensorFlow.js backend" },
    result_dir: { kind: "outDir", default: "cifar-attack", help: "the study's folder: a record and a PNG per (seed, image), and attack.json" },
    ...runnerFlags(),
  }, process.argv.slice(2), "L-BFGS DLG on CIFAR-10 images of a colour model");
  const model_ = o.model as ModelKind;
  const method = o.method as ColourMethod;
  if (o.tv !== undefined && method !== "ig") usageExit(PROG, `--tv applies to --method ig, not ${method}`);
  if (o.restarts > 0 && method !== "dlg") usageExit(PROG, `--restarts applies to --method dlg, not ${method}`);
  checkStudyOut(PROG, { out: o.result_dir, summary: o.summary }, "--result_dir");
  let data: Cifar10Data;
  let train: Cifar10Data;
  try {
    train = loadCifar10("train", { dataDir: o.data_dir });
    data = o.split === "train" ? train : loadCifar10("test", { dataDir: o.data_dir });
  } catch (e) {
    if (e instanceof DataError) {
      usageExit(PROG, e.message);
    }
    throw e;
  }
  const outside = o.images.filter((i) => i >= data.n);
  if (outside.length) usageExit(PROG, `--images ${outside.join(",")}: the ${o.split} split has ${data.n} images (0 to ${data.n - 1})`);
  const mean = cifar10MeanImage(train);
  const backend = await initBackend(o.backend as BackendChoice, { model: model_, task: "attack" });
  const title = { dlg: "L-BFGS DLG", idlg: "iDLG (L-BFGS)", ig: "Inverting Gradients (Adam)" }[method];
  const which = o.victims === "seed" ? "each seed's first shuffled image" : `images ${o.images.join(",")}`;
  if (!o.task) console.log(`${title} on ${o.model}${o.params ? ` (weights ${o.params})` : " (untrained)"}, CIFAR-10 ${o.split} ${which}, ${o.steps} ${method === "ig" ? "iterations" : "steps"}, backend ${describeBackend(backend)}`);
  const paramsSha = o.params ? createHash("sha256").update(readFileSync(o.params)).digest("hex") : undefined;
  const spec = { method, model: model_, split: o.split, steps: o.steps, restarts: o.restarts, tv: o.tv, params: o.params, paramsSha, dir: o.result_dir };
  const ctx = { data, mean, backend };
  const tasks = o.seeds.flatMap((seed) => (o.victims === "seed" ? [seedVictim(data, seed)] : o.images).map((image) => attackTask(spec, seed, image, ctx)));
  if (!o.summary) {
    mkdirSync(o.result_dir, { recursive: true });
    await runStudyCli(tasks, { prog: PROG, out: o.result_dir, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  }
  if (o.task) return;
  const results = taskRecords<Row>(o.result_dir, tasks).map(({ image, seed, label, labelGuess, psnr: p, ssim: s, ssim8, meanPsnr, recovered, distance, evals, starts, attackSeconds }) =>
    ({ image, seed, label, labelGuess, psnr: p, ssim: s, ssim8, meanPsnr, recovered, distance, evals, starts, seconds: attackSeconds }));
  for (const r of results) {
    const work = method === "dlg" ? `${r.evals} evaluations, ${r.starts} start${r.starts > 1 ? "s" : ""}` : `${r.evals} iterations`;
    console.log(`image ${r.image} (${data.classNames[r.label]}) seed ${r.seed}: PSNR ${r.psnr.toFixed(2)} dB (mean image ${r.meanPsnr.toFixed(2)}), SSIM ${r.ssim.toFixed(4)} (8-bit ${r.ssim8.toFixed(4)}), label ${data.classNames[r.labelGuess]}${r.labelGuess === r.label ? "" : " (wrong)"}, ${r.recovered ? "recovered" : "not recovered"}; D ${r.distance.toExponential(3)}, ${work}, ${r.seconds.toFixed(1)} s`);
  }
  if (results.length) console.log(summaryLine(results));
  writeFileSync(join(o.result_dir, "attack.json"), JSON.stringify({ method, model: o.model, params: o.params ?? null, steps: o.steps, tv: o.tv ?? null, victims: o.victims, backend, results }, null, 1));
}

if (require.main === module) void main();
