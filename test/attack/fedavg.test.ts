/**
 * The FedAvg attacker's simulation (lib/attack/fedavg.ts) against the victim's local training
 * (lib/threat/federated/local.ts), which are written independently (the victim: first-order fast
 * paths and the project's Momentum arithmetic; the attacker: one differentiable tfjs graph):
 *   - given the true images, labels and data order, the simulated delta is the victim's to float
 *     rounding, on Linear and LeNet, and so is every deterministic defense's upload of it (DGC with
 *     its residual over two rounds, top-k, fp16, signSGD; int8 with the same draws);
 *   - with E = 1 and n = b it is η times the gradient, and the attack objective on a FedAvg upload
 *     equals the FedSGD attack's on the same upload;
 *   - ∂D(Δ'(x'))/∂x' through two unrolled steps (second order through each step, and through the
 *     weights the first step moved) agrees with central finite differences, and a simulation that
 *     cuts the path through the moved weights does not;
 *   - the schedule, the label rule on a delta, and bad input.
 */
import { seedDefense } from "../../lib/threat/channel/registry";
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/core/tf";
import { Rng } from "../../lib/core/rng";
import { lenetModel } from "../../lib/models/lenet";
import { linearModel } from "../../lib/models/linear";
import { parameterGradients, oneHot, victimLoss } from "../../lib/models/losses";
import type { Model } from "../../lib/models/model";
import { l2Distance, cosineDistance } from "../../lib/attack/objectives";
import { inversionObjective } from "../../lib/attack/invert";
import { attackerSchedule, checkFedAvgApplicable, deltaScale, fedavgAttackInput, knowledgeLine, fedavgLabels, unrolledDelta, type FedAvgKnowledge } from "../../lib/attack/fedavg";
import { AttackSetupError } from "../../lib/attack/spec";
import { checkLocalTraining, localSchedule, localUpdate, stepWeights, type LocalTraining } from "../../lib/threat/federated/local";
import { clientOptimizer } from "../../lib/threat/federated/defense";
import type { DefenseSpec } from "../../lib/threat/channel/defenses";
import { ConfigError } from "../../lib/core/errors";
import { useBackend } from "../helpers";
import { runFederated } from "../../lib/threat/federated/simulation";
import type { MnistSplit } from "../../lib/data/mnist";

before(useBackend);

const read = (ts: readonly tf.Tensor[]) => ts.map((t) => t.dataSync().slice() as Float32Array);

/** ‖a − b‖ / ‖b‖ over all tensors. */
function relErr(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let num = 0;
  let den = 0;
  a.forEach((ai, t) => ai.forEach((v, i) => {
    num += (v - b[t][i]) ** 2;
    den += b[t][i] ** 2;
  }));
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function client(seed: number, n: number) {
  const rng = new Rng(seed);
  const x = rng.uniformArray(n * 784, -1, 1);
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  return { rng, x, y };
}

const MODELS: [string, () => Model][] = [["linear", linearModel], ["lenet", lenetModel]];

for (const [name, make] of MODELS) {
  for (const t of [
    { steps: 3, batch: 2, lr: 0.1, momentum: 0.9 },
    { steps: 4, batch: 1, lr: 0.1, momentum: 0 },
  ] as LocalTraining[]) {
    test(`${name}, E ${t.steps}, b ${t.batch}, μ ${t.momentum}: the attacker's simulation on the true data is the victim's delta, and every deterministic defense's upload of it`, () => {
      const model = make();
      const n = 3;
      const { rng, x, y } = client(7, n);
      const params = model.init(rng);
      const schedule = localSchedule(n, t.batch, t.steps, rng.fork("order"));
      // the order matters: E steps of b < n walk through epochs in a drawn order
      assert.equal(schedule.length, t.steps);
      const victim = localUpdate(model, params, x, y, schedule, t, "ce");
      const truth = read(victim.delta);
      const k: FedAvgKnowledge = { training: t, n, loss: "ce", order: schedule };
      const sim = tf.tidy(() => unrolledDelta(model, params, k)(tf.tensor2d(x, [n, 784]), oneHot(y, 10)));
      const simulated = read(sim);
      const e = relErr(simulated, truth);
      assert.ok(e < 2e-5, `simulated delta off by ${e} (relative)`);
      // a second round's delta, for DGC's residual
      const victim2 = localUpdate(model, params, x.map((v) => -v), y, schedule, t, "ce");
      const sim2 = tf.tidy(() => unrolledDelta(model, params, k)(tf.tensor2d(x.map((v) => -v), [n, 784]), oneHot(y, 10)));
      const defenses: DefenseSpec[] = [
        { name: "none", strength: null }, { name: "dgc", strength: 0.9 }, { name: "topk", strength: 0.9 },
        { name: "fp16", strength: null }, { name: "signsgd", strength: null }, { name: "int8", strength: null },
      ];
      for (const d of defenses) {
        // the same seed on both sides: int8's dither draws are the same (the attacker never has them; this checks the arithmetic)
        const [a, b] = [clientOptimizer(d, t.lr, true, new Rng(1), 0), clientOptimizer(d, t.lr, true, new Rng(1), 0)];
        try {
          for (const [dv, ds] of [[victim.delta, sim], [victim2.delta, sim2]] as const) {
            const up = a.compress(dv);
            const upSim = b.compress(ds);
            const [u, us] = [read(up.sent), read(upSim.sent)];
            tf.dispose([...up.sent, ...upSim.sent]);
            // the same coordinates sent (a flip at the threshold would need two values within float rounding)
            const mism = u.reduce((m, ut, i) => m + ut.reduce((c, v, j) => c + ((v === 0) !== (us[i][j] === 0) ? 1 : 0), 0), 0);
            assert.equal(mism, 0, `${d.name}: ${mism} coordinates sent on one side only`);
            const tol = d.name === "fp16" ? 1e-3 : d.name === "int8" ? 2e-2 : d.name === "signsgd" ? 1e-4 : 2e-5;
            const err = relErr(us, u);
            assert.ok(err < tol, `${d.name}: upload of the simulation off by ${err} (relative, tol ${tol})`);
          }
        } finally {
          a.dispose();
          b.dispose();
        }
      }
      tf.dispose([...params, ...victim.delta, ...victim2.delta, ...sim, ...sim2]);
    });
  }

  test(`${name}: with E = 1 and n = b the simulation is η·∇loss, and the FedAvg attack objective is the FedSGD one on the same upload`, () => {
    const model = make();
    const n = 2;
    const { rng, x, y } = client(11, n);
    const params = model.init(rng);
    const t: LocalTraining = { steps: 1, batch: n, lr: 0.05, momentum: 0.9 };
    const k: FedAvgKnowledge = { training: t, n, loss: "ce", order: null };
    const xs = tf.tensor2d(x, [n, 784]);
    const ys = oneHot(y, 10);
    const delta = unrolledDelta(model, params, k)(xs, ys);
    const grads = parameterGradients(model, params, "ce")(xs, ys);
    const e = relErr(read(delta), read(grads.map((g) => tf.mul(g, t.lr))));
    assert.ok(e < 1e-6, `E = 1: Δ' ≠ η·g (${e})`);
    // the upload: the victim's delta; a dummy x' elsewhere
    const upload = localUpdate(model, params, x, y, localSchedule(n, n, 1, null), t, "ce").delta;
    const dummy = tf.tensor2d(new Rng(3).uniformArray(n * 784, -1, 1), [n, 784]);
    const settings = { victimLoss: "ce" as const, tvWeight: 1e-4, clipNorm: null };
    const fedavgCos = inversionObjective(model, params, upload, ys, { ...settings, distance: "cosine" }, undefined, unrolledDelta(model, params, k));
    const fedsgdCos = inversionObjective(model, params, upload, ys, { ...settings, distance: "cosine" });
    const [va, vb] = [fedavgCos(dummy).dataSync()[0], fedsgdCos(dummy).dataSync()[0]];
    assert.ok(Math.abs(va - vb) < 1e-5, `cosine objective: FedAvg ${va} vs FedSGD ${vb}`);
    const [ga, gb] = [tf.grad(fedavgCos)(dummy), tf.grad(fedsgdCos)(dummy)];
    assert.ok(relErr([ga.dataSync() as Float32Array], [gb.dataSync() as Float32Array]) < 1e-4, "cosine objective's gradient differs");
    // l2 on Δ equals η² × the FedSGD l2 on Δ/η (TV off)
    const scaled = upload.map((u) => tf.div(u, t.lr));
    const fedavgL2 = inversionObjective(model, params, upload, ys, { ...settings, tvWeight: 0, distance: "l2sum" }, undefined, unrolledDelta(model, params, k))(dummy).dataSync()[0];
    const fedsgdL2 = inversionObjective(model, params, scaled, ys, { ...settings, tvWeight: 0, distance: "l2sum" })(dummy).dataSync()[0];
    assert.ok(Math.abs(fedavgL2 - t.lr ** 2 * fedsgdL2) <= 1e-4 * fedavgL2, `l2: ${fedavgL2} vs η²·${fedsgdL2}`);
    // the attack's input at one gradient's scale: Δ/η is the gradient, and so is the simulation's
    const fa = fedavgAttackInput(model, params, upload, k);
    assert.equal(fa.scale, t.lr);
    const simScaled = fa.gradsOf(xs, ys);
    assert.ok(relErr(read(fa.observed), read(grads)) < 1e-5 && relErr(read(simScaled), read(grads)) < 1e-5, "Δ/η is not the gradient");
    tf.dispose([xs, ys, dummy, ga, gb, ...params, ...delta, ...grads, ...upload, ...scaled, ...fa.observed, ...simScaled]);
  });

  test(`${name}: ∂D/∂x' through two unrolled steps matches finite differences; cutting the path through the moved weights does not`, () => {
    const model = make();
    const n = 2;
    const { rng, x, y } = client(5, n);
    const params = model.init(rng);
    const t: LocalTraining = { steps: 2, batch: 1, lr: name === "lenet" ? 0.5 : 1, momentum: 0.9 };
    const k: FedAvgKnowledge = { training: t, n, loss: "ce", order: null };
    const ys = oneHot(y, 10);
    const upload = localUpdate(model, params, x, y, localSchedule(n, 1, 2, null), t, "ce").delta;
    const sim = unrolledDelta(model, params, k);
    const f = (z: tf.Tensor) => l2Distance(sim(z, ys), upload, undefined, "sum");
    // the same objective with step 2's gradient taken at weights held constant (w_1's dependence on x' cut)
    const cut = (z: tf.Tensor) => {
      const g0 = tf.grads((...ps: tf.Tensor[]) => victimLoss("ce")(model.forward(ps, tf.slice(z, [0, 0], [1, 784])), tf.slice(ys, [0, 0], [1, 10])))(params);
      const w1 = params.map((p, i) => tf.sub(p, tf.mul(g0[i], t.lr)));
      const w1c = w1.map((w) => tf.tensor(w.dataSync(), w.shape)); // constants: no tape back to x'
      const g1 = tf.grads((...ps: tf.Tensor[]) => victimLoss("ce")(model.forward(ps, tf.slice(z, [1, 0], [1, 784])), tf.slice(ys, [1, 0], [1, 10])))(w1c);
      const d = params.map((p, i) => tf.sub(p, tf.sub(w1[i], tf.mul(tf.add(tf.mul(g0[i], t.momentum), g1[i]), t.lr))));
      return l2Distance(d, upload, undefined, "sum");
    };
    const z = tf.tensor2d(new Rng(9).uniformArray(n * 784, -1, 1), [n, 784]);
    const dirRng = new Rng(2);
    let worst = 0;
    let worstCut = 0;
    const eps = 1e-2;
    const g = tf.grad(f)(z);
    const gc = tf.grad(cut)(z);
    const gn = tf.norm(g).dataSync()[0];
    for (let trial = 0; trial < 3; trial++) {
      // the direction along the gradient itself plus noise: a well-conditioned check
      const r0 = tf.add(tf.div(g, gn), tf.mul(tf.tensor(dirRng.normalArray(n * 784), [n, 784]), 0.02));
      const r = tf.div(r0, tf.norm(r0));
      const fd = (f(tf.add(z, tf.mul(r, eps))).dataSync()[0] - f(tf.sub(z, tf.mul(r, eps))).dataSync()[0]) / (2 * eps);
      const an = tf.sum(tf.mul(g, r)).dataSync()[0];
      const anCut = tf.sum(tf.mul(gc, r)).dataSync()[0];
      worst = Math.max(worst, Math.abs(fd - an) / Math.abs(fd));
      worstCut = Math.max(worstCut, Math.abs(fd - anCut) / Math.abs(fd));
    }
    console.log(`# ${name}: finite differences vs the unrolled gradient: ${worst.toExponential(2)}; with the path cut: ${worstCut.toExponential(2)}`);
    assert.ok(worst < 0.02, `unrolled second-order gradient off finite differences by ${worst} (relative)`);
    assert.ok(worstCut > 10 * worst, `the check cannot tell a cut path (${worstCut}) from the full one (${worst})`);
    tf.dispose([...params, ...upload, ys, z, g, gc]);
  });
}

test("the schedule walks epochs over the n images; index order when the order is unknown; momentum weights", () => {
  assert.deepEqual(localSchedule(3, 2, 4, null).map((s) => Array.from(s)), [[0, 1], [2], [0, 1], [2]]);
  const drawn = localSchedule(4, 4, 2, new Rng(1).fork("order"));
  assert.deepEqual(drawn.map((s) => Array.from(s).sort()), [[0, 1, 2, 3], [0, 1, 2, 3]]);
  assert.deepEqual(Array.from(stepWeights(3, 0.5)), [1.75, 1.5, 1]);
  assert.deepEqual(Array.from(stepWeights(3, 0)), [1, 1, 1]);
});

test("labels from a delta: iDLG's sign rule for n = 1, the count rule scaled back for n = b", () => {
  const model = lenetModel();
  const rng = new Rng(21);
  const params = model.init(rng);
  const n = 3;
  const x = rng.uniformArray(n * 784, -1, 1);
  const y = Int32Array.of(2, 7, 7);
  const t: LocalTraining = { steps: 5, batch: n, lr: 0.01, momentum: 0.9 };
  const delta = localUpdate(model, params, x, y, localSchedule(n, n, 5, null), t, "ce").delta;
  const k: FedAvgKnowledge = { training: t, n, loss: "ce", order: null };
  assert.ok(Math.abs(deltaScale(k) - 0.01 * Array.from(stepWeights(5, 0.9)).reduce((a, b) => a + b, 0)) < 1e-12);
  // public "labelled" data: noise images with labels, enough to estimate the conditional softmax
  const pubRng = new Rng(4);
  const m = 200;
  const labelled = { x: pubRng.uniformArray(m * 784, -1, 1), y: Int32Array.from({ length: m }, (_, i) => i % 10) };
  const got = fedavgLabels(model, params, delta, k, { labelled, mean: new Float32Array(784) });
  assert.deepEqual(Array.from(got.labels), [2, 7, 7]);
  // n = 1: the only negative bias entry of Δ is the label (5 steps, momentum)
  const one = localUpdate(model, params, x.subarray(0, 784), Int32Array.of(4), localSchedule(1, 1, 5, null), t, "ce").delta;
  const db = one[one.length - 1].dataSync();
  assert.equal(Array.from(db).findIndex((v) => v < 0), 4);
  assert.equal(Array.from(db).filter((v) => v < 0).length, 1);
  tf.dispose([...params, ...delta, ...one]);
});

test("in the simulation, at a later round under DGC: the victim's FedAvg upload is the attacker's simulation of its images, through the client's DGC state", () => {
  const model = linearModel();
  const rng = new Rng(3);
  const N = 400;
  const data: MnistSplit = { split: "train", n: N, images: rng.uniformArray(N * 784, -1, 1), labels: Uint8Array.from({ length: N }, (_, i) => i % 10) };
  const params = model.init(rng.fork("init")).map((p) => tf.variable(p));
  const local: LocalTraining = { steps: 4, batch: 2, lr: 0.05, momentum: 0.9 };
  const watch = { client: 1, round: 2, batchSize: 3, loss: "ce" as const, historyRounds: 0, local };
  const res = runFederated(model, params, data, { clients: 2, rounds: 3, localSteps: 4, split: "iid", alpha: 1, batchSize: 16, lr: 0.05, defense: seedDefense(true, 0.9), watch }, rng);
  const w = res.watched!;
  assert.equal(w.target.size, 3);
  assert.equal(w.local!.schedule.length, 4);
  const theta = w.models[0].map((a, i) => tf.tensor(a, model.paramShapes[i] as number[]));
  const k: FedAvgKnowledge = { training: local, n: 3, loss: "ce", order: w.local!.schedule };
  const sim = read(tf.tidy(() => unrolledDelta(model, theta, k)(tf.tensor2d(w.target.x, [3, 784]), oneHot(w.target.y, 10))));
  // the victim's Δ (its upload also carries DGC's residual from rounds 0–1, which the attacker is not given)
  assert.ok(relErr(sim, w.fullGradient) < 2e-5, `simulated Δ off the victim's by ${relErr(sim, w.fullGradient)}`);
  const sentCount = w.uploads[0].reduce((a, u) => a + u.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0), 0);
  assert.ok(sentCount > 0 && sentCount < 0.2 * 7850, `${sentCount} values sent`);
  tf.dispose([...params, ...theta]);
});

test("what the attacker knows is stated: the order only when granted", () => {
  const training: LocalTraining = { steps: 4, batch: 2, lr: 0.1, momentum: 0 };
  const order = localSchedule(3, 2, 4, new Rng(1).fork("order"));
  assert.equal(knowledgeLine({ training, n: 3, loss: "ce", order: null }), "FedAvg attacker knows η = 0.1, μ = 0, E = 4, b = 2, n = 3, loss ce, θ_0; data order not known (index order assumed)");
  assert.match(knowledgeLine({ training, n: 3, loss: "ce", order }), /data order granted$/);
  // without the order it simulates index order every epoch; with it, the client's
  assert.deepEqual(attackerSchedule({ training, n: 3, loss: "ce", order: null }).map((s) => Array.from(s)), [[0, 1], [2], [0, 1], [2]]);
  assert.deepEqual(attackerSchedule({ training, n: 3, loss: "ce", order }), order);
  assert.throws(() => attackerSchedule({ training, n: 3, loss: "ce", order: order.slice(1) }), AttackSetupError);
});

test("bad input: E, b out of range, b > n, analytic on a delta of E > 1 steps", () => {
  const ok: LocalTraining = { steps: 5, batch: 1, lr: 0.1, momentum: 0.9 };
  checkLocalTraining(ok, 1);
  for (const [bad, n, what] of [
    [{ ...ok, steps: 0 }, 1, /--local_steps/], [{ ...ok, steps: 2.5 }, 1, /--local_steps/], [{ ...ok, batch: 0 }, 1, /--local_batch/],
    [{ ...ok, batch: 4 }, 2, /--local_batch 4 is more than the client's 2 images/], [{ ...ok, lr: 0 }, 1, /--local_lr/], [{ ...ok, momentum: 1 }, 1, /--local_momentum/],
  ] as [LocalTraining, number, RegExp][]) {
    assert.throws(() => checkLocalTraining(bad, n), (e: Error) => e instanceof ConfigError && what.test(e.message) && !e.message.includes("\n"));
  }
  assert.throws(() => checkFedAvgApplicable("analytic", 5), AttackSetupError);
  checkFedAvgApplicable("analytic", 1);
  checkFedAvgApplicable("ig", 5);
});

test("the unrolled objective keeps no tensors between attack iterations", () => {
  const model = lenetModel();
  const rng = new Rng(1);
  const params = model.init(rng);
  const k: FedAvgKnowledge = { training: { steps: 3, batch: 1, lr: 0.1, momentum: 0.9 }, n: 2, loss: "ce", order: null };
  const ys = oneHot(Int32Array.of(1, 2), 10);
  const upload = localUpdate(model, params, rng.uniformArray(2 * 784, -1, 1), Int32Array.of(1, 2), localSchedule(2, 1, 3, null), k.training, "ce").delta;
  const f = (z: tf.Tensor) => cosineDistance(unrolledDelta(model, params, k)(z, ys), upload);
  const z = tf.tensor2d(rng.uniformArray(2 * 784, -1, 1), [2, 784]);
  const step = () => tf.tidy(() => tf.grad(f)(z).dataSync()[0]);
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([...params, ...upload, ys, z]);
});
