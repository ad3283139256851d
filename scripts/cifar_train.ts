/**
 * Trains a colour model on CIFAR-10 (the workplace's subset by default) and reports its test
 * accuracy per epoch, for several seeds: Momentum (μ 0.9, Paddle's and torch.optim.SGD's update),
 * mean cross-entropy, mini-batches reshuffled every epoch (the last one short), the model's
 * first-order path (native convolutions). Seed s draws the weights from Rng(s).fork("init") and the
 * batch order from Rng(s).fork("order").
 *   npm run cifar:train -- [--model convnet|lenet-cifar] [--epochs 5] [--seeds 1,2,3] [--lr 0.01]
 *     [--batch 64] [--data_dir DIR] [--backend wasm|cpu|tensorflow|auto] [--out FILE.json]
 *     [--save_params DIR] (the trained weights of each seed, DIR/<model>-seed<s>.json, for attacks)
 *     [--records cifar-train] [--jobs N] [--shard i/n] [--task key] [--summary]
 * One task per seed on the one study runner (a record per seed in --records; resumable).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { checkStudyOut, runStudyCli, runnerFlags } from "../cli/study";
import { taskRecords } from "../lib/study/record";
import type { StudyTask } from "../lib/study/task";
import { join } from "node:path";
import { parseFlagsOrExit, usageExit } from "../cli/flags";
import { BACKENDS, describeBackend, initBackend, type BackendChoice } from "../lib/core/backend";
import { Rng } from "../lib/core/rng";
import { tf, variableFrom } from "../lib/core/tf";
import { CIFAR10_PIXELS, loadCifar10, type Cifar10Data } from "../lib/data/cifar10";
import { DataError } from "../lib/data/idx";
import { crossEntropyOp, type CrossEntropyJS } from "../lib/models/cross_entropy";
import type { Model, ModelKind } from "../lib/models/model";
import { COLOUR_MODELS, makeModel } from "../lib/models/registry";
import { Momentum } from "../lib/optim/momentum";

/** Rows `index` of a split as one [n, 3072] tensor and their labels. */
export function gatherRows(data: Cifar10Data, index: ArrayLike<number>): { x: tf.Tensor2D; y: Int32Array } {
  const x = new Float32Array(index.length * CIFAR10_PIXELS);
  const y = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) {
    x.set(data.images.subarray(index[i] * CIFAR10_PIXELS, (index[i] + 1) * CIFAR10_PIXELS), i * CIFAR10_PIXELS);
    y[i] = data.labels[index[i]];
  }
  return { x: tf.tensor2d(x, [index.length, CIFAR10_PIXELS]), y };
}

export function testAccuracy(model: Model, params: readonly tf.Tensor[], data: Cifar10Data, batch = 500): number {
  let right = 0;
  for (let start = 0; start < data.n; start += batch) {
    const idx = Int32Array.from({ length: Math.min(batch, data.n - start) }, (_, i) => start + i);
    right += tf.tidy(() => {
      const { x, y } = gatherRows(data, idx);
      return tf.sum(tf.cast(tf.equal(tf.argMax(model.forward(params, x, { firstOrder: true }), -1), tf.tensor1d(y, "int32")), "int32")).dataSync()[0];
    });
  }
  return right / data.n;
}

export interface EpochRecord { seed: number; epoch: number; loss: number; trainAcc: number; testAcc: number; seconds: number }

export function trainColour(
  model: Model, train: Cifar10Data, test: Cifar10Data, seed: number,
  opts: { epochs: number; lr: number; batch: number; log?: (r: EpochRecord) => void },
): { params: tf.Variable[]; epochs: EpochRecord[] } {
  const rng = new Rng(seed);
  const params = model.init(rng.fork("init")).map((t) => variableFrom(t, true));
  const order = rng.fork("order");
  const opt = new Momentum(opts.lr, 0.9);
  const epochs: EpochRecord[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const perm = order.permutation(train.n);
    let loss = 0;
    let correct = 0;
    for (let start = 0; start < train.n; start += opts.batch) {
      const idx = perm.subarray(start, Math.min(start + opts.batch, train.n));
      tf.tidy(() => {
        const { x, y } = gatherRows(train, idx);
        let r: CrossEntropyJS | undefined;
        const { grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => crossEntropyOp(model.forward(ps, x, { firstOrder: true }) as tf.Tensor2D, y, (v) => (r = v)))(params);
        if (!Number.isFinite(r!.loss)) throw new Error(`training diverged at seed ${seed}, epoch ${epoch}`);
        opt.step(params, grads);
        loss += r!.loss * idx.length;
        correct += r!.correct;
      });
    }
    const rec = { seed, epoch: epoch + 1, loss: loss / train.n, trainAcc: correct / train.n, testAcc: testAccuracy(model, params, test), seconds: (performance.now() - t0) / 1000 };
    epochs.push(rec);
    opts.log?.(rec);
  }
  opt.dispose();
  return { params, epochs };
}

const PROG = "cifar_train";

async function main(): Promise<void> {
  const o = parseFlagsOrExit(PROG, {
    model: { kind: "choice", choices: COLOUR_MODELS, default: "convnet", help: "the colour model" },
    epochs: { kind: "int", min: 1, default: 5, help: "epochs" },
    seeds: { kind: "ints", min: 0, default: "1,2,3", help: "comma-separated seeds" },
    lr: { kind: "float", min: 0, minOpen: true, default: 0.01, help: "learning rate" },
    batch: { kind: "int", min: 1, default: 64, help: "batch size" },
    data_dir: { kind: "inDir", help: "CIFAR-10 binary files (default: $DGC_CIFAR10_DIR, then ../shared/data/cifar-10-subset)" },
    backend: { kind: "choice", choices: BACKENDS, default: "wasm", help: "TensorFlow.js backend" },
    out: { kind: "outFile", help: "write the per-epoch records as JSON" },
    save_params: { kind: "outDir", help: "write each seed's trained weights as JSON (DIR/<model>-seed<s>.json)" },
    records: { kind: "string", nonEmpty: true, default: "cifar-train", help: "the study's folder: one record per seed (with --summary: read from)" },
    ...runnerFlags(),
  }, process.argv.slice(2), "Train a colour model on CIFAR-10 and report its test accuracy per epoch");
  const model_ = o.model as ModelKind;
  const backendChoice = o.backend as BackendChoice;
  checkStudyOut(PROG, { out: o.records, summary: o.summary }, "--records");
  let train: Cifar10Data;
  let test: Cifar10Data;
  try {
    train = loadCifar10("train", { dataDir: o.data_dir });
    test = loadCifar10("test", { dataDir: o.data_dir });
  } catch (e) {
    if (e instanceof DataError) {
      usageExit(PROG, e.message);
    }
    throw e;
  }
  const backend = await initBackend(backendChoice, { model: model_, task: "train" });
  const model = makeModel(model_);
  if (!o.task) console.log(`${o.model} on CIFAR-10 (${train.n} train, ${test.n} test images from ${train.dir}), backend ${describeBackend(backend)}, Momentum lr ${o.lr} μ 0.9, batch ${o.batch}, ${o.epochs} epochs`);
  // one task per seed on the one study runner: its record holds the seed's epochs
  const tasks = o.seeds.map((seed): StudyTask<{ seed: number; epochs: EpochRecord[] }> => ({
    key: `cifar-train-${o.model}-seed${seed}-e${o.epochs}`,
    config: { study: "cifar-train", model: o.model, seed, epochs: o.epochs, lr: o.lr, batch: o.batch, backend: backendChoice, train: train.n, test: test.n },
    run: async () => {
      const { params, epochs } = trainColour(model, train, test, seed, {
        ...o,
        log: (r) => console.error(`seed ${r.seed} epoch ${r.epoch}: loss ${r.loss.toFixed(4)} train acc ${r.trainAcc.toFixed(4)} test acc ${r.testAcc.toFixed(4)} (${r.seconds.toFixed(1)} s)`),
      });
      try {
        if (o.save_params) {
          mkdirSync(o.save_params, { recursive: true });
          const file = join(o.save_params, `${o.model}-seed${seed}.json`);
          writeFileSync(file, JSON.stringify({ model: o.model, seed, epochs: o.epochs, lr: o.lr, batch: o.batch, params: params.map((p) => ({ shape: p.shape, values: Array.from(p.dataSync()) })) }));
        }
      } finally {
        tf.dispose(params);
      }
      return { backend, result: { seed, epochs } };
    },
    resultProblem: (r) => (Array.isArray((r as { epochs?: unknown }).epochs) ? null : "field 'epochs' is missing or not an array"),
    describe: (r) => `test acc ${(r as { epochs: EpochRecord[] }).epochs.at(-1)!.testAcc.toFixed(4)}`,
  }));
  if (!o.summary) await runStudyCli(tasks, { prog: PROG, out: o.records, jobs: o.jobs, only: o.task, shard: o.shard, progress: "stderr" });
  if (o.task) return;
  const all = taskRecords<{ epochs: EpochRecord[] }>(o.records, tasks).flatMap((r) => r.epochs);
  for (const r of all) console.log(`seed ${r.seed} epoch ${r.epoch}: loss ${r.loss.toFixed(4)} train acc ${r.trainAcc.toFixed(4)} test acc ${r.testAcc.toFixed(4)} (${r.seconds.toFixed(1)} s)`);
  const last = all.filter((r) => r.epoch === o.epochs).map((r) => r.testAcc);
  const mean = last.reduce((a, b) => a + b, 0) / last.length;
  console.log(`test accuracy after ${o.epochs} epochs: ${last.map((a) => a.toFixed(4)).join(", ")} (mean ${mean.toFixed(4)})`);
  if (o.out) writeFileSync(o.out, JSON.stringify({ model: o.model, lr: o.lr, batch: o.batch, backend, train: train.n, test: test.n, epochs: all }, null, 1));
}

if (require.main === module) void main();
