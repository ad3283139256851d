/**
 * The benchmark's workloads on our side, each the same problem as its namesake in
 * bench/reference.py (PyTorch): same model shapes, data, step counts and per-step host read-backs.
 * Each returns seconds (and, for L-BFGS, how many objective evaluations it made).
 */
import { seedDefense } from "../lib/threat/channel/registry";
import { DGCMomentum } from "../lib/optim/dgc";
import { dlgAttack, initialLabels } from "../lib/attack/dlg";
import { dlgObjective } from "../lib/attack/methods";
import { epochBatches, gatherBatch } from "../lib/data/batcher";
import { LBFGS, tfObjective } from "../lib/attack/lbfgs";
import { lenetModel } from "../lib/models/lenet";
import { linearModel } from "../lib/models/linear";
import { lossAndGrads, train } from "../lib/optim/train";
import { Momentum } from "../lib/optim/momentum";
import { observedGradients, victimGradients } from "../lib/threat/victim";
import { Rng } from "../lib/core/rng";
import { runFederated } from "../lib/threat/federated/simulation";
import { tf, variableFrom } from "../lib/core/tf";
import { type MnistSplit } from "../lib/data/mnist";
import { type Model } from "../lib/models/model";
import { type Workload } from "../lib/core/backend";
import { fedavgAttackInput } from "../lib/attack/fedavg";
import { inversionObjective } from "../lib/attack/invert";
import { IG_ATTACK } from "../lib/attack/ig";
import { localSchedule, localUpdate } from "../lib/threat/federated/local";
import { convNetModel } from "../lib/models/convnet";
import { CIFAR10_PIXELS, findCifar10Dir, loadCifar10, type Cifar10Data } from "../lib/data/cifar10";
import { crossEntropyOp, type CrossEntropyJS } from "../lib/models/cross_entropy";
import { oneHot, parameterGradients } from "../lib/models/losses";
import { runAttackMethod } from "../lib/attack/methods";

export type Sizes = { n: number; epochs: number; iterations: number; lenetSteps: number; lenetIterations: number; lbfgsSteps: number; flRounds: number; fedavgIterations: number };
export const FULL: Sizes = { n: 60000, epochs: 2, iterations: 2000, lenetSteps: 100, lenetIterations: 50, lbfgsSteps: 300, flRounds: 20, fedavgIterations: 10 };
export const TINY: Sizes = { n: 2048, epochs: 1, iterations: 20, lenetSteps: 2, lenetIterations: 2, lbfgsSteps: 2, flRounds: 2, fedavgIterations: 2 };

export interface Measured {
  s: number;
  /** Objective evaluations (L-BFGS); the ratio to PyTorch is then taken per evaluation. */
  evals?: number;
  /** CPU seconds of the whole process (user + system) over the same interval, scaled like `s`: load from other work moves it far less than wall time. */
  cpu_s?: number;
}

export interface BenchWorkload {
  what: string;
  /** What `--backend auto` picks for it. */
  workload: Workload;
  run: (data: MnistSplit, sz: Sizes) => Measured;
}

const seconds = (f: () => void) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};

/** Wall and CPU seconds of f (the CPU time of this process: wasm and JS run on this one thread). */
const timed = (f: () => void): { s: number; cpu_s: number } => {
  const c0 = process.cpuUsage();
  const s = seconds(f);
  const c = process.cpuUsage(c0);
  return { s, cpu_s: (c.user + c.system) / 1e6 };
};

function trainRun(data: MnistSplit, useDgc: boolean, lr: number, sz: Sizes): Measured {
  const model = linearModel();
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  const opt = useDgc ? new DGCMomentum({ sparsity: 0.8, lr }) : new Momentum(lr);
  const m = timed(() => train(model, params, opt, { ...data, n: sz.n }, { epochs: sz.epochs, batchSize: 64, rng: new Rng(2) }));
  opt.dispose();
  tf.dispose(params);
  return m;
}

function attackRun(data: MnistSplit, model: Model, useDgc: boolean, iterations: number): Measured {
  const params = model.init(new Rng(1));
  const target = epochBatches(data, 1, new Rng(2)).next().value!;
  const grads = victimGradients(model, params, target);
  const opt = useDgc ? new DGCMomentum({ sparsity: 0.8, lr: 0.001 }) : new Momentum(0.01);
  const { observed } = observedGradients(opt, grads);
  const s = seconds(() =>
    dlgAttack(model, params, observed, 1, { iterations, lr: 0.2, returnEvery: 100, windowSize: 200, labelStart: initialLabels("ones", 1, 0), rng: new Rng(3) }),
  );
  opt.dispose();
  tf.dispose([...params, ...grads, ...observed]);
  return { s };
}

function lenetTrainStep(data: MnistSplit, steps: number): Measured {
  const model = lenetModel();
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  const opt = new Momentum(0.01);
  const batch = gatherBatch(data, Int32Array.from({ length: 64 }, (_, i) => i));
  const step = () => tf.tidy(() => {
    opt.step(params, lossAndGrads(model, params, batch).grads);
  });
  for (let i = 0; i < 3; i++) step(); // warm-up
  const { s, cpu_s } = timed(() => {
    for (let i = 0; i < steps; i++) step();
  });
  opt.dispose();
  tf.dispose(params);
  return { s: s / steps, cpu_s: cpu_s / steps };
}

/**
 * The DLG paper's LeNet attack as its code runs it: L-BFGS (torch's defaults) on dummy data and a
 * dummy label, the label through softmax inside the victim's cross-entropy, D = Σ_t ‖∂L/∂θ_t − g_t‖².
 */
function lbfgsAttack(data: MnistSplit, steps: number): Measured {
  const model = lenetModel();
  const params = model.init(new Rng(1));
  const target = gatherBatch(data, Int32Array.of(0));
  const observed = victimGradients(model, params, target, "ce");
  const distance = dlgObjective(model, params, observed, "ce", "l2sum"); // the attack registry's (methods.ts)
  const f = tfObjective([[1, 784], [1, 10]], ([x, y]) => distance(x, y));
  const rng = new Rng(3);
  const opt = new LBFGS(Float64Array.from([...rng.normalArray(784), ...rng.normalArray(10)]));
  const s = seconds(() => {
    for (let i = 0; i < steps; i++) opt.step(f);
  });
  tf.dispose([...params, ...observed]);
  return { s, evals: opt.funcEvals };
}

/**
 * One FedSGD round of 10 DGC clients on the seed's Linear model (lib/federated: each client sends
 * DGC's u·mask of its batch-64 gradient, the server averages and takes a Momentum step), seconds per
 * round after a one-round warm-up run.
 */
function flRound(data: MnistSplit, rounds: number): Measured {
  const model = linearModel();
  const opts = (r: number) => ({ clients: 10, rounds: r, localSteps: 1, split: "iid" as const, alpha: 1, batchSize: 64, lr: 0.001, defense: seedDefense(true, 0.8) });
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  runFederated(model, params, data, opts(1), new Rng(2));
  const s = seconds(() => runFederated(model, params, data, opts(rounds), new Rng(2)));
  tf.dispose(params);
  return { s: s / rounds };
}

/**
 * One FedAvg attack iteration on LeNet (lib/attack/fedavg.ts, as `fl --local_steps E --attack_method ig`
 * evaluates it): IG's objective Σ_t (1 − cos(Δ'_t, Δ_t)) + 1e-4·TV(x') and its gradient with respect to
 * the dummy image, Δ'(x') through E unrolled local SGD steps (second order through every step; n = b = 1,
 * η = 0.1, μ = 0), both read back to the host as L-BFGS reads them. Seconds per iteration over
 * `fedavgIterations` after one warm-up.
 */
function fedavgIteration(data: MnistSplit, E: number, iterations: number): Measured {
  const model = lenetModel();
  const params = model.init(new Rng(1));
  const target = gatherBatch(data, Int32Array.of(0));
  const training = { steps: E, batch: 1, lr: 0.1, momentum: 0 };
  const knowledge = { training, n: 1, loss: "ce" as const, order: null };
  const { delta } = localUpdate(model, params, target.x, target.y, localSchedule(1, 1, E, null), training, "ce");
  const input = fedavgAttackInput(model, params, delta, knowledge);
  const labels = oneHot(target.y, model.classes);
  const f = inversionObjective(model, params, input.observed, labels, { victimLoss: "ce", distance: "cosine", tvWeight: IG_ATTACK.tvWeight, clipNorm: null }, undefined, input.gradsOf);
  const vg = tf.valueAndGrad(f);
  const z = tf.tensor2d(new Rng(3).uniformArray(784, -1, 1), [1, 784]);
  const once = () => tf.tidy(() => {
    const { value, grad } = vg(z);
    grad.dataSync();
    value.dataSync();
  });
  once(); // warm-up
  const s = seconds(() => {
    for (let i = 0; i < iterations; i++) once();
  });
  tf.dispose([...params, ...delta, ...input.observed, labels, z]);
  return { s: s / iterations };
}

/**
 * The ConvNet's workloads run on CIFAR-10's first training images (the folder cifar10.ts finds:
 * $DGC_CIFAR10_DIR, ../shared/data/cifar-10-subset, data/cifar-10-batches-bin), as
 * bench/reference.py reads them.
 */
let cifar: Cifar10Data | undefined;
function cifarTrain(): Cifar10Data {
  if (!findCifar10Dir()) throw new Error("the ConvNet workloads need CIFAR-10 (set DGC_CIFAR10_DIR, or npm run fetch:cifar10)");
  return (cifar ??= loadCifar10("train"));
}

/** One Momentum step of the ConvNet on a batch of 64 (cifar_train's: first-order path, mean cross-entropy), seconds per step. */
function convnetTrainStep(steps: number): Measured {
  const data = cifarTrain();
  const model = convNetModel();
  const params = model.init(new Rng(1)).map((t) => variableFrom(t, true));
  const opt = new Momentum(0.01);
  const x = tf.tensor2d(data.images.subarray(0, 64 * CIFAR10_PIXELS), [64, CIFAR10_PIXELS]);
  const y = Int32Array.from(data.labels.subarray(0, 64));
  const step = () => tf.tidy(() => {
    let r: CrossEntropyJS | undefined;
    const { grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => crossEntropyOp(model.forward(ps, x, { firstOrder: true }) as tf.Tensor2D, y, (v) => (r = v)))(params);
    if (!Number.isFinite(r!.loss)) throw new Error("ConvNet step: loss is not finite");
    opt.step(params, grads);
  });
  for (let i = 0; i < 3; i++) step(); // warm-up
  const s = seconds(() => {
    for (let i = 0; i < steps; i++) step();
  });
  opt.dispose();
  tf.dispose([...params, x]);
  return { s: s / steps };
}

/**
 * Inverting Gradients on the untrained ConvNet (the attack registry's ig: Σ_t (1 − cos) + 1e-4·TV,
 * Adam lr 0.1, boxed to [0, 1], label by iDLG's rule) against image 0's cross-entropy gradient,
 * `iterations` iterations, seconds per iteration (the set-up included, as the LeNet DLG line).
 */
function convnetIgIteration(iterations: number): Measured {
  const data = cifarTrain();
  const model = convNetModel();
  const params = model.init(new Rng(1));
  const observed = tf.tidy(() => parameterGradients(model, params, "ce")(tf.tensor2d(data.images.subarray(0, CIFAR10_PIXELS), [1, CIFAR10_PIXELS]), oneHot(Int32Array.of(data.labels[0]), 10)));
  const s = seconds(() =>
    runAttackMethod(
      { method: "ig", optimizer: "adam", iterations, lr: 0.1, returnEvery: iterations, windowSize: 1, victimLoss: "ce", labelInit: "guess", labelRule: "idlg" },
      { model, params, observed, batch: 1, rng: new Rng(3), range: [0, 1] },
    ),
  );
  tf.dispose([...params, ...observed]);
  return { s: s / iterations };
}

const linearTrain: Workload = { model: "linear", task: "train" };
const linearAttack: Workload = { model: "linear", task: "attack" };
export const WORKLOADS: Record<string, BenchWorkload> = {
  ex3_train: { what: "Example 3: Linear, Momentum, 2 epochs (s)", workload: linearTrain, run: (d, sz) => trainRun(d, false, 0.01, sz) },
  ex4_train: { what: "Example 4: Linear, DGC 0.8, 2 epochs (s)", workload: linearTrain, run: (d, sz) => trainRun(d, true, 0.001, sz) },
  ex2_attack: { what: "Example 2: DLG on Linear vs Momentum, 2000 its (s)", workload: linearAttack, run: (d, sz) => attackRun(d, linearModel(), false, sz.iterations) },
  ex1_attack: { what: "Example 1: DLG on Linear vs DGC, 2000 its (s)", workload: linearAttack, run: (d, sz) => attackRun(d, linearModel(), true, sz.iterations) },
  lenet_train_step: { what: "LeNet training step, batch 64", workload: { model: "lenet", task: "train" }, run: (d, sz) => lenetTrainStep(d, sz.lenetSteps) },
  lenet_dlg_iteration: {
    what: "LeNet DLG iteration (second order)",
    workload: { model: "lenet", task: "attack" },
    run: (d, sz) => ({ s: attackRun(d, lenetModel(), false, sz.lenetIterations).s / sz.lenetIterations }),
  },
  fl_round_10: { what: "one FedSGD round, 10 DGC clients, Linear", workload: linearTrain, run: (d, sz) => flRound(d, sz.flRounds) },
  lenet_lbfgs_attack: { what: "LeNet L-BFGS DLG, 300 steps (ratio per evaluation)", workload: { model: "lenet", task: "attack" }, run: (d, sz) => lbfgsAttack(d, sz.lbfgsSteps) },
  // CIFAR-10 (issue 24): the ReLU ConvNet's training step and one IG iteration (lenetSteps / lenetIterations of them)
  convnet_train_step: { what: "ConvNet training step, CIFAR-10, batch 64", workload: { model: "convnet", task: "train" }, run: (_d, sz) => convnetTrainStep(sz.lenetSteps) },
  convnet_ig_iteration: { what: "ConvNet IG iteration, CIFAR-10 (second order)", workload: { model: "convnet", task: "attack" }, run: (_d, sz) => convnetIgIteration(sz.lenetIterations) },
  ...Object.fromEntries([1, 5, 10].map((E) => [`fedavg_e${E}`, {
    what: `FedAvg attack iteration, LeNet, E = ${E} unrolled steps (second order)`,
    workload: { model: "lenet", task: "attack" } as Workload,
    run: (d: MnistSplit, sz: Sizes) => fedavgIteration(d, E, sz.fedavgIterations),
  }])),
};
